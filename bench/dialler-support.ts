// Shared ground of the dialler benchmark and stress test (bench/dialler.ts, bench/stress-dialler.ts):
// calling times that put some zones inside their window and some outside, contacts inserted as
// rows by the hundred thousand (generate_series, no import path in the way), campaign settings set
// straight in the row (as test/fixtures-dialler-engine.ts does), and the audit of
// dialler_contact_history that tells whether a contact was ever in two hands or handed out
// outside its window.
import { setTimeout as sleep } from 'node:timers/promises';
import { isOpenAt, type Calendar } from '../src/domain/dialler-calendar.ts';
import { TransportError, type Api, type Reply } from './sim/api.ts';
import type { Query } from './sim/audit.ts';
import type { AgentCredentials } from './sim/provision.ts';
import { SseConnection } from './sim/sse.ts';

export type Window = { weekday: number; from: string; to: string };

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];
const MINUTE = 60_000;

/** Zones around the globe, a whole offset or so apart: at any moment about half are in a 12 h window. */
export const WORLD_ZONES = [
  'Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Denver', 'America/Chicago', 'America/New_York',
  'America/Sao_Paulo', 'Atlantic/Azores', 'Europe/London', 'Europe/Berlin', 'Europe/Athens', 'Europe/Moscow', 'Asia/Dubai',
  'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Brisbane', 'Pacific/Noumea', 'Pacific/Auckland',
];

/** Local wall time `HH:mm` of `at` in `zone`. */
export function localHhmm(zone: string, at: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('hour')}:${part('minute')}`;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** A window of `hours` every day, [from, from + hours) local time, split at midnight when it crosses it. */
export function dailyWindows(fromHhmm: string, hours: number): Window[] {
  const from = minutes(fromHhmm);
  const to = (from + hours * 60) % 1440;
  const day = from < to ? [{ from: hhmm(from), to: hhmm(to) }]
    : [...(to > 0 ? [{ from: '00:00', to: hhmm(to) }] : []), { from: hhmm(from), to: '24:00' }];
  return WEEKDAYS.flatMap((weekday) => day.map((w) => ({ weekday, ...w })));
}

/**
 * Daily 12 h windows that close in `zone` at `closeAt` (rounded up to a whole minute): a contact
 * there is callable until then and not after, so the hand-out's window check is tested at its
 * edge. Zones half a day ahead open at that moment.
 */
export function windowsClosingAt(zone: string, closeAt: number): { windows: Window[]; closeAt: number } {
  const at = Math.ceil(closeAt / MINUTE) * MINUTE;
  const close = minutes(localHhmm(zone, at));
  return { windows: dailyWindows(hhmm((close + 720) % 1440), 12), closeAt: at };
}

export function calendarOf(windows: Window[]): Calendar {
  return { windows, restricted: [] };
}

/** Zones open for all of [from, to] and zones closed for all of it (checked each minute). */
export function zonesBy(calendar: Calendar, zones: readonly string[], from: number, to: number): { open: string[]; closed: string[]; changing: string[] } {
  const out = { open: [] as string[], closed: [] as string[], changing: [] as string[] };
  for (const zone of zones) {
    const samples: boolean[] = [];
    for (let t = from; t < to; t += MINUTE) samples.push(isOpenAt(calendar, zone, t));
    samples.push(isOpenAt(calendar, zone, to));
    if (samples.every(Boolean)) out.open.push(zone);
    else if (samples.every((s) => !s)) out.closed.push(zone);
    else out.changing.push(zone);
  }
  return out;
}

/**
 * One share of a campaign's contacts: which zones (round robin), which jtel step class, and when
 * they are due: 'now' (`-infinity` for never tried, else a moment in the past) or uniformly
 * spread over [at, at + spreadMs).
 */
export interface ContactBucket {
  count: number;
  zones: string[];
  rank: 1 | 2 | 3 | 4;
  due: 'now' | { at: number; spreadMs: number };
}

/** Inserts the buckets' contacts in chunks (a 1,000,000-row INSERT is too much for PGlite at once). */
export async function insertContacts(query: Query, clientId: number, campaignId: number, buckets: ContactBucket[], now: number, chunk = 100_000): Promise<number> {
  const [{ n }] = await query('SELECT coalesce(max(id), 0)::int AS n FROM dialler_contacts');
  const first = Number(n) + 1;
  let total = 0;
  for (const b of buckets) {
    for (let done = 0; done < b.count; done += chunk) {
      const from = first + total;
      const to = from + Math.min(chunk, b.count - done) - 1;
      const dueAt = b.due === 'now' ? (b.rank === 4 ? null : now - 3_600_000) : b.due.at;
      const spread = b.due === 'now' ? 1 : Math.max(1, Math.round(b.due.spreadMs));
      // Never-tried contacts have no tries; retries and delays one try on their first number.
      await query(`INSERT INTO dialler_contacts (client_id, campaign_id, name, phone_number1, phone_number2, user_data, time_zone,
          time_zone_source, priority, due_rank, dt_next_try, n_tries, n_tries_phone_number1, n_phone_number1_last_cause, created_at, updated_at)
        SELECT $1, $2, 'Contact ' || g, '+4930' || lpad(g::text, 9, '0'), CASE WHEN g % 4 = 0 THEN '+4989' || lpad(g::text, 9, '0') END,
          'bench-' || g, ($3::text[])[1 + g % cardinality($3::text[])], 'Contact', g % 3, $4::smallint,
          CASE WHEN $5::float8 IS NULL THEN '-infinity'::timestamptz ELSE to_timestamp(($5::float8 + ((g::bigint * 7919) % $6::bigint)) / 1000.0) END,
          CASE WHEN $4 = 4 THEN 0 ELSE 1 END, CASE WHEN $4 = 4 THEN 0 ELSE 1 END, CASE WHEN $4 = 3 THEN 1 END, $7::timestamptz, $7::timestamptz
        FROM generate_series($8::int, $9::int) AS g`,
      [clientId, campaignId, b.zones, b.rank, dueAt, spread, new Date(now), from, to]);
      total += to - from + 1;
    }
  }
  return total;
}

export interface EngineSettings {
  mode: 'Preview' | 'Progressive' | 'External';
  groupId: number | null;
  previewSeconds: number;
  windows: Window[];
  /** Minutes per system cause; short, so that retries come back within a run. */
  retryDelays: Record<'Busy' | 'NoAnswer' | 'AnsweringMachine' | 'Other', number>;
  maxTries: number;
  maxTriesPerNumber: number;
  maxTriesPerDay: number;
}

/**
 * The engine's settings straight in the campaign's row (the settings API has suites of its own
 * and was being built beside this script). Instances read them again within a second.
 */
export async function configureCampaign(query: Query, campaignId: number, s: EngineSettings): Promise<void> {
  await query(`UPDATE dialler_campaigns SET mode = $2, group_id = $3, contact_preview_time = $4, b_running = true, n_max_parallel_lines = NULL,
      dt_to = NULL, retry_delays = $5::jsonb, n_max_tries = $6, n_max_tries_per_number = $7, n_max_tries_per_day = $8 WHERE id = $1`,
  [campaignId, s.mode, s.groupId, s.previewSeconds, JSON.stringify(s.retryDelays), s.maxTries, s.maxTriesPerNumber, s.maxTriesPerDay]);
  await setWindows(query, campaignId, s.windows);
}

export async function setWindows(query: Query, campaignId: number, windows: Window[]): Promise<void> {
  await query('DELETE FROM dialler_time_windows WHERE campaign_id = $1', [campaignId]);
  for (const w of windows) {
    await query('INSERT INTO dialler_time_windows (campaign_id, weekday, time_from, time_to) VALUES ($1, $2, $3, $4)', [campaignId, w.weekday, w.from, w.to]);
  }
}

/** Result codes the runs use, one per type the agents choose from (Delay ones come back within minutes). */
export const BENCH_RESULT_CODES = [
  { ExportKey: 'DONE', DiallerResultCodesTypesID: 1, Content: { 1: 'Sale' } },
  { ExportKey: 'NOTINTERESTED', DiallerResultCodesTypesID: 2, Content: { 1: 'Not interested' } },
  { ExportKey: 'NOTEL', DiallerResultCodesTypesID: 2, Content: { 1: 'No number' } },
  { ExportKey: 'SOON', DiallerResultCodesTypesID: 3, TimeOffset: 1, bAgentBound: false, Content: { 1: 'Call again in a minute' } },
  { ExportKey: 'MINE', DiallerResultCodesTypesID: 3, TimeOffset: 1, bAgentBound: true, Content: { 1: 'I call again in a minute' } },
];

export function campaignCreateBody(name: string) {
  return {
    Name: name, LanguagesID: 1, ContactPreviewTime: 1, nMaxParallelLines: null, dtTo: null, ResultCodes: BENCH_RESULT_CODES,
    AbortOnNoTelNumberResultCode: 'NOTEL', TimeWindows: [],
  };
}

export interface ContactAudit {
  handOuts: number;
  /** A HandedOut while the contact's previous attempt had no Result, Released, Skipped or LeaseExpired yet. */
  doubleHandouts: number;
  /** HandedOut rows stamped at a moment outside the contact's window in its zone. */
  outsideWindow: number;
  /** An end (Result, Released, Skipped, LeaseExpired) of an attempt other than the open one. */
  strayEnds: number;
  problems: string[];
}

/**
 * Walks every contact's history in id order. The hand-out, the start, the result and the returns
 * are each written under the contact's row lock, so per contact the ids follow the commits.
 */
export async function auditContactHistory(query: Query, clientId: number, calendars: Map<number, Calendar>): Promise<ContactAudit> {
  const rows = await query(`SELECT h.contact_id, h.campaign_id, h.change, h.attempt_id::text AS attempt_id, h.created_at, k.time_zone
    FROM dialler_contact_history h JOIN dialler_contacts k ON k.id = h.contact_id
    WHERE h.client_id = $1 ORDER BY h.contact_id, h.id`, [clientId]);
  const out: ContactAudit = { handOuts: 0, doubleHandouts: 0, outsideWindow: 0, strayEnds: 0, problems: [] };
  let contact = -1;
  let open: string | null = null;
  for (const r of rows) {
    if (r.contact_id !== contact) {
      contact = r.contact_id;
      open = null;
    }
    if (r.change === 'HandedOut') {
      out.handOuts++;
      const at = new Date(r.created_at).getTime();
      if (open !== null) {
        out.doubleHandouts++;
        out.problems.push(`contact ${contact}: attempt ${r.attempt_id} handed out while attempt ${open} was still open`);
      }
      const calendar = calendars.get(r.campaign_id);
      if (calendar && !isOpenAt(calendar, r.time_zone, at)) {
        out.outsideWindow++;
        out.problems.push(`contact ${contact}: handed out at ${new Date(at).toISOString()}, outside its window in ${r.time_zone}`);
      }
      open = r.attempt_id;
    } else if (['Result', 'Released', 'Skipped', 'LeaseExpired'].includes(r.change)) {
      if (r.attempt_id !== open) out.strayEnds++;
      if (r.attempt_id !== open) out.problems.push(`contact ${contact}: ${r.change} for attempt ${r.attempt_id}, open attempt ${open}`);
      open = null;
    }
  }
  return out;
}

// ---- a simulated dialler agent (stress test) -------------------------------------------------

export interface DiallerAgentStats {
  handOuts: number; viaStream: number; viaPoll: number; polls: number; starts: number; results: number; repeated: number;
  skips: number; releases: number; previewRunOuts: number; refused: number; httpErrors: number; transportErrors: number;
  failovers: number; streamOpens: number; streamDrops: number; heldAfterLogout: number; viaResult: number;
}

export const emptyDiallerStats = (): DiallerAgentStats => ({
  handOuts: 0, viaStream: 0, viaPoll: 0, polls: 0, starts: 0, results: 0, repeated: 0, skips: 0, releases: 0, previewRunOuts: 0,
  refused: 0, httpErrors: 0, transportErrors: 0, failovers: 0, streamOpens: 0, streamDrops: 0, heldAfterLogout: 0, viaResult: 0,
});

interface Held { contactId: number; attemptId: string; started: boolean; at: number }

/** What an agent posts after a call: mostly no-contact causes and Done/Abort codes, some Delays. */
export function agentResult(): Record<string, string> {
  const r = Math.random();
  if (r < 0.15) return { SystemCause: 'Busy' };
  if (r < 0.30) return { SystemCause: 'NoAnswer' };
  if (r < 0.36) return { SystemCause: 'AnsweringMachine' };
  if (r < 0.42) return { SystemCause: 'Other' };
  if (r < 0.45) return { SystemCause: 'InvalidNumber' };
  if (r < 0.70) return { ResultCodesExportKey: 'DONE' };
  if (r < 0.80) return { ResultCodesExportKey: 'NOTINTERESTED' };
  if (r < 0.92) return { ResultCodesExportKey: 'SOON' };
  return { ResultCodesExportKey: 'MINE' };
}

/**
 * An agent at the dialler's preview screen. Follows its live stream (topic `contact`: a HandedOut
 * to it brings the next contact) and reads GET /agents/me/dialler every 2-3 s while idle besides;
 * then starts the call and posts a result (agentResult), or skips or releases the preview, or
 * lets it run out (the engine starts the call) and posts the result after. Hand-out latency: from
 * the moment it was free (its last result, skip or release answered) to the moment the next
 * contact reached it, by stream or poll. A transport error moves it to the next instance.
 */
export class DiallerAgent {
  readonly stats = emptyDiallerStats();
  readonly latencies: number[] = [];
  readonly #apis: Api[];
  readonly #base: string;
  readonly #token: string;
  readonly #userId: number;
  readonly #previewSeconds: number;
  #server: number;
  #stopping = false;
  #running: Promise<void> | null = null;
  #stream: SseConnection | null = null;
  #lastEventId: string | undefined;
  readonly #queue: Held[] = [];
  readonly #seen = new Set<string>();
  #wake: (() => void) | null = null;
  error: unknown;

  constructor(creds: AgentCredentials, apis: Api[], base: string, home: number, previewSeconds: number) {
    this.#apis = apis;
    this.#base = base;
    this.#token = creds.token;
    this.#userId = creds.userId;
    this.#server = home % apis.length;
    this.#previewSeconds = previewSeconds;
  }

  start(): void {
    this.#openStream();
    this.#running = this.#run().catch((error: unknown) => {
      this.error = error;
    });
  }

  /** Ends the loop after the contact in hand, logs out ("after this call"), then finishes the call under way. */
  async stop(campaignId: number): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#stream?.close();
    this.#stream = null;
    // The logout gives back what is not dialled yet and ends the hand-outs (a result may carry the
    // next contact with it); the results then end the calls under way.
    for (let round = 0; round < 5; round++) {
      const out = await this.#call('POST', `/agents/me/dialler/campaigns/${campaignId}/logout`);
      await this.#finishHeld();
      if (out.status !== 200) continue;
      const left = await this.#held();
      if (left.length === 0) return;
      this.stats.heldAfterLogout += left.length;
    }
  }

  async #run(): Promise<void> {
    let freeSince = Date.now();
    while (!this.#stopping) {
      const next = this.#queue.shift() ?? (await this.#waitForWork());
      if (!next || this.#seen.has(next.attemptId)) continue;
      this.#seen.add(next.attemptId);
      this.stats.handOuts++;
      this.latencies.push(Math.max(0, next.at - freeSince));
      await this.#work(next);
      freeSince = Date.now();
    }
  }

  async #waitForWork(): Promise<Held | undefined> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000 + Math.random() * 1000);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
    if (this.#queue.length > 0 || this.#stopping) return this.#queue.shift();
    this.stats.polls++;
    for (const h of await this.#held()) {
      if (!this.#seen.has(h.attemptId)) {
        this.stats.viaPoll++;
        this.#queue.push(h);
      }
    }
    return this.#queue.shift();
  }

  async #held(): Promise<Held[]> {
    const r = await this.#call('GET', '/agents/me/dialler');
    if (r.status !== 200) return [];
    const at = Date.now();
    return (r.body.records[0].Contacts as { DiallerContactsID: number; AttemptID: string; bStarted: boolean }[])
      .map((c) => ({ contactId: c.DiallerContactsID, attemptId: String(c.AttemptID), started: c.bStarted, at }));
  }

  async #work(h: Held): Promise<void> {
    const r = Math.random();
    if (!h.started && r < 0.05) {
      if ((await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/skip`)).status === 200) this.stats.skips++;
      return;
    }
    if (!h.started && r < 0.08) {
      if ((await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/release`)).status === 200) this.stats.releases++;
      return;
    }
    if (!h.started && r < 0.1) {
      // The preview runs out: the engine starts the call on the proposed number.
      this.stats.previewRunOuts++;
      await sleep(this.#previewSeconds * 1000 + 1500);
    } else if (!h.started) {
      if ((await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/start`, {})).status === 200) this.stats.starts++;
    }
    await sleep(Math.random() * 100);
    const posted = await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/result`, { AttemptID: h.attemptId, ...agentResult() });
    if (posted.status === 200) {
      this.stats.results++;
      const answer = posted.body.records[0] as { bRepeated: boolean; Next: { DiallerContactsID: number; AttemptID: string; bStarted: boolean } | null };
      if (answer.bRepeated) this.stats.repeated++;
      // The next contact came with the result (its stream message, a moment later, is then a repeat).
      if (answer.Next) {
        this.stats.viaResult++;
        this.#queue.push({ contactId: answer.Next.DiallerContactsID, attemptId: String(answer.Next.AttemptID), started: answer.Next.bStarted, at: Date.now() });
      }
    }
  }

  async #finishHeld(): Promise<void> {
    for (const h of await this.#held()) {
      if (h.started) await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/result`, { AttemptID: h.attemptId, SystemCause: 'Other' });
      else await this.#call('POST', `/agents/me/dialler/contacts/${h.contactId}/release`);
    }
  }

  /** One request, on the next instance after a transport error, until answered (at most a minute). */
  async #call(method: string, path: string, body?: unknown): Promise<Reply> {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await this.#apis[this.#server].call(method, `${this.#base}${path}`, this.#token, body);
        if (r.status === 404 || r.status === 409) this.stats.refused++;
        else if (r.status !== 200) this.stats.httpErrors++;
        if (r.status < 500 || Date.now() > until) return r;
      } catch (error) {
        if (!(error instanceof TransportError) || Date.now() > until) throw error;
        this.stats.transportErrors++;
        this.#failover();
      }
      await sleep(200);
    }
  }

  #failover(): void {
    this.stats.failovers++;
    this.#server = (this.#server + 1) % this.#apis.length;
    this.#stream?.close();
    this.#stream = null;
    this.#openStream();
  }

  #openStream(): void {
    if (this.#stopping || this.#stream) return;
    const connection: SseConnection = new SseConnection(`${this.#apis[this.#server].url}${this.#base}/agents/me/stream`, this.#token, this.#lastEventId, {
      onOpen: () => {
        this.stats.streamOpens++;
      },
      onMessage: (m) => {
        if (m.id !== undefined) this.#lastEventId = m.id;
        if (m.event !== 'contact') return;
        const data = JSON.parse(m.data) as { DiallerContactsID: number; Change: string; UsersID: number | null; AttemptID: string | number };
        if (data.Change !== 'HandedOut' || data.UsersID !== this.#userId) return;
        const attemptId = String(data.AttemptID);
        if (this.#seen.has(attemptId) || this.#queue.some((h) => h.attemptId === attemptId)) return;
        this.stats.viaStream++;
        this.#queue.push({ contactId: data.DiallerContactsID, attemptId, started: false, at: Date.now() });
        this.#wake?.();
      },
      onEnd: () => {
        if (this.#stream !== connection) return;
        this.#stream = null;
        if (this.#stopping) return;
        this.stats.streamDrops++;
        // The instance is gone or going: the next one takes the stream (Last-Event-ID: nothing missed).
        setTimeout(() => {
          if (this.#stream === null && !this.#stopping) {
            this.#server = (this.#server + 1) % this.#apis.length;
            this.#openStream();
          }
        }, 250);
      },
    });
    this.#stream = connection;
  }
}

export function addLatencies(into: DiallerAgentStats & { latencies: number[] }, agent: DiallerAgent): DiallerAgentStats & { latencies: number[] } {
  for (const key of Object.keys(agent.stats) as (keyof DiallerAgentStats)[]) into[key] += agent.stats[key];
  into.latencies.push(...agent.latencies);
  return into;
}
