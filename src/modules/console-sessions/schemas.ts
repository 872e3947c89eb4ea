// The console session record [ours]: who is signed in to the web console, and the CSRF token the
// console sends back as X-CSRF-Token on every change.
import { Type } from 'typebox';
import { TIMESTAMP_PATTERN } from '../../http/schema-types.ts';
import { ROLES } from '../users/schemas.ts';

export const ConsoleSession = Type.Object(
  {
    UsersID: Type.Integer(),
    UID: Type.String(),
    Name: Type.Union([Type.String(), Type.Null()], { description: 'FirstName and LastName of the user; null when neither is set' }),
    Role: Type.Enum([...ROLES], { description: 'agent: the agent desk (the rights of an agent session token); supervisor: the supervisor view' }),
    ClientsID: Type.Integer(),
    TimeZone: Type.String({ description: 'The client\'s time zone: every timestamp of the API is local to it' }),
    CsrfToken: Type.String({ description: 'Send it as the `X-CSRF-Token` header on every request of this session that is not GET, HEAD or OPTIONS (403 otherwise)' }),
    dtExpires: Type.String({ pattern: TIMESTAMP_PATTERN, description: 'When the session ends unless signed out before' }),
  },
  { $id: 'ConsoleSession', additionalProperties: false },
);
