// The agent actions of the hot path (accept, reject, seen, done) in one statement: lock the
// event if it is the agent's and in a status the action allows, change it, record the history
// (and comment, and the agent's finishing time), and answer the record. Requests of the same kind
// that arrive together share the statement (src/db/batcher.ts); each gets its own event's answer.
// When the statement finds nothing to do for a request, the caller runs the general path, which
// works out the precise 404 or 409.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { announceChanges, EventChange, recordChanges } from '../../db/changes.ts';
import { Batcher } from '../../db/batcher.ts';
import { perDatabase } from '../../db/per-database.ts';
import type { Database } from '../../db/schema.ts';
import { batchSlots, ShapedStatement } from '../../db/shaped-statement.ts';
import { jsonProjection } from '../../http/records.ts';
import { allowedFrom, Status, type AgentAction } from '../../domain/event-flow.ts';
import { WorkItemRecord } from './records.ts';

export type QuickAction = Extract<AgentAction, 'accept' | 'reject' | 'seen' | 'done'>;

export function isQuick(action: AgentAction): action is QuickAction {
  return action === 'accept' || action === 'reject' || action === 'seen' || action === 'done';
}

interface Plan {
  to: number;
  /** The event's new columns; `cur.q_at` is the request's "now". */
  set: RawBuilder<unknown>;
  /** Extra condition on the current row (`e`) for the request (`r`). */
  guard: RawBuilder<unknown>;
  reason: string | null;
}

function planOf(action: QuickAction): Plan {
  switch (action) {
    case 'accept':
      return {
        to: Status.New,
        set: sql`status_id = ${sql.lit(Status.New)}, lease_until = NULL, received_at = cur.q_at`,
        guard: sql`AND (e.lease_until IS NULL OR e.lease_until > r.q_at)`,
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
          last_agent_time = greatest(0, round(extract(epoch FROM (cur.q_at - coalesce(cur.received_at, cur.q_at)))))::int`,
        guard: sql``,
        reason: null,
      };
  }
}

export interface QuickRequest {
  clientId: number;
  timeZone: string;
  agentId: number;
  eventId: number;
  action: QuickAction;
  actor: string;
  comment: string | null;
  now: Date;
}

/** The SQL types of a request row (q_event, q_agent, q_actor, q_at, and q_comment when the batch comments). */
const requestTypes = (qs: QuickRequest[]) => (qs[0]!.comment === null ? ['int', 'int', 'text', 'timestamptz'] : ['int', 'int', 'text', 'timestamptz', 'text']);

/**
 * Requests of one batch share the action, the client (and its zone) and whether they comment:
 * the statement's text depends on the action and on the comment, and the record on the zone.
 */
const batchKeyOf = (q: QuickRequest) => `${q.action}|${q.clientId}|${q.timeZone}|${q.comment === null ? '' : 'c'}`;

/**
 * The statement for a batch. Locks, in the order every agent action takes them: the events
 * first, in id order (FOR UPDATE over a sorted scan), then (done) the agents' finishing times,
 * in user-id order. No agent action touches agent_states, which the dispatcher holds locked.
 */
const quickActions = new ShapedStatement<{ qs: QuickRequest[] }>({
  shape: ({ qs }) => `${qs[0]!.action}|${batchSlots(qs.length)}|${qs[0]!.comment === null ? '' : 'c'}`,
  values: ({ qs }) => {
    const width = requestTypes(qs).length;
    return [
      qs[0]!.clientId, qs[0]!.timeZone,
      ...qs.flatMap((q) => [q.eventId, q.agentId, q.actor, q.now, q.comment].slice(0, width)),
      // Padding rows name no event, so they join nothing.
      ...Array.from({ length: (batchSlots(qs.length) - qs.length) * width }, () => null),
    ];
  },
  build: ({ qs }, value) => {
    const { action } = qs[0]!;
    const commented = qs[0]!.comment !== null;
    const plan = planOf(action);
    const types = requestTypes(qs);
    let next = 2;
    const tuples = Array.from({ length: batchSlots(qs.length) }, () => sql`(${sql.join(types.map((t) => sql`${value(next++)}::${sql.raw(t)}`))})`);
    const extra = commented ? sql`, q_comment` : sql``;
    // Upserted in user-id order, so two batches finishing work of the same agents cannot deadlock.
    const finished = action === 'done'
      ? sql`, finished AS (
          INSERT INTO agent_finishes (user_id, last_agent_time)
          SELECT q_agent, max(q_at) FROM upd GROUP BY q_agent ORDER BY q_agent
          ON CONFLICT (user_id) DO UPDATE SET last_agent_time = EXCLUDED.last_agent_time)`
      : sql``;
    const note = commented
      ? sql`, note AS (INSERT INTO acd_event_comments (event_id, author, text, created_at) SELECT id, q_actor, q_comment, q_at FROM upd)`
      : sql``;
    // `seen` on a Seen event changes nothing and records nothing.
    const moved = action === 'seen' ? sql`WHERE q_before <> ${sql.lit(plan.to)}` : sql``;
    const reason = plan.reason === null ? sql`NULL` : sql.lit(plan.reason);
    return sql`
      WITH req (q_event, q_agent, q_actor, q_at${extra}) AS (VALUES ${sql.join(tuples)}),
      cur AS (
        SELECT e.id, e.status_id, e.received_at, r.q_agent, r.q_actor, r.q_at${extra}
        FROM acd_events e JOIN req r ON r.q_event = e.id
        WHERE e.client_id = ${value(0)} AND e.agent_id = r.q_agent
          AND e.status_id IN (${sql.join(allowedFrom(action).map((s) => sql.lit(s)))}) ${plan.guard}
        ORDER BY e.id
        FOR UPDATE OF e
      ), upd AS (
        UPDATE acd_events e SET ${plan.set}, modified_at = cur.q_at, last_modified_at = cur.q_at
        FROM cur WHERE e.id = cur.id
        RETURNING e.*, cur.status_id AS q_before, cur.q_agent, cur.q_actor, cur.q_at${extra}
      ), ${recordChanges(EventChange, sql`SELECT id, q_before, ${sql.lit(plan.to)}::int, q_agent, q_actor, ${reason}::text, q_at, client_id, type_id, queue_group_id FROM upd ${moved}`)}${finished}${note}
      SELECT e.id, ${jsonProjection(WorkItemRecord, value(1) as string)} AS j
      FROM upd e`;
  },
});

/**
 * Each request's record (undefined: the statement found nothing to do for it). An accept or a
 * seen gives the distributor nothing to do.
 */
async function runBatch(db: Kysely<Database>, qs: QuickRequest[]): Promise<(string | undefined)[]> {
  const { rows } = await db.executeQuery<{ id: number; j: string }>(quickActions.compile(db, { qs }));
  const byEvent = new Map(rows.map((r) => [r.id, r.j]));
  const distribute = qs[0]!.action !== 'accept' && qs[0]!.action !== 'seen';
  await announceChanges(db, qs.filter((q) => byEvent.has(q.eventId)).map((q) => ({ clientId: q.clientId, agentId: q.agentId, distribute })));
  return qs.map((q) => byEvent.get(q.eventId));
}

async function runQuickActions(db: Kysely<Database>, qs: QuickRequest[]): Promise<PromiseSettledResult<string | undefined>[]> {
  // Two requests for one event (a double click) go one after the other, as they would alone.
  if (qs.length > 1 && new Set(qs.map((q) => q.eventId)).size === qs.length) {
    try {
      return (await runBatch(db, qs)).map((value) => ({ status: 'fulfilled', value }));
    } catch {
      // A deadlock or a bad row fails the whole batch: each request runs alone below.
    }
  }
  const outcomes: PromiseSettledResult<string | undefined>[] = [];
  for (const q of qs) {
    try {
      outcomes.push({ status: 'fulfilled', value: (await runBatch(db, [q]))[0] });
    } catch (reason) {
      outcomes.push({ status: 'rejected', reason });
    }
  }
  return outcomes;
}

// A client's actions take one lane: its accepts and dones alternate, each batch taking all of its
// kind that arrived meanwhile; other clients' actions go alongside.
const batcherOf = perDatabase((db: Kysely<Database>) => new Batcher(batchKeyOf, (qs: QuickRequest[]) => runQuickActions(db, qs), {
  laneOf: (q) => String(q.clientId),
}));

/** The action in one statement, shared with requests of the same kind arriving meanwhile. */
export function quickAction(db: Kysely<Database>, request: QuickRequest): Promise<string | undefined> {
  return batcherOf(db).add(request);
}
