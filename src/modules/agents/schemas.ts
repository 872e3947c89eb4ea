// Request and response bodies of agent authentication and state.
import { Type } from 'typebox';
import { TIMESTAMP_PATTERN } from '../../http/schema-types.ts';
import { CAPACITY_MAX, EVENT_TYPE_IDS } from './records.ts';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export const PasswordBody = Type.Object(
  { Password: Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: `${PASSWORD_MIN}..${PASSWORD_MAX} characters; stored only as an argon2id hash` }) },
  { additionalProperties: false },
);

// No length rule on the password here beyond a cap: a login must not teach the password policy,
// and anything outside it simply does not match.
export const LoginBody = Type.Object(
  {
    UID: Type.String({ minLength: 1, maxLength: 256 }),
    Password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const AgentSession = Type.Object(
  {
    UsersID: Type.Integer(),
    Token: Type.String({ description: 'Agent session token: send it as `Authorization: Bearer …` on /agents/me…' }),
    dtExpires: Type.String({ pattern: TIMESTAMP_PATTERN }),
  },
  { $id: 'AgentSession', additionalProperties: false },
);

export const CapacityBody = Type.Object(
  {
    Capacity: Type.Object(
      Object.fromEntries(EVENT_TYPE_IDS.map((id) => [String(id), Type.Optional(Type.Integer({ minimum: 0, maximum: CAPACITY_MAX }))])),
      {
        additionalProperties: false,
        minProperties: 1,
        description: `{"<AcdEventTypesID 1..7>": 0..${CAPACITY_MAX}}; types not named keep their capacity`,
      },
    ),
  },
  { additionalProperties: false },
);
