// jtel "retrieve all" lists: query parameters checked against the record definition, SQL built
// from the definition's allow-list only, and the answer streamed batch by batch from a cursor.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { Type, type TSchema } from 'typebox';
import { InvalidField } from '../errors.ts';
import type { FieldDef, RecordDef } from './records.ts';
import { selectRecords } from './records.ts';

export const MAX_PAGE_SIZE = 10000;
const STREAM_BATCH = 1000;

export interface ListQuery {
  limitStart?: number;
  limitPageSize?: number;
  orderBy?: string;
  ascending?: boolean;
  [field: string]: unknown;
}

const LIST_PARAMS = new Set(['limitStart', 'limitPageSize', 'orderBy', 'ascending']);

// Filter values are bound against the column's type: an int beyond int4, or a NUL in a text,
// would be a database error (500) instead of the 400 it deserves.
function filterSchema(f: FieldDef): TSchema {
  if (f.kind === 'int') return Type.Integer({ minimum: -2147483648, maximum: 2147483647 });
  if (f.kind === 'bool') return Type.Boolean();
  return Type.String({ maxLength: 2048, pattern: '^[^\\u0000]*$' });
}

/** Query-string schema of a list: the list parameters plus one equality filter per field. */
export function listQuerySchema(record: RecordDef, extra: Record<string, TSchema> = {}) {
  const filters: Record<string, TSchema> = {};
  for (const [name, f] of Object.entries(record.fields)) {
    if (f.kind !== 'json') filters[name] = Type.Optional(filterSchema(f));
  }
  return Type.Object(
    {
      limitStart: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, default: 0 })),
      limitPageSize: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_PAGE_SIZE, default: -1, description: '-1 = all; else 1..10000' })),
      orderBy: Type.Optional(Type.String({ description: `a field of the record; default ${record.defaultOrderBy}` })),
      ascending: Type.Optional(Type.Boolean({ default: true })),
      ...extra,
      ...filters,
    },
    { additionalProperties: false },
  );
}

export interface ListPlan {
  where: RawBuilder<unknown>;
  order: RawBuilder<unknown>;
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
  const orderBy = query.orderBy ?? record.defaultOrderBy;
  const orderField = record.fields[orderBy];
  if (!orderField) throw new InvalidField('orderBy', `unknown field "${orderBy}"`);
  if (orderField.kind === 'json') throw new InvalidField('orderBy', `cannot order by the nested field "${orderBy}"`);
  const limitPageSize = query.limitPageSize ?? -1;
  if (limitPageSize === 0) throw new InvalidField('limitPageSize', 'must be -1 (all) or 1..10000');
  const ascending = query.ascending ?? true;

  const conditions: RawBuilder<unknown>[] = [scope];
  const applied: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (LIST_PARAMS.has(name) || value === undefined) continue;
    const f = record.fields[name];
    if (!f) continue; // extra, route-specific parameters are the route's business
    conditions.push(sql`${filterExpr(f, timeZone)} = ${value}`);
    applied.push(`${name}=${value}`);
  }
  const dir = sql.raw(ascending ? 'ASC' : 'DESC');
  return {
    where: sql.join(conditions, sql` AND `),
    order: sql`ORDER BY ${sql.raw(orderField.sql)} ${dir}, ${sql.raw(record.idColumn)} ${dir}`,
    filter: applied.join('&'),
    limitStart: query.limitStart ?? 0,
    limitPageSize,
    orderBy,
    ascending,
  };
}

function filterExpr(f: FieldDef, timeZone: string): RawBuilder<unknown> {
  if (f.kind === 'timestamp') return sql`to_char(${sql.raw(f.sql)} AT TIME ZONE ${timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
  return sql.raw(f.sql);
}

/**
 * Sends the list envelope, streaming `records` from a database cursor. The first batch is read
 * before the status line goes out, so a failing query still answers with a proper error.
 */
export async function sendList(reply: FastifyReply, db: Kysely<any>, record: RecordDef, plan: ListPlan, timeZone: string): Promise<FastifyReply> {
  const paging = plan.limitPageSize === -1
    ? sql`OFFSET ${plan.limitStart}`
    : sql`LIMIT ${plan.limitPageSize} OFFSET ${plan.limitStart}`;
  const query = selectRecords(record, timeZone, plan.where, sql`${plan.order} ${paging}`);
  const rows = db.getExecutor().stream<{ j: string }>(query.compile(db), STREAM_BATCH);
  const first = await rows.next();

  const head = `{"filter":${JSON.stringify(plan.filter)},"limitStart":${plan.limitStart},"limitPageSize":${plan.limitPageSize},"records":[`;
  async function* body(): AsyncGenerator<string> {
    let count = 0;
    try {
      yield head;
      for (let batch = first; !batch.done; batch = await rows.next()) {
        const texts = batch.value.rows.map((r) => r.j);
        if (texts.length === 0) continue;
        yield (count > 0 ? ',' : '') + texts.join(',');
        count += texts.length;
      }
      yield `],"count":${count},"orderBy":${JSON.stringify(plan.orderBy)},"ascending":${plan.ascending},"status":200}`;
    } finally {
      // Runs when the client goes away mid-stream too: frees the cursor and its connection.
      await rows.return?.(undefined);
    }
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(body(), { objectMode: false }));
}

/** `{records:[…], count, status:200}` around JSON texts from the database. */
export function recordsEnvelope(texts: string[]): string {
  return `{"records":[${texts.join(',')}],"count":${texts.length},"status":200}`;
}

/** Sends the single-object (or short) envelope around record JSON texts. */
export function sendRecords(reply: FastifyReply, texts: string[]): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(recordsEnvelope(texts));
}
