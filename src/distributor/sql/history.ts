// The history rows, and their feed messages, that every distributor transition writes: CTEs over
// the rows it moved.
import { sql, type RawBuilder } from 'kysely';
import { historyWithFeed } from '../../db/feed.ts';

export const DISTRIBUTOR_ACTOR = 'distributor';

/**
 * The CTEs of src/db/feed.ts for the rows of `moved`, which returns `id`, `agent_id`, `client_id`,
 * `type_id` and `queue_group_id`; the statuses, actor and reason are the same for all of them.
 */
export function historyFrom(moved: string, from: number, to: number, reason: string, now: Date, actor = DISTRIBUTOR_ACTOR): RawBuilder<unknown> {
  return historyWithFeed(sql`
    SELECT id, ${from}::int, ${to}::int, agent_id, ${actor}::text, ${reason}::text, ${now}::timestamptz, client_id, type_id, queue_group_id
    FROM ${sql.table(moved)}`);
}
