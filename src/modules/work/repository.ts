// SQL of the agents' and supervisors' actions on events. The service locks the event row first
// (lockEvent) and every write here happens under that lock, in the same transaction.
import { sql, type Kysely } from 'kysely';
import { announceChanges, changedParties, EventChange, noticesOf, recordChanges } from '../../db/changes.ts';
import type { Database } from '../../db/schema.ts';
import { historyFrom } from '../../distributor/sql/history.ts';
import { selectRecords } from '../../http/records.ts';
import { HELD_STATUSES, Status } from '../../domain/event-flow.ts';
import { WorkItemRecord } from './records.ts';

type Db = Kysely<Database>;

export interface LockedEvent {
  id: number;
  statusId: number;
  typeId: number;
  queueGroupId: number | null;
  configurationGroupId: number | null;
  agentId: number | null;
  leaseUntil: number | null;
  receivedAt: number | null;
}

const ms = (v: Date | string | null) => (v === null ? null : new Date(v).getTime());

/** The event of this client, locked FOR UPDATE; with `agentId`, only if that agent holds it. */
export async function lockEvent(db: Db, clientId: number, eventId: number, agentId?: number): Promise<LockedEvent | undefined> {
  let query = db
    .selectFrom('acd_events')
    .select(['id', 'status_id', 'type_id', 'queue_group_id', 'configuration_group_id', 'agent_id', 'lease_until', 'received_at'])
    .where('id', '=', eventId)
    .where('client_id', '=', clientId);
  if (agentId !== undefined) query = query.where('agent_id', '=', agentId).where('status_id', 'in', [10, 20, 30, 40]);
  const row = await query.forUpdate().executeTakeFirst();
  return row && {
    id: row.id,
    statusId: row.status_id,
    typeId: row.type_id,
    queueGroupId: row.queue_group_id,
    configurationGroupId: row.configuration_group_id,
    agentId: row.agent_id,
    leaseUntil: ms(row.lease_until),
    receivedAt: ms(row.received_at),
  };
}

export interface LastTurn {
  statusId: number;
  agentId: number | null;
  /** The agent's latest entry in the event's history, if they ever had it. */
  turn: { from: number | null; to: number; actor: string; reason: string | null } | undefined;
}

/** Why an agent's action found the event not in their hands: the event of this client as it is, and their last turn with it. */
export async function lastTurnOf(db: Db, clientId: number, eventId: number, agentId: number): Promise<LastTurn | undefined> {
  const row = await db.selectFrom('acd_events as e')
    .leftJoinLateral((eb) => eb.selectFrom('acd_event_history as h')
      .select(['h.from_status_id', 'h.to_status_id', 'h.actor', 'h.reason'])
      .whereRef('h.event_id', '=', 'e.id').where('h.agent_id', '=', agentId)
      .orderBy('h.id', 'desc').limit(1).as('t'), (join) => join.onTrue())
    .select(['e.status_id', 'e.agent_id', 't.from_status_id', 't.to_status_id', 't.actor', 't.reason'])
    .where('e.id', '=', eventId).where('e.client_id', '=', clientId)
    .executeTakeFirst();
  if (!row) return undefined;
  const turn = row.to_status_id === null ? undefined : { from: row.from_status_id, to: row.to_status_id, actor: row.actor!, reason: row.reason };
  return { statusId: row.status_id, agentId: row.agent_id, turn };
}

export type EventChanges = Partial<{
  status_id: number;
  agent_id: number | null;
  lease_until: Date | null;
  offered_at: Date | null;
  received_at: Date;
  remind_at: Date | null;
  last_agent_time: number;
  queue_group_id: number;
  group_id: number | null;
  configuration_group_id: number | null;
  agent_group_id: number | null;
  user_id: number | null;
  error_reason: string | null;
}>;

export interface Transition {
  from: number;
  to: number;
  agentId: number | null;
  actor: string;
  reason: string | null;
}

/** The event's new values, and its transition (if its status moved), recorded in the same statement. */
export async function updateEvent(db: Db, eventId: number, changes: EventChanges, now: Date, transition: Transition | null): Promise<void> {
  const update = db.updateTable('acd_events').set({ ...changes, modified_at: now, last_modified_at: now }).where('id', '=', eventId);
  if (!transition) {
    await update.execute();
    return;
  }
  const { rows } = await sql<{ client_id: number; agent_id: number | null }>`
    WITH moved AS (${update.returning(['id', 'client_id', 'type_id', 'queue_group_id'])}), ${recordChanges(EventChange, sql`
      SELECT id, ${transition.from}::int, ${transition.to}::int, ${transition.agentId}::int, ${transition.actor}::text,
        ${transition.reason}::text, ${now}::timestamptz, client_id, type_id, queue_group_id
      FROM moved`)}
    ${changedParties(EventChange)}`.execute(db);
  await announceChanges(db, noticesOf(rows));
}

export async function insertComment(db: Db, eventId: number, author: string, text: string, now: Date): Promise<void> {
  await db.insertInto('acd_event_comments').values({ event_id: eventId, author, text, created_at: now }).execute();
}

/** The agent finished a piece of work: the moment longest-idle distribution measures from. */
export async function markAgentFinished(db: Db, userId: number, now: Date): Promise<void> {
  await db.insertInto('agent_finishes').values({ user_id: userId, last_agent_time: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ last_agent_time: now })).execute();
}

/**
 * Puts back into their queues the offers an agent has not accepted (all of them, or those of one
 * group), each with a history entry. Run under the agent's state lock, like every change that
 * concerns what the agent may hold.
 */
export async function returnOffersOf(db: Db, userId: number, now: Date, reason: string, actor: string, groupId?: number): Promise<number> {
  const inGroup = groupId === undefined ? sql`` : sql`AND queue_group_id = ${groupId}`;
  const { rows } = await sql<{ client_id: number; agent_id: number }>`
    WITH moved AS (
      UPDATE acd_events SET status_id = ${sql.lit(Status.TransportToGroup)}, agent_id = NULL, lease_until = NULL, offered_at = NULL,
        modified_at = ${now}, last_modified_at = ${now}
      WHERE agent_id = ${userId} AND status_id = ${sql.lit(Status.TransportAgent)} ${inGroup}
      RETURNING id, client_id, type_id, queue_group_id, ${userId}::int AS agent_id
    ), ${historyFrom('moved', Status.TransportAgent, Status.TransportToGroup, reason, now, actor)}
    SELECT client_id, agent_id FROM moved`.execute(db);
  await announceChanges(db, noticesOf(rows));
  return rows.length;
}

/**
 * An agent leaves (user deleted, or membership of a group ended): nothing of theirs may stay
 * stuck. Events reserved for them (UsersID) can no longer be served and become Error with the
 * reason; events they merely held go back to their queue for someone else. Run under the agent's
 * state lock, before the rows that reference them go.
 */
export async function releaseDepartingAgent(db: Db, userId: number, now: Date, actor: string, why: string, groupId?: number): Promise<void> {
  const inGroup = groupId === undefined ? sql`` : sql`AND queue_group_id = ${groupId}`;
  const { rows: failed } = await sql<{ client_id: number; agent_id: number }>`
    WITH failed AS (
      UPDATE acd_events SET status_id = ${sql.lit(Status.Error)}, error_reason = ${`Reserved agent ${userId} ${why}`},
        agent_id = NULL, lease_until = NULL, offered_at = NULL, remind_at = NULL, modified_at = ${now}, last_modified_at = ${now}
      FROM (SELECT id, status_id AS before FROM acd_events WHERE user_id = ${userId} AND status_id < ${sql.lit(Status.ChatClosed)} ${inGroup} FOR UPDATE) x
      WHERE acd_events.id = x.id
      RETURNING acd_events.id, x.before, acd_events.client_id, acd_events.type_id, acd_events.queue_group_id
    ), ${recordChanges(EventChange, sql`
      SELECT id, before, ${sql.lit(Status.Error)}::int, ${userId}::int, ${actor}::text, ${`reserved agent ${why}`}::text, ${now}::timestamptz,
        client_id, type_id, queue_group_id
      FROM failed`)}
    ${changedParties(EventChange)}`.execute(db);
  const { rows: requeued } = await sql<{ client_id: number; agent_id: number }>`
    WITH requeued AS (
      UPDATE acd_events SET status_id = ${sql.lit(Status.TransportToGroup)},
        agent_id = NULL, lease_until = NULL, offered_at = NULL, remind_at = NULL, modified_at = ${now}, last_modified_at = ${now}
      FROM (SELECT id, status_id AS before FROM acd_events WHERE agent_id = ${userId} AND status_id IN (${sql.join(HELD_STATUSES.map((s) => sql.lit(s)))}) ${inGroup} FOR UPDATE) x
      WHERE acd_events.id = x.id
      RETURNING acd_events.id, x.before, acd_events.client_id, acd_events.type_id, acd_events.queue_group_id
    ), ${recordChanges(EventChange, sql`
      SELECT id, before, ${sql.lit(Status.TransportToGroup)}::int, ${userId}::int, ${actor}::text, ${`agent ${why}`}::text, ${now}::timestamptz,
        client_id, type_id, queue_group_id
      FROM requeued`)}
    ${changedParties(EventChange)}`.execute(db);
  await announceChanges(db, noticesOf([...failed, ...requeued]));
}

export async function workItemJson(db: Db, clientId: number, timeZone: string, eventId: number): Promise<string> {
  const { rows } = await selectRecords(WorkItemRecord, timeZone, sql`e.client_id = ${clientId} AND e.id = ${eventId}`).execute(db);
  return rows[0]!.j;
}

export interface QueueFigures {
  waiting: number;
  offered: number;
  inHand: number;
  oldestWaitingSince: Date | string | null;
  agentsLoggedIn: number;
}

/**
 * The open events of group `g` (a lateral subquery over acd_groups g): waiting, offered, in an
 * agent's hands (in_hand), and since when the oldest has waited (oldest).
 */
export const queueCounts = sql<{ waiting: number; offered: number; in_hand: number; oldest: Date | string | null }>`
      SELECT
        count(*) FILTER (WHERE status_id = ${sql.lit(Status.TransportToGroup)})::int AS waiting,
        count(*) FILTER (WHERE status_id = ${sql.lit(Status.TransportAgent)})::int AS offered,
        count(*) FILTER (WHERE status_id IN (${sql.lit(Status.New)}, ${sql.lit(Status.Seen)}, ${sql.lit(Status.Remind)}))::int AS in_hand,
        min(created_at) FILTER (WHERE status_id = ${sql.lit(Status.TransportToGroup)}) AS oldest
      FROM acd_events WHERE queue_group_id = g.id AND status_id < ${sql.lit(Status.ChatClosed)}`;

/** A group's queue at a glance, for supervisors; undefined when the client has no such group. */
export async function queueFigures(db: Db, clientId: number, groupId: number): Promise<QueueFigures | undefined> {
  const { rows: [row] } = await sql<{ waiting: number; offered: number; in_hand: number; oldest: Date | string | null; agents: number }>`
    SELECT q.*,
      (SELECT count(*)::int FROM agent_group_logins l JOIN agent_states s ON s.user_id = l.user_id AND s.b_logged_in
        WHERE l.group_id = g.id) AS agents
    FROM acd_groups g CROSS JOIN LATERAL (${queueCounts}) q
    WHERE g.id = ${groupId} AND g.client_id = ${clientId}`.execute(db);
  return row && { waiting: row.waiting, offered: row.offered, inHand: row.in_hand, oldestWaitingSince: row.oldest, agentsLoggedIn: row.agents };
}
