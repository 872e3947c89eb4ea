// BENCH_PLAN_CACHE_MODE for the distribution benchmark's databases.
import type { Query } from './audit.ts';

/**
 * BENCH_PLAN_CACHE_MODE=force_custom_plan (or force_generic_plan, auto): the server's sessions
 * plan every named statement with its parameter values (or never), to see how much of the figures
 * comes from PostgreSQL choosing generic plans for the prepared statements. Set before the server
 * starts, so it holds for all of its sessions.
 */
export function planCacheMode(): string | undefined {
  const mode = process.env.BENCH_PLAN_CACHE_MODE;
  if (mode && !['auto', 'force_custom_plan', 'force_generic_plan'].includes(mode)) throw new Error(`BENCH_PLAN_CACHE_MODE: unknown mode ${mode}`);
  if (mode) console.log(`\n(plan_cache_mode = ${mode} for this run's databases)`);
  return mode;
}

export async function setPlanCacheMode(query: Query, kind: 'pglite' | 'postgres'): Promise<void> {
  const mode = planCacheMode();
  if (!mode) return;
  // PGlite's session does not read per-database settings, but its own data folder's configuration;
  // on a shared PostgreSQL server only the fresh database may be touched.
  if (kind === 'pglite') {
    await query(`ALTER SYSTEM SET plan_cache_mode = ${mode}`);
    return;
  }
  const [{ db }] = await query('SELECT current_database() AS db');
  await query(`ALTER DATABASE "${String(db).replace(/"/g, '""')}" SET plan_cache_mode = ${mode}`);
}
