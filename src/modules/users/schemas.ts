// Request bodies of user provisioning; update makes every field optional, null clears.
import { Type } from 'typebox';
import { NullableInt, NullableString } from '../../http/schema-types.ts';
import { NAME_PATTERN, TEXT_PATTERN } from '../groups/schemas.ts';

/** A user's role in the web console (spec §9): the agent desk, or the supervisor view of the client. */
export const ROLES = ['agent', 'supervisor'] as const;
export type UserRole = (typeof ROLES)[number];

const userFields = {
  UID: Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN, description: 'Login name, unique in the client' }),
  FirstName: NullableString({ maxLength: 256, pattern: TEXT_PATTERN }),
  LastName: NullableString({ maxLength: 256, pattern: TEXT_PATTERN }),
  Email: NullableString({ maxLength: 256, format: 'email', pattern: TEXT_PATTERN }),
  TelStatusID: Type.Integer({ minimum: 0, maximum: 2147483647, description: 'default 0' }),
  ResellersID: NullableInt({ minimum: 1, maximum: 2147483647 }),
  Role: Type.Enum([...ROLES], { description: 'What the user signs in to the web console as: agent (default) or supervisor' }),
};

const { UID, FirstName, LastName, Email, TelStatusID, ResellersID, Role } = userFields;

export const UserCreateBody = Type.Object(
  {
    UID,
    FirstName: Type.Optional(FirstName),
    LastName: Type.Optional(LastName),
    Email: Type.Optional(Email),
    TelStatusID: Type.Optional(TelStatusID),
    ResellersID: Type.Optional(ResellersID),
    Role: Type.Optional(Role),
  },
  { additionalProperties: false },
);

export const UserUpdateBody = Type.Object(
  {
    UID: Type.Optional(UID),
    FirstName: Type.Optional(FirstName),
    LastName: Type.Optional(LastName),
    Email: Type.Optional(Email),
    TelStatusID: Type.Optional(TelStatusID),
    ResellersID: Type.Optional(ResellersID),
    Role: Type.Optional(Role),
  },
  { additionalProperties: false, minProperties: 1 },
);

export interface UserInput {
  UID?: string;
  FirstName?: string | null;
  LastName?: string | null;
  Email?: string | null;
  TelStatusID?: number;
  ResellersID?: number | null;
  Role?: UserRole;
}
