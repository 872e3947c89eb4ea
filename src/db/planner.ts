// Planner settings for the rest of the caller's transaction: the few statements that know better
// than PostgreSQL's estimates (see the callers) say so here, the rest of the application keeps the
// server's defaults.
import { sql, type Kysely } from 'kysely';

export type PlannerSettings = Partial<Record<'plan_cache_mode' | 'jit' | 'enable_sort', string>>;

/** Sets `settings` until the transaction `db` ends (set_config's is_local), in one round trip. */
export async function setForTransaction(db: Kysely<any>, settings: PlannerSettings): Promise<void> {
  await sql`SELECT ${sql.join(calls(settings))}`.execute(db);
}

/**
 * setForTransaction as a condition (always true) for the WHERE of the transaction's first
 * statement, which then sets them on its way, for the statements after it, without a round trip
 * of its own. Uncorrelated, it is a one-time filter: run once before any row is read, whether
 * or not a row matches. (setForTransaction keeps its own statement: on PGlite the campaign's
 * why-not ran at 180 ms instead of 105 after its settings were set this way.)
 */
export function settingFor(settings: PlannerSettings) {
  return sql`(SELECT ${sql.join(calls(settings).map((call) => sql`${call} IS NOT NULL`), sql` AND `)})`;
}

const calls = (settings: PlannerSettings) => Object.entries(settings).map(([name, value]) => sql`set_config(${name}, ${value}, true)`);
