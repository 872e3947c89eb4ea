// The ledger of request limits on PostgreSQL (migration 010): every instance leases from the same
// rows, so a limit holds across instances. Leases that reach the ledger together go in one
// statement; the window is the database's, so instances' clocks need not agree.
import { sql, type Kysely } from 'kysely';
import { Batcher } from '../../db/batcher.ts';
import type { Database } from '../../db/schema.ts';
import type { Lease, LeaseRequest, Ledger } from './allowance.ts';

/** How often an instance that leases sweeps rows whose window ended (any instance may). */
const SWEEP_EVERY_MS = 60_000;

interface LeaseRow {
  key: string;
  granted: number;
  hits: number;
  window_index: string;
  reset_in_ms: number;
}

/**
 * One statement for many keys (one row each: a key has one lease on its way per instance). A row
 * of a past window starts over; within the window the grant is what is left, up to the wish.
 */
async function leaseAll(db: Kysely<Database>, requests: LeaseRequest[]): Promise<Map<string, Lease>> {
  const { rows } = await sql<LeaseRow>`
    WITH wish AS (
      SELECT k, want, quota, ms, floor(extract(epoch FROM clock_timestamp()) * 1000 / ms)::bigint AS w
        FROM unnest(${requests.map((r) => r.key)}::text[], ${requests.map((r) => r.want)}::int[],
                    ${requests.map((r) => r.max)}::int[], ${requests.map((r) => r.windowMs)}::int[]) AS t(k, want, quota, ms)
    )
    INSERT INTO rate_limits AS r (key, window_index, window_ms, quota, hits, granted, expires_at)
    SELECT k, w, ms, quota, least(want, quota), least(want, quota), to_timestamp(((w + 1) * ms)::double precision / 1000)
      FROM wish
    ON CONFLICT (key) DO UPDATE SET
      granted = CASE WHEN r.window_index = EXCLUDED.window_index
                     THEN least(EXCLUDED.granted, greatest(EXCLUDED.quota - r.hits, 0)) ELSE EXCLUDED.granted END,
      hits = CASE WHEN r.window_index = EXCLUDED.window_index
                  THEN r.hits + least(EXCLUDED.granted, greatest(EXCLUDED.quota - r.hits, 0)) ELSE EXCLUDED.hits END,
      window_index = EXCLUDED.window_index, window_ms = EXCLUDED.window_ms, quota = EXCLUDED.quota,
      expires_at = EXCLUDED.expires_at
    RETURNING key, granted, hits, window_index::text,
      greatest(ceil(extract(epoch FROM expires_at - clock_timestamp()) * 1000), 1)::int AS reset_in_ms`.execute(db);
  return new Map(rows.map((row) => [row.key, {
    granted: row.granted, hits: row.hits, window: Number(row.window_index), resetInMs: row.reset_in_ms,
  }]));
}

export class PostgresLedger implements Ledger {
  readonly #db: Kysely<Database>;
  readonly #batcher: Batcher<LeaseRequest, Lease>;
  #sweptAt = 0;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#batcher = new Batcher(() => 'lease', async (requests) => {
      const leases = await leaseAll(db, requests);
      return requests.map((r): PromiseSettledResult<Lease> => {
        const lease = leases.get(r.key);
        return lease ? { status: 'fulfilled', value: lease } : { status: 'rejected', reason: new Error(`no lease for ${r.key}`) };
      });
    }, { maxBatch: 500, inFlight: 1 });
  }

  lease(request: LeaseRequest): Promise<Lease> {
    const now = Date.now();
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) {
      this.#sweptAt = now;
      void sql`DELETE FROM rate_limits WHERE expires_at < now()`.execute(this.#db).catch(() => undefined);
    }
    return this.#batcher.add(request);
  }

  async giveBack(key: string, window: number): Promise<void> {
    await sql`UPDATE rate_limits SET hits = hits - 1 WHERE key = ${key} AND window_index = ${window} AND hits > 0`.execute(this.#db);
  }

  async close(): Promise<void> {}
}
