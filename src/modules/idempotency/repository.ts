// The SQL of idempotency keys (migration 013). A key is claimed by the one INSERT that does not
// conflict, or taken over by the one UPDATE that still finds the claim it read (an expired key,
// or a running one whose instance stopped renewing its lock); every later write names the claim,
// so a request that lost its key can never overwrite or release its successor's.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

/** One request's claim on a key. */
export interface Claim {
  scope: string;
  keyHash: string;
  requestHash: string;
  /** Null while the body has not all been read (a streamed file). */
  bodyHash: string | null;
  bodyLength: number | null;
  /** This request's own id, held in the row while it runs. */
  claim: string;
}

export interface KeyRow {
  claim: string;
  request_hash: string;
  body_hash: string | null;
  body_length: number | null;
  /** Set while the first request runs; null once its answer is stored. */
  locked_until: Date | null;
  status: number | null;
  answer: string | null;
  expires_at: Date;
}

/** Inserts the claim; answers true when it is this request's, else the row that holds the key. */
export async function claimKey(db: Db, c: Claim, now: Date, lockedUntil: Date, expiresAt: Date): Promise<true | KeyRow> {
  for (;;) {
    const { rows: inserted } = await sql<{ claim: string }>`
      INSERT INTO idempotency_keys (scope, key_hash, request_hash, body_hash, body_length, claim, locked_until, created_at, expires_at)
      VALUES (${c.scope}, ${c.keyHash}, ${c.requestHash}, ${c.bodyHash}, ${c.bodyLength}, ${c.claim}, ${lockedUntil}, ${now}, ${expiresAt})
      ON CONFLICT (scope, key_hash) DO NOTHING
      RETURNING claim`.execute(db);
    if (inserted.length === 1) return true;
    const { rows } = await sql<KeyRow>`
      SELECT claim, request_hash, body_hash, body_length::float8 AS body_length, locked_until, status, answer, expires_at
        FROM idempotency_keys WHERE scope = ${c.scope} AND key_hash = ${c.keyHash}`.execute(db);
    // Swept between the two statements: claim it again.
    if (rows[0]) return rows[0];
  }
}

/** Takes a key over from the claim `seen` (expired, or its holder gone); false if another request was faster. */
export async function takeOver(db: Db, c: Claim, seen: string, now: Date, lockedUntil: Date, expiresAt: Date): Promise<boolean> {
  const { rows } = await sql<{ claim: string }>`
    UPDATE idempotency_keys
       SET request_hash = ${c.requestHash}, body_hash = ${c.bodyHash}, body_length = ${c.bodyLength}, claim = ${c.claim},
           locked_until = ${lockedUntil}, status = NULL, answer = NULL, created_at = ${now}, expires_at = ${expiresAt}
     WHERE scope = ${c.scope} AND key_hash = ${c.keyHash} AND claim = ${seen}
    RETURNING claim`.execute(db);
  return rows.length === 1;
}

/** Keeps a running request's lock from lapsing. */
export async function renewLock(db: Db, c: Claim, lockedUntil: Date): Promise<void> {
  await sql`
    UPDATE idempotency_keys SET locked_until = ${lockedUntil}
     WHERE scope = ${c.scope} AND key_hash = ${c.keyHash} AND claim = ${c.claim} AND status IS NULL`.execute(db);
}

/**
 * Stores the first request's answer, and the body's hash and length if the route read it all (a
 * streamed file's are known only now; a chunked one's length too).
 */
export async function storeAnswer(db: Db, c: Claim, status: number, answer: string, bodyHash: string | null, bodyLength: number | null): Promise<void> {
  await sql`
    UPDATE idempotency_keys
       SET status = ${status}, answer = ${answer}, locked_until = NULL,
           body_hash = coalesce(body_hash, ${bodyHash}), body_length = coalesce(body_length, ${bodyLength})
     WHERE scope = ${c.scope} AND key_hash = ${c.keyHash} AND claim = ${c.claim}`.execute(db);
}

/** Gives the key up (the request failed on our side): a retry with it runs anew. */
export async function releaseKey(db: Db, c: Claim): Promise<void> {
  await sql`DELETE FROM idempotency_keys WHERE scope = ${c.scope} AND key_hash = ${c.keyHash} AND claim = ${c.claim}`.execute(db);
}

/** Deletes keys past their 24 h; returns how many. */
export async function deleteExpiredKeys(db: Db, now: Date): Promise<number> {
  const result = await sql`DELETE FROM idempotency_keys WHERE expires_at <= ${now}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
