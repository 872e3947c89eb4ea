// SQL of dialler campaigns, result codes, time windows and restricted periods. Every statement is
// scoped to the client (tenant) either directly or through a campaign id the service has already
// checked.
import { sql, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import type { Database, DiallerCampaignsTable } from '../../db/schema.ts';
import type { CampaignMode, RetryDelays } from '../../domain/dialler-contact.ts';
import { selectRecords } from '../../http/records.ts';
import type { LanguageId, TimeWindow } from '../../domain/dialler.ts';
import { CampaignRecord, ResultCodeRecords } from './records.ts';
import type { RestrictedPeriod } from './settings.ts';

type Db = Kysely<Database>;

export async function campaignTexts(db: Db, timeZone: string, where: RawBuilder<unknown>): Promise<string[]> {
  const { rows } = await selectRecords(CampaignRecord, timeZone, where, sql`ORDER BY c.name, c.id`).execute(db);
  return rows.map((r) => r.j);
}

export const byId = (clientId: number, id: number) => sql`c.client_id = ${clientId} AND c.id = ${id}`;

/** Case-insensitive "contains": strpos needs no LIKE escaping, so `%` and `_` stay literal. */
export const nameContains = (clientId: number, part: string) =>
  sql`c.client_id = ${clientId} AND strpos(lower(c.name), lower(${part})) > 0`;

export async function resultCodeTexts(db: Db, clientId: number, campaignId: number, language: LanguageId, timeZone: string): Promise<string[]> {
  const where = sql`c.client_id = ${clientId} AND r.campaign_id = ${campaignId}`;
  const { rows } = await selectRecords(ResultCodeRecords[language], timeZone, where, sql`ORDER BY r.id`).execute(db);
  return rows.map((r) => r.j);
}

export async function campaignExists(db: Db, clientId: number, id: number): Promise<boolean> {
  const row = await db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', clientId).where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

/** Ids of the client's campaigns named exactly `name`; `lock` holds them until the transaction ends. */
export async function campaignIdsNamed(db: Db, clientId: number, name: string, lock: 'share' | 'update' | 'none' = 'none'): Promise<number[]> {
  let query = db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', clientId).where('name', '=', name).orderBy('id');
  if (lock === 'share') query = query.forShare();
  if (lock === 'update') query = query.forUpdate();
  return (await query.execute()).map((r) => r.id);
}

export async function lockCampaign(db: Db, clientId: number, id: number): Promise<boolean> {
  const row = await db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', clientId).where('id', '=', id).forUpdate().executeTakeFirst();
  return row !== undefined;
}

export interface CampaignSettings {
  name: string;
  languagesId: number;
  contactPreviewTime: number | null;
  nMaxParallelLines: number | null;
  bCloseContactsOnIncomingCallsMatchCallerId: boolean;
  dtTo: Date | null;
  bCallerIdActive: boolean;
  userData: string | null;
  mode: CampaignMode;
  groupId: number | null;
  maxTries: number;
  maxTriesPerNumber: number;
  maxTriesPerDay: number;
  retryDelays: RetryDelays;
  timeZone: string | null;
  running: boolean;
  weight: number;
  appointmentFallbackMinutes: number | null;
}

export async function insertCampaign(db: Db, clientId: number, s: CampaignSettings, now: Date): Promise<number> {
  const row = await db
    .insertInto('dialler_campaigns')
    .values({
      client_id: clientId,
      name: s.name,
      languages_id: s.languagesId,
      contact_preview_time: s.contactPreviewTime,
      n_max_parallel_lines: s.nMaxParallelLines,
      b_close_contacts_on_incoming_calls_match_caller_id: s.bCloseContactsOnIncomingCallsMatchCallerId,
      dt_to: s.dtTo,
      b_caller_id_active: s.bCallerIdActive,
      user_data: s.userData,
      mode: s.mode,
      group_id: s.groupId,
      n_max_tries: s.maxTries,
      n_max_tries_per_number: s.maxTriesPerNumber,
      n_max_tries_per_day: s.maxTriesPerDay,
      retry_delays: JSON.stringify(s.retryDelays),
      time_zone: s.timeZone,
      b_running: s.running,
      weight: s.weight,
      appointment_fallback_minutes: s.appointmentFallbackMinutes,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface ResultCodeRow {
  exportKey: string;
  typeId: number;
  timeOffset: number | null;
  bAgentBound: boolean | null;
  bAllowDelete: boolean;
  texts: Partial<Record<LanguageId, string>>;
}

/** Inserts the codes with their texts; answers ExportKey → new id. */
export async function insertResultCodes(db: Db, campaignId: number, codes: readonly ResultCodeRow[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (codes.length === 0) return ids;
  const inserted = await db
    .insertInto('dialler_result_codes')
    .values(codes.map((c) => ({
      campaign_id: campaignId,
      export_key: c.exportKey,
      type_id: c.typeId,
      time_offset: c.timeOffset,
      b_agent_bound: c.bAgentBound,
      b_allow_delete: c.bAllowDelete,
    })))
    .returning(['id', 'export_key'])
    .execute();
  for (const r of inserted) ids.set(r.export_key, r.id);
  const texts = codes.flatMap((c) =>
    (Object.entries(c.texts) as [string, string][]).map(([language, content]) => ({
      result_code_id: ids.get(c.exportKey)!,
      languages_id: Number(language),
      content,
    })));
  if (texts.length > 0) await db.insertInto('dialler_result_code_texts').values(texts).execute();
  return ids;
}

export async function setCampaignReferences(db: Db, campaignId: number, abortOnNoTelNumber: number | null, incomingCall: number | null): Promise<void> {
  await db
    .updateTable('dialler_campaigns')
    .set({ abort_on_no_tel_number_result_code_id: abortOnNoTelNumber, incoming_call_result_code_id: incomingCall })
    .where('id', '=', campaignId)
    .execute();
}

export async function insertTimeWindows(db: Db, campaignId: number, windows: readonly TimeWindow[]): Promise<void> {
  if (windows.length === 0) return;
  await db
    .insertInto('dialler_time_windows')
    .values(windows.map((w) => ({ campaign_id: campaignId, weekday: w.weekday, time_from: w.from, time_to: w.to })))
    .execute();
}

/**
 * Copies the campaign row under a new name, paused: a copy is a template, and dialling it right
 * away would call nobody (it has no contacts) while looking as if it did. The result code
 * references are remapped later.
 */
export async function copyCampaignRow(db: Db, sourceId: number, name: string, userData: string, now: Date): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO dialler_campaigns (client_id, name, languages_id, contact_preview_time, n_max_parallel_lines,
      b_close_contacts_on_incoming_calls_match_caller_id, dt_to, b_caller_id_active, user_data,
      mode, group_id, n_max_tries, n_max_tries_per_number, n_max_tries_per_day, retry_delays, time_zone, b_running, weight,
      appointment_fallback_minutes, created_at, updated_at)
    SELECT client_id, ${name}, languages_id, contact_preview_time, n_max_parallel_lines,
      b_close_contacts_on_incoming_calls_match_caller_id, dt_to, b_caller_id_active, ${userData},
      mode, group_id, n_max_tries, n_max_tries_per_number, n_max_tries_per_day, retry_delays, time_zone, false, weight,
      appointment_fallback_minutes, ${now}, ${now}
    FROM dialler_campaigns WHERE id = ${sourceId}
    RETURNING id`.execute(db);
  return rows[0].id;
}

/**
 * Copies result codes with every translation, then points the copy's references at the copy's
 * own codes. ExportKey is unique within a campaign, so it pairs each source code with its copy.
 */
export async function copyResultCodes(db: Db, sourceId: number, copyId: number): Promise<void> {
  await sql`
    INSERT INTO dialler_result_codes (campaign_id, export_key, type_id, time_offset, b_agent_bound, b_allow_delete)
    SELECT ${copyId}, export_key, type_id, time_offset, b_agent_bound, b_allow_delete
    FROM dialler_result_codes WHERE campaign_id = ${sourceId} ORDER BY id`.execute(db);
  await sql`
    INSERT INTO dialler_result_code_texts (result_code_id, languages_id, content)
    SELECT n.id, t.languages_id, t.content
    FROM dialler_result_code_texts t
    JOIN dialler_result_codes o ON o.id = t.result_code_id AND o.campaign_id = ${sourceId}
    JOIN dialler_result_codes n ON n.campaign_id = ${copyId} AND n.export_key = o.export_key`.execute(db);
  await sql`
    UPDATE dialler_campaigns copy SET
      abort_on_no_tel_number_result_code_id = (
        SELECT n.id FROM dialler_result_codes o JOIN dialler_result_codes n ON n.campaign_id = ${copyId} AND n.export_key = o.export_key
        WHERE o.id = src.abort_on_no_tel_number_result_code_id),
      incoming_call_result_code_id = (
        SELECT n.id FROM dialler_result_codes o JOIN dialler_result_codes n ON n.campaign_id = ${copyId} AND n.export_key = o.export_key
        WHERE o.id = src.incoming_call_result_code_id)
    FROM dialler_campaigns src
    WHERE copy.id = ${copyId} AND src.id = ${sourceId}`.execute(db);
}

export async function copyTimeWindows(db: Db, sourceId: number, copyId: number): Promise<void> {
  await sql`
    INSERT INTO dialler_time_windows (campaign_id, weekday, time_from, time_to)
    SELECT ${copyId}, weekday, time_from, time_to FROM dialler_time_windows WHERE campaign_id = ${sourceId} ORDER BY id`.execute(db);
}

export async function copyRestrictedPeriods(db: Db, sourceId: number, copyId: number): Promise<void> {
  await sql`
    INSERT INTO dialler_restricted_periods (campaign_id, date_from, date_to, name)
    SELECT ${copyId}, date_from, date_to, name FROM dialler_restricted_periods WHERE campaign_id = ${sourceId} ORDER BY id`.execute(db);
}

export async function insertRestrictedPeriods(db: Db, campaignId: number, periods: readonly RestrictedPeriod[]): Promise<void> {
  if (periods.length === 0) return;
  await db
    .insertInto('dialler_restricted_periods')
    .values(periods.map((p) => ({ campaign_id: campaignId, date_from: p.from, date_to: p.to, name: p.name })))
    .execute();
}

export async function replaceRestrictedPeriods(db: Db, campaignId: number, periods: readonly RestrictedPeriod[]): Promise<void> {
  await db.deleteFrom('dialler_restricted_periods').where('campaign_id', '=', campaignId).execute();
  await insertRestrictedPeriods(db, campaignId, periods);
}

export async function replaceTimeWindows(db: Db, campaignId: number, windows: readonly TimeWindow[]): Promise<void> {
  await db.deleteFrom('dialler_time_windows').where('campaign_id', '=', campaignId).execute();
  await insertTimeWindows(db, campaignId, windows);
}

/** What a change reads of the campaign it locked. */
export interface LockedCampaign {
  name: string;
  timeZone: string | null;
  retryDelays: Partial<RetryDelays>;
}

/** Locks the client's campaign for a change; undefined when there is none. */
export async function lockCampaignForChange(db: Db, clientId: number, id: number): Promise<LockedCampaign | undefined> {
  const row = await db
    .selectFrom('dialler_campaigns')
    .select(['name', 'time_zone', 'retry_delays'])
    .where('client_id', '=', clientId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row && { name: row.name, timeZone: row.time_zone, retryDelays: row.retry_delays };
}

export type CampaignChanges = Updateable<DiallerCampaignsTable>;

export async function updateCampaignRow(db: Db, id: number, changes: CampaignChanges): Promise<void> {
  await db.updateTable('dialler_campaigns').set(changes).where('id', '=', id).execute();
}

/**
 * Whether the client has this group; key-share locked until the transaction ends, so a concurrent
 * delete of the group cannot slip between the check and the reference.
 */
export async function clientHasGroup(db: Db, clientId: number, groupId: number): Promise<boolean> {
  const row = await db.selectFrom('acd_groups').select('id').where('client_id', '=', clientId).where('id', '=', groupId).forKeyShare().executeTakeFirst();
  return row !== undefined;
}

/** The campaign's result code with this ExportKey, if any. */
export async function resultCodeIdByKey(db: Db, campaignId: number, exportKey: string): Promise<number | undefined> {
  const row = await db.selectFrom('dialler_result_codes').select('id').where('campaign_id', '=', campaignId).where('export_key', '=', exportKey).executeTakeFirst();
  return row?.id;
}

/**
 * Contacts that take their zone from the campaign follow its new zone (null: the client's). A
 * contact's own zone, or its country's, stays as it was.
 */
export async function moveCampaignZoneContacts(db: Db, campaignId: number, now: Date): Promise<void> {
  await sql`
    UPDATE dialler_contacts k SET time_zone = coalesce(c.time_zone, cl.time_zone), updated_at = ${now}
    FROM dialler_campaigns c JOIN clients cl ON cl.id = c.client_id
    WHERE c.id = ${campaignId} AND k.campaign_id = c.id AND k.time_zone_source = 'Campaign'
      AND k.time_zone IS DISTINCT FROM coalesce(c.time_zone, cl.time_zone)`.execute(db);
}

/**
 * The campaign and its result codes reference each other. Clearing the campaign's references
 * first leaves a plain parent/child tree, which the cascades (codes, texts, time windows,
 * contacts) then remove.
 */
export async function deleteCampaign(db: Db, clientId: number, id: number): Promise<boolean> {
  await db
    .updateTable('dialler_campaigns')
    .set({ abort_on_no_tel_number_result_code_id: null, incoming_call_result_code_id: null })
    .where('client_id', '=', clientId)
    .where('id', '=', id)
    .execute();
  const result = await db.deleteFrom('dialler_campaigns').where('client_id', '=', clientId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
