// Request and report schemas of the contact endpoints. Bodies are strict: unknown fields are refused.
import { Type, type Static, type TSchema } from 'typebox';
import { NullableString } from '../../http/schema-types.ts';
import { ContactRecord, IMPORTED_FIELDS } from './records.ts';
import { PHONE_PATTERN, serviceRules } from '../../http/service-rules.ts';

const Phone = () => Type.Optional(NullableString({
  maxLength: 64, description: 'digits, optional leading +, separators allowed; stored without separators',
  ...serviceRules({ pattern: PHONE_PATTERN }),
}));

export const MIN_PRIORITY = -1000;
export const MAX_PRIORITY = 1000;

/** What one imported contact may carry, besides the campaign. */
const contactFields = {
  Name: Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' }),
  FirstName: Type.Optional(NullableString({ maxLength: 256 })),
  Email: Type.Optional(NullableString({ maxLength: 254 })),
  PhoneNumber1: Phone(),
  PhoneNumber2: Phone(),
  PhoneNumber3: Phone(),
  PhoneNumber4: Phone(),
  PhoneNumber5: Phone(),
  PhoneNumber6: Phone(),
  UserData: Type.Optional(NullableString({ maxLength: 256, description: 'the key overwriteDuplicates matches on' })),
  TimeZone: Type.Optional(NullableString({
    maxLength: 64,
    description: "IANA zone (e.g. Europe/Vienna) whose local time the campaign's windows apply in; "
      + "absent: the zone of the first number's country if it has one zone, else the campaign's (else the client's)",
  })),
  Priority: Type.Optional(Type.Integer({
    minimum: MIN_PRIORITY, maximum: MAX_PRIORITY, default: 0,
    description: 'among contacts due at the same moment, higher goes first (default 0)',
  })),
  ReservedUsersUID: Type.Optional(NullableString({ maxLength: 256, description: 'UID of a user of this client: the never-tried contact goes to this agent first' })),
};

export const ImportContactBody = Type.Object(
  {
    ...contactFields,
    DiallerCampaignsID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'this or DiallerCampaignsName' })),
    DiallerCampaignsName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'exact name; this or DiallerCampaignsID' })),
  },
  {
    additionalProperties: false,
    // The campaign by ID or name, and at least one number (one with digits: separators alone are none).
    ...serviceRules({
      allOf: [
        { anyOf: [{ required: ['DiallerCampaignsID'] }, { required: ['DiallerCampaignsName'] }] },
        { anyOf: [1, 2, 3, 4, 5, 6].map((n) => `PhoneNumber${n}`).map((name) => ({ required: [name], properties: { [name]: { type: 'string', pattern: '\\d' } } })) },
      ],
    }),
  },
);
export type ImportContactInput = Static<typeof ImportContactBody>;

// An exported file carries every field of the record; the dialler's own (ID, state, tries…) are
// taken and ignored on import, so an export can be imported again as it is.
const exportOnly: Record<string, TSchema> = Object.fromEntries(
  Object.keys(ContactRecord.fields)
    .filter((name) => !(IMPORTED_FIELDS as readonly string[]).includes(name))
    .map((name) => [name, Type.Optional(Type.Unknown())]),
);

/** One row of a bulk import: the contact fields; the campaign comes from the query. */
export const BulkRowBody = Type.Object(
  { ...exportOnly, DiallerCampaignsName: Type.Optional(Type.Unknown()), ...contactFields },
  { additionalProperties: false },
);
export type BulkRowInput = Static<typeof ImportContactBody>;

const overwriteDuplicates = Type.Optional(Type.Boolean({
  default: false,
  description: 'true: replace the contact of the same campaign with the same UserData, if any',
}));
const resetDiallerState = Type.Optional(Type.Boolean({
  default: false,
  description: 'with an overwrite: true starts the contact over (tries, causes, invalid flags, result, follow-up, '
    + 'reservation and binding cleared; Waiting, due at once) and answers 409 for a contact in progress; '
    + "false keeps the dialler state, except that a changed phone number starts that number's tries and cause over",
}));

export const ImportQuery = Type.Object({ overwriteDuplicates, resetDiallerState }, { additionalProperties: false });

export const FORMATS = ['csv', 'semicolon', 'ndjson'] as const;
export type FileFormat = (typeof FORMATS)[number];

const FORMAT_TEXT = 'csv: RFC 4180, comma, header row of jtel field names, UTF-8 (optional BOM); '
  + 'semicolon: jtel legacy, the same with ";" between fields and numbers written plain; ndjson: one JSON object per line';
const format = (fallback: string) => Type.Optional(Type.Union(FORMATS.map((f) => Type.Literal(f)), { description: `${FORMAT_TEXT}. Default: ${fallback}` }));

const campaignChoice = {
  diallerCampaignsID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'the campaign; this or diallerCampaignsName' })),
  diallerCampaignsName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'exact campaign name; this or diallerCampaignsID' })),
};

export const BulkImportQuery = Type.Object(
  { ...campaignChoice, format: format('ndjson for a body sent as application/x-ndjson, else csv'), overwriteDuplicates, resetDiallerState },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object({ ...campaignChoice, format: format('csv') }, { additionalProperties: false });

export const RowError = Type.Object({
  Row: Type.Integer({ description: 'the data row, from 1 (a header row is not counted; in NDJSON the line)' }),
  Field: Type.Union([Type.String(), Type.Null()], { description: 'the field at fault; null: the row as a whole' }),
  Reason: Type.String(),
});

export const MAX_REPORTED_ROWS = 1000;

export const BulkReport = Type.Object({
  Rows: Type.Integer({ description: 'data rows read' }),
  Imported: Type.Integer({ description: 'rows added as new contacts' }),
  Overwritten: Type.Integer({ description: 'rows that overwrote a contact with the same UserData (one added earlier in the file included)' }),
  Rejected: Type.Integer({ description: 'rows refused; the first 1000 are in Errors' }),
  Errors: Type.Array(RowError),
  DoNotCall: Type.Integer({ description: 'imported rows with a number on the do-not-call list (imported all the same; such a number is never handed out)' }),
  DoNotCallRows: Type.Array(RowError, { description: 'the first 1000 of them, naming the field' }),
});
export type BulkReportData = Static<typeof BulkReport>;
