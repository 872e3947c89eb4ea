// Locks agents' state rows and counts what they hold. Every transition that gives an agent more
// work (an offer, a returning reminder) runs under this lock, so a count taken after it stays
// true until commit. Rows are locked in user-id order: two dispatchers of groups sharing agents
// then queue on each other instead of deadlocking.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CAPACITY_STATUSES } from '../../domain/event-flow.ts';
import { DEFAULT_CAPACITY } from '../../modules/agents/records.ts';

export interface LockedAgent {
  userId: number;
  /** Free places per event type (capacity minus events offered or in hand). */
  free: Record<string, number>;
  idleSinceMs: number | null;
}

export async function lockAgentCapacity(db: Kysely<Database>, userIds: number[]): Promise<LockedAgent[]> {
  if (userIds.length === 0) return [];
  const { rows: states } = await sql<{ user_id: number; capacity: Record<string, number>; idle_since: Date | string | null }>`
    SELECT user_id, capacity, greatest(last_offer_at, last_agent_time) AS idle_since
    FROM agent_states WHERE user_id = ANY(${userIds}::int[])
    ORDER BY user_id FOR UPDATE`.execute(db);
  const { rows: held } = await sql<{ agent_id: number; type_id: number; n: number }>`
    SELECT agent_id, type_id, count(*)::int AS n FROM acd_events
    WHERE agent_id = ANY(${userIds}::int[]) AND status_id IN (${sql.join(CAPACITY_STATUSES.map((s) => sql.lit(s)))})
    GROUP BY agent_id, type_id`.execute(db);
  return states.map((s) => {
    const free: Record<string, number> = { ...DEFAULT_CAPACITY, ...s.capacity };
    for (const h of held) if (h.agent_id === s.user_id) free[String(h.type_id)] = (free[String(h.type_id)] ?? 0) - h.n;
    return { userId: s.user_id, free, idleSinceMs: s.idle_since === null ? null : new Date(s.idle_since).getTime() };
  });
}
