// Request and answer schemas of the dialler's agent and external-dialler endpoints.
import { Type, type Static } from 'typebox';
import { NullableInt, NullableString } from '../../http/schema-types.ts';
import { CAMPAIGN_MODES, SYSTEM_CAUSE_NAMES } from '../../domain/dialler-contact.ts';
import { ContactRecord } from '../contacts/records.ts';
import { ResultCodeRecords } from '../campaigns/records.ts';
import { ContactHistoryRecord } from './history-routes.ts';
import { LOCAL_TIMESTAMP_PATTERN, serviceRules } from '../../http/service-rules.ts';

const AttemptId = Type.String({ pattern: '^[1-9][0-9]{0,18}$', description: 'the attempt, as handed out (HandedOut / AttemptID)' });

export const StartBody = Type.Object(
  { PhoneIndex: Type.Optional(Type.Integer({ minimum: 1, maximum: 6, description: 'which of PhoneNumber1..6 to dial; default: the one proposed' })) },
  { additionalProperties: false },
);

export const ResultBody = Type.Object(
  {
    AttemptID: AttemptId,
    ResultCodesID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    ResultCodesExportKey: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the result code by ExportKey (instead of ResultCodesID)' })),
    SystemCause: Type.Optional(Type.Union(SYSTEM_CAUSE_NAMES.map((n) => Type.Literal(n)), {
      description: 'what the line did; without a result code, a no-contact cause schedules a retry (Connected needs a result code)',
    })),
    dtAppointment: Type.Optional(NullableString({ description: 'for an Appointment result code: YYYY-MM-DDTHH:mm[:ss[.SSS]], local time of the client', ...serviceRules({ pattern: LOCAL_TIMESTAMP_PATTERN }) })),
    Comment: Type.Optional(NullableString({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type ResultInputBody = Static<typeof ResultBody>;

export const HeldContactSchema = Type.Object(
  {
    DiallerContactsID: Type.Integer(),
    DiallerCampaignsID: Type.Integer(),
    AttemptID: Type.String(),
    HoldKind: Type.String({ description: 'Preview, Progressive, Manual or External' }),
    PhoneIndex: NullableInt({ description: '1..6: the number proposed or being dialled' }),
    PhoneNumber: NullableString(),
    bStarted: Type.Boolean({ description: 'the attempt (the call) has started' }),
    dtPreviewEnds: NullableString({ description: 'Preview: when the call starts by itself, local time of the client' }),
  },
  { additionalProperties: false },
);

/** A campaign the agent may work: its ACD group counts them among its members, or they are logged in to it. */
export const MyCampaignSchema = Type.Object(
  {
    DiallerCampaignsID: Type.Integer(),
    Name: Type.String(),
    Mode: Type.String({ description: CAMPAIGN_MODES.join(' | ') }),
    bRunning: Type.Boolean({ description: 'whether the campaign dials' }),
    bLoggedIn: Type.Boolean({ description: 'I am logged in to it' }),
  },
  { additionalProperties: false },
);

/** A contact in my hands with what the preview shows: the contact, its dialler history and its campaign's result codes. */
export const MyHeldContactSchema = Type.Object(
  {
    ...HeldContactSchema.properties,
    Contact: ContactRecord.schema,
    History: Type.Array(ContactHistoryRecord.schema, { description: 'every change of the contact in the dialler, oldest first (as listDiallerContactHistory)' }),
    ResultCodes: Type.Array(ResultCodeRecords[1]!.schema, { description: "the campaign's result codes, texts in LanguagesID (as listDiallerCampaignResultCodes)" }),
  },
  { additionalProperties: false },
);

export const MyDiallerSchema = Type.Object(
  {
    Campaigns: Type.Array(Type.Integer(), { description: 'DiallerCampaignsID of every campaign I am logged in to' }),
    Contacts: Type.Array(MyHeldContactSchema),
    AvailableCampaigns: Type.Array(MyCampaignSchema, { description: 'every campaign I may log in to (logged in or not), by Name' }),
    LanguagesID: Type.Integer({ description: 'the language of the result code texts: 1 = English, 2 = German' }),
  },
  { additionalProperties: false },
);

export const MyDiallerQuery = Type.Object(
  {
    LanguagesID: Type.Optional(Type.Integer({
      minimum: 1, maximum: 2, default: 1,
      description: "result code texts in 1 = English (default) or 2 = German; a code without that text shows the other language's, else its ExportKey",
    })),
  },
  { additionalProperties: false },
);

export const ResultAnswer = Type.Object(
  {
    DiallerContactsID: Type.Integer(),
    bRepeated: Type.Boolean({ description: 'this attempt already had its result: nothing changed' }),
    Next: Type.Union([HeldContactSchema, Type.Null()], {
      description: "the agent's next contact, handed out with this result (also on their stream); null: none came with it (the engine serves the agent next, and the stream tells)",
    }),
  },
  { additionalProperties: false },
);

export const CallableQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) },
  { additionalProperties: false },
);

export const ClaimBody = Type.Object(
  {
    Count: Type.Integer({ minimum: 1, maximum: 1000, description: 'contacts wanted; fewer come when fewer are callable' }),
    LeaseSeconds: Type.Integer({ minimum: 5, maximum: 86400, description: 'until then the contacts are the dialler\'s; renew or report before' }),
  },
  { additionalProperties: false },
);

export const LeaseBody = Type.Object(
  { LeaseSeconds: Type.Integer({ minimum: 5, maximum: 86400 }) },
  { additionalProperties: false },
);

export const LeaseSchema = Type.Object(
  {
    LeaseID: Type.String(),
    dtExpires: Type.String({ description: 'local time of the client' }),
    Contacts: Type.Array(HeldContactSchema),
  },
  { additionalProperties: false },
);

export const LeaseParams = Type.Object(
  { ClientsID: Type.Integer({ minimum: 1, maximum: 2147483647 }), LeaseID: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const LeaseCount = Type.Object({ LeaseID: Type.String(), nContacts: Type.Integer() }, { additionalProperties: false });
