// The start of every pass, in one statement: Distribute (1) → TransportToGroup (4) for events
// whose appointment has come (or that have none), and the groups there is work in — a waiting
// event and someone logged in to the ACD and to the group.
//
// SKIP LOCKED lets several instances release at once without waiting on each other; an event
// another pass holds is that pass's to move. The groups are read from the statement's snapshot,
// which does not contain the rows it moves itself: their groups are added from `moved`.
//
// Which groups: a pass woken by changes of some clients (`clientIds`) looks only at their groups
// (a change of one client cannot make work in another's), through the groups' client index; a
// full pass (the sweep, a timer, a change of unknown origin) at every group with waiting events.
// Either way groups of idle clients cost nothing: on a hosted deployment (10,000 clients × 10
// groups) a pass that walked the list of groups cost 5× one on a single client's database.
import { sql, type Kysely } from 'kysely';
import { EventChange, recordChanges } from '../../db/changes.ts';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';

export interface PassStart {
  released: number;
  /** Clients whose events were released: the caller announces them (it knows whether they were dispatched). */
  clientIds: number[];
  /** Groups to dispatch, in id order. */
  groupIds: number[];
}

/** `clientIds`: only these clients' groups (besides those of the events released now); null: every group. */
export async function releaseDueEvents(db: Kysely<Database>, now: Date, limit: number, clientIds: number[] | null = null): Promise<PassStart> {
  const waiting = clientIds === null
    ? sql`SELECT queue_group_id FROM acd_events WHERE status_id = ${sql.lit(Status.TransportToGroup)}`
    // OFFSET 0 keeps the EXISTS a probe of the waiting-events index per group: pulled up into a
    // semi-join, it read every waiting event of every client. (A LATERAL … LIMIT 1 did the same
    // on PostgreSQL but cost PGlite a third of its throughput on the distribution benchmark.)
    : sql`SELECT g.id FROM acd_groups g WHERE g.client_id = ANY(${clientIds}::int[])
        AND EXISTS (SELECT 1 FROM acd_events e WHERE e.queue_group_id = g.id AND e.status_id = ${sql.lit(Status.TransportToGroup)} OFFSET 0)`;
  const { rows: [row] } = await sql<{ released: number; client_ids: number[]; group_ids: number[] }>`
    WITH due AS (
      SELECT id FROM acd_events
      WHERE status_id = ${sql.lit(Status.Distribute)} AND (appointment_at IS NULL OR appointment_at <= ${now})
      ORDER BY appointment_at NULLS FIRST, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE acd_events e SET status_id = ${sql.lit(Status.TransportToGroup)}, modified_at = ${now}, last_modified_at = ${now}
      FROM due WHERE e.id = due.id
      RETURNING e.id, e.client_id, e.type_id, e.queue_group_id, e.agent_id, e.appointment_at
    ), ${recordChanges(EventChange, sql`
      SELECT id, ${sql.lit(Status.Distribute)}::int, ${sql.lit(Status.TransportToGroup)}::int, NULL::int, 'distributor'::text,
        CASE WHEN appointment_at IS NULL THEN 'queued' ELSE 'appointment reached' END, ${now}::timestamptz,
        client_id, type_id, queue_group_id
      FROM moved`)}
    SELECT
      (SELECT count(*) FROM moved)::int AS released,
      ARRAY(SELECT DISTINCT client_id FROM moved) AS client_ids,
      ARRAY(
        SELECT g.group_id FROM (SELECT queue_group_id FROM moved UNION ${waiting}) g (group_id)
        WHERE g.group_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM agent_group_logins l JOIN agent_states s ON s.user_id = l.user_id AND s.b_logged_in
                      WHERE l.group_id = g.group_id)
        ORDER BY g.group_id
      ) AS group_ids`.execute(db);
  return { released: row!.released, clientIds: row!.client_ids, groupIds: row!.group_ids };
}
