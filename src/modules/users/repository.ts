// SQL of users (agents). Every query is scoped by client.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { selectRecords } from '../../http/records.ts';
import { UserRecord } from './records.ts';
import type { UserInput } from './schemas.ts';

type Db = Kysely<Database>;

const COLUMNS = {
  UID: 'uid',
  FirstName: 'first_name',
  LastName: 'last_name',
  Email: 'email',
  TelStatusID: 'tel_status_id',
  ResellersID: 'resellers_id',
} as const satisfies Record<keyof UserInput, string>;

function toColumns(input: UserInput): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(COLUMNS)) {
    const value = input[key as keyof UserInput];
    if (value !== undefined) values[column] = value;
  }
  return values;
}

/** Reads a user of the client and locks the row (`share` while attaching it to a group). */
export async function lockUser(db: Db, clientId: number, userId: number, mode: 'update' | 'share'): Promise<{ id: number; uid: string } | undefined> {
  const query = db.selectFrom('users').select(['id', 'uid']).where('id', '=', userId).where('client_id', '=', clientId);
  return (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
}

export async function uidTaken(db: Db, clientId: number, uid: string, exceptId?: number): Promise<boolean> {
  let query = db.selectFrom('users').select('id').where('client_id', '=', clientId).where('uid', '=', uid);
  if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function insertUser(db: Db, clientId: number, input: UserInput, now: Date): Promise<number> {
  const row = await db
    .insertInto('users')
    .values({ ...toColumns(input), client_id: clientId, created_at: now, updated_at: now } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateUser(db: Db, clientId: number, userId: number, input: UserInput, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ ...toColumns(input), updated_at: now } as never)
    .where('id', '=', userId)
    .where('client_id', '=', clientId)
    .execute();
}

/** Memberships go with the user (ON DELETE CASCADE). */
export async function deleteUser(db: Db, clientId: number, userId: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', userId).where('client_id', '=', clientId).execute();
}

/** Open events addressed to the user or offered to them right now. */
export async function countOpenEventsOfUser(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom('acd_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status_id', '<', 98)
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('offered_user_id', '=', userId)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function userTexts(db: Db, clientId: number, timeZone: string, userId: number): Promise<string[]> {
  const { rows } = await selectRecords(UserRecord, timeZone, sql`u.client_id = ${clientId} AND u.id = ${userId}`).execute(db);
  return rows.map((r) => r.j);
}
