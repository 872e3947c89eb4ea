// SQL of dialler contacts; every statement carries the client (tenant) it acts for. Imports write
// in batches (a single import is a batch of one): rows travel as one jsonb parameter, so a batch
// is one statement whatever its size, on both stores.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { PHONE_SLOTS } from '../../domain/dialler-contact.ts';
import { selectRecords } from '../../http/records.ts';
import { ContactRecord } from './records.ts';

type Db = Kysely<Database>;

const SLOTS = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

export async function contactTexts(db: Db, clientId: number, id: number, timeZone: string): Promise<string[]> {
  const { rows } = await selectRecords(ContactRecord, timeZone, sql`k.client_id = ${clientId} AND k.id = ${id}`).execute(db);
  return rows.map((r) => r.j);
}

export interface CampaignTarget {
  id: number;
  /** The zone a contact falls back to: the campaign's, else its client's. */
  timeZone: string;
}

export async function campaignOf(db: Db, clientId: number, by: { id: number } | { name: string }): Promise<CampaignTarget | undefined> {
  let query = db
    .selectFrom('dialler_campaigns as c')
    .innerJoin('clients as cl', 'cl.id', 'c.client_id')
    .select(['c.id', sql<string>`coalesce(c.time_zone, cl.time_zone)`.as('timeZone')])
    .where('c.client_id', '=', clientId);
  query = 'id' in by ? query.where('c.id', '=', by.id) : query.where('c.name', '=', by.name);
  return query.executeTakeFirst();
}

/** Users of the client by UID, for ReservedUsersUID. */
export async function userIdsByUid(db: Db, clientId: number, uids: readonly string[]): Promise<Map<string, number>> {
  if (uids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'uid']).where('client_id', '=', clientId).where('uid', 'in', [...uids]).execute();
  return new Map(rows.map((r) => [r.uid, r.id]));
}

/** What an import writes of a contact. */
export interface ContactFields {
  name: string;
  firstName: string | null;
  email: string | null;
  phoneNumbers: (string | null)[];
  userData: string | null;
  timeZone: string;
  timeZoneSource: 'Contact' | 'Country' | 'Campaign';
  priority: number;
  reservedUserId: number | null;
}

// A batch travels as one JSON array, a short key per column and absent keys for nulls
// (jsonb_to_recordset reads a missing key as NULL): a typical row takes 146 characters instead of
// 340 with column names and nulls, so less to build, to send and for the database to parse.
const KEYS: [column: string, key: string, type: string][] = [
  ['name', 'n', 'text'], ['first_name', 'f', 'text'], ['email', 'e', 'text'],
  ...SLOTS.map((n): [string, string, string] => [`phone_number${n}`, `p${n}`, 'text']),
  ['user_data', 'u', 'text'], ['time_zone', 'z', 'text'], ['time_zone_source', 's', 'text'], ['priority', 'o', 'int'], ['reserved_user_id', 'a', 'int'],
];

const FIELD_COLUMNS = KEYS.map(([, key, type]) => `${key} ${type}`).join(', ');

function fieldRow(c: ContactFields): Record<string, unknown> {
  const row: Record<string, unknown> = { n: c.name, z: c.timeZone, s: c.timeZoneSource, o: c.priority };
  if (c.firstName !== null) row.f = c.firstName;
  if (c.email !== null) row.e = c.email;
  if (c.userData !== null) row.u = c.userData;
  if (c.reservedUserId !== null) row.a = c.reservedUserId;
  for (let i = 0; i < PHONE_SLOTS; i++) if (c.phoneNumbers[i] != null) row[`p${i + 1}`] = c.phoneNumbers[i];
  return row;
}

const asRecordset = (rows: Record<string, unknown>[], columns: string): RawBuilder<unknown> =>
  sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(${sql.raw(columns)})`;

const IMPORTED = KEYS.map(([column]) => column).join(', ');
const FROM_RECORDSET = KEYS.map(([, key]) => `r.${key}`).join(', ');

/**
 * Adds the contacts; with `returning`, their ids in the order given (a file's import needs none,
 * and on PGlite reading back a thousand ids per batch costs more than it seems).
 */
export async function insertContacts(db: Db, clientId: number, campaignId: number, contacts: ContactFields[], now: Date, returning: boolean): Promise<number[]> {
  if (contacts.length === 0) return [];
  const { rows } = await sql<{ id: number }>`
    INSERT INTO dialler_contacts (client_id, campaign_id, ${sql.raw(IMPORTED)}, created_at, updated_at)
    SELECT ${clientId}, ${campaignId}, ${sql.raw(FROM_RECORDSET)}, ${now}, ${now}
    FROM ${asRecordset(contacts.map(fieldRow), FIELD_COLUMNS)}${sql.raw(returning ? ' RETURNING id' : '')}`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Serialises overwriting imports of one campaign's (UserData) key until the transaction ends, so
 * two concurrent overwrites of the same contact cannot both find nothing and both insert. A
 * single import takes its key and, shared, the campaign; a batch takes the campaign alone, so it
 * holds one lock however many keys it carries. A hash collision only makes imports wait.
 */
export async function lockContactKey(db: Db, campaignId: number, userData: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock_shared(hashtextextended(${`dialler-contacts|${campaignId}`}, 0)),
    pg_advisory_xact_lock(${campaignId}::int, hashtext(${userData}))`.execute(db);
}

export async function lockCampaignKeys(db: Db, campaignId: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`dialler-contacts|${campaignId}`}, 0))`.execute(db);
}

export interface ExistingContact {
  id: number;
  userData: string;
  state: string;
  phoneNumbers: (string | null)[];
}

/**
 * Per UserData, the campaign's oldest contact with it (the one an overwrite replaces), locked
 * against the dialler until the transaction ends.
 */
export async function contactsByUserData(db: Db, campaignId: number, keys: readonly string[]): Promise<Map<string, ExistingContact>> {
  if (keys.length === 0) return new Map();
  const { rows } = await sql<Record<string, unknown>>`
    SELECT id, user_data, state, ${sql.raw(SLOTS.map((n) => `phone_number${n}`).join(', '))} FROM dialler_contacts
    WHERE id IN (SELECT min(id) FROM dialler_contacts WHERE campaign_id = ${campaignId} AND user_data = ANY(${[...keys]}::text[]) GROUP BY user_data)
    FOR UPDATE`.execute(db);
  return new Map(rows.map((r) => [r.user_data as string, {
    id: r.id as number,
    userData: r.user_data as string,
    state: r.state as string,
    phoneNumbers: SLOTS.map((n) => (r[`phone_number${n}`] as string | null) ?? null),
  }]));
}

export interface Overwrite {
  id: number;
  fields: ContactFields;
  /** Per number slot: whether its number changed, so its tries, cause and invalid flag start over. */
  changedSlots: boolean[];
}

const SLOT_RESET = SLOTS.map((n) => `n_tries_phone_number${n} = CASE WHEN r.changed${n} THEN 0 ELSE k.n_tries_phone_number${n} END,
  n_phone_number${n}_last_cause = CASE WHEN r.changed${n} THEN NULL ELSE k.n_phone_number${n}_last_cause END,
  b_phone_number${n}_invalid = CASE WHEN r.changed${n} THEN false ELSE k.b_phone_number${n}_invalid END`).join(',\n  ');

/** Everything of the dialler's that a contact starts over with: a never-tried contact, due at once. */
const FULL_RESET = `${SLOTS.map((n) => `n_tries_phone_number${n} = 0, n_phone_number${n}_last_cause = NULL, b_phone_number${n}_invalid = false`).join(', ')},
  state = 'Waiting', due_rank = 4, dt_next_try = '-infinity', n_tries = 0, n_tries_day = 0, tries_day = NULL, next_phone_index = NULL,
  follow_up_user_id = NULL, follow_up_at = NULL, bound_user_id = NULL, bound_until = NULL, last_user_id = NULL,
  result_code_id = NULL, result_export_key = NULL, closed_reason = NULL`;

/**
 * Replaces every imported field (fields the import leaves out become null). With `reset` the
 * dialler state starts over; the caller has refused contacts in progress, which stay untouched
 * here too should one have been taken since.
 */
export async function overwriteContacts(db: Db, overwrites: Overwrite[], reset: boolean, now: Date): Promise<void> {
  if (overwrites.length === 0) return;
  const rows = overwrites.map((o) => {
    const row = fieldRow(o.fields);
    row.id = o.id;
    SLOTS.forEach((n, i) => { row[`changed${n}`] = o.changedSlots[i]; });
    return row;
  });
  const columns = `id int, ${FIELD_COLUMNS}, ${SLOTS.map((n) => `changed${n} boolean`).join(', ')}`;
  const assign = KEYS.map(([column, key]) => `${column} = r.${key}`).join(', ');
  await sql`UPDATE dialler_contacts k SET ${sql.raw(assign)}, updated_at = ${now}, ${sql.raw(reset ? FULL_RESET : SLOT_RESET)}
    FROM ${asRecordset(rows, columns)}
    WHERE k.id = r.id${reset ? sql` AND k.state <> 'InProgress'` : sql``}`.execute(db);
}
