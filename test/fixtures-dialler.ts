// Dialler fixtures: campaigns made through the provisioning endpoint, and direct row counts for
// checking what a clone or delete did to the tables.
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Database } from '../src/db/schema.ts';
import type { TestClient } from './helper.ts';

/** One result code of every type, German and English texts, except AGENT which is German only. */
export const STANDARD_RESULT_CODES = [
  { ExportKey: 'DONE', DiallerResultCodesTypesID: 1, Content: { 1: 'Completed', 2: 'Abgeschlossen' } },
  { ExportKey: 'NOTEL', DiallerResultCodesTypesID: 2, bAllowDelete: false, Content: { 1: 'No number', 2: 'Keine Nummer' } },
  { ExportKey: 'LATER', DiallerResultCodesTypesID: 3, TimeOffset: 90, bAgentBound: true, Content: { 1: 'Call again', 2: 'Wiedervorlage später' } },
  { ExportKey: 'APPT', DiallerResultCodesTypesID: 4, bAgentBound: false, Content: { 1: 'Appointment made', 2: 'Termin vereinbart' } },
  { ExportKey: 'INCOMING', DiallerResultCodesTypesID: 1, Content: { 2: 'Rückruf erhalten' } },
];

export const STANDARD_TIME_WINDOWS = [
  { Weekday: 1, From: '08:00', To: '12:00' },
  { Weekday: 1, From: '13:00', To: '18:30' },
  { Weekday: 6, From: '10:00', To: '24:00' },
];

export function campaignBody(name: string, extra: Record<string, unknown> = {}) {
  return {
    Name: name,
    LanguagesID: 2,
    ContactPreviewTime: 5,
    nMaxParallelLines: 10,
    bCloseContactsOnIncomingCallsMatchCallerID: true,
    dtTo: '2026-12-31T18:00:00.000',
    bCallerIDActive: true,
    UserData: 'source user data',
    ResultCodes: STANDARD_RESULT_CODES,
    AbortOnNoTelNumberResultCode: 'NOTEL',
    IncomingCallResultCode: 'INCOMING',
    TimeWindows: STANDARD_TIME_WINDOWS,
    ...extra,
  };
}

export interface CampaignJson {
  ID: number;
  Name: string;
  AbortOnNoTelNumberResultCodesID: number | null;
  IncomingCallResultCodesID: number | null;
  UserData: string | null;
  [field: string]: unknown;
}

export async function createCampaign(c: TestClient, name: string, extra: Record<string, unknown> = {}): Promise<CampaignJson> {
  const res = await c.post('/dialler/campaigns/create', campaignBody(name, extra));
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
}

export async function importContact(c: TestClient, body: Record<string, unknown>, overwrite?: boolean) {
  const query = overwrite === undefined ? '' : `?overwriteDuplicates=${overwrite}`;
  return c.post(`/dialler/contacts/import${query}`, body);
}

/** Rows that belong to the campaign in each related table. */
export async function relatedRows(db: Kysely<Database>, campaignId: number) {
  const count = async (table: 'dialler_result_codes' | 'dialler_time_windows' | 'dialler_contacts') =>
    Number((await db.selectFrom(table).select((e) => e.fn.countAll().as('n')).where('campaign_id', '=', campaignId).executeTakeFirstOrThrow()).n);
  const texts = await db
    .selectFrom('dialler_result_code_texts as t')
    .innerJoin('dialler_result_codes as r', 'r.id', 't.result_code_id')
    .select((e) => e.fn.countAll().as('n'))
    .where('r.campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
  const campaigns = await db.selectFrom('dialler_campaigns').select('id').where('id', '=', campaignId).execute();
  return {
    campaigns: campaigns.length,
    resultCodes: await count('dialler_result_codes'),
    texts: Number(texts.n),
    timeWindows: await count('dialler_time_windows'),
    contacts: await count('dialler_contacts'),
  };
}

export async function timeWindowsOf(db: Kysely<Database>, campaignId: number) {
  const rows = await db
    .selectFrom('dialler_time_windows')
    .select(['weekday', 'time_from', 'time_to'])
    .where('campaign_id', '=', campaignId)
    .orderBy('weekday').orderBy('time_from')
    .execute();
  return rows.map((r) => `${r.weekday} ${String(r.time_from).slice(0, 5)}-${String(r.time_to).slice(0, 5)}`);
}
