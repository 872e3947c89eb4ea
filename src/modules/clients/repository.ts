import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientCredentials } from '../../http/credential-cache.ts';

/** What authenticating a client needs: its token's hash and its time zone (null: no such client). */
export async function findClientCredentials(db: Kysely<Database>, clientId: number): Promise<ClientCredentials | null> {
  const row = await db.selectFrom('clients').select(['token_hash', 'time_zone']).where('id', '=', clientId).executeTakeFirst();
  return row ? { tokenHash: row.token_hash, timeZone: row.time_zone } : null;
}

export async function insertClient(db: Kysely<Database>, name: string, timeZone: string, tokenHash: string) {
  return db
    .insertInto('clients')
    .values({ name, time_zone: timeZone, token_hash: tokenHash })
    .returning(['id'])
    .executeTakeFirstOrThrow();
}

export async function setClientTokenHash(db: Kysely<Database>, clientId: number, tokenHash: string): Promise<boolean> {
  const result = await db
    .updateTable('clients')
    .set({ token_hash: tokenHash, updated_at: new Date() })
    .where('id', '=', clientId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function clientNameExists(db: Kysely<Database>, name: string): Promise<boolean> {
  return (await db.selectFrom('clients').select('id').where('name', '=', name).executeTakeFirst()) !== undefined;
}

/** Whether the store's time-zone database knows the zone (it formats every timestamp). */
export async function storeKnowsTimeZone(db: Kysely<Database>, zone: string): Promise<boolean> {
  const { rows } = await sql<{ known: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = ${zone}) AS known`.execute(db);
  return rows[0]?.known === true;
}
