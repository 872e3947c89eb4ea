// After a run: the events and their history read from the database, the audit that tells whether
// an event was ever in two agents' hands, a commit observer, and percentiles.
import pg from 'pg';

export type Query = (text: string, params?: unknown[]) => Promise<Record<string, any>[]>;

export function pgQuery(client: pg.Client | pg.Pool): Query {
  return async (text, params) => (await client.query(text, params as unknown[])).rows;
}

export interface EventRow {
  id: number;
  status: number;
  createdMs: number;
  appointmentMs: number | null;
  userData: string | null;
}

export interface HistoryRow {
  eventId: number;
  id: number;
  from: number | null;
  to: number;
  agentId: number | null;
  reason: string | null;
  atMs: number;
}

export async function readEvents(query: Query, clientId: number): Promise<EventRow[]> {
  const rows = await query(
    `SELECT id, status_id, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
       (extract(epoch FROM appointment_at) * 1000)::float8 AS appointment_ms, user_data
     FROM acd_events WHERE client_id = $1 ORDER BY id`, [clientId]);
  return rows.map((r) => ({ id: r.id, status: r.status_id, createdMs: r.created_ms, appointmentMs: r.appointment_ms, userData: r.user_data }));
}

export async function readHistory(query: Query, clientId: number): Promise<HistoryRow[]> {
  const rows = await query(
    `SELECT h.event_id, h.id, h.from_status_id, h.to_status_id, h.agent_id, h.reason,
       (extract(epoch FROM h.created_at) * 1000)::float8 AS at_ms
     FROM acd_event_history h JOIN acd_events e ON e.id = h.event_id
     WHERE e.client_id = $1 ORDER BY h.event_id, h.id`, [clientId]);
  return rows.map((r) => ({ eventId: r.event_id, id: r.id, from: r.from_status_id, to: r.to_status_id, agentId: r.agent_id, reason: r.reason, atMs: r.at_ms }));
}

export interface Audit {
  /** Events with any sign of two holders (see auditHistory). */
  doubleAssigned: number[];
  /** Why, per event (first problem found). */
  problems: Map<number, string>;
  /** ms from dtCreated to the first offer (4 → 10), per event that was offered. */
  offerLatencyMs: Map<number, number>;
  /** ms from the appointment to the move 1 → 4, per event with an appointment. */
  releaseLatenessMs: Map<number, number>;
  /** Offers that ran out (10 → 4, 'offer not accepted in time'). */
  expiredOffers: number;
  rejectedOrOtherReturns: number;
}

/**
 * Walks every event's history in the order it was written (history ids are taken under the
 * event's row lock, so per event they follow the commits) and flags an event when
 *   - it was accepted (10 → 20) more than once, or finished (→ 99) more than once or by two agents;
 *   - a transition starts from a status other than the one the previous transition ended in
 *     (two writers acted on the same state);
 *   - it was offered while offered or in someone's hands (two holders at once);
 *   - it was accepted or finished by an agent other than the one holding it.
 */
export function auditHistory(events: EventRow[], history: HistoryRow[]): Audit {
  const byId = new Map(events.map((e) => [e.id, e]));
  const audit: Audit = {
    doubleAssigned: [], problems: new Map(), offerLatencyMs: new Map(), releaseLatenessMs: new Map(), expiredOffers: 0, rejectedOrOtherReturns: 0,
  };
  const flag = (eventId: number, why: string) => {
    if (!audit.problems.has(eventId)) {
      audit.problems.set(eventId, why);
      audit.doubleAssigned.push(eventId);
    }
  };
  let i = 0;
  while (i < history.length) {
    const eventId = history[i].eventId;
    const event = byId.get(eventId);
    let previousTo: number | null = null;
    let holder: number | null = null;
    let accepts = 0;
    const finishers: (number | null)[] = [];
    for (; i < history.length && history[i].eventId === eventId; i++) {
      const h = history[i];
      if (h.from !== previousTo) flag(eventId, `history ${h.id}: ${h.from} → ${h.to} after the event had moved to ${previousTo}`);
      if (h.to === 10) {
        if (holder !== null) flag(eventId, `history ${h.id}: offered to ${h.agentId} while agent ${holder} held it`);
        holder = h.agentId;
        if (!audit.offerLatencyMs.has(eventId) && event) audit.offerLatencyMs.set(eventId, h.atMs - event.createdMs);
      } else if (h.to === 20 && h.from === 10) {
        accepts++;
        if (h.agentId !== holder) flag(eventId, `history ${h.id}: accepted by ${h.agentId}, offered to ${holder}`);
      } else if (h.to === 99) {
        finishers.push(h.agentId);
        if (h.agentId !== holder) flag(eventId, `history ${h.id}: done by ${h.agentId}, held by ${holder}`);
      } else if (h.to === 4 || h.to === 1) {
        if (h.from === 10 && h.reason === 'offer not accepted in time') audit.expiredOffers++;
        else if (h.from !== null && h.from !== 1) audit.rejectedOrOtherReturns++;
        holder = null;
      }
      if (h.from === 1 && h.to === 4 && event?.appointmentMs != null) audit.releaseLatenessMs.set(eventId, h.atMs - event.appointmentMs);
      previousTo = h.to;
    }
    if (accepts > 1) flag(eventId, `accepted ${accepts} times`);
    if (finishers.length > 1) flag(eventId, `finished ${finishers.length} times (agents ${finishers.join(', ')})`);
  }
  return audit;
}

/**
 * Learns when a change became visible to other sessions: it LISTENs on the channel every history
 * row notifies at commit, and on each notification reads the status of the events it watches.
 * The moment it first sees an event at or past a status is when a client could first have seen
 * it there. (History timestamps are taken when a pass or request starts, a little before commit.)
 */
export class CommitWatcher {
  readonly seenAt = new Map<number, number>();
  readonly #client: pg.Client;
  readonly #pending = new Map<number, number>();
  #busy = false;
  #again = false;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async start(url: string): Promise<CommitWatcher> {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    const watcher = new CommitWatcher(client);
    client.on('notification', () => watcher.check());
    await client.query('LISTEN switchboard');
    return watcher;
  }

  /** Note the moment event `id` is first seen with status >= `status` (checks at once, too). */
  watch(id: number, status: number): void {
    this.#pending.set(id, status);
    this.check();
  }

  check(): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    if (this.#pending.size === 0) return;
    this.#busy = true;
    // A failed read only loses samples: the next notification reads again.
    void this.#read().catch(() => undefined).finally(() => {
      this.#busy = false;
      if (this.#again) {
        this.#again = false;
        this.check();
      }
    });
  }

  async #read(): Promise<void> {
    const ids = [...this.#pending.keys()];
    const { rows } = await this.#client.query<{ id: number; status_id: number }>('SELECT id, status_id FROM acd_events WHERE id = ANY($1::int[])', [ids]);
    const now = Date.now();
    for (const row of rows) {
      const wanted = this.#pending.get(row.id);
      if (wanted !== undefined && row.status_id >= wanted) {
        this.#pending.delete(row.id);
        this.seenAt.set(row.id, now);
      }
    }
  }

  async stop(): Promise<void> {
    await this.#client.end();
  }
}

/** Nearest-rank percentile of `values` (p in 0..100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function ms(value: number): number {
  return Math.round(value * 10) / 10;
}
