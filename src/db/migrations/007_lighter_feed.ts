// The feed of event transitions costs less to write: once per statement instead of once per
// history row, with fewer checks and indexes, and quiet for transactions whose application
// announces its own transitions.
// 1. A statement-level trigger over the rows the statement inserted (a transition table) writes
//    all of their feed messages with one INSERT: the row trigger ran a lookup and an insert
//    through the procedural interpreter for every row, the largest single cost of PostgreSQL's
//    work per event under load. Every path still publishes: the trigger, not the caller, writes.
// 2. PostgreSQL serialises the commits of notifying transactions, WAL flush included, so the hot
//    paths (agents' actions, the distributor's queueing and offers) announce after commit, many
//    changes per NOTIFY (src/db/announce.ts), and set a transaction-local flag that keeps the
//    trigger from notifying. Everything else still notifies here; creations stay announced by
//    the application (migration 005).
// 3. Each message no longer checks its client's row: the trigger copies client_id from the event,
//    which checked it, and the check took a share lock on the one client row that every
//    concurrent transaction of that client wanted (PostgreSQL then builds multi-transaction lock
//    records). No API path deletes a client; an operator who does leaves its messages to the
//    retention sweep, and the reader joins clients, so they are never delivered.
// 4. Agents' streams read their client's messages and keep their own (push/repository.ts), so
//    the per-agent index, one more insert for nearly every message, goes.
import { statementsMigration } from './statements.ts';

const UP: string[] = [
  'ALTER TABLE push_messages DROP CONSTRAINT push_messages_client_id_fkey',
  'DROP INDEX push_messages_agent',
  'DROP TRIGGER acd_event_history_push ON acd_event_history',
  'DROP FUNCTION push_event_history()',
  `CREATE FUNCTION push_event_transitions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Messages in history order: readers deliver a transaction's messages by id.
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        SELECT e.client_id, n.agent_id, 'event', jsonb_build_object(
          'AcdEventsID', n.event_id, 'AcdEventTypesID', e.type_id, 'AcdGroupsID', e.queue_group_id,
          'FromAcdEventStatusID', n.from_status_id, 'ToAcdEventStatusID', n.to_status_id,
          'UsersID', n.agent_id, 'Actor', n.actor, 'Reason', n.reason), n.created_at
        FROM new_rows n JOIN acd_events e ON e.id = n.event_id
        ORDER BY n.id;
        IF current_setting('switchboard.announced', true) IS DISTINCT FROM 'on' THEN
          PERFORM pg_notify('switchboard', p) FROM (
            SELECT DISTINCT e.client_id || ':' || coalesce(n.agent_id::text, '') AS p
            FROM new_rows n JOIN acd_events e ON e.id = n.event_id
            WHERE n.from_status_id IS NOT NULL) AS changed;
        END IF;
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER acd_event_history_push AFTER INSERT ON acd_event_history
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION push_event_transitions()`,
];

// Migration 005's row trigger, index and check, as they were.
const DOWN: string[] = [
  'CREATE INDEX push_messages_agent ON push_messages (agent_id, xid, id) WHERE agent_id IS NOT NULL',
  `ALTER TABLE push_messages ADD CONSTRAINT push_messages_client_id_fkey
        FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE`,
  'DROP TRIGGER acd_event_history_push ON acd_event_history',
  'DROP FUNCTION push_event_transitions()',
  `CREATE FUNCTION push_event_history() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ev record;
      BEGIN
        SELECT client_id, queue_group_id, type_id INTO ev FROM acd_events WHERE id = NEW.event_id;
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        VALUES (ev.client_id, NEW.agent_id, 'event', jsonb_build_object(
          'AcdEventsID', NEW.event_id, 'AcdEventTypesID', ev.type_id, 'AcdGroupsID', ev.queue_group_id,
          'FromAcdEventStatusID', NEW.from_status_id, 'ToAcdEventStatusID', NEW.to_status_id,
          'UsersID', NEW.agent_id, 'Actor', NEW.actor, 'Reason', NEW.reason), NEW.created_at);
        IF NEW.from_status_id IS NOT NULL THEN
          PERFORM pg_notify('switchboard', ev.client_id || ':' || coalesce(NEW.agent_id::text, ''));
        END IF;
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER acd_event_history_push AFTER INSERT ON acd_event_history
        FOR EACH ROW EXECUTE FUNCTION push_event_history()`,
];

export const { up, down } = statementsMigration(UP, DOWN);
