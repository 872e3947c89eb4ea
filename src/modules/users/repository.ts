// SQL of users (agents). Every query is scoped by client.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { clientRows } from '../../db/client-rows.ts';
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
  Role: 'role',
} as const satisfies Record<keyof UserInput, string>;

const userRows = clientRows<UserInput>('users', COLUMNS, 'uid');
export const uidTaken = userRows.valueTaken;
export const insertUser = userRows.insert;
export const updateUser = userRows.update;
/** Memberships go with the user (ON DELETE CASCADE). */
export const deleteUser = userRows.remove;

/** Reads a user of the client and locks the row (`share` while attaching it to a group). */
export async function lockUser(db: Db, clientId: number, userId: number, mode: 'update' | 'share'): Promise<{ id: number; uid: string } | undefined> {
  const query = db.selectFrom('users').select(['id', 'uid']).where('id', '=', userId).where('client_id', '=', clientId);
  return (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
}

export async function userTexts(db: Db, clientId: number, timeZone: string, userId: number): Promise<string[]> {
  const { rows } = await selectRecords(UserRecord, timeZone, sql`u.client_id = ${clientId} AND u.id = ${userId}`).execute(db);
  return rows.map((r) => r.j);
}
