// What the engine needs of a campaign to schedule and hand out its contacts: settings, calendar,
// result codes. Read in one round trip; the engine keeps it for a second (CONFIG_TTL_MS), so a
// settings change takes effect within a second on every instance without a read per hand-out.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Calendar } from '../../domain/dialler-calendar.ts';
import type { CampaignMode, CampaignRules, ResultCode, RetryDelays } from '../../domain/dialler-contact.ts';
import { perDatabase } from '../../db/per-database.ts';

export const CONFIG_TTL_MS = 1000;

export interface CampaignConfig {
  id: number;
  clientId: number;
  mode: CampaignMode;
  groupId: number | null;
  running: boolean;
  endsAt: number | null;
  previewSeconds: number;
  maxParallel: number | null;
  weight: number;
  zone: string;
  calendar: Calendar;
  rules: CampaignRules;
  codes: Map<number, ResultCode>;
  codesByKey: Map<string, ResultCode>;
  incomingCall: { close: boolean; code: ResultCode | null };
}

interface ConfigRow {
  id: number; client_id: number; mode: CampaignMode; group_id: number | null; b_running: boolean; dt_to: Date | string | null;
  contact_preview_time: number | null; n_max_parallel_lines: number | null; weight: number; zone: string;
  n_max_tries: number; n_max_tries_per_number: number; n_max_tries_per_day: number; retry_delays: Partial<RetryDelays>;
  appointment_fallback_minutes: number | null; abort_on_no_tel_number_result_code_id: number | null;
  incoming_call_result_code_id: number | null; b_close_contacts_on_incoming_calls_match_caller_id: boolean;
  windows: { weekday: number; from: string; to: string }[];
  restricted: { from: string; to: string }[];
  codes: { id: number; export_key: string; type_id: 1 | 2 | 3 | 4; time_offset: number | null; b_agent_bound: boolean | null }[];
}

const DEFAULT_DELAYS: RetryDelays = { Busy: 10, NoAnswer: 30, AnsweringMachine: 60, Other: 15 };

/** Minutes as `HH:mm`; the time column comes back as `HH:mm:ss`, and 24:00 as `24:00:00`. */
const hhmm = (t: string) => t.slice(0, 5);

export async function readCampaignConfigs(db: Kysely<Database>, ids: readonly number[]): Promise<CampaignConfig[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ConfigRow>`
    SELECT c.id, c.client_id, c.mode, c.group_id, c.b_running, c.dt_to, c.contact_preview_time, c.n_max_parallel_lines, c.weight,
      coalesce(c.time_zone, cl.time_zone) AS zone, c.n_max_tries, c.n_max_tries_per_number, c.n_max_tries_per_day, c.retry_delays,
      c.appointment_fallback_minutes, c.abort_on_no_tel_number_result_code_id, c.incoming_call_result_code_id,
      c.b_close_contacts_on_incoming_calls_match_caller_id,
      (SELECT coalesce(json_agg(json_build_object('weekday', w.weekday, 'from', w.time_from::text, 'to', w.time_to::text) ORDER BY w.weekday, w.time_from), '[]')
        FROM dialler_time_windows w WHERE w.campaign_id = c.id) AS windows,
      (SELECT coalesce(json_agg(json_build_object('from', p.date_from::text, 'to', p.date_to::text)), '[]')
        FROM dialler_restricted_periods p WHERE p.campaign_id = c.id) AS restricted,
      (SELECT coalesce(json_agg(json_build_object('id', r.id, 'export_key', r.export_key, 'type_id', r.type_id,
          'time_offset', r.time_offset, 'b_agent_bound', r.b_agent_bound)), '[]')
        FROM dialler_result_codes r WHERE r.campaign_id = c.id) AS codes
    FROM dialler_campaigns c JOIN clients cl ON cl.id = c.client_id
    WHERE c.id = ANY(${[...ids]}::int[])`.execute(db);
  return rows.map(configOf);
}

function configOf(r: ConfigRow): CampaignConfig {
  const codes = new Map<number, ResultCode>(r.codes.map((c) => [c.id, {
    id: c.id, exportKey: c.export_key, typeId: c.type_id, timeOffset: c.time_offset, agentBound: c.b_agent_bound === true,
  }]));
  const code = (id: number | null) => (id === null ? null : codes.get(id) ?? null);
  return {
    id: r.id,
    clientId: r.client_id,
    mode: r.mode,
    groupId: r.group_id,
    running: r.b_running,
    endsAt: r.dt_to === null ? null : new Date(r.dt_to).getTime(),
    previewSeconds: r.contact_preview_time ?? 0,
    maxParallel: r.n_max_parallel_lines,
    weight: r.weight,
    zone: r.zone,
    calendar: {
      windows: r.windows.map((w) => ({ weekday: w.weekday, from: hhmm(w.from), to: w.to.startsWith('24') ? '24:00' : hhmm(w.to) })),
      restricted: r.restricted,
    },
    rules: {
      maxTries: r.n_max_tries,
      maxTriesPerNumber: r.n_max_tries_per_number,
      maxTriesPerDay: r.n_max_tries_per_day,
      retryDelays: { ...DEFAULT_DELAYS, ...r.retry_delays },
      appointmentFallbackMinutes: r.appointment_fallback_minutes,
      abortOnNoNumber: code(r.abort_on_no_tel_number_result_code_id),
    },
    codes,
    codesByKey: new Map([...codes.values()].map((c) => [c.exportKey, c])),
    incomingCall: { close: r.b_close_contacts_on_incoming_calls_match_caller_id, code: code(r.incoming_call_result_code_id) },
  };
}

/**
 * Per store: campaign id → config and when it was read. Keyed by the store's dialect adapter, not
 * by the Kysely instance: a transaction is an instance of its own, so a cache keyed by it would
 * be empty in every transaction (the hand-out's and the result's), and the TTL would never save a
 * read. One adapter per Kysely instance, shared by all its transactions.
 */
const byStore = perDatabase((_adapter: object) => new Map<number, { config: CampaignConfig; readAt: number }>());
export const storeKey = (db: Kysely<Database>): object => db.getExecutor().adapter;
const cache = (db: Kysely<Database>) => byStore(storeKey(db));

/** The campaigns' configs, read again when older than CONFIG_TTL_MS (by the process clock). */
export async function campaignConfigs(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, CampaignConfig>> {
  const known = cache(db);
  const now = performance.now();
  const stale = ids.filter((id) => { const c = known.get(id); return !c || now - c.readAt > CONFIG_TTL_MS; });
  const fresh = await readCampaignConfigs(db, stale);
  // A campaign asked for but gone from the database leaves the cache.
  for (const id of stale) known.delete(id);
  for (const config of fresh) known.set(config.id, { config, readAt: now });
  const out = new Map<number, CampaignConfig>();
  for (const id of ids) {
    const c = known.get(id);
    if (c) out.set(id, c.config);
  }
  return out;
}

/** Forgets a campaign's config in this process (after a change made here). */
export function forgetCampaignConfig(db: Kysely<Database>, id: number): void {
  cache(db).delete(id);
}
