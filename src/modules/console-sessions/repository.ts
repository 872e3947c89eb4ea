// SQL of the console sessions' own reads. The sessions themselves are agent sessions
// (src/modules/agents/repository.ts): one table, one expiry, one way to end them.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { UserRole } from '../users/schemas.ts';

type Db = Kysely<Database>;

export interface ConsoleUser {
  uid: string;
  firstName: string | null;
  lastName: string | null;
  role: UserRole;
  timeZone: string;
}

export async function findConsoleUser(db: Db, clientId: number, userId: number): Promise<ConsoleUser | undefined> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('clients as c', 'c.id', 'u.client_id')
    .select(['u.uid', 'u.first_name', 'u.last_name', 'u.role', 'c.time_zone'])
    .where('u.id', '=', userId)
    .where('u.client_id', '=', clientId)
    .executeTakeFirst();
  return row && { uid: row.uid, firstName: row.first_name, lastName: row.last_name, role: row.role, timeZone: row.time_zone };
}
