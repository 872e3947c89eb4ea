// The changes every distributor transition records: CTEs over the rows it moved.
import { sql, type RawBuilder } from 'kysely';
import { EventChange, recordChanges } from '../../db/changes.ts';

export const DISTRIBUTOR_ACTOR = 'distributor';

/**
 * The CTEs of src/db/changes.ts for the rows of `moved`, which returns `id`, `agent_id`,
 * `client_id`, `type_id` and `queue_group_id`; the statuses, actor and reason are the same for all.
 */
export function historyFrom(moved: string, from: number, to: number, reason: string, now: Date, actor = DISTRIBUTOR_ACTOR): RawBuilder<unknown> {
  return recordChanges(EventChange, sql`
    SELECT id, ${from}::int, ${to}::int, agent_id, ${actor}::text, ${reason}::text, ${now}::timestamptz, client_id, type_id, queue_group_id
    FROM ${sql.table(moved)}`);
}
