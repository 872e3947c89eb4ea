// The agent actions of the hot path (accept, reject, seen, done) in one statement each: lock the
// event if it is the agent's and in a status the action allows, change it, record the history
// (and comment, and the agent's finishing time), and answer the record. When the statement finds
// nothing to do, the caller runs the general path, which works out the precise 404 or 409.
// Locks: the event row first, then (done) the agent's state row — the order of every agent action.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { jsonProjection } from '../../http/records.ts';
import { allowedFrom, Status, type AgentAction } from '../../domain/event-flow.ts';
import { WorkItemRecord } from './records.ts';

export type QuickAction = Extract<AgentAction, 'accept' | 'reject' | 'seen' | 'done'>;

export function isQuick(action: AgentAction): action is QuickAction {
  return action === 'accept' || action === 'reject' || action === 'seen' || action === 'done';
}

interface Plan {
  to: number;
  set: RawBuilder<unknown>;
  /** Extra condition on the current row. */
  guard: RawBuilder<unknown>;
  reason: string | null;
}

function planOf(action: QuickAction, now: Date): Plan {
  switch (action) {
    case 'accept':
      return {
        to: Status.New,
        set: sql`status_id = ${sql.lit(Status.New)}, lease_until = NULL, received_at = ${now}`,
        guard: sql`AND (lease_until IS NULL OR lease_until > ${now})`,
        reason: null,
      };
    case 'reject':
      return {
        to: Status.TransportToGroup,
        set: sql`status_id = ${sql.lit(Status.TransportToGroup)}, agent_id = NULL, lease_until = NULL, offered_at = NULL`,
        guard: sql``,
        reason: 'rejected',
      };
    case 'seen':
      return { to: Status.Seen, set: sql`status_id = ${sql.lit(Status.Seen)}`, guard: sql``, reason: null };
    case 'done':
      return {
        to: Status.Done,
        // jtel's LastAgentTime of an event: the seconds the agent worked on it.
        set: sql`status_id = ${sql.lit(Status.Done)}, remind_at = NULL,
          last_agent_time = greatest(0, round(extract(epoch FROM (${now}::timestamptz - coalesce(cur.received_at, ${now}::timestamptz)))))::int`,
        guard: sql``,
        reason: null,
      };
  }
}

export async function quickAction(
  db: Kysely<Database>, clientId: number, timeZone: string, agentId: number, eventId: number,
  action: QuickAction, actor: string, comment: string | null, now: Date,
): Promise<string | undefined> {
  const plan = planOf(action, now);
  const from = allowedFrom(action);
  const finished = action === 'done'
    ? sql`, finished AS (UPDATE agent_states SET last_agent_time = ${now} WHERE user_id = ${agentId} AND EXISTS (SELECT 1 FROM upd))`
    : sql``;
  const note = comment
    ? sql`, note AS (INSERT INTO acd_event_comments (event_id, author, text, created_at) SELECT id, ${actor}::text, ${comment}::text, ${now}::timestamptz FROM upd)`
    : sql``;
  // `seen` on a Seen event changes nothing and records nothing.
  const moved = action === 'seen' ? sql`WHERE before <> ${plan.to}` : sql``;
  const { rows } = await sql<{ j: string }>`
    WITH cur AS (
      SELECT id, status_id, received_at FROM acd_events
      WHERE id = ${eventId} AND client_id = ${clientId} AND agent_id = ${agentId}
        AND status_id IN (${sql.join(from.map((s) => sql.lit(s)))}) ${plan.guard}
      FOR UPDATE
    ), upd AS (
      UPDATE acd_events e SET ${plan.set}, modified_at = ${now}, last_modified_at = ${now}
      FROM cur WHERE e.id = cur.id
      RETURNING e.*, cur.status_id AS before
    ), hist AS (
      INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at)
      SELECT id, before, ${plan.to}::int, ${agentId}::int, ${actor}::text, ${plan.reason}::text, ${now}::timestamptz FROM upd ${moved}
    )${finished}${note}
    SELECT ${jsonProjection(WorkItemRecord, timeZone)} AS j FROM upd e`.execute(db);
  return rows[0]?.j;
}
