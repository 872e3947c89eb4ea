// jtel (spec §8.1): with bCloseContactsOnIncomingCallsMatchCallerID, an incoming call whose caller
// ID matches one of a contact's numbers closes the contact with IncomingCallResultCodesID.
//
// Matching. Contacts keep their numbers as imported (normalised, src/domain/dialler.ts), and
// telephony delivers caller IDs in whatever form the trunk uses, so a caller ID matches a number
// when they are the same number in one of these spellings:
// - exactly the same normalised text;
// - the international prefixes `+` and `00` are the same (`+4930…` = `004930…`);
// - a national number (`0` + N, N not starting with 0) is the international number `+` cc N for
//   a country code cc of 1..3 digits (`030 1234567` = `+49 30 1234567`). We hold no numbering
//   plan per client, so any country code is accepted: a false match needs a contact whose
//   national number equals a foreign caller's subscriber digits in a campaign of the same client
//   that closes on incoming calls. To keep that unlikely N must have at least 6 digits.
// A caller ID without prefix (`4930…`, `30…`) matches exactly only: it could be either.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.ts';
import { PHONE_SLOTS } from '../domain/dialler-contact.ts';
import { ResultCodeType } from '../domain/dialler.ts';
import { campaignConfigs } from './sql/campaign-config.ts';
import { holdOf, lockContact, saveContactState, stateOf } from './sql/contact-state.ts';
import { recordContactChanges, type ContactChangeInput } from './sql/record.ts';
import { ENGINE_ACTOR } from './hand-out.ts';

type Db = Kysely<Database>;

const MIN_NATIONAL_DIGITS = 6;

type Spelling = { kind: 'international'; digits: string } | { kind: 'national'; digits: string } | { kind: 'bare'; digits: string };

/** How a normalised number is written: `+`/`00` international, `0` national, or neither. */
export function spellingOf(number: string): Spelling {
  if (number.startsWith('+')) return { kind: 'international', digits: number.slice(1) };
  if (/^00[1-9]/.test(number)) return { kind: 'international', digits: number.slice(2) };
  if (/^0[1-9]/.test(number)) return { kind: 'national', digits: number.slice(1) };
  return { kind: 'bare', digits: number };
}

/** Whether `international` digits are cc + `national` digits for a country code of 1..3 digits. */
function sameNumber(international: string, national: string): boolean {
  const cc = international.length - national.length;
  return national.length >= MIN_NATIONAL_DIGITS && cc >= 1 && cc <= 3 && international.endsWith(national);
}

/** The matching rule above; symmetric. Both normalised. */
export function matchesCallerId(callerId: string, number: string): boolean {
  if (callerId === number) return true;
  const a = spellingOf(callerId);
  const b = spellingOf(number);
  if (a.kind === 'bare' || b.kind === 'bare') return false;
  if (a.kind === b.kind) return a.digits === b.digits;
  return a.kind === 'international' ? sameNumber(a.digits, b.digits) : sameNumber(b.digits, a.digits);
}

/**
 * The rule as SQL over one number column: the spellings it may have as a list, and for a national
 * caller ID a pattern for the international spellings (any country code).
 */
export function callerIdForms(callerId: string): { exact: string[]; pattern: string | null } {
  const s = spellingOf(callerId);
  if (s.kind === 'bare') return { exact: [callerId], pattern: null };
  if (s.kind === 'national') {
    const pattern = s.digits.length >= MIN_NATIONAL_DIGITS ? `^(\\+|00)[1-9][0-9]{0,2}${s.digits}$` : null;
    return { exact: [callerId], pattern };
  }
  const exact = new Set([callerId, `+${s.digits}`, `00${s.digits}`]);
  for (let cc = 1; cc <= 3; cc++) {
    const national = s.digits.slice(cc);
    if (national.length >= MIN_NATIONAL_DIGITS && !national.startsWith('0')) exact.add(`0${national}`);
  }
  return { exact: [...exact], pattern: null };
}

function matchSql(callerId: string): RawBuilder<unknown> {
  const { exact, pattern } = callerIdForms(callerId);
  const slots = Array.from({ length: PHONE_SLOTS }, (_, i) => {
    const column = sql.ref(`k.phone_number${i + 1}`);
    return pattern === null ? sql`${column} = ANY(${exact}::text[])` : sql`(${column} = ANY(${exact}::text[]) OR ${column} ~ ${pattern})`;
  });
  return sql.join(slots, sql` OR `);
}

/**
 * Closes every waiting contact of the client's campaigns that close on incoming calls (flag set and
 * an IncomingCallResultCodesID) with a number matching `callerId` (normalised). A contact in
 * someone's hands is left alone: that person is on it and posts its result; closed ones stay as
 * they are. Answers the contacts closed, in ID order.
 */
export async function closeOnIncomingCall(db: Db, clientId: number, callerId: string, now: number): Promise<number[]> {
  const { rows: found } = await sql<{ id: number; campaign_id: number }>`
    SELECT k.id, k.campaign_id FROM dialler_contacts k
    JOIN dialler_campaigns c ON c.id = k.campaign_id
    WHERE c.client_id = ${clientId} AND c.b_close_contacts_on_incoming_calls_match_caller_id
      AND c.incoming_call_result_code_id IS NOT NULL
      AND k.client_id = ${clientId} AND k.state = 'Waiting' AND (${matchSql(callerId)})
    ORDER BY k.id`.execute(db);
  if (found.length === 0) return [];
  const configs = await campaignConfigs(db, [...new Set(found.map((f) => f.campaign_id))]);
  return db.transaction().execute(async (trx) => {
    const closed: number[] = [];
    const changes: ContactChangeInput[] = [];
    // Locked in ID order, as everyone locks several contacts, so two closings cannot deadlock.
    for (const { id } of found) {
      const row = await lockContact(trx, clientId, id);
      // Between the search and the lock it may have been handed out, closed or given new numbers.
      if (!row || row.state !== 'Waiting') continue;
      const code = configs.get(row.campaign_id)?.incomingCall;
      if (!code?.close || code.code === null) continue;
      const state = stateOf(row);
      const slot = state.phones.findIndex((p) => p.number !== null && matchesCallerId(callerId, p.number));
      if (slot === -1) continue;
      const done = code.code.typeId === ResultCodeType.Done;
      const after = {
        ...state, state: done ? 'Done' as const : 'Aborted' as const, closedReason: 'IncomingCall' as const,
        resultCodeId: code.code.id, resultExportKey: code.code.exportKey,
      };
      await saveContactState(trx, row.id, after, holdOf(row), now);
      closed.push(row.id);
      changes.push({
        clientId, campaignId: row.campaign_id, contactId: row.id, change: 'IncomingCall', state: after.state, actor: ENGINE_ACTOR, at: now,
        phoneIndex: slot, phoneNumber: state.phones[slot].number, resultCodeId: code.code.id, reason: `incoming call from ${callerId}`,
      });
    }
    await recordContactChanges(trx, changes, false);
    return closed;
  });
}
