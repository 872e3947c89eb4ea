// Writing a batch of checked contacts as if each row were a single import in file order: a row
// whose UserData an earlier row of the batch (or the campaign) already has overwrites that
// contact. The batch is resolved in memory first and then written with one INSERT and one
// UPDATE, so a contact overwritten three times in a batch is written once, with the last row's
// fields, and "its number changed" if any of the three changed it.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { announceChanges } from '../../db/changes.ts';
import type { PreparedContact, RowRejection } from './checks.ts';
import {
  contactsByUserData, insertContacts, lockCampaignKeys, lockContactKey, overwriteContacts, type ContactFields, type Overwrite,
} from './repository.ts';

type Db = Kysely<Database>;

export interface WriteOptions {
  overwrite: boolean;
  reset: boolean;
  now: Date;
  /** Whether the outcomes of added contacts carry their ids (the single import answers with the record). */
  ids?: boolean;
}

interface Target {
  id: number | undefined;
  fields: ContactFields;
  /** An existing contact's numbers as the rows so far left them, and which slots changed. */
  existing?: { phoneNumbers: (string | null)[]; changedSlots: boolean[] };
}

export interface RowOutcome {
  row: number;
  kind: 'Imported' | 'Overwritten';
  target: Target;
  doNotCall: string[];
}

export const IN_PROGRESS_REASON = 'the contact is in progress (held by an agent or a dialler); its dialler state cannot be reset now';

/** Inside a transaction: the outcome of every row, in order; a rejected row changes nothing. */
export async function writeBatch(
  trx: Db, clientId: number, campaignId: number, rows: PreparedContact[], options: WriteOptions,
): Promise<{ outcomes: RowOutcome[]; rejected: RowRejection[] }> {
  const keys = options.overwrite ? [...new Set(rows.flatMap((r) => (r.fields.userData === null ? [] : [r.fields.userData])))] : [];
  if (keys.length === 1 && rows.length === 1) await lockContactKey(trx, campaignId, keys[0]!);
  else if (keys.length > 0) await lockCampaignKeys(trx, campaignId);
  const existing = await contactsByUserData(trx, campaignId, keys);
  const byKey = new Map<string, Target>();
  const inserts: Target[] = [];
  const outcomes: RowOutcome[] = [];
  const rejected: RowRejection[] = [];
  for (const { row, fields, doNotCall } of rows) {
    const key = options.overwrite ? fields.userData : null;
    let target = key === null ? undefined : byKey.get(key);
    if (key !== null && target === undefined) {
      const found = existing.get(key);
      if (found && options.reset && found.state === 'InProgress') {
        rejected.push({ row, field: 'UserData', reason: `${IN_PROGRESS_REASON} (DiallerContactsID ${found.id})` });
        continue;
      }
      if (found) {
        target = { id: found.id, fields, existing: { phoneNumbers: found.phoneNumbers, changedSlots: found.phoneNumbers.map(() => false) } };
        byKey.set(key, target);
      }
    }
    if (target) {
      if (target.existing) {
        const seen = target.existing;
        fields.phoneNumbers.forEach((n, i) => { if (n !== seen.phoneNumbers[i]) seen.changedSlots[i] = true; });
        seen.phoneNumbers = fields.phoneNumbers;
      }
      target.fields = fields;
      outcomes.push({ row, kind: 'Overwritten', target, doNotCall });
      continue;
    }
    target = { id: undefined, fields };
    if (key !== null) byKey.set(key, target);
    inserts.push(target);
    outcomes.push({ row, kind: 'Imported', target, doNotCall });
  }
  const ids = await insertContacts(trx, clientId, campaignId, inserts.map((t) => t.fields), options.now, options.ids === true);
  if (options.ids) inserts.forEach((t, i) => { t.id = ids[i]; });
  const overwrites: Overwrite[] = [...byKey.values()].flatMap((t) => (t.existing ? [{ id: t.id!, fields: t.fields, changedSlots: t.existing.changedSlots }] : []));
  await overwriteContacts(trx, overwrites, options.reset, options.now);
  if (outcomes.length > 0) await contactsArrived(trx, clientId);
  return { outcomes, rejected };
}

/**
 * Tells the dialler engine (on every instance, once the transaction commits) that the client's
 * contacts changed: new ones may be due at once. One notice per batch, not per contact.
 */
export async function contactsArrived(trx: Db, clientId: number): Promise<void> {
  await announceChanges(trx, [{ clientId, agentId: null, distribute: true }]);
}
