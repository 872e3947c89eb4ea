// SQL of dialler contacts; every statement carries the client (tenant) it acts for.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { selectRecords } from '../../http/records.ts';
import { ContactRecord } from './records.ts';

type Db = Kysely<Database>;

export async function contactTexts(db: Db, clientId: number, id: number, timeZone: string): Promise<string[]> {
  const { rows } = await selectRecords(ContactRecord, timeZone, sql`k.client_id = ${clientId} AND k.id = ${id}`).execute(db);
  return rows.map((r) => r.j);
}

export async function campaignIdOf(db: Db, clientId: number, by: { id: number } | { name: string }): Promise<number | undefined> {
  let query = db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', clientId);
  query = 'id' in by ? query.where('id', '=', by.id) : query.where('name', '=', by.name);
  return (await query.executeTakeFirst())?.id;
}

export interface ContactFields {
  name: string;
  firstName: string | null;
  email: string | null;
  phoneNumbers: (string | null)[];
  userData: string | null;
}

function columns(c: ContactFields) {
  const [phone_number1, phone_number2, phone_number3, phone_number4, phone_number5, phone_number6] = c.phoneNumbers;
  return {
    name: c.name, first_name: c.firstName, email: c.email, user_data: c.userData,
    phone_number1, phone_number2, phone_number3, phone_number4, phone_number5, phone_number6,
  };
}

/**
 * Serialises imports of one (campaign, UserData) key until the transaction ends, so two
 * concurrent overwrites of the same contact cannot both find nothing and both insert. A hash
 * collision only makes two unrelated imports wait for each other.
 */
export async function lockContactKey(db: Db, campaignId: number, userData: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${campaignId}::int, hashtext(${userData}))`.execute(db);
}

/** The oldest contact of the campaign with this UserData: the one an overwrite replaces. */
export async function contactIdByUserData(db: Db, campaignId: number, userData: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('dialler_contacts')
    .select('id')
    .where('campaign_id', '=', campaignId)
    .where('user_data', '=', userData)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

export async function insertContact(db: Db, clientId: number, campaignId: number, c: ContactFields, now: Date): Promise<number> {
  const row = await db
    .insertInto('dialler_contacts')
    .values({ client_id: clientId, campaign_id: campaignId, ...columns(c), created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Replaces every imported field; fields the import leaves out become null. */
export async function overwriteContact(db: Db, id: number, c: ContactFields, now: Date): Promise<void> {
  await db.updateTable('dialler_contacts').set({ ...columns(c), updated_at: now }).where('id', '=', id).execute();
}
