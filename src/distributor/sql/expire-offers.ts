// TransportAgent (10) → TransportToGroup (4) for offers nobody accepted within their lease. The
// event keeps Priority and dtCreated, so it is back in its original place in the queue. Leases
// live in the row, so an offer made by an instance that has since died expires all the same.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';
import { announceChanges, noticesOf } from '../../db/changes.ts';
import { historyFrom } from './history.ts';

/** The agents who lost their offers hear of it; the queues that got the events back may have work. */
export async function expireOffers(db: Kysely<Database>, now: Date, limit: number): Promise<{ groupIds: number[]; expired: number }> {
  const { rows } = await sql<{ queue_group_id: number | null; client_id: number; agent_id: number }>`
    WITH due AS (
      SELECT id, agent_id FROM acd_events
      WHERE status_id = ${sql.lit(Status.TransportAgent)} AND lease_until <= ${now}
      ORDER BY lease_until, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE acd_events e SET status_id = ${sql.lit(Status.TransportToGroup)}, agent_id = NULL, lease_until = NULL, offered_at = NULL,
        modified_at = ${now}, last_modified_at = ${now}
      FROM due WHERE e.id = due.id
      RETURNING e.id, e.client_id, e.type_id, e.queue_group_id, due.agent_id
    ), ${historyFrom('moved', Status.TransportAgent, Status.TransportToGroup, 'offer not accepted in time', now)}
    SELECT queue_group_id, client_id, agent_id FROM moved`.execute(db);
  await announceChanges(db, noticesOf(rows));
  const groupIds = [...new Set(rows.map((r) => r.queue_group_id).filter((g): g is number => g !== null))];
  return { groupIds, expired: rows.length };
}
