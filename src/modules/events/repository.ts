// SQL of ACD events. Records come out of the database as JSON text (see src/http/records.ts), so
// a create answers with what was stored, read in the same statement that stored it.
import { sql, type Insertable, type Kysely } from 'kysely';
import type { AcdEventsTable, Database } from '../../db/schema.ts';
import { jsonProjection, selectRecords } from '../../http/records.ts';
import { ShapedStatement } from '../../db/shaped-statement.ts';
import type { GroupType } from '../../domain/event-rules.ts';
import { FIRST_CLOSED_STATUS } from './enumerations.ts';
import { EventRecord, type CreateResult } from './records.ts';

export type NewEvent = Insertable<AcdEventsTable> & { created_at: Date; status_id: number };

export interface TargetFacts {
  groups: Map<number, { type: GroupType; avoidDuplicates: boolean }>;
  userExists: boolean;
  isMember: boolean;
}

/**
 * One round trip for everything a create checks: the named groups of this client, and whether
 * the named user exists in it and is a member of the queue group.
 */
export async function findTargetFacts(
  db: Kysely<Database>,
  clientId: number,
  groupIds: number[],
  userId: number | null,
  queueGroupId: number,
): Promise<TargetFacts> {
  const groups = db
    .selectFrom('acd_groups as g')
    .select(['g.id', 'g.group_type', 'g.b_avoid_duplicate_events'])
    .where('g.client_id', '=', clientId)
    .where('g.id', 'in', groupIds);
  // Most creates name no user: they skip the two EXISTS probes altogether.
  const rows = userId === null
    ? (await groups.execute()).map((r) => ({ ...r, user_exists: false, is_member: false }))
    : await groups
      .select((eb) => [
        eb.exists(eb.selectFrom('users as u').select('u.id').where('u.id', '=', userId).where('u.client_id', '=', clientId)).as('user_exists'),
        eb.exists(eb.selectFrom('acd_group_members as m').select('m.user_id').where('m.group_id', '=', queueGroupId).where('m.user_id', '=', userId)).as('is_member'),
      ])
      .execute();
  return {
    groups: new Map(rows.map((r) => [r.id, { type: r.group_type, avoidDuplicates: r.b_avoid_duplicate_events }])),
    userExists: rows.some((r) => r.user_exists),
    isMember: rows.some((r) => r.is_member),
  };
}

/** Inserts the event and its first history entry in one statement; returns the record's JSON. */
export async function insertEvent(db: Kysely<Database>, values: NewEvent, actor: string, timeZone: string): Promise<string> {
  const row = await db
    .with('ins', (q) => q.insertInto('acd_events').values(values).returningAll())
    .with('hist', (q) =>
      q
        .insertInto('acd_event_history')
        .columns(['event_id', 'from_status_id', 'to_status_id', 'actor', 'reason', 'created_at'])
        .expression((eb) =>
          eb.selectFrom('ins').select([
            'ins.id',
            sql<null>`NULL::integer`.as('from_status_id'),
            'ins.status_id',
            sql<string>`${actor}::text`.as('actor'),
            sql<string>`'created'`.as('reason'),
            'ins.created_at',
          ]),
        ),
    )
    .selectFrom('ins as e')
    .select(jsonProjection(EventRecord, timeZone).as('j'))
    .executeTakeFirstOrThrow();
  return row.j;
}

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

interface GuardedCreate {
  values: NewEvent;
  guard: TargetGuard;
  actor: string;
  timeZone: string;
}

const columnsOf = (values: NewEvent) => Object.keys(values).filter((c) => EVENT_COLUMN_TYPES[c] !== undefined);

/**
 * The guarded insert's text depends only on which columns are given and on the guard's shape;
 * its values are, in order: the columns', actor, time zone, ClientsID, each group's id and kind,
 * then the member's group and user.
 */
const guardedCreate = new ShapedStatement<GuardedCreate>({
  shape: ({ values, guard }) =>
    `${columnsOf(values).join()}|${guard.groups.map((g) => (g.id === guard.noDuplicateRuleOn ? 'n' : 'g')).join('')}|${guard.member ? 'm' : ''}`,
  values: ({ values, guard, actor, timeZone }) => [
    ...columnsOf(values).map((c) => (values as Record<string, unknown>)[c] ?? null),
    actor, timeZone, guard.clientId,
    ...guard.groups.flatMap((g) => [g.id, g.type]),
    ...(guard.member ? [guard.member.groupId, guard.member.userId] : []),
  ],
  build: ({ values, guard }, value) => {
    const columns = columnsOf(values);
    let next = 0;
    const selected = columns.map((c) => sql`${value(next++)}::${sql.raw(EVENT_COLUMN_TYPES[c]!)}`);
    const actor = value(next++);
    const timeZone = value(next++) as string;
    const clientId = value(next++);
    const conditions = guard.groups.map(({ id }) => {
      const noRule = id === guard.noDuplicateRuleOn ? sql` AND NOT g.b_avoid_duplicate_events` : sql``;
      return sql`EXISTS (SELECT 1 FROM acd_groups g WHERE g.id = ${value(next++)} AND g.client_id = ${clientId} AND g.group_type = ${value(next++)}${noRule})`;
    });
    if (guard.member) {
      conditions.push(sql`EXISTS (SELECT 1 FROM acd_group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = ${value(next++)} AND m.user_id = ${value(next++)} AND u.client_id = ${clientId})`);
    }
    return sql`
      WITH ins AS (
        INSERT INTO acd_events (${sql.join(columns.map((c) => sql.ref(c)))})
        SELECT ${sql.join(selected)} WHERE ${sql.join(conditions, sql` AND `)}
        RETURNING *
      ), hist AS (
        INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, actor, reason, created_at)
        SELECT id, NULL, status_id, ${actor}::text, 'created', created_at FROM ins
      )
      SELECT ${jsonProjection(EventRecord, timeZone)} AS j FROM ins e`;
  },
});

/**
 * The common create in one statement: insert the event and its first history entry, and answer
 * its record, provided the target is what a valid request names. Nothing is written when the
 * guard fails; the caller then works out which rule refused it (or applies the duplicate rule).
 */
export async function insertEventIfTargetValid(
  db: Kysely<Database>,
  values: NewEvent,
  guard: TargetGuard,
  actor: string,
  timeZone: string,
): Promise<string | undefined> {
  const { rows } = await db.executeQuery<{ j: string }>(guardedCreate.compile(db, { values, guard, actor, timeZone }));
  return rows[0]?.j;
}

/**
 * The duplicate rule, exactly once: concurrent creates with the same key queue on an advisory
 * lock for the transaction, so the second one finds the event the first one inserted.
 */
export async function createUnlessOpenDuplicate(
  db: Kysely<Database>,
  values: NewEvent & { client_id: number; duplicate_key: string },
  comment: { author: string; text: string },
  timeZone: string,
): Promise<{ json: string; result: CreateResult }> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${values.client_id}|${values.duplicate_key}`}, 0))`.execute(trx);
    const open = await trx
      .selectFrom('acd_events')
      .select('id')
      .where('client_id', '=', values.client_id)
      .where('duplicate_key', '=', values.duplicate_key)
      .where('status_id', '<', FIRST_CLOSED_STATUS)
      .orderBy('id')
      .limit(1)
      .forUpdate()
      .executeTakeFirst();
    if (!open) return { json: await insertEvent(trx, values, comment.author, timeZone), result: 'CREATED' };
    const row = await trx
      .with('note', (q) =>
        q.insertInto('acd_event_comments').values({ event_id: open.id, author: comment.author, text: comment.text, created_at: values.created_at }),
      )
      .with('upd', (q) =>
        q
          .updateTable('acd_events')
          .set({ modified_at: values.created_at, last_modified_at: values.created_at })
          .where('id', '=', open.id)
          .returningAll(),
      )
      .selectFrom('upd as e')
      .select(jsonProjection(EventRecord, timeZone).as('j'))
      .executeTakeFirstOrThrow();
    return { json: row.j, result: 'UPDATED' };
  });
}

export async function findEventJson(db: Kysely<Database>, clientId: number, eventId: number, timeZone: string): Promise<string | undefined> {
  const { rows } = await selectRecords(EventRecord, timeZone, sql`e.client_id = ${clientId} AND e.id = ${eventId}`).execute(db);
  return rows[0]?.j;
}

export async function eventExists(db: Kysely<Database>, clientId: number, eventId: number): Promise<boolean> {
  const row = await db.selectFrom('acd_events').select('id').where('id', '=', eventId).where('client_id', '=', clientId).executeTakeFirst();
  return row !== undefined;
}
