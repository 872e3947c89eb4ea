// A contact's dialler state between its columns (migration 012) and the scheduler's type
// (src/domain/dialler-contact.ts). Every change of dialler state is read with `lockContact` and
// written with `saveContactState`: one mapping, so no path can forget a column.
import { settingFor, type PlannerSettings } from '../../db/planner.ts';
import { sql, type Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, DiallerContactsTable } from '../../db/schema.ts';
import {
  PHONE_SLOTS, type ClosedReason, type ContactDiallerState, type DueRankId,
} from '../../domain/dialler-contact.ts';

type Db = Kysely<Database>;

const SLOTS = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

/** The columns of the state, as a select list over `dialler_contacts k`. */
export const STATE_COLUMNS = sql.raw(`k.id, k.client_id, k.campaign_id, k.state, k.due_rank, k.dt_next_try, k.n_tries, k.n_tries_day,
  k.tries_day::text AS tries_day, k.next_phone_index, k.reserved_user_id, k.follow_up_user_id, k.follow_up_at, k.bound_user_id,
  k.bound_until, k.last_user_id, k.result_code_id, k.result_export_key, k.closed_reason, k.hold_kind, k.holder_user_id,
  k.lease_id, k.hold_until, k.attempt_id::text AS attempt_id, k.attempt_phone_index, k.attempt_started_at, k.time_zone,
  k.priority, k.created_at,
  ${SLOTS.map((n) => `k.phone_number${n}, k.n_tries_phone_number${n}, k.n_phone_number${n}_last_cause, k.b_phone_number${n}_invalid`).join(', ')}`);

/**
 * A row as STATE_COLUMNS reads it: the table's columns, with the bigint attempt id and the local
 * date as text. Phone columns are read by name (`phone_number${n}`…), hence the index signature.
 */
export type ContactRow = Omit<Selectable<DiallerContactsTable>, 'tries_day' | 'attempt_id' | 'name' | 'first_name' | 'email' | 'user_data' | 'updated_at' | 'time_zone_source'> & {
  tries_day: string | null;
  attempt_id: string | null;
  [column: string]: unknown;
};

export const ms = (v: Date | string | null): number | null => (v === null ? null : new Date(v).getTime());

/** -infinity comes back from pg as a Date of NaN or the text '-infinity', depending on the driver. */
export function dueMs(v: Date | string): number {
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? -Infinity : t;
}

export function stateOf(row: ContactRow): ContactDiallerState {
  return {
    state: row.state,
    dueRank: row.due_rank as DueRankId,
    nextTryAt: dueMs(row.dt_next_try),
    phones: SLOTS.map((n) => ({
      number: row[`phone_number${n}`] as string | null,
      tries: row[`n_tries_phone_number${n}`] as number,
      lastCause: row[`n_phone_number${n}_last_cause`] as number | null,
      invalid: row[`b_phone_number${n}_invalid`] as boolean,
    })),
    tries: row.n_tries,
    triesDay: row.n_tries_day,
    triesDate: row.tries_day,
    nextPhoneIndex: row.next_phone_index,
    reservedUserId: row.reserved_user_id,
    followUpUserId: row.follow_up_user_id,
    followUpAt: ms(row.follow_up_at),
    boundUserId: row.bound_user_id,
    boundUntil: ms(row.bound_until),
    lastUserId: row.last_user_id,
    resultCodeId: row.result_code_id,
    resultExportKey: row.result_export_key,
    closedReason: row.closed_reason as ClosedReason | null,
  };
}

/**
 * The contact's row, locked until the transaction ends; undefined when it is not the client's.
 * `settings`: planner settings for the rest of the transaction, set on the way (src/db/planner.ts).
 */
export async function lockContact(db: Db, clientId: number, contactId: number, settings?: PlannerSettings): Promise<ContactRow | undefined> {
  const { rows } = await sql<ContactRow>`SELECT ${STATE_COLUMNS} FROM dialler_contacts k
    WHERE ${settings ? sql`${settingFor(settings)} AND ` : sql``}k.id = ${contactId} AND k.client_id = ${clientId} FOR UPDATE OF k`.execute(db);
  return rows[0];
}

const at = (v: number | null) => (v === null ? null : new Date(v));

/** The hold a contact is in while someone works it; all null when it is back in its queue. */
export interface Hold {
  kind: 'Preview' | 'Progressive' | 'Manual' | 'External' | null;
  userId: number | null;
  leaseId: string | null;
  until: number | null;
  attemptId: string | null;
  phoneIndex: number | null;
  startedAt: number | null;
}

export const NO_HOLD: Hold = { kind: null, userId: null, leaseId: null, until: null, attemptId: null, phoneIndex: null, startedAt: null };

/**
 * Writes the scheduler's state and the hold back; the caller holds the row lock. A contact is
 * 'InProgress' exactly while it has a hold: the state is derived here, so the two cannot part.
 */
export async function saveContactState(db: Db, contactId: number, s: ContactDiallerState, hold: Hold, now: number): Promise<void> {
  await contactStateWrite(contactId, s, hold, now).execute(db);
}

/** saveContactState's statement, not yet run: to go with the change it records (sql/record.ts). */
export function contactStateWrite(contactId: number, s: ContactDiallerState, hold: Hold, now: number) {
  return contactStateWrites([{ contactId, state: s, hold }], now);
}

/** A contact's new state and hold, for contactStateWrites. */
export interface StateWrite {
  contactId: number;
  state: ContactDiallerState;
  hold: Hold;
}

type Column = [name: string, type: string, value: (w: StateWrite) => unknown];

// Every column of the state, with its type (the VALUES list below needs them spelled out).
const WRITTEN: Column[] = [
  ...SLOTS.flatMap((n): Column[] => [
    [`n_tries_phone_number${n}`, 'int', (w) => w.state.phones[n - 1]!.tries],
    [`n_phone_number${n}_last_cause`, 'int', (w) => w.state.phones[n - 1]!.lastCause],
    [`b_phone_number${n}_invalid`, 'boolean', (w) => w.state.phones[n - 1]!.invalid],
  ]),
  ['state', 'text', (w) => (w.hold.kind !== null ? 'InProgress' : w.state.state === 'InProgress' ? 'Waiting' : w.state.state)],
  ['due_rank', 'smallint', (w) => w.state.dueRank],
  ['dt_next_try', 'timestamptz', (w) => (w.state.nextTryAt === -Infinity ? '-infinity' : new Date(w.state.nextTryAt))],
  ['n_tries', 'int', (w) => w.state.tries],
  ['n_tries_day', 'int', (w) => w.state.triesDay],
  ['tries_day', 'date', (w) => w.state.triesDate],
  ['next_phone_index', 'smallint', (w) => w.state.nextPhoneIndex],
  ['reserved_user_id', 'int', (w) => w.state.reservedUserId],
  ['follow_up_user_id', 'int', (w) => w.state.followUpUserId],
  ['follow_up_at', 'timestamptz', (w) => at(w.state.followUpAt)],
  ['bound_user_id', 'int', (w) => w.state.boundUserId],
  ['bound_until', 'timestamptz', (w) => at(w.state.boundUntil)],
  ['last_user_id', 'int', (w) => w.state.lastUserId],
  ['result_code_id', 'int', (w) => w.state.resultCodeId],
  ['result_export_key', 'text', (w) => w.state.resultExportKey],
  ['closed_reason', 'text', (w) => w.state.closedReason],
  ['hold_kind', 'text', (w) => w.hold.kind],
  ['holder_user_id', 'int', (w) => w.hold.userId],
  ['lease_id', 'uuid', (w) => w.hold.leaseId],
  ['hold_until', 'timestamptz', (w) => at(w.hold.until)],
  ['attempt_id', 'bigint', (w) => w.hold.attemptId],
  ['attempt_phone_index', 'smallint', (w) => w.hold.phoneIndex],
  ['attempt_started_at', 'timestamptz', (w) => at(w.hold.startedAt)],
];
const SET = sql.raw(WRITTEN.map(([name]) => `${name} = v.${name}`).join(', '));
const NAMES = sql.raw(WRITTEN.map(([name]) => name).join(', '));

/**
 * The new states of several contacts in one statement (one UPDATE over a VALUES list: a batch of
 * hand-outs writes all its holds at once).
 */
export function contactStateWrites(writes: readonly StateWrite[], now: number) {
  const rows = writes.map((w) => sql`(${w.contactId}::int, ${sql.join(WRITTEN.map(([, type, value]) => sql`${value(w)}::${sql.raw(type)}`))})`);
  return sql`UPDATE dialler_contacts k SET ${SET}, updated_at = ${new Date(now)}
    FROM (VALUES ${sql.join(rows)}) AS v(id, ${NAMES}) WHERE k.id = v.id`;
}

export function holdOf(row: ContactRow): Hold {
  return {
    kind: row.hold_kind, userId: row.holder_user_id, leaseId: row.lease_id, until: ms(row.hold_until),
    attemptId: row.attempt_id, phoneIndex: row.attempt_phone_index, startedAt: ms(row.attempt_started_at),
  };
}
