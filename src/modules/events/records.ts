// The jtel AcdEvent record (jtel names in jtel's order, plus our dtAppointment) and the records of
// the event's comments and status history, which only our extension endpoints show.
import { Type, type TObject } from 'typebox';
import { defineRecord, field } from '../../http/records.ts';

const nullableInt = (column: string, description?: string) => field.int(column, { nullable: true, description });

export const EventRecord = defineRecord(
  'AcdEvent',
  {
    ID: field.int('e.id'),
    AcdEventTypesID: field.int('e.type_id'),
    AcdEventStatusID: field.int('e.status_id'),
    AcdGroupsID: nullableInt('e.group_id', 'Standalone group, or null for the configuration/agent pair form'),
    AcdConfigurationGroupsID: nullableInt('e.configuration_group_id'),
    AcdAgentGroupsID: nullableInt('e.agent_group_id'),
    UsersID: nullableInt('e.user_id', 'The agent the event is reserved for, or null for the group queue'),
    Sender: field.text('e.sender', { description: 'Phone events: E.164 digits without "+"' }),
    Receiver: field.text('e.receiver', { nullable: true }),
    Subject: field.text('e.subject'),
    CrmURL: field.text('e.crm_url', { nullable: true }),
    UserData: field.text('e.user_data', { nullable: true }),
    UserData2: field.text('e.user_data2', { nullable: true }),
    UserData3: field.text('e.user_data3', { nullable: true }),
    ForeignSystemNumber: field.text('CASE WHEN e.type_id = 6 THEN e.user_data END', {
      nullable: true,
      description: 'Ticket (WorkFlowConnector) events: the foreign ticket number, i.e. UserData; null for other types',
    }),
    EventData: field.text('e.event_data', { description: 'jtel XML body document' }),
    Priority: field.int('e.priority'),
    dtAppointment: field.timestamp('e.appointment_at', { nullable: true, description: 'Not distributed before this moment; null: no appointment' }),
    SkillsID1: nullableInt('e.skills_id1'),
    SkillsID2: nullableInt('e.skills_id2'),
    SkillsID3: nullableInt('e.skills_id3'),
    SkillsValue1: nullableInt('e.skills_value1'),
    SkillsValue2: nullableInt('e.skills_value2'),
    SkillsValue3: nullableInt('e.skills_value3'),
    ChatConnectorsID: nullableInt('e.chat_connectors_id'),
    AcdWorkFlowConnectorsID: nullableInt('e.acd_work_flow_connectors_id'),
    AcdInboxesID: nullableInt('e.acd_inboxes_id'),
    WorkFlowMonitorPointsID: nullableInt('e.work_flow_monitor_points_id'),
    AcdReplyingTypesID: nullableInt('e.acd_replying_types_id'),
    LastAgentTime: field.int('e.last_agent_time'),
    bCloseByForeignSystem: field.bool('e.b_close_by_foreign_system'),
    dtReceived: field.timestamp('e.received_at', { nullable: true }),
    dtRemind: field.timestamp('e.remind_at', { nullable: true }),
    dtCreated: field.timestamp('e.created_at'),
    dtModified: field.timestamp('e.modified_at'),
    dtLastModified: field.timestamp('e.last_modified_at'),
  },
  { from: 'acd_events e', clientColumn: 'e.client_id', idColumn: 'e.id', defaultOrderBy: 'dtCreated' },
);

export type CreateResult = 'CREATED' | 'UPDATED';

/** The create answer's record: the event plus jtel's `Result_`. */
export const CreatedEventSchema = Type.Object(
  {
    ...(EventRecord.schema as TObject).properties,
    Result_: Type.Union([Type.Literal('CREATED'), Type.Literal('UPDATED')], {
      description: 'UPDATED: the group avoids duplicate events and an open one with the same key was returned instead',
    }),
  },
  { additionalProperties: false },
);

/** Comments and history belong to the client of their event. */
const BY_EVENT = 'JOIN acd_events e ON e.id = x.event_id';

export const CommentRecord = defineRecord(
  'AcdEventComment',
  {
    ID: field.int('x.id'),
    AcdEventsID: field.int('x.event_id'),
    Author: field.text('x.author'),
    Text: field.text('x.text'),
    dtCreated: field.timestamp('x.created_at'),
  },
  { from: `acd_event_comments x ${BY_EVENT}`, clientColumn: 'e.client_id', idColumn: 'x.id', defaultOrderBy: 'ID' },
);

export const HistoryRecord = defineRecord(
  'AcdEventHistory',
  {
    ID: field.int('x.id'),
    AcdEventsID: field.int('x.event_id'),
    FromAcdEventStatusID: nullableInt('x.from_status_id', 'null for the entry that created the event'),
    ToAcdEventStatusID: field.int('x.to_status_id'),
    UsersID: nullableInt('x.agent_id', 'The agent the change concerned: offered to, accepted by, taken from…'),
    Actor: field.text('x.actor'),
    Reason: field.text('x.reason', { nullable: true }),
    dtCreated: field.timestamp('x.created_at'),
  },
  { from: `acd_event_history x ${BY_EVENT}`, clientColumn: 'e.client_id', idColumn: 'x.id', defaultOrderBy: 'ID' },
);

/** Appends `Result_` to a record's JSON text from the database (keys keep their order). */
export function withResult(recordJson: string, result: CreateResult): string {
  return `${recordJson.slice(0, -1)},"Result_":"${result}"}`;
}
