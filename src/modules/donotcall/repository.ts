// SQL of a client's do-not-call list: whole numbers and prefixes, each with an optional expiry.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { selectRecords } from '../../http/records.ts';
import { DoNotCallRecord } from './records.ts';

type Db = Kysely<Database>;

/**
 * Which of `numbers` (normalised, src/domain/dialler.ts) the list blocks at `now`: an entry
 * blocks its number exactly, a prefix entry every number starting with it. Prefix entries are
 * few per client, so they are matched by `starts_with` against the given numbers only.
 */
export async function blockedNumbers(db: Db, clientId: number, numbers: readonly string[], now: Date): Promise<Set<string>> {
  if (numbers.length === 0) return new Set();
  const { rows } = await sql<{ number: string }>`${blockedAmong(sql`${clientId}`, sql`${[...numbers]}::text[]`, now)}`.execute(db);
  return new Set(rows.map((r) => r.number));
}

/** blockedNumbers as a query (one `number` column), for a statement that reads the numbers itself. */
export function blockedAmong(clientId: RawBuilder<unknown>, numbers: RawBuilder<unknown>, now: Date): RawBuilder<{ number: string }> {
  return sql`SELECT DISTINCT n.number FROM unnest(${numbers}) AS n(number)
    JOIN dialler_do_not_call d ON d.client_id = ${clientId}
      AND (d.expires_at IS NULL OR d.expires_at > ${now})
      AND (d.number = n.number OR (d.b_prefix AND starts_with(n.number, d.number)))`;
}

export interface NewEntry {
  number: string;
  prefix: boolean;
  expiresAt: Date | null;
  reason: string | null;
}

/**
 * Adds the entry; undefined when the client's list already holds the same number (and prefix
 * flag) in force. An expired entry no longer blocks anything, so a new one takes its place
 * (same ID) instead of answering 409 for an entry nobody sees working.
 */
export async function insertEntry(db: Db, clientId: number, e: NewEntry, now: Date): Promise<number | undefined> {
  const { rows } = await sql<{ id: number }>`
    INSERT INTO dialler_do_not_call AS d (client_id, number, b_prefix, expires_at, reason, created_at)
    VALUES (${clientId}, ${e.number}, ${e.prefix}, ${e.expiresAt}, ${e.reason}, ${now})
    ON CONFLICT (client_id, number, b_prefix) DO UPDATE
      SET expires_at = excluded.expires_at, reason = excluded.reason, created_at = excluded.created_at
      WHERE d.expires_at IS NOT NULL AND d.expires_at <= ${now}
    RETURNING d.id`.execute(db);
  return rows[0]?.id;
}

export async function entryTexts(db: Db, clientId: number, timeZone: string, id: number): Promise<string[]> {
  const { rows } = await selectRecords(DoNotCallRecord, timeZone, sql`d.client_id = ${clientId} AND d.id = ${id}`).execute(db);
  return rows.map((r) => r.j);
}

/** Answers whether the client had the entry. */
export async function deleteEntry(db: Db, clientId: number, id: number): Promise<boolean> {
  const result = await sql`DELETE FROM dialler_do_not_call WHERE client_id = ${clientId} AND id = ${id}`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}
