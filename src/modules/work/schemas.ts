// Bodies of the agents' and supervisors' actions on events.
import { Type } from 'typebox';
import { NullableInt, NullableString } from '../../http/schema-types.ts';
import { LOCAL_TIMESTAMP_PATTERN, serviceRules } from '../../http/service-rules.ts';

export const COMMENT_MAX = 4096;

const id = (description: string) => Type.Optional(NullableInt({ minimum: 1, maximum: 2147483647, description }));

export const OptionalCommentBody = Type.Union([
  Type.Object(
    { Comment: Type.Optional(NullableString({ maxLength: COMMENT_MAX, description: `Kept with the event (at most ${COMMENT_MAX} characters)` })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const CommentBody = Type.Object(
  { Comment: Type.String({ minLength: 1, maxLength: COMMENT_MAX }) },
  { additionalProperties: false },
);

export const RemindBody = Type.Object(
  {
    dtRemind: Type.String({
      maxLength: 23,
      description: 'When the event comes back to me as New: YYYY-MM-DDTHH:mm[:ss[.SSS]], local time of the client, in the future',
      ...serviceRules({ pattern: LOCAL_TIMESTAMP_PATTERN }),
    }),
    Comment: Type.Optional(NullableString({ maxLength: COMMENT_MAX })),
  },
  { additionalProperties: false },
);

export const MoveBody = Type.Object(
  {
    AcdGroupsID: id('The group whose queue takes the event (a Standalone or Agent group); absent: the current one'),
    UsersID: id('Only this agent may take it (a member of that group); absent or null: anyone in the group'),
    Comment: Type.Optional(NullableString({ maxLength: COMMENT_MAX })),
  },
  {
    additionalProperties: false,
    // {} (or a Comment alone) says nowhere: 400 naming AcdGroupsID, as for a forward (work/service.ts).
    ...serviceRules({
      anyOf: [
        { required: ['AcdGroupsID'], properties: { AcdGroupsID: { type: 'integer' } } },
        { required: ['UsersID'], properties: { UsersID: { type: 'integer' } } },
      ],
    }),
  },
);

export interface MoveInput {
  AcdGroupsID?: number | null;
  UsersID?: number | null;
  Comment?: string | null;
}
