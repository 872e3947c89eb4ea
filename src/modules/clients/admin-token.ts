// The system administrator's token. Its hash lives in system_settings so that every instance
// sees the same one; SWITCHBOARD_ADMIN_TOKEN, when set, replaces it at start.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { hashToken, newToken } from '../../domain/tokens.ts';

const KEY = 'admin_token_hash';

export async function adminTokenHash(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('system_settings').select('value').where('key', '=', KEY).executeTakeFirst();
  return row?.value;
}

/**
 * Makes sure an admin token exists. Returns the token in clear only when this call created it
 * (the one moment it can be printed) or when it came from the environment.
 */
export async function ensureAdminToken(db: Kysely<Database>, fromEnv: string | undefined): Promise<string | undefined> {
  if (fromEnv) {
    await db
      .insertInto('system_settings')
      .values({ key: KEY, value: hashToken(fromEnv) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: hashToken(fromEnv) }))
      .execute();
    return fromEnv;
  }
  const token = newToken('sba');
  // Two instances starting together: the first insert wins, the other keeps quiet.
  const inserted = await db
    .insertInto('system_settings')
    .values({ key: KEY, value: hashToken(token) })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return inserted ? token : undefined;
}
