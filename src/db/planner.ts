// Planner settings for the rest of the caller's transaction: the few statements that know better
// than PostgreSQL's estimates (see the callers) say so here, the rest of the application keeps the
// server's defaults.
import { sql, type Kysely } from 'kysely';

export type PlannerSettings = Partial<Record<'plan_cache_mode' | 'jit' | 'enable_sort', string>>;

/** Sets `settings` until the transaction `db` ends (set_config's is_local), in one round trip. */
export async function setForTransaction(db: Kysely<any>, settings: PlannerSettings): Promise<void> {
  const calls = Object.entries(settings).map(([name, value]) => sql`set_config(${name}, ${value}, true)`);
  await sql`SELECT ${sql.join(calls)}`.execute(db);
}
