// History rows written together with their feed messages, in one statement (migration 008). The
// statement that moves events already has each event's client, type and group in its own rows;
// the feed trigger would look every event up again, through a procedure call per statement.
// The message is the trigger's, field for field: readers cannot tell who wrote it.
import { sql, type RawBuilder } from 'kysely';

/**
 * Three CTEs, `hist_rows`, `hist` and `feed`: inserts the history rows `rows` selects, marked fed
 * so the trigger leaves them alone, and one feed message for each. `rows` selects, in this order
 * and typed: event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at, then the
 * event's client_id, type_id and queue_group_id after the change (the message carries them).
 * Both inserts read the same rows: joining the history to the moved events instead took a nested
 * loop over both (the planner sees one row in each CTE), its cost growing with the square of the
 * batch.
 */
export function historyWithFeed(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`hist_rows (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at, client_id, type_id, queue_group_id) AS (
      ${rows}
    ), hist AS (
      INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at, fed)
      SELECT event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at, true FROM hist_rows
    ), feed AS (
      -- A statement moves each event once, so any order of its messages keeps every event's
      -- transitions in order for readers (they deliver by transaction, then by message id).
      INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
      SELECT client_id, agent_id, 'event', jsonb_build_object(
        'AcdEventsID', event_id, 'AcdEventTypesID', type_id, 'AcdGroupsID', queue_group_id,
        'FromAcdEventStatusID', from_status_id, 'ToAcdEventStatusID', to_status_id,
        'UsersID', agent_id, 'Actor', actor, 'Reason', reason), created_at
      FROM hist_rows
    )`;
}
