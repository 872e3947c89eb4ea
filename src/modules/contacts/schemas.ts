// Request schemas of the contact endpoints. Bodies are strict: unknown fields are refused.
import { Type, type Static } from 'typebox';
import { NullableString } from '../../http/schema-types.ts';

const Phone = () => Type.Optional(NullableString({ maxLength: 64, description: 'digits, optional leading +, separators allowed; stored without separators' }));

export const ImportContactBody = Type.Object(
  {
    Name: Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' }),
    FirstName: Type.Optional(NullableString({ maxLength: 256 })),
    Email: Type.Optional(NullableString({ maxLength: 254 })),
    DiallerCampaignsID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'this or DiallerCampaignsName' })),
    DiallerCampaignsName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'exact name; this or DiallerCampaignsID' })),
    PhoneNumber1: Phone(),
    PhoneNumber2: Phone(),
    PhoneNumber3: Phone(),
    PhoneNumber4: Phone(),
    PhoneNumber5: Phone(),
    PhoneNumber6: Phone(),
    UserData: Type.Optional(NullableString({ maxLength: 256, description: 'the key overwriteDuplicates matches on' })),
  },
  { additionalProperties: false },
);
export type ImportContactInput = Static<typeof ImportContactBody>;

export const ImportQuery = Type.Object(
  {
    overwriteDuplicates: Type.Optional(Type.Boolean({
      default: false,
      description: 'true: replace the contact of the same campaign with the same UserData, if any',
    })),
  },
  { additionalProperties: false },
);
