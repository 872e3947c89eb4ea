// Request schemas of the campaign endpoints. Bodies are strict: unknown fields are refused.
import { Type, type Static } from 'typebox';
import { NullableBool, NullableInt, NullableString } from '../../http/schema-types.ts';

/** A name someone can read back: not blank, no surrounding whitespace to trip exact matching. */
export const CampaignName = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S(.*\\S)?$', description });

const ExportKey = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S(.*\\S)?$' });
const Text = Type.String({ minLength: 1, maxLength: 1024 });

export const ResultCodeInput = Type.Object(
  {
    ExportKey,
    DiallerResultCodesTypesID: Type.Integer({ minimum: 1, maximum: 4, description: '1 Done, 2 Abort, 3 Delay, 4 Appointment' }),
    TimeOffset: Type.Optional(NullableInt({ minimum: 0, maximum: 525600, description: 'minutes until the contact is dialled again; Delay only' })),
    bAgentBound: Type.Optional(NullableBool()),
    bAllowDelete: Type.Optional(Type.Boolean({ default: true })),
    Content: Type.Object(
      { 1: Type.Optional(Text), 2: Type.Optional(Text) },
      { additionalProperties: false, minProperties: 1, description: 'texts by LanguagesID: "1" English, "2" German; at least one' },
    ),
  },
  { additionalProperties: false },
);

export const TimeWindowInput = Type.Object(
  {
    Weekday: Type.Integer({ minimum: 1, maximum: 7, description: '1 = Monday … 7 = Sunday' }),
    From: Type.String({ description: 'HH:mm, local time of the client' }),
    To: Type.String({ description: 'HH:mm, later than From; 24:00 = end of day' }),
  },
  { additionalProperties: false },
);

export const CreateCampaignBody = Type.Object(
  {
    Name: CampaignName('unique within the client'),
    LanguagesID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2, default: 1, description: '1 = English, 2 = German' })),
    ContactPreviewTime: Type.Optional(NullableInt({ minimum: 0, maximum: 86400, description: 'seconds' })),
    nMaxParallelLines: Type.Optional(NullableInt({ minimum: 1, maximum: 10000 })),
    bCloseContactsOnIncomingCallsMatchCallerID: Type.Optional(Type.Boolean({ default: false })),
    dtTo: Type.Optional(NullableString({ description: 'end of the campaign, YYYY-MM-DDTHH:mm[:ss[.SSS]] local time of the client' })),
    bCallerIDActive: Type.Optional(Type.Boolean({ default: false })),
    UserData: Type.Optional(NullableString({ maxLength: 256 })),
    ResultCodes: Type.Optional(Type.Array(ResultCodeInput, { maxItems: 500 })),
    AbortOnNoTelNumberResultCode: Type.Optional(NullableString({ description: 'ExportKey of one of ResultCodes' })),
    IncomingCallResultCode: Type.Optional(NullableString({ description: 'ExportKey of one of ResultCodes' })),
    TimeWindows: Type.Optional(Type.Array(TimeWindowInput, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type CreateCampaignInput = Static<typeof CreateCampaignBody>;

export const CloneCampaignBody = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 256, description: 'exact name of the campaign to copy' }),
    destination: CampaignName('name of the new campaign; must not exist yet'),
    userData: Type.String({ maxLength: 256, description: 'UserData of the new campaign' }),
  },
  { additionalProperties: false },
);

export const NameQuery = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const LanguageQuery = Type.Object(
  { languagesID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2, default: 1, description: '1 = English (default), 2 = German' })) },
  { additionalProperties: false },
);
