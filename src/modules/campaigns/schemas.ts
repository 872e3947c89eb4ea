// Request schemas of the campaign endpoints. Bodies are strict: unknown fields are refused.
// Create and change share their fields; only create carries defaults, because the validator fills
// them in (useDefaults), and a change must not reset what its body leaves out.
import { Type, type Static, type TSchema } from 'typebox';
import { NullableBool, NullableInt, NullableString } from '../../http/schema-types.ts';
import { CAMPAIGN_MODES } from '../../domain/dialler-contact.ts';
import { RESTRICTED_PERIODS_MAX } from './settings.ts';
import { DATE_PATTERN, LOCAL_TIMESTAMP_PATTERN, serviceRules, WINDOW_FROM_PATTERN, WINDOW_TO_PATTERN } from '../../http/service-rules.ts';

/** A name someone can read back: not blank, no surrounding whitespace to trip exact matching. */
export const CampaignName = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S(.*\\S)?$', description });

const ExportKey = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S(.*\\S)?$' });
const Text = Type.String({ minLength: 1, maxLength: 1024 });
const MINUTES_PER_YEAR = 525600;

export const ResultCodeInput = Type.Object(
  {
    ExportKey,
    DiallerResultCodesTypesID: Type.Integer({ minimum: 1, maximum: 4, description: '1 Done, 2 Abort, 3 Delay, 4 Appointment' }),
    TimeOffset: Type.Optional(NullableInt({ minimum: 0, maximum: MINUTES_PER_YEAR, description: 'minutes until the contact is dialled again; Delay only' })),
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
    From: Type.String({ description: "HH:mm in each contact's local time (its TimeZone, else its country's, else the campaign's)", ...serviceRules({ pattern: WINDOW_FROM_PATTERN }) }),
    To: Type.String({ description: 'HH:mm, later than From; 24:00 = end of day', ...serviceRules({ pattern: WINDOW_TO_PATTERN }) }),
  },
  { additionalProperties: false },
);

export const RestrictedPeriodInput = Type.Object(
  {
    From: Type.String({ description: 'first day without calls, YYYY-MM-DD', ...serviceRules({ pattern: DATE_PATTERN, format: 'date' }) }),
    To: Type.String({ description: 'last day without calls, YYYY-MM-DD, not before From', ...serviceRules({ pattern: DATE_PATTERN, format: 'date' }) }),
    Name: Type.Optional(NullableString({ maxLength: 256, description: 'e.g. the holiday' })),
  },
  { additionalProperties: false },
);

const Minutes = (fallback: number, create: boolean) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: MINUTES_PER_YEAR, ...(create ? { default: fallback } : {}), description: `minutes, default ${fallback}` }));

const retryDelays = (create: boolean) => Type.Object(
  {
    Busy: Minutes(10, create),
    NoAnswer: Minutes(30, create),
    AnsweringMachine: Minutes(60, create),
    Other: Minutes(15, create),
  },
  {
    additionalProperties: false,
    description: 'Minutes before a number is tried again after each system cause; an invalid number is never tried again.'
      + (create ? '' : ' Merged per cause: causes left out keep their delay.'),
  },
);

const tries = (what: string, fallback: number, create: boolean) =>
  Type.Integer({ minimum: 1, maximum: 1000, ...(create ? { default: fallback } : {}), description: `${what}; default ${fallback}` });

/** Every field of create and change except Name, ResultCodes and the code references. */
function settingsFields(create: boolean) {
  const d = (value: unknown) => (create ? { default: value } : {});
  return {
    LanguagesID: Type.Integer({ minimum: 1, maximum: 2, ...d(1), description: '1 = English, 2 = German' }),
    ContactPreviewTime: NullableInt({ minimum: 0, maximum: 86400, description: 'seconds' }),
    nMaxParallelLines: NullableInt({ minimum: 1, maximum: 10000 }),
    bCloseContactsOnIncomingCallsMatchCallerID: Type.Boolean(d(false)),
    dtTo: NullableString({ description: 'end of the campaign, YYYY-MM-DDTHH:mm[:ss[.SSS]] local time of the client', ...serviceRules({ pattern: LOCAL_TIMESTAMP_PATTERN }) }),
    bCallerIDActive: Type.Boolean(d(false)),
    UserData: NullableString({ maxLength: 256 }),
    TimeWindows: Type.Array(TimeWindowInput, {
      maxItems: 100,
      description: "When calls may start, in each contact's local time" + (create ? '' : '; replaces the whole list'),
    }),
    Mode: Type.Enum([...CAMPAIGN_MODES], {
      ...d('Preview'),
      description: 'Manual (agents pick contacts), Preview (default), Progressive (no preview step), External (a telephony system claims contacts)',
    }),
    AcdGroupsID: NullableInt({ minimum: 1, maximum: 2147483647, description: 'ACD group of this client whose members work the campaign' }),
    nMaxTries: tries('tries per contact', 10, create),
    nMaxTriesPerNumber: tries('tries per number of a contact', 5, create),
    nMaxTriesPerDay: tries("tries per contact and local day", 3, create),
    RetryDelays: retryDelays(create),
    TimeZone: NullableString({ minLength: 1, maxLength: 64, description: "IANA zone of contacts whose own zone is unknown; null: the client's" }),
    bRunning: Type.Boolean({ ...d(false), description: 'whether the campaign dials; a new campaign is paused until started' }),
    Weight: Type.Integer({ minimum: 1, maximum: 100, ...d(1), description: "share of this campaign among an agent's campaigns; default 1" }),
    AppointmentFallbackMinutes: NullableInt({
      minimum: 0, maximum: 2147483647,
      description: 'minutes after which an agent-bound appointment or delay goes to any agent; null: never',
    }),
    RestrictedPeriods: Type.Array(RestrictedPeriodInput, {
      maxItems: RESTRICTED_PERIODS_MAX,
      description: 'Days without calls (holidays, blackout dates), in the local calendar of each contact'
        + (create ? '' : '; replaces the whole list'),
    }),
  };
}

function optionalAll<T extends Record<string, TSchema>>(fields: T) {
  return Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, Type.Optional(s)])) as { [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>> };
}

export const CreateCampaignBody = Type.Object(
  {
    Name: CampaignName('unique within the client'),
    ...optionalAll(settingsFields(true)),
    ResultCodes: Type.Optional(Type.Array(ResultCodeInput, { maxItems: 500 })),
    AbortOnNoTelNumberResultCode: Type.Optional(NullableString({ description: 'ExportKey of one of ResultCodes' })),
    IncomingCallResultCode: Type.Optional(NullableString({ description: 'ExportKey of one of ResultCodes' })),
  },
  { additionalProperties: false },
);
export type CreateCampaignInput = Static<typeof CreateCampaignBody>;

export const UpdateCampaignBody = Type.Object(
  {
    Name: Type.Optional(CampaignName('unique within the client')),
    ...optionalAll(settingsFields(false)),
    AbortOnNoTelNumberResultCode: Type.Optional(NullableString({ description: "ExportKey of one of the campaign's result codes; null clears" })),
    IncomingCallResultCode: Type.Optional(NullableString({ description: "ExportKey of one of the campaign's result codes; null clears" })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any of the create fields except ResultCodes (result codes are not changed here). Fields left out keep their value; '
      + 'null clears a nullable field; TimeWindows and RestrictedPeriods replace the whole list; RetryDelays merges per cause.',
  },
);
export type UpdateCampaignInput = Static<typeof UpdateCampaignBody>;

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
