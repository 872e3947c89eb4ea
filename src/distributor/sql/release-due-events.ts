// Distribute (1) → TransportToGroup (4): events whose appointment has come (or that have none)
// join their group's queue. SKIP LOCKED lets several instances sweep at once without waiting on
// each other; an event another sweep holds is that sweep's to move.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';

export async function releaseDueEvents(db: Kysely<Database>, now: Date, limit: number): Promise<{ groupIds: number[]; released: number }> {
  const { rows } = await sql<{ queue_group_id: number | null }>`
    WITH due AS (
      SELECT id FROM acd_events
      WHERE status_id = ${sql.lit(Status.Distribute)} AND (appointment_at IS NULL OR appointment_at <= ${now})
      ORDER BY appointment_at NULLS FIRST, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE acd_events e SET status_id = ${sql.lit(Status.TransportToGroup)}, modified_at = ${now}, last_modified_at = ${now}
      FROM due WHERE e.id = due.id
      RETURNING e.id, e.queue_group_id, e.agent_id, e.appointment_at
    ), hist AS (
      INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at)
      SELECT id, ${sql.lit(Status.Distribute)}, ${sql.lit(Status.TransportToGroup)}, NULL, 'distributor',
        CASE WHEN appointment_at IS NULL THEN 'queued' ELSE 'appointment reached' END, ${now}::timestamptz
      FROM moved
    )
    SELECT queue_group_id FROM moved`.execute(db);
  const groupIds = [...new Set(rows.map((r) => r.queue_group_id).filter((g): g is number => g !== null))];
  return { groupIds, released: rows.length };
}
