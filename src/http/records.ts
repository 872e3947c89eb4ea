// A record definition names each jtel field once, with its SQL expression and kind. From it come
// the response schema (validation of what we send, OpenAPI), the SQL projection that builds the
// record's JSON inside the database (so lists stream as text, never as JS objects), and the
// allow-list that list filters and orderBy are checked against.
import { sql, type RawBuilder } from 'kysely';
import { Type, type TSchema } from 'typebox';
import { NullableBool, NullableInt, NullableString, TIMESTAMP_PATTERN } from './schema-types.ts';

export type FieldKind = 'int' | 'text' | 'bool' | 'timestamp' | 'json';

export interface FieldDef {
  kind: FieldKind;
  /** SQL expression over the record's FROM clause; trusted, never built from input. */
  sql: string;
  nullable: boolean;
  description?: string;
  /** Shape of a `json` field, which no generic kind can describe. */
  schema?: TSchema;
}

const def = (kind: FieldKind) => (expr: string, opts: { nullable?: boolean; description?: string } = {}): FieldDef => ({
  kind,
  sql: expr,
  nullable: opts.nullable ?? false,
  description: opts.description,
});

/**
 * A nested value (e.g. a user's memberships) whose SQL expression yields json, such as a
 * correlated `(SELECT coalesce(json_agg(…), '[]'::json) …)`. Lists cannot filter or order by it.
 */
const json = (expr: string, schema: TSchema, opts: { description?: string } = {}): FieldDef => ({
  kind: 'json',
  sql: expr,
  nullable: false,
  description: opts.description,
  schema,
});

/**
 * A flat jsonb object of numbers (such as skills, `{"12":80}`) as compact json text: jsonb's own
 * output puts a space after every colon, which jtel's wire form does not.
 */
export function compactNumberMap(jsonbExpr: string): string {
  return `(SELECT coalesce('{' || string_agg(to_json(kv.key)::text || ':' || kv.value::text, ',' ORDER BY kv.key) || '}', '{}')::json
    FROM jsonb_each(${jsonbExpr}) kv)`;
}

export const field = { int: def('int'), text: def('text'), bool: def('bool'), timestamp: def('timestamp'), json };

export interface RecordDef {
  name: string;
  fields: Record<string, FieldDef>;
  /** FROM clause (with joins) over which the field expressions are written. */
  from: string;
  /** Column that scopes a row to its client (tenant). */
  clientColumn: string;
  /** Unique tie-breaker appended to every ORDER BY so pages are stable. */
  idColumn: string;
  defaultOrderBy: string;
  schema: TSchema;
}

export function defineRecord<F extends Record<string, FieldDef>>(
  name: string,
  fields: F,
  opts: { from: string; clientColumn: string; idColumn: string; defaultOrderBy: keyof F & string },
): RecordDef {
  const properties: Record<string, TSchema> = {};
  for (const [key, f] of Object.entries(fields)) properties[key] = fieldSchema(f);
  const schema = Type.Object(properties, { $id: name, additionalProperties: false });
  return { name, fields, ...opts, schema };
}

function fieldSchema(f: FieldDef): TSchema {
  const opts = f.description ? { description: f.description } : {};
  switch (f.kind) {
    case 'int':
      return f.nullable ? NullableInt(opts) : Type.Integer(opts);
    case 'bool':
      return f.nullable ? NullableBool(opts) : Type.Boolean(opts);
    case 'timestamp':
      return f.nullable ? NullableString({ ...opts, pattern: TIMESTAMP_PATTERN }) : Type.String({ ...opts, pattern: TIMESTAMP_PATTERN });
    case 'text':
      return f.nullable ? NullableString(opts) : Type.String(opts);
    case 'json':
      return { ...f.schema, ...opts } as TSchema;
  }
}

/** The field as it appears in the JSON: timestamps formatted in the client's time zone. */
export function valueSql(f: FieldDef, timeZone: string): RawBuilder<unknown> {
  if (f.kind === 'timestamp') {
    return sql`to_char(${sql.raw(f.sql)} AT TIME ZONE ${timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
  }
  return sql.raw(f.sql);
}

// Alias of the derived row whose columns are the record's fields; chosen so that it cannot
// shadow a table alias of any record's FROM clause.
const ROW_ALIAS = sql.id('record_json');

/** `<expr> AS "Field", …` in the definition's order: the columns row_to_json turns into keys. */
function recordColumns(record: RecordDef, timeZone: string): RawBuilder<unknown> {
  return sql.join(Object.entries(record.fields).map(([key, f]) => sql`${valueSql(f, timeZone)} AS ${sql.id(key)}`));
}

/**
 * The record's JSON text as a scalar expression, usable in any select over the record's aliases
 * (e.g. on the rows an INSERT … RETURNING hands back). row_to_json prints jtel's compact form
 * (json_build_object would put spaces around every colon), keeps the column order and writes
 * null columns as explicit nulls. For many rows prefer selectRecords, which the planner turns
 * into a plain projection instead of a subplan run per row.
 */
export function jsonProjection(record: RecordDef, timeZone: string): RawBuilder<string> {
  return sql<string>`(SELECT row_to_json(${ROW_ALIAS})::text FROM (SELECT ${recordColumns(record, timeZone)}) ${ROW_ALIAS})`;
}

/**
 * Selects the records' JSON texts (column `j`, plus any `extra` select items) for `where`, which
 * the caller has already scoped to the client. The fields come from a LATERAL row appended to
 * the FROM clause; PostgreSQL flattens it, so this costs no more than listing the expressions.
 */
export function selectRecords(
  record: RecordDef,
  timeZone: string,
  where: RawBuilder<unknown>,
  tail: RawBuilder<unknown> = sql``,
  extra?: RawBuilder<unknown>,
) {
  const more = extra ? sql`, ${extra}` : sql``;
  return sql<{ j: string }>`SELECT row_to_json(${ROW_ALIAS})::text AS j${more}
    FROM ${sql.raw(record.from)} CROSS JOIN LATERAL (SELECT ${recordColumns(record, timeZone)}) ${ROW_ALIAS}
    WHERE ${where} ${tail}`;
}
