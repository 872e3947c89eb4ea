// History rows written together with their feed messages, in one statement (migration 008). The
// statement that moves events already has each event's client, type and group in its own rows;
// the feed trigger would look every event up again, through a procedure call per statement.
// The message is the trigger's, field for field: readers cannot tell who wrote it.
import { sql, type RawBuilder } from 'kysely';

/**
 * Two CTEs, `hist` and `feed`: inserts the history rows `rows` selects (event_id,
 * from_status_id, to_status_id, agent_id, actor, reason, created_at, in that order and typed),
 * marked fed so the trigger leaves them alone, and one feed message for each. `events` names a
 * CTE of the moved events that returns their id, client_id, type_id and queue_group_id after the
 * change.
 */
export function historyWithFeed(rows: RawBuilder<unknown>, events: string): RawBuilder<unknown> {
  return sql`hist AS (
      INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at, fed)
      SELECT *, true FROM (${rows}) AS t
      RETURNING id, event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at
    ), feed AS (
      -- In history order, as the trigger writes them: readers deliver a transaction's messages by id.
      INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
      SELECT e.client_id, h.agent_id, 'event', jsonb_build_object(
        'AcdEventsID', h.event_id, 'AcdEventTypesID', e.type_id, 'AcdGroupsID', e.queue_group_id,
        'FromAcdEventStatusID', h.from_status_id, 'ToAcdEventStatusID', h.to_status_id,
        'UsersID', h.agent_id, 'Actor', h.actor, 'Reason', h.reason), h.created_at
      FROM hist h JOIN ${sql.table(events)} e ON e.id = h.event_id
      ORDER BY h.id
    )`;
}
