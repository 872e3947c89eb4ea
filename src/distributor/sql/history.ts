// The history row every distributor transition writes, as a CTE over the rows it moved.
import { sql, type RawBuilder } from 'kysely';

export const DISTRIBUTOR_ACTOR = 'distributor';

/**
 * `INSERT INTO acd_event_history … SELECT … FROM <moved>` where `moved` returns `id` and
 * `agent_id`; the statuses, actor and reason are the same for all of them.
 */
export function historyFrom(moved: string, from: number, to: number, reason: string, now: Date, actor = DISTRIBUTOR_ACTOR): RawBuilder<unknown> {
  return sql`INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at)
    SELECT id, ${from}::int, ${to}::int, agent_id, ${actor}::text, ${reason}::text, ${now}::timestamptz FROM ${sql.table(moved)}`;
}
