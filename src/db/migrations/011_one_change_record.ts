// Every change is recorded by the statement that makes it (src/db/changes.ts): history row and
// feed message in that statement, the notice after commit. So the feed triggers go:
// 1. acd_event_history's statement trigger (migrations 007, 008) wrote the messages of rows not
//    `fed` and notified unless the transaction set `switchboard.announced`; every path now writes
//    its own messages, and a NOTIFY inside a writing transaction made PostgreSQL serialise the
//    commits of all notifying writers. The `fed` mark means nothing any more.
// 2. agent_state_history's row trigger (migration 004) did the same, once per row.
// The statement trigger that deletes an event's history with the event (008) stays: it records
// nothing.
import { statementsMigration } from './statements.ts';

const UP: string[] = [
  'DROP TRIGGER acd_event_history_push ON acd_event_history',
  'DROP FUNCTION push_event_transitions()',
  'ALTER TABLE acd_event_history DROP COLUMN fed',
  'DROP TRIGGER agent_state_history_push ON agent_state_history',
  'DROP FUNCTION push_agent_state_history()',
];

// The triggers of migrations 004 and 008 as they were; rows written meanwhile count as fed.
const DOWN: string[] = [
  `CREATE FUNCTION push_agent_state_history() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        VALUES (NEW.client_id, NEW.user_id, 'agent', jsonb_build_object(
          'UsersID', NEW.user_id, 'Change', NEW.change, 'AcdGroupsID', NEW.group_id,
          'Capacity', NEW.capacity, 'Actor', NEW.actor, 'Reason', NEW.reason), NEW.created_at);
        PERFORM pg_notify('switchboard', NEW.client_id || ':' || NEW.user_id);
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER agent_state_history_push AFTER INSERT ON agent_state_history
        FOR EACH ROW EXECUTE FUNCTION push_agent_state_history()`,
  'ALTER TABLE acd_event_history ADD COLUMN fed boolean NOT NULL DEFAULT true',
  'ALTER TABLE acd_event_history ALTER COLUMN fed SET DEFAULT false',
  `CREATE FUNCTION push_event_transitions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        SELECT e.client_id, n.agent_id, 'event', jsonb_build_object(
          'AcdEventsID', n.event_id, 'AcdEventTypesID', e.type_id, 'AcdGroupsID', e.queue_group_id,
          'FromAcdEventStatusID', n.from_status_id, 'ToAcdEventStatusID', n.to_status_id,
          'UsersID', n.agent_id, 'Actor', n.actor, 'Reason', n.reason), n.created_at
        FROM new_rows n JOIN acd_events e ON e.id = n.event_id
        WHERE NOT n.fed
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

export const { up, down } = statementsMigration(UP, DOWN);
