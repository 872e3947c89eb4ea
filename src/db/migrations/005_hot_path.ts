// Changes for the hot paths (creation and live push).
// 1. Instances keep the credentials they verified in memory (src/http/credential-cache.ts).
//    Triggers tell every instance when a credential changes, whichever path changed it (API, CLI,
//    the cascade of a user's deletion), so that no way of ending a token or session can forget to.
// 2. A new event's first history row no longer NOTIFYs from the trigger: PostgreSQL serialises
//    committing transactions that NOTIFY, which capped creates, each in its own transaction. The
//    application announces creations instead, many per NOTIFY (Store.announce). Every other
//    transition still notifies from the trigger, once per transaction and payload.
// 3. An index for the one reader per instance that follows the whole feed (src/modules/push/hub.ts).
import { statementsMigration } from './statements.ts';

/** Migration 004's publishing trigger function, with or without the NOTIFY of creations. */
function pushEventHistory({ notifyCreations }: { notifyCreations: boolean }): string {
  const notify = `PERFORM pg_notify('switchboard', ev.client_id || ':' || coalesce(NEW.agent_id::text, ''));`;
  return `CREATE OR REPLACE FUNCTION push_event_history() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ev record;
      BEGIN
        SELECT client_id, queue_group_id, type_id INTO ev FROM acd_events WHERE id = NEW.event_id;
        INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
        VALUES (ev.client_id, NEW.agent_id, 'event', jsonb_build_object(
          'AcdEventsID', NEW.event_id, 'AcdEventTypesID', ev.type_id, 'AcdGroupsID', ev.queue_group_id,
          'FromAcdEventStatusID', NEW.from_status_id, 'ToAcdEventStatusID', NEW.to_status_id,
          'UsersID', NEW.agent_id, 'Actor', NEW.actor, 'Reason', NEW.reason), NEW.created_at);
        ${notifyCreations ? notify : `-- A creation (no previous status) is announced by the application that made it.
        IF NEW.from_status_id IS NOT NULL THEN
          ${notify}
        END IF;`}
        RETURN NULL;
      END $$`;
}

const UP: string[] = [
  `CREATE FUNCTION notify_client_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A new client too: instances remember that a ClientsID did not exist.
        PERFORM pg_notify('switchboard_credentials', 'c:' || CASE WHEN TG_OP = 'INSERT' THEN NEW.id ELSE OLD.id END);
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER clients_credentials AFTER INSERT OR UPDATE OF token_hash, time_zone OR DELETE ON clients
        FOR EACH ROW EXECUTE FUNCTION notify_client_credentials()`,
  `CREATE FUNCTION notify_session_end() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('switchboard_credentials', 'u:' || OLD.user_id);
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER agent_sessions_end AFTER UPDATE OR DELETE ON agent_sessions
        FOR EACH ROW EXECUTE FUNCTION notify_session_end()`,
  pushEventHistory({ notifyCreations: false }),
  // Only the retention sweep reads by time, and rows arrive in time order: a BRIN index serves
  // it for a fraction of a B-tree's upkeep on every message.
  'DROP INDEX push_messages_created',
  'CREATE INDEX push_messages_created ON push_messages USING brin (created_at)',
  // Each instance reads the whole feed in (xid, id) order and hands messages to its streams.
  'CREATE INDEX push_messages_feed ON push_messages (xid, id)',
];

const DOWN: string[] = [
  'DROP INDEX push_messages_feed',
  'DROP INDEX push_messages_created',
  'CREATE INDEX push_messages_created ON push_messages (created_at)',
  pushEventHistory({ notifyCreations: true }),
  'DROP TRIGGER agent_sessions_end ON agent_sessions',
  'DROP TRIGGER clients_credentials ON clients',
  'DROP FUNCTION notify_session_end()',
  'DROP FUNCTION notify_client_credentials()',
];

export const { up, down } = statementsMigration(UP, DOWN);
