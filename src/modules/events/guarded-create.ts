// The common create: one statement inserts the event and its first history entry and answers
// its record, provided the target is what a valid request names (nothing is written otherwise,
// and the service then works out which rule refused it, or applies the duplicate rule).
//
// Creates that arrive while others are on their way to the store go together: one statement
// inserts all of them, or none when any guard fails, so each request still gets its own answer
// (a batch that fails is run again one by one). Under load this shares a round trip, a parse
// and a commit among many creates; alone, a create goes at once as a batch of one.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Batcher } from '../../db/batcher.ts';
import { announceChanges, EventChange, recordChanges } from '../../db/changes.ts';
import { isConnectionLoss } from '../../db/errors.ts';
import { perDatabase } from '../../db/per-database.ts';
import { batchSlots, ShapedStatement } from '../../db/shaped-statement.ts';
import type { GroupType } from '../../domain/event-rules.ts';
import { jsonProjection } from '../../http/records.ts';
import { EventRecord } from './records.ts';
import type { NewEvent } from './repository.ts';

/** What the request's target must be for a create to need no further checks. */
export interface TargetGuard {
  clientId: number;
  /** Each named group: its id and the kind its field asks for. */
  groups: { id: number; type: GroupType }[];
  /** The group whose bAvoidDuplicateEvents must be off (null: the event has no duplicate key). */
  noDuplicateRuleOn: number | null;
  /** The user the event is addressed to must be a member of the queue group. */
  member: { userId: number; groupId: number } | null;
}

export interface GuardedCreate {
  values: NewEvent;
  guard: TargetGuard;
  actor: string;
  timeZone: string;
}

// The SQL types of the event columns, so parameters selected (not VALUES-inserted) are typed.
const EVENT_COLUMN_TYPES: Record<string, string> = {
  client_id: 'integer', type_id: 'integer', status_id: 'integer', group_id: 'integer',
  configuration_group_id: 'integer', agent_group_id: 'integer', queue_group_id: 'integer', user_id: 'integer',
  sender: 'text', receiver: 'text', subject: 'text', body: 'text', crm_url: 'text', user_data: 'text',
  event_data: 'text', priority: 'integer', appointment_at: 'timestamptz', duplicate_key: 'text',
  skills_id1: 'integer', skills_value1: 'integer', skills_id2: 'integer', skills_value2: 'integer',
  skills_id3: 'integer', skills_value3: 'integer',
  created_at: 'timestamptz', modified_at: 'timestamptz', last_modified_at: 'timestamptz',
};

const columnsOf = (values: NewEvent) => Object.keys(values).filter((c) => EVENT_COLUMN_TYPES[c] !== undefined);

/** Rows of the same shape make the same SQL text. */
function shapeOf({ values, guard }: GuardedCreate): string {
  const groups = guard.groups.map((g) => (g.id === guard.noDuplicateRuleOn ? 'n' : 'g')).join('');
  return `${columnsOf(values).join()}|${groups}|${guard.member ? 'm' : ''}`;
}

/** Creates of one batch share their shape, time zone and actor. */
const batchKeyOf = (row: GuardedCreate) => `${shapeOf(row)}|${row.timeZone}|${row.actor}`;

/** A row's values, in order: its columns', ClientsID, each group's id and kind, the member's group and user. */
function rowValues({ values, guard }: GuardedCreate): unknown[] {
  return [
    ...columnsOf(values).map((c) => (values as Record<string, unknown>)[c] ?? null),
    guard.clientId,
    ...guard.groups.flatMap((g) => [g.id, g.type]),
    ...(guard.member ? [guard.member.groupId, guard.member.userId] : []),
  ];
}

/**
 * A padding row (see batchSlots): no column values, so the insert skips it, and the first row's
 * target, so its guards hold exactly when the first row's do.
 */
function paddingValues(first: GuardedCreate): unknown[] {
  const columns = columnsOf(first.values).length;
  return [...Array.from({ length: columns }, () => null), ...rowValues(first).slice(columns)];
}

/** Every row of a batch has the same key; the batch's values are the actor, the zone, then each row's. */
const guardedCreates = new ShapedStatement<GuardedCreate[]>({
  shape: (rows) => `${batchSlots(rows.length)}|${shapeOf(rows[0]!)}`,
  values: (rows) => [
    rows[0]!.actor, rows[0]!.timeZone, ...rows.flatMap(rowValues),
    ...Array.from({ length: batchSlots(rows.length) - rows.length }, () => paddingValues(rows[0]!)).flat(),
  ],
  build: (rows, value) => {
    const actor = value(0);
    const timeZone = value(1) as string;
    const columns = columnsOf(rows[0]!.values);
    let next = 2;
    const tuples = [];
    const guards = [];
    const groupIds = [];
    const userIds = [];
    for (let slot = 0; slot < batchSlots(rows.length); slot++) {
      const { guard } = rows[slot] ?? rows[0]!;
      tuples.push(sql`(${sql.join(columns.map((c) => sql`${value(next++)}::${sql.raw(EVENT_COLUMN_TYPES[c]!)}`))})`);
      const clientId = value(next++);
      for (const { id } of guard.groups) {
        const noRule = id === guard.noDuplicateRuleOn ? sql` AND NOT g.b_avoid_duplicate_events` : sql``;
        const groupId = value(next++);
        groupIds.push(groupId);
        guards.push(sql`EXISTS (SELECT 1 FROM target_groups g WHERE g.id = ${groupId} AND g.client_id = ${clientId} AND g.group_type = ${value(next++)}${noRule})`);
      }
      if (guard.member) {
        const groupId = value(next++);
        const userId = value(next++);
        userIds.push(userId);
        guards.push(sql`EXISTS (SELECT 1 FROM acd_group_members m JOIN target_users u ON u.id = m.user_id
          WHERE m.group_id = ${groupId} AND m.user_id = ${userId} AND u.client_id = ${clientId})`);
      }
    }
    const names = sql.join(columns.map((c) => sql.ref(c)));
    // The groups and user the events will name stay locked (FOR KEY SHARE) until commit, so
    // neither can be deleted under them (migration 009: this is what a foreign key did, per row
    // and per key; here once per batch). A delete that got there first leaves its row out of the
    // CTE, and the guard fails. All or nothing: the guards are one condition, so a batch never
    // half-succeeds. Identity values follow the VALUES order, so ordering by id gives each row its
    // request back.
    const targetUsers = userIds.length === 0 ? sql`` : sql`
      target_users AS (SELECT id, client_id FROM users WHERE id IN (${sql.join(userIds)}) FOR KEY SHARE),`;
    return sql`
      WITH target_groups AS (
        SELECT id, client_id, group_type, b_avoid_duplicate_events FROM acd_groups WHERE id IN (${sql.join(groupIds)}) FOR KEY SHARE
      ),${targetUsers} ins AS (
        INSERT INTO acd_events (${names})
        SELECT * FROM (VALUES ${sql.join(tuples)}) AS v (${names})
        WHERE v.status_id IS NOT NULL AND ${sql.join(guards, sql` AND `)}
        RETURNING *
      ), ${recordChanges(EventChange, sql`SELECT id, NULL::int, status_id, NULL::int, ${actor}::text, 'created'::text, created_at, client_id, type_id, queue_group_id FROM ins`)}
      SELECT ${jsonProjection(EventRecord, timeZone)} AS j FROM ins e ORDER BY e.id`;
  },
});

/** The batch's records in the order of `rows`, or undefined when some guard failed (nothing written). */
async function insertBatch(db: Kysely<Database>, rows: GuardedCreate[]): Promise<string[] | undefined> {
  const { rows: out } = await db.executeQuery<{ j: string }>(guardedCreates.compile(db, rows));
  if (out.length !== rows.length) return undefined;
  await announceChanges(db, rows.map((r) => ({ clientId: r.guard.clientId, agentId: null, distribute: true })));
  return out.map((r) => r.j);
}

/** A batch's outcomes: the batch whole, or (a guard failed, or a bad row made it throw) each alone. */
async function runCreates(db: Kysely<Database>, rows: GuardedCreate[]): Promise<PromiseSettledResult<string | undefined>[]> {
  if (rows.length > 1) {
    try {
      const records = await insertBatch(db, rows);
      if (records) return records.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      // One bad row fails them all: each gets its own answer below. Not so a lost connection: the
      // batch may have committed before its answer was lost, and each row again would be stored twice.
      if (isConnectionLoss(error)) throw error;
    }
  }
  return Promise.allSettled(rows.map(async (row) => (await insertBatch(db, [row]))?.[0]));
}

const batcherOf = perDatabase((db: Kysely<Database>) => new Batcher(batchKeyOf, (rows: GuardedCreate[]) => runCreates(db, rows)));

/** Inserts the event if its target is valid (see the top), together with creates arriving meanwhile. */
export function insertEventIfTargetValid(db: Kysely<Database>, row: GuardedCreate): Promise<string | undefined> {
  return batcherOf(db).add(row);
}
