// SQL of ACD events. Records come out of the database as JSON text (see src/http/records.ts), so
// a create answers with what was stored, read in the same statement that stored it.
import { sql, type Insertable, type Kysely } from 'kysely';
import { announceChanges, EventChange, recordChanges } from '../../db/changes.ts';
import type { AcdEventsTable, Database } from '../../db/schema.ts';
import { jsonProjection, selectRecords } from '../../http/records.ts';
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

/**
 * Inserts the event and records its creation in one statement; returns the record's JSON.
 * Nothing here keeps the groups and user it names from going meanwhile: lock them first
 * (lockTargets; migration 009).
 */
export async function insertEvent(db: Kysely<Database>, values: NewEvent, actor: string, timeZone: string): Promise<string> {
  const insert = db.insertInto('acd_events').values(values).returningAll();
  const { rows: [row] } = await sql<{ j: string; client_id: number }>`
    WITH ins AS (${insert}), ${recordChanges(EventChange, sql`
      SELECT id, NULL::int, status_id, NULL::int, ${actor}::text, 'created'::text, created_at, client_id, type_id, queue_group_id FROM ins`)}
    SELECT ${jsonProjection(EventRecord, timeZone)} AS j, e.client_id FROM ins e`.execute(db);
  await announceChanges(db, [{ clientId: row!.client_id, agentId: null, distribute: true }]);
  return row!.j;
}

/**
 * Locks (FOR KEY SHARE, until commit) the groups and the user a new event names, so that none can
 * be deleted before it commits (migration 009); false when one is gone already.
 */
async function lockTargets(db: Kysely<Database>, values: NewEvent): Promise<boolean> {
  const groupIds = [...new Set([values.group_id, values.configuration_group_id, values.agent_group_id, values.queue_group_id])]
    .filter((id): id is number => id != null);
  const userIds = values.user_id == null ? [] : [values.user_id];
  const { rows: [row] } = await sql<{ groups: number; users: number }>`
    WITH g AS (SELECT id FROM acd_groups WHERE id = ANY(${groupIds}::int[]) AND client_id = ${values.client_id} FOR KEY SHARE),
      u AS (SELECT id FROM users WHERE id = ANY(${userIds}::int[]) AND client_id = ${values.client_id} FOR KEY SHARE)
    SELECT (SELECT count(*) FROM g)::int AS groups, (SELECT count(*) FROM u)::int AS users`.execute(db);
  return row!.groups === groupIds.length && row!.users === userIds.length;
}

/**
 * The duplicate rule, exactly once: concurrent creates with the same key queue on an advisory
 * lock for the transaction, so the second one finds the event the first one inserted. Undefined
 * when a group or the user the event names is gone (nothing written).
 */
export async function createUnlessOpenDuplicate(
  db: Kysely<Database>,
  values: NewEvent & { client_id: number; duplicate_key: string },
  comment: { author: string; text: string },
  timeZone: string,
): Promise<{ json: string; result: CreateResult } | undefined> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${values.client_id}|${values.duplicate_key}`}, 0))`.execute(trx);
    if (!(await lockTargets(trx, values))) return undefined;
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

/**
 * Whether the agent holds the event now or held it once: it is in their hands or offered to them,
 * or a row of its history names them (offered to, accepted by, taken from…). The same test as an
 * agent's refused action (src/modules/work/service.ts notHeld): other agents' work stays unseen.
 */
export async function agentHadEvent(db: Kysely<Database>, clientId: number, eventId: number, agentId: number): Promise<boolean> {
  const row = await db.selectFrom('acd_events as e')
    .select('e.id')
    .where('e.id', '=', eventId).where('e.client_id', '=', clientId)
    .where((eb) => eb.or([
      eb('e.agent_id', '=', agentId),
      eb.exists(eb.selectFrom('acd_event_history as h').select('h.id').whereRef('h.event_id', '=', 'e.id').where('h.agent_id', '=', agentId)),
    ]))
    .executeTakeFirst();
  return row !== undefined;
}
