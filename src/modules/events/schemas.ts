// The create body of spec §3.2. Types and ranges are checked here; the rules across fields
// (group form, E.164, URL, appointment, byte limits) live in src/domain and name their field.
import { Type } from 'typebox';
import { NullableInt, NullableString } from '../../http/schema-types.ts';
import { TEXT_LIMITS } from '../../domain/event-rules.ts';
import { SKILL_MAX, SKILL_MIN } from '../../domain/acd-groups.ts';
import { serviceRules } from '../../http/service-rules.ts';

const id = (description: string) => Type.Optional(NullableInt({ minimum: 1, maximum: 2147483647, description }));
// maxLength counts characters; a character is at least one byte, so this is a cheap first bound
// and the byte limit is checked after it.
const text = (limit: number, description: string) => ({ maxLength: limit, description: `${description} (at most ${limit} bytes UTF-8)` });

/** SkillsID1..3 with SkillsValue1..3 [ours, jtel's record fields]: skills an agent must hold at or above the value. */
function requiredSkills() {
  const fields: Record<string, ReturnType<typeof id>> = {};
  for (const n of [1, 2, 3]) {
    fields[`SkillsID${n}`] = id(`A skill the agent must hold (with SkillsValue${n})`);
    fields[`SkillsValue${n}`] = Type.Optional(NullableInt({ minimum: SKILL_MIN, maximum: SKILL_MAX, description: `Minimum value of SkillsID${n} (${SKILL_MIN}..${SKILL_MAX}); absent: any value` }));
  }
  return fields;
}

export const CreateEventBody = Type.Object(
  {
    AcdEventTypesID: Type.Integer({ minimum: 1, maximum: 7, description: 'One of GET /acd/events/types (1..7)' }),
    AcdGroupsID: id('A Standalone group; either this, or AcdConfigurationGroupsID with AcdAgentGroupsID'),
    AcdConfigurationGroupsID: id('A Configuration group (call-flow settings), together with AcdAgentGroupsID'),
    AcdAgentGroupsID: id('An Agent group (who works the event), together with AcdConfigurationGroupsID'),
    UsersID: id('Deliver to this agent only (a member of the queue group); null: the group queue'),
    Sender: Type.String(text(TEXT_LIMITS.Sender, 'VoiceMail and Callback: E.164 digits, leading "+" accepted; other types: free text, may be empty')),
    Receiver: Type.Optional(NullableString(text(TEXT_LIMITS.Receiver, 'VoiceMail and Callback: E.164 service number, or empty'))),
    Subject: Type.String(text(TEXT_LIMITS.Subject, 'Any text')),
    Body: Type.Optional(NullableString(text(TEXT_LIMITS.Body, 'Added to the event body data'))),
    CrmURL: Type.Optional(NullableString(text(TEXT_LIMITS.CrmURL, 'Empty or an absolute http(s) URL'))),
    UserData: Type.Optional(NullableString(text(TEXT_LIMITS.UserData, 'Free text; tickets: the foreign ticket number'))),
    Priority: Type.Optional(NullableInt({ minimum: 0, maximum: 200, description: '0..200, default 50' })),
    dtAppointmentDate: Type.Optional(NullableString({ maxLength: 10, description: 'yyyy-mm-dd or yyyymmdd, in the client time zone' })),
    dtAppointmentTime: Type.Optional(NullableString({ maxLength: 5, description: 'hh:mm or hhmm, in the client time zone' })),
    ...requiredSkills(),
  },
  {
    additionalProperties: false,
    // jtel: a Standalone group, or a Configuration group with an Agent group (src/domain/event-rules.ts).
    ...serviceRules({
      anyOf: [
        {
          required: ['AcdGroupsID'],
          properties: { AcdGroupsID: { type: 'integer' }, AcdConfigurationGroupsID: { type: 'null' }, AcdAgentGroupsID: { type: 'null' } },
        },
        {
          required: ['AcdConfigurationGroupsID', 'AcdAgentGroupsID'],
          properties: { AcdGroupsID: { type: 'null' }, AcdConfigurationGroupsID: { type: 'integer' }, AcdAgentGroupsID: { type: 'integer' } },
        },
      ],
    }),
  },
);
