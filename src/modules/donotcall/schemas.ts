// Request and answer schemas of the do-not-call list.
import { Type, type Static } from 'typebox';
import { NullableBool, NullableString } from '../../http/schema-types.ts';
import { LOCAL_TIMESTAMP_PATTERN, serviceRules } from '../../http/service-rules.ts';

const TEXT_PATTERN = '^[^\\u0000]*$';

export const MAX_CHECK_NUMBERS = 1000;

export const DoNotCallCreateBody = Type.Object(
  {
    Number: Type.String({
      minLength: 1, maxLength: 64,
      description: 'a phone number (separators are dropped as at import); with bPrefix: 1..20 digits, optionally a leading +',
    }),
    bPrefix: Type.Optional(NullableBool({ description: 'block every number that starts with Number (default false)' })),
    dtExpires: Type.Optional(NullableString({
      description: 'YYYY-MM-DDTHH:mm[:ss[.SSS]], local time of the client; null: never expires', ...serviceRules({ pattern: LOCAL_TIMESTAMP_PATTERN }),
    })),
    Reason: Type.Optional(NullableString({ maxLength: 1000, pattern: TEXT_PATTERN })),
  },
  { additionalProperties: false },
);
export type DoNotCallInput = Static<typeof DoNotCallCreateBody>;

export const DoNotCallCheckBody = Type.Object(
  { Numbers: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: MAX_CHECK_NUMBERS }) },
  { additionalProperties: false },
);

export const DoNotCallCheckResult = Type.Object(
  {
    Number: Type.String({ description: 'as given' }),
    NormalizedNumber: Type.String({ description: 'as the dialler stores and dials it' }),
    bBlocked: Type.Boolean({ description: 'the list blocks it now (an entry or prefix that has not expired)' }),
  },
  { additionalProperties: false },
);
