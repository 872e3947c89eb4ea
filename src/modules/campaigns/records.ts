// jtel record definitions of dialler campaigns and their result codes (spec §5.2); the campaign
// record adds [ours] the dialler engine's settings (spec §8.2) after jtel's fields.
import { Type } from 'typebox';
import { defineRecord, field, type RecordDef } from '../../http/records.ts';
import { NullableString } from '../../http/schema-types.ts';
import { RESULT_CODE_TYPES, type LanguageId } from '../../domain/dialler.ts';
import { CAMPAIGN_MODES } from '../../domain/dialler-contact.ts';

const RetryDelays = Type.Object(
  { Busy: Type.Integer(), NoAnswer: Type.Integer(), AnsweringMachine: Type.Integer(), Other: Type.Integer() },
  { additionalProperties: false, description: 'minutes before a number is tried again, per system cause' },
);

const TimeWindows = Type.Array(
  Type.Object({ Weekday: Type.Integer(), From: Type.String(), To: Type.String() }, { additionalProperties: false }),
  { description: "when calls may start, HH:mm in each contact's local time; by Weekday (1 = Monday), then From" },
);

const RestrictedPeriods = Type.Array(
  Type.Object({ From: Type.String(), To: Type.String(), Name: NullableString() }, { additionalProperties: false }),
  { description: 'days without calls (YYYY-MM-DD, both included), by From' },
);

// row_to_json over a sub-select prints compact JSON with the keys in this order; json_agg and
// json_build_object would add spaces (see src/http/records.ts).
const retryDelaysSql = `(SELECT row_to_json(d) FROM (SELECT (c.retry_delays->>'Busy')::int AS "Busy",
  (c.retry_delays->>'NoAnswer')::int AS "NoAnswer", (c.retry_delays->>'AnsweringMachine')::int AS "AnsweringMachine",
  (c.retry_delays->>'Other')::int AS "Other") d)`;

const timeWindowsSql = `(SELECT coalesce(array_to_json(array_agg(row_to_json(w) ORDER BY tw.weekday, tw.time_from, tw.id)), '[]'::json)
  FROM dialler_time_windows tw
  CROSS JOIN LATERAL (SELECT tw.weekday AS "Weekday", to_char(tw.time_from, 'HH24:MI') AS "From", to_char(tw.time_to, 'HH24:MI') AS "To") w
  WHERE tw.campaign_id = c.id)`;

const restrictedPeriodsSql = `(SELECT coalesce(array_to_json(array_agg(row_to_json(p) ORDER BY rp.date_from, rp.date_to, rp.id)), '[]'::json)
  FROM dialler_restricted_periods rp
  CROSS JOIN LATERAL (SELECT to_char(rp.date_from, 'YYYY-MM-DD') AS "From", to_char(rp.date_to, 'YYYY-MM-DD') AS "To", rp.name AS "Name") p
  WHERE rp.campaign_id = c.id)`;

export const CampaignRecord = defineRecord(
  'DiallerCampaign',
  {
    ID: field.int('c.id'),
    Name: field.text('c.name'),
    ClientsID: field.int('c.client_id'),
    LanguagesID: field.int('c.languages_id', { description: '1 = English, 2 = German' }),
    ContactPreviewTime: field.int('c.contact_preview_time', { nullable: true }),
    nMaxParallelLines: field.int('c.n_max_parallel_lines', { nullable: true }),
    bCloseContactsOnIncomingCallsMatchCallerID: field.bool('c.b_close_contacts_on_incoming_calls_match_caller_id'),
    dtTo: field.timestamp('c.dt_to', { nullable: true }),
    bCallerIDActive: field.bool('c.b_caller_id_active'),
    AbortOnNoTelNumberResultCodesID: field.int('c.abort_on_no_tel_number_result_code_id', { nullable: true }),
    IncomingCallResultCodesID: field.int('c.incoming_call_result_code_id', { nullable: true }),
    UserData: field.text('c.user_data', { nullable: true }),
    dtCreated: field.timestamp('c.created_at'),
    dtLastModified: field.timestamp('c.updated_at'),
    Mode: field.text('c.mode', { description: CAMPAIGN_MODES.join(' | ') }),
    AcdGroupsID: field.int('c.group_id', { nullable: true, description: 'the ACD group whose members work the campaign' }),
    nMaxTries: field.int('c.n_max_tries', { description: 'tries per contact' }),
    nMaxTriesPerNumber: field.int('c.n_max_tries_per_number', { description: 'tries per number of a contact' }),
    nMaxTriesPerDay: field.int('c.n_max_tries_per_day', { description: 'tries per contact and local day' }),
    RetryDelays: field.json(retryDelaysSql, RetryDelays),
    TimeZone: field.text('c.time_zone', { nullable: true, description: "zone of contacts whose own zone is unknown; null: the client's" }),
    bRunning: field.bool('c.b_running', { description: 'whether the campaign dials' }),
    Weight: field.int('c.weight', { description: "share among an agent's campaigns" }),
    AppointmentFallbackMinutes: field.int('c.appointment_fallback_minutes', {
      nullable: true, description: 'minutes after which an agent-bound appointment or delay goes to any agent; null: never',
    }),
    TimeWindows: field.json(timeWindowsSql, TimeWindows),
    RestrictedPeriods: field.json(restrictedPeriodsSql, RestrictedPeriods),
  },
  { from: 'dialler_campaigns c', clientColumn: 'c.client_id', idColumn: 'c.id', defaultOrderBy: 'Name' },
);

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** `CASE r.type_id WHEN 1 THEN 'Completion' … END` from the constant type table. */
function typeContentSql(language: LanguageId): string {
  const branches = RESULT_CODE_TYPES.map((t) => `WHEN ${t.ID} THEN ${quote(t.content[language])}`).join(' ');
  return `CASE r.type_id ${branches} END`;
}

const flagSql = (flag: string) => `r.type_id = ${RESULT_CODE_TYPES.find((t) => t.flag === flag)!.ID}`;

/**
 * The result code record in one language. A code without a text in that language shows its
 * text in the other language, and failing that its ExportKey: `Content` is never null, and a
 * German-only campaign still reads sensibly when asked in English.
 */
function resultCodeRecord(language: LanguageId): RecordDef {
  const other = language === 1 ? 2 : 1;
  return defineRecord(
    'DiallerResultCode',
    {
      ID: field.int('r.id'),
      DiallerCampaignsID: field.int('r.campaign_id'),
      ShortText: field.text(`'DiallerCampaignsResultCodes.' || r.id`),
      Content: field.text('coalesce(t.content, o.content, r.export_key)', { description: 'in the requested language' }),
      ExportKey: field.text('r.export_key'),
      bDone: field.bool(flagSql('bDone')),
      bAborted: field.bool(flagSql('bAborted')),
      bDelay: field.bool(flagSql('bDelay')),
      bAppointment: field.bool(flagSql('bAppointment')),
      bAgentBound: field.bool('r.b_agent_bound', { nullable: true }),
      TimeOffset: field.int('r.time_offset', { nullable: true, description: 'minutes, for Delay' }),
      bAllowDelete: field.bool('r.b_allow_delete'),
      DiallerResultCodesTypesID: field.int('r.type_id'),
      DiallerResultCodesTypesShortText: field.text(`'DiallerResultCodesTypes.' || r.type_id`),
      DiallerResultCodesTypesContent: field.text(typeContentSql(language), { description: 'in the requested language' }),
    },
    {
      from: `dialler_result_codes r
        JOIN dialler_campaigns c ON c.id = r.campaign_id
        LEFT JOIN dialler_result_code_texts t ON t.result_code_id = r.id AND t.languages_id = ${language}
        LEFT JOIN dialler_result_code_texts o ON o.result_code_id = r.id AND o.languages_id = ${other}`,
      clientColumn: 'c.client_id',
      idColumn: 'r.id',
      defaultOrderBy: 'ID',
    },
  );
}

export const ResultCodeRecords: Record<LanguageId, RecordDef> = { 1: resultCodeRecord(1), 2: resultCodeRecord(2) };
