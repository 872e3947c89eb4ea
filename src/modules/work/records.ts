// The agent's view of an event [ours]: the jtel AcdEvent record plus who holds it and until when
// an offer stands. Inbox lists and every agent action answer with it.
import { defineRecord, field, type FieldDef } from '../../http/records.ts';
import { EventRecord } from '../events/records.ts';

export const WorkItemRecord = defineRecord<Record<string, FieldDef>>(
  'AcdEventWorkItem',
  {
    ...EventRecord.fields,
    AgentUsersID: field.int('e.agent_id', { nullable: true, description: 'The agent holding the event: offered to (10) or in hand (20, 30, 40)' }),
    dtOfferExpires: field.timestamp('e.lease_until', {
      nullable: true,
      description: 'Status 10: the offer returns to the queue at this moment unless accepted',
    }),
    ErrorReason: field.text('e.error_reason', { nullable: true, description: 'Status 100: why the event could not be served' }),
  },
  { from: 'acd_events e', clientColumn: 'e.client_id', idColumn: 'e.id', defaultOrderBy: 'dtCreated' },
);
