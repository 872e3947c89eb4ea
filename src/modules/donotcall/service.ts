// The do-not-call list (spec §8.2): checks before SQL, and the answers. The list is consulted at
// import and at every hand-out (src/dialler/hand-out.ts), so an entry takes effect at once.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import { AlreadyExists, InvalidField, NotFound } from '../../errors.ts';
import { normalizePhoneNumber, parseLocalTimestamp } from '../../domain/dialler.ts';
import * as repo from './repository.ts';
import type { DoNotCallInput } from './schemas.ts';

type Db = Kysely<Database>;

const SEPARATORS = /[\s\-/().]/g;

/**
 * A prefix may be shorter than any dialable number (`+44`, `0900`), so it only has to be digits
 * with an optional `+`; after a `+` it follows E.164 (no leading 0, at most 15 digits).
 */
export function normalizePrefix(text: string): { ok: true; value: string } | { ok: false; reason: string } {
  const m = /^(\+?)(\d{1,20})$/.exec(text.replace(SEPARATORS, ''));
  if (!m) return { ok: false, reason: 'a prefix is 1..20 digits, optionally a leading +' };
  if (m[1] === '+' && (m[2].length > 15 || m[2].startsWith('0'))) return { ok: false, reason: 'after a + come 1..15 digits and no leading 0 (E.164)' };
  return { ok: true, value: m[1] + m[2] };
}

/** A number as the list stores it; 400 naming `fieldName` otherwise. */
export function listNumber(text: string, prefix: boolean, fieldName: string): string {
  if (prefix) {
    const p = normalizePrefix(text);
    if (!p.ok) throw new InvalidField(fieldName, p.reason);
    return p.value;
  }
  const n = normalizePhoneNumber(text);
  if (!n.ok) throw new InvalidField(fieldName, n.reason);
  if (n.value === null) throw new InvalidField(fieldName, 'must not be blank');
  return n.value;
}

export async function createEntry(db: Db, client: ClientContext, input: DoNotCallInput, now: number): Promise<string[]> {
  const prefix = input.bPrefix ?? false;
  const number = listNumber(input.Number, prefix, 'Number');
  let expiresAt: Date | null = null;
  if (input.dtExpires != null) {
    const parsed = parseLocalTimestamp(input.dtExpires, client.timeZone);
    if (!parsed.ok) throw new InvalidField('dtExpires', parsed.reason);
    // An entry that has expired already would never block anything: surely a typing error.
    if (parsed.value.getTime() <= now) throw new InvalidField('dtExpires', 'must lie in the future');
    expiresAt = parsed.value;
  }
  const id = await repo.insertEntry(db, client.id, { number, prefix, expiresAt, reason: input.Reason ?? null }, new Date(now));
  if (id === undefined) throw new AlreadyExists(prefix ? 'Do-not-call prefix' : 'Do-not-call number', number);
  return repo.entryTexts(db, client.id, client.timeZone, id);
}

export async function getEntry(db: Db, client: ClientContext, id: number): Promise<string[]> {
  const texts = await repo.entryTexts(db, client.id, client.timeZone, id);
  if (texts.length === 0) throw new NotFound('Do-not-call entry');
  return texts;
}

export async function deleteEntry(db: Db, clientId: number, id: number): Promise<void> {
  if (!(await repo.deleteEntry(db, clientId, id))) throw new NotFound('Do-not-call entry');
}

export interface CheckResult {
  Number: string;
  NormalizedNumber: string;
  bBlocked: boolean;
}

/** Which of the numbers the list blocks now, in the order given; a malformed one: 400 naming it. */
export async function checkNumbers(db: Db, clientId: number, numbers: readonly string[], now: number): Promise<CheckResult[]> {
  const normalized = numbers.map((n, i) => listNumber(n, false, `Numbers.${i}`));
  const blocked = await repo.blockedNumbers(db, clientId, normalized, new Date(now));
  return numbers.map((n, i) => ({ Number: n, NormalizedNumber: normalized[i], bBlocked: blocked.has(normalized[i]) }));
}
