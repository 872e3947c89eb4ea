import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export async function findClientCredentials(db: Kysely<Database>, clientId: number) {
  return db.selectFrom('clients').select(['token_hash', 'time_zone']).where('id', '=', clientId).executeTakeFirst();
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
