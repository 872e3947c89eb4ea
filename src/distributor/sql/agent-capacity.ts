// Locks agents' state rows and counts what they hold. Every transition that gives an agent more
// work (an offer, a returning reminder) runs under this lock, so a count taken after it stays
// true until commit. Rows are locked in user-id order: two dispatchers of groups sharing agents
// then queue on each other instead of deadlocking.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CAPACITY_STATUSES } from '../../domain/event-flow.ts';
import { DEFAULT_CAPACITY } from '../../modules/agents/records.ts';

export interface LockedAgent {
  userId: number;
  /** Free places per event type (capacity minus events offered or in hand). */
  free: Record<string, number>;
  idleSinceMs: number | null;
  /** With `presentIn`: still logged in to the ACD and that group once the lock was granted. */
  present: boolean;
}

/**
 * `presentIn`: a group whose login each agent must still hold, checked under the lock (an agent
 * who logged out between the caller's read and the lock keeps no claim). The check and the count
 * are one read, taken after the lock, so both see every change committed before it.
 * `alongside`: another read that must also come after the lock (the dispatcher's first page of
 * the queue); it shares the count's round trip and its rows come back as `alongside`.
 */
export async function lockAgentCapacity<R = never>(
  db: Kysely<Database>, userIds: number[], presentIn?: number, alongside?: RawBuilder<R>,
): Promise<{ agents: LockedAgent[]; alongside: R[] }> {
  if (userIds.length === 0) return { agents: [], alongside: [] };
  const { rows: states } = await sql<{ user_id: number; capacity: Record<string, number>; idle_since: Date | string | null; dialler_held: number }>`
    SELECT s.user_id, s.capacity, greatest(s.last_offer_at, f.last_agent_time) AS idle_since, s.dialler_held
    FROM agent_states s LEFT JOIN agent_finishes f ON f.user_id = s.user_id
    WHERE s.user_id = ANY(${userIds}::int[])
    ORDER BY s.user_id FOR UPDATE OF s`.execute(db);
  // Rows with a type_id count held events; rows without one name an agent who is present.
  const presence = presentIn === undefined
    ? sql``
    : sql`UNION ALL
      SELECT s.user_id, NULL, NULL FROM agent_states s
      JOIN agent_group_logins l ON l.user_id = s.user_id AND l.group_id = ${presentIn}
      WHERE s.user_id = ANY(${userIds}::int[]) AND s.b_logged_in`;
  const { rows: [read] } = await sql<{ held: { agent_id: number; type_id: number | null; n: number | null }[]; alongside: R[] }>`
    SELECT
      (SELECT coalesce(json_agg(h), '[]') FROM (
        SELECT agent_id, type_id, count(*)::int AS n FROM acd_events
        WHERE agent_id = ANY(${userIds}::int[]) AND status_id IN (${sql.join(CAPACITY_STATUSES.map((s) => sql.lit(s)))})
        GROUP BY agent_id, type_id
        ${presence}) h) AS held,
      ${alongside ? sql`(SELECT coalesce(json_agg(a), '[]') FROM (${alongside}) a)` : sql`'[]'::json`} AS alongside`.execute(db);
  const held = read!.held;
  const present = new Set(held.filter((h) => h.type_id === null).map((h) => h.agent_id));
  const agents = states.map((s) => {
    const free: Record<string, number> = { ...DEFAULT_CAPACITY, ...s.capacity };
    // An agent with a dialler contact in hand takes no ACD work (src/dialler/sql/hand-out.ts
    // decides the other way round under this same lock).
    if (s.dialler_held > 0) for (const type of Object.keys(free)) free[type] = 0;
    for (const h of held) if (h.agent_id === s.user_id && h.type_id !== null) free[String(h.type_id)] = (free[String(h.type_id)] ?? 0) - h.n!;
    return {
      userId: s.user_id, free, idleSinceMs: s.idle_since === null ? null : new Date(s.idle_since).getTime(),
      present: presentIn === undefined || present.has(s.user_id),
    };
  });
  return { agents, alongside: read!.alongside };
}
