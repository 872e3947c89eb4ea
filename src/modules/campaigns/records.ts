// jtel record definitions of dialler campaigns and their result codes (spec §5.2).
import { defineRecord, field, type RecordDef } from '../../http/records.ts';
import { RESULT_CODE_TYPES, type LanguageId } from '../../domain/dialler.ts';

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
