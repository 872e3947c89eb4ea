// The checks every imported contact passes, single or in a file: one way, so a row of a file is
// refused for exactly what the single import answers 400 for. Pure checks first (no I/O), then
// the lookups, made once per batch: the reserved agents' UIDs and the do-not-call list.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { InvalidField } from '../../errors.ts';
import { isPlausibleEmail, normalizePhoneNumber } from '../../domain/dialler.ts';
import { blockedNumbers } from '../donotcall/repository.ts';
import { isValidZone, resolveContactZone } from '../../domain/dialler-calendar.ts';
import { userIdsByUid, type ContactFields } from './repository.ts';
import type { ImportContactInput } from './schemas.ts';

type Db = Kysely<Database>;

export const PHONE_FIELDS = ['PhoneNumber1', 'PhoneNumber2', 'PhoneNumber3', 'PhoneNumber4', 'PhoneNumber5', 'PhoneNumber6'] as const;

/** A contact's fields as given, checked; the zone and the reserved agent still to resolve. */
export interface CheckedContact {
  name: string;
  firstName: string | null;
  email: string | null;
  phoneNumbers: (string | null)[];
  userData: string | null;
  priority: number;
  contactZone: string | null;
  reservedUid: string | null;
}

const blankToNull = (text: string | null | undefined): string | null => (text == null || text.trim() === '' ? null : text.trim());

/**
 * The schema has checked types and lengths; these are the rules beyond a schema. `zoneIsDerived`:
 * the row's TimeZone was resolved by us (an export's TimeZoneSource Country or Campaign), so it
 * is resolved again rather than pinned to the contact.
 */
export function checkContact(input: Omit<ImportContactInput, 'DiallerCampaignsID' | 'DiallerCampaignsName'>, zoneIsDerived = false): CheckedContact {
  const phoneNumbers = PHONE_FIELDS.map((name) => {
    const raw = input[name];
    if (raw == null) return null;
    const number = normalizePhoneNumber(raw);
    if (!number.ok) throw new InvalidField(name, number.reason);
    return number.value;
  });
  if (phoneNumbers.every((n) => n === null)) throw new InvalidField('PhoneNumber1', 'at least one of PhoneNumber1..6 is required');
  const email = blankToNull(input.Email);
  if (email !== null && !isPlausibleEmail(email)) throw new InvalidField('Email', `"${email}" is not an e-mail address`);
  const contactZone = zoneIsDerived ? null : blankToNull(input.TimeZone);
  if (contactZone !== null && !isValidZone(contactZone)) throw new InvalidField('TimeZone', `"${contactZone}" is not an IANA time zone (such as Europe/Berlin)`);
  return {
    name: input.Name,
    firstName: input.FirstName ?? null,
    email,
    phoneNumbers,
    userData: input.UserData ?? null,
    priority: input.Priority ?? 0,
    contactZone,
    reservedUid: blankToNull(input.ReservedUsersUID),
  };
}

/** A contact ready to write, and which of its numbers the do-not-call list blocks (imported all the same). */
export interface PreparedContact {
  row: number;
  fields: ContactFields;
  doNotCall: string[];
}

export interface RowRejection {
  row: number;
  field: string | null;
  reason: string;
}

/**
 * Resolves the batch's zones (against the campaign's) and reserved agents (one query), and looks
 * its numbers up on the do-not-call list (one query). A UID that is not a user of the client
 * refuses its row.
 */
export async function prepareContacts(
  db: Db, clientId: number, campaignZone: string, checked: { row: number; contact: CheckedContact }[], now: Date,
): Promise<{ prepared: PreparedContact[]; rejected: RowRejection[] }> {
  const uids = [...new Set(checked.flatMap((c) => (c.contact.reservedUid === null ? [] : [c.contact.reservedUid])))];
  const users = await userIdsByUid(db, clientId, uids);
  const numbers = [...new Set(checked.flatMap((c) => c.contact.phoneNumbers.filter((n): n is string => n !== null)))];
  const blocked = await blockedNumbers(db, clientId, numbers, now);
  const prepared: PreparedContact[] = [];
  const rejected: RowRejection[] = [];
  for (const { row, contact } of checked) {
    const reservedUserId = contact.reservedUid === null ? null : users.get(contact.reservedUid);
    if (reservedUserId === undefined) {
      rejected.push({ row, field: 'ReservedUsersUID', reason: `no user with UID "${contact.reservedUid}" in this client` });
      continue;
    }
    const firstNumber = contact.phoneNumbers.find((n) => n !== null) ?? null;
    const zone = resolveContactZone(contact.contactZone, firstNumber, campaignZone);
    prepared.push({
      row,
      fields: {
        name: contact.name, firstName: contact.firstName, email: contact.email, phoneNumbers: contact.phoneNumbers,
        userData: contact.userData, timeZone: zone.zone, timeZoneSource: zone.source, priority: contact.priority, reservedUserId,
      },
      doNotCall: PHONE_FIELDS.filter((_, i) => contact.phoneNumbers[i] != null && blocked.has(contact.phoneNumbers[i]!)),
    });
  }
  return { prepared, rejected };
}
