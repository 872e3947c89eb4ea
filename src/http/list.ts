// jtel "retrieve all" lists: query parameters checked against the record definition, SQL built
// from the definition's allow-list only, and the answer streamed batch by batch, each batch its
// own short keyset query, so that a client that stops reading holds no connection, session or
// cursor while it dawdles.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { Type, type TSchema } from 'typebox';
import { isSingleSession } from '../db/pglite-dialect.ts';
import { copyBatch } from '../db/copy-out.ts';
import { InvalidField } from '../errors.ts';
import { parseLocalTimestamp } from '../domain/dialler.ts';
import { TIMESTAMP_PATTERN } from './schema-types.ts';
import { serviceRules } from './service-rules.ts';
import type { FieldDef, FieldKind, RecordDef } from './records.ts';
import { selectRecords } from './records.ts';

export const MAX_PAGE_SIZE = 10000;

/**
 * Rows per batch query. The embedded store has one session that every request queues for, so
 * its turns stay short. On PostgreSQL (binary COPY per batch) 1000 keeps the bytes in flight
 * small: over 1M events the server grew 84 MB instead of 103–107 MB with 5000, at the same
 * speed in index order (a list ordered by an unindexed column re-sorts per batch, so pays more).
 * Mutable so that tests can cross batch boundaries with a handful of rows.
 */
export const listBatchSize = { singleSession: 1000, pooled: 1000 };

export interface ListQuery {
  limitStart?: number;
  limitPageSize?: number;
  orderBy?: string;
  ascending?: boolean;
  [field: string]: unknown;
}

/** What list parameters are checked against: a record definition, or an in-memory table's. */
export interface ListableDef {
  fields: Record<string, FieldDef>;
  defaultOrderBy: string;
}

const LIST_PARAMS = new Set(['limitStart', 'limitPageSize', 'orderBy', 'ascending']);

// Filter values are bound against the column's type: an int beyond int4, or a NUL in a text,
// would be a database error (500) instead of the 400 it deserves.
function filterSchema(f: FieldDef): TSchema {
  if (f.kind === 'int') return Type.Integer({ minimum: -2147483648, maximum: 2147483647 });
  if (f.kind === 'bool') return Type.Boolean();
  // A timestamp filter matches the record's text exactly, so anything else could never match.
  if (f.kind === 'timestamp') return Type.String({ pattern: TIMESTAMP_PATTERN, description: 'local time of the client, YYYY-MM-DDTHH:mm:ss.SSS' });
  return Type.String({ maxLength: 2048, pattern: '^[^\\u0000]*$' });
}

/** Query-string schema of a list: the list parameters plus one equality filter per field. */
export function listQuerySchema(record: ListableDef, extra: Record<string, TSchema> = {}) {
  const filters: Record<string, TSchema> = {};
  for (const [name, f] of Object.entries(record.fields)) {
    if (f.kind !== 'json') filters[name] = Type.Optional(filterSchema(f));
  }
  return Type.Object(
    {
      limitStart: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 })),
      limitPageSize: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_PAGE_SIZE, default: -1, description: '-1 = all; else 1..10000' })),
      orderBy: Type.Optional(Type.String({
        description: `a field of the record; default (also when empty) ${record.defaultOrderBy}`,
        ...serviceRules({ enum: ['', ...Object.keys(filters)] }),
      })),
      ascending: Type.Optional(Type.Boolean({ default: true })),
      ...extra,
      ...filters,
    },
    { additionalProperties: false },
  );
}

/** A timestamp filter of the right shape must also be a moment on the calendar (not 2026-02-30). */
function checkTimestampFilter(name: string, value: unknown): void {
  const parsed = parseLocalTimestamp(String(value), 'UTC');
  if (!parsed.ok) throw new InvalidField(name, parsed.reason);
}

interface CheckedQuery {
  orderBy: string;
  orderField: FieldDef;
  limitStart: number;
  limitPageSize: number;
  ascending: boolean;
  filters: { name: string; field: FieldDef; value: unknown }[];
  filter: string;
}

/** The checks every list shares, whether its rows come from the database or from memory. */
function checkQuery(record: ListableDef, query: ListQuery): CheckedQuery {
  // `orderBy=` (empty) is the default order, as a form that leaves the field blank means it.
  const orderBy = query.orderBy || record.defaultOrderBy;
  // Own fields only: `orderBy=constructor` must not find Object.prototype's.
  const orderField = Object.hasOwn(record.fields, orderBy) ? record.fields[orderBy] : undefined;
  if (!orderField) throw new InvalidField('orderBy', `unknown field "${orderBy}"`);
  if (orderField.kind === 'json') throw new InvalidField('orderBy', `cannot order by the nested field "${orderBy}"`);
  const limitPageSize = query.limitPageSize ?? -1;
  if (limitPageSize === 0) throw new InvalidField('limitPageSize', 'must be -1 (all) or 1..10000');
  const filters: CheckedQuery['filters'] = [];
  for (const [name, value] of Object.entries(query)) {
    if (LIST_PARAMS.has(name) || value === undefined) continue;
    const field = Object.hasOwn(record.fields, name) ? record.fields[name] : undefined;
    if (!field) continue; // extra, route-specific parameters are the route's business
    if (field.kind === 'timestamp') checkTimestampFilter(name, value);
    filters.push({ name, field, value });
  }
  return {
    orderBy, orderField, limitPageSize, filters,
    limitStart: query.limitStart ?? 0,
    ascending: query.ascending ?? true,
    filter: filters.map((f) => `${f.name}=${f.value}`).join('&'),
  };
}

export interface ListPlan {
  where: RawBuilder<unknown>;
  orderField: FieldDef;
  filter: string;
  limitStart: number;
  limitPageSize: number;
  orderBy: string;
  ascending: boolean;
}

/**
 * Turns a validated query into SQL fragments. `scope` restricts rows (client, campaign…) and is
 * ANDed with the filters; every identifier comes from the record definition, values are bound.
 */
export function planList(record: RecordDef, query: ListQuery, scope: RawBuilder<unknown>, timeZone: string): ListPlan {
  const checked = checkQuery(record, query);
  const conditions = [scope, ...checked.filters.map((f) => sql`${filterExpr(f.field, timeZone)} = ${f.value}`)];
  const { orderField, filter, limitStart, limitPageSize, orderBy, ascending } = checked;
  return { where: sql.join(conditions, sql` AND `), orderField, filter, limitStart, limitPageSize, orderBy, ascending };
}

function filterExpr(f: FieldDef, timeZone: string): RawBuilder<unknown> {
  if (f.kind === 'timestamp') return sql`to_char(${sql.raw(f.sql)} AT TIME ZONE ${timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
  return sql.raw(f.sql);
}

// Keys travel as text and are cast back to the field's type: a timestamptz's text keeps its
// microseconds (a JS Date would drop them and skip or repeat rows).
const KEY_TYPE: Record<Exclude<FieldKind, 'json'>, string> = { int: 'bigint', text: 'text', bool: 'boolean', timestamp: 'timestamptz' };

interface Key {
  value: string | null;
  id: string;
}

/**
 * `ORDER BY` and the condition "after `key`" for one keyset batch. NULLs sort as PostgreSQL
 * sorts them by default (last ascending, first descending), spelled out so the condition
 * provably agrees. Only fields declared nullable get the NULL branches: an `OR … IS NULL` would
 * keep the planner from walking an index such as (client_id, created_at, id) in order.
 */
function keyset(plan: ListPlan, idColumn: string, key: Key | undefined): { after: RawBuilder<unknown>; order: RawBuilder<unknown> } {
  const f = plan.orderField;
  const expr = sql.raw(f.sql);
  const id = sql.raw(idColumn);
  const dir = sql.raw(plan.ascending ? 'ASC NULLS LAST' : 'DESC NULLS FIRST');
  const order = sql`ORDER BY ${expr} ${dir}, ${id} ${dir}`;
  if (!key) return { after: sql`true`, order };
  const lastId = sql`${key.id}::bigint`;
  if (key.value === null) {
    return {
      after: plan.ascending
        ? sql`${expr} IS NULL AND ${id} > ${lastId}`
        : sql`((${expr} IS NULL AND ${id} < ${lastId}) OR ${expr} IS NOT NULL)`,
      order,
    };
  }
  const value = sql`${key.value}::${sql.raw(KEY_TYPE[f.kind as Exclude<FieldKind, 'json'>])}`;
  if (!plan.ascending) return { after: sql`(${expr}, ${id}) < (${value}, ${lastId})`, order };
  const beyond = sql`(${expr}, ${id}) > (${value}, ${lastId})`;
  return { after: f.nullable ? sql`(${beyond} OR ${expr} IS NULL)` : beyond, order };
}

interface KeyedRow {
  j: string;
  k: string | null;
  i: string;
}

/** One keyset batch: its records' JSON joined by commas (the pieces concatenated), and how many. */
interface Batch {
  rows: number;
  parts: (string | Buffer)[];
}

/**
 * The plan's rows, batch by batch: each batch is one short query continuing after the last
 * row's (order key, id), so nothing is held between batches and the next one is only asked for
 * when the consumer pulls. The price: ordered by a column no index covers, every batch sorts
 * the whole remaining selection again (a long full list costs batches × one sort).
 */
async function* keysetBatches(db: Kysely<any>, record: RecordDef, plan: ListPlan, timeZone: string): AsyncGenerator<Batch> {
  const batch = isSingleSession(db) ? listBatchSize.singleSession : listBatchSize.pooled;
  const keyColumns = sql`${sql.raw(plan.orderField.sql)}::text AS k, ${sql.raw(record.idColumn)}::text AS i`;
  let remaining = plan.limitPageSize === -1 ? Infinity : plan.limitPageSize;
  let key: Key | undefined;
  while (remaining > 0) {
    const size = Math.min(batch, remaining);
    const { after, order } = keyset(plan, record.idColumn, key);
    const offset = key ? sql`` : sql` OFFSET ${plan.limitStart}`;
    const query = selectRecords(record, timeZone, sql`${plan.where} AND ${after}`, sql`${order} LIMIT ${size}${offset}`, keyColumns) as RawBuilder<KeyedRow>;
    const copied = await copyBatch(db, query.compile(db));
    let rows: number;
    if (copied) {
      rows = copied.rows;
      if (rows > 0) yield { rows, parts: copied.body };
      if (rows === size) key = { value: copied.last[0] ?? null, id: copied.last[1]! };
    } else {
      const result = await query.execute(db);
      rows = result.rows.length;
      if (rows > 0) yield { rows, parts: slices(result.rows.map((r) => r.j)) };
      const last = result.rows[rows - 1];
      if (last) key = { value: last.k, id: last.i };
    }
    if (rows < size) return;
    remaining -= rows;
  }
}

/** Records per string written to the socket. */
const WRITE_SLICE = 100;

/**
 * Written in slices: one string per database batch would be megabytes, and strings that large
 * linger until a full garbage collection, swelling the process under a long list.
 */
function slices(texts: string[]): string[] {
  const out: string[] = [];
  for (let at = 0; at < texts.length; at += WRITE_SLICE) out.push((at > 0 ? ',' : '') + texts.slice(at, at + WRITE_SLICE).join(','));
  return out;
}

function envelopeHead(plan: { filter: string; limitStart: number; limitPageSize: number }): string {
  return `{"filter":${JSON.stringify(plan.filter)},"limitStart":${plan.limitStart},"limitPageSize":${plan.limitPageSize},"records":[`;
}

function envelopeTail(count: number, plan: { orderBy: string; ascending: boolean }): string {
  return `],"count":${count},"orderBy":${JSON.stringify(plan.orderBy)},"ascending":${plan.ascending},"status":200}`;
}

/** Rows of this client only (the record's client column), ANDed with any narrower scope. */
export function clientScope(record: RecordDef, clientId: number, narrower?: RawBuilder<unknown>): RawBuilder<unknown> {
  const own = sql`${sql.raw(record.clientColumn)} = ${clientId}`;
  return narrower ? sql`${own} AND ${narrower}` : own;
}

/** The usual client-scoped list: plan the query against the record, then stream it. */
export function sendClientList(
  reply: FastifyReply,
  db: Kysely<any>,
  record: RecordDef,
  query: ListQuery,
  client: { id: number; timeZone: string },
  narrower?: RawBuilder<unknown>,
): Promise<FastifyReply> {
  const plan = planList(record, query, clientScope(record, client.id, narrower), client.timeZone);
  return sendList(reply, db, record, plan, client.timeZone);
}

/**
 * Sends the list envelope, streaming `records` batch by batch. The first batch is read before
 * the status line goes out, so a failing query still answers with a proper error.
 */
export async function sendList(reply: FastifyReply, db: Kysely<any>, record: RecordDef, plan: ListPlan, timeZone: string): Promise<FastifyReply> {
  const batches = keysetBatches(db, record, plan, timeZone);
  const first = await batches.next();
  async function* body(): AsyncGenerator<string | Buffer> {
    yield envelopeHead(plan);
    let count = 0;
    for (let batch = first; !batch.done; batch = await batches.next()) {
      if (count > 0) yield ',';
      yield* batch.value.parts;
      count += batch.value.rows;
    }
    yield envelopeTail(count, plan);
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(body(), { objectMode: false }));
}

type Row = Record<string, string | number | boolean | null>;

/** Orders like PostgreSQL by default: NULLs last ascending, first descending. */
function compareValues(a: Row[string], b: Row[string]): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * The list answer over a small constant table (e.g. the enumerations), with the same parameters,
 * checks and envelope as a database list. Records carry the definition's fields in its order;
 * `ID` breaks ties. Texts compare by code unit, which for the ASCII tables this serves is what
 * the database's collation would do.
 */
export function memoryList(record: ListableDef, query: ListQuery, rows: readonly Row[]) {
  const q = checkQuery(record, query);
  const sign = q.ascending ? 1 : -1;
  const names = Object.keys(record.fields);
  const selected = rows
    .filter((row) => q.filters.every((f) => row[f.name] === f.value))
    .sort((a, b) => sign * (compareValues(a[q.orderBy], b[q.orderBy]) || compareValues(a.ID, b.ID)))
    .slice(q.limitStart, q.limitPageSize === -1 ? undefined : q.limitStart + q.limitPageSize)
    .map((row) => Object.fromEntries(names.map((name) => [name, row[name] ?? null])));
  return {
    filter: q.filter, limitStart: q.limitStart, limitPageSize: q.limitPageSize,
    records: selected, count: selected.length, orderBy: q.orderBy, ascending: q.ascending, status: 200,
  };
}

/** `{records:[…], count, status:200}` around JSON texts from the database. */
export function recordsEnvelope(texts: string[]): string {
  return `{"records":[${texts.join(',')}],"count":${texts.length},"status":200}`;
}

/** Sends the single-object (or short) envelope around record JSON texts. */
export function sendRecords(reply: FastifyReply, texts: string[]): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(recordsEnvelope(texts));
}
