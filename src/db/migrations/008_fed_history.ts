// The hot statements write their events' feed messages themselves, and history rows no longer
// check their event.
// 1. A statement that records transitions on the hot path (create, agent actions, the
//    distributor's queueing and offers) already holds each event's client, type and group in its
//    own rows, so it inserts the feed messages next to the history rows (src/db/feed.ts) and marks
//    those rows `fed`. The trigger of migration 007 writes messages only for rows not fed: every
//    other path still publishes through it. The trigger's per-statement procedure call, lookup of
//    each event and insert were the largest part of a hot statement's time on the server.
// 2. History rows are written only by the statements that move their event, in the same
//    statement, so the check of each row against its event proved nothing, and it cost a lookup
//    and a lock (FOR KEY SHARE, a WAL record) on the event row per transition. Deleting events
//    still deletes their history (a statement trigger now does what the cascade did).
import { statementsMigration, statementTrigger } from './statements.ts';

const feedTrigger = (fedFilter: string) => `CREATE OR REPLACE FUNCTION push_event_transitions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Messages in history order: readers deliver a transaction's messages by id.
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        SELECT e.client_id, n.agent_id, 'event', jsonb_build_object(
          'AcdEventsID', n.event_id, 'AcdEventTypesID', e.type_id, 'AcdGroupsID', e.queue_group_id,
          'FromAcdEventStatusID', n.from_status_id, 'ToAcdEventStatusID', n.to_status_id,
          'UsersID', n.agent_id, 'Actor', n.actor, 'Reason', n.reason), n.created_at
        FROM new_rows n JOIN acd_events e ON e.id = n.event_id${fedFilter}
        ORDER BY n.id;
        IF current_setting('switchboard.announced', true) IS DISTINCT FROM 'on' THEN
          PERFORM pg_notify('switchboard', p) FROM (
            SELECT DISTINCT e.client_id || ':' || coalesce(n.agent_id::text, '') AS p
            FROM new_rows n JOIN acd_events e ON e.id = n.event_id
            WHERE n.from_status_id IS NOT NULL) AS changed;
        END IF;
        RETURN NULL;
      END $$`;

const UP: string[] = [
  'ALTER TABLE acd_event_history ADD COLUMN fed boolean NOT NULL DEFAULT false',
  feedTrigger('\n        WHERE NOT n.fed'),
  'ALTER TABLE acd_event_history DROP CONSTRAINT acd_event_history_event_id_fkey',
  ...statementTrigger({
    name: 'forget_event_history', on: 'acd_events', event: 'DELETE', trigger: 'acd_events_forget_history',
    body: 'DELETE FROM acd_event_history WHERE event_id IN (SELECT id FROM old_rows)',
  }),
];

const DOWN: string[] = [
  'DROP TRIGGER acd_events_forget_history ON acd_events',
  'DROP FUNCTION forget_event_history()',
  `ALTER TABLE acd_event_history ADD CONSTRAINT acd_event_history_event_id_fkey
        FOREIGN KEY (event_id) REFERENCES acd_events(id) ON DELETE CASCADE`,
  feedTrigger(''),
  'ALTER TABLE acd_event_history DROP COLUMN fed',
];

export const { up, down } = statementsMigration(UP, DOWN);
