// Two Ajv instances: bodies are validated strictly (no type coercion, unknown fields rejected
// rather than silently stripped), while path and query strings are coerced from text.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { InvalidField } from '../errors.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  addFormats(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv('array');

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  return ajv.compile(schema as object) as ValidateFunction;
};

/**
 * Path of the first string under `value` that the database cannot store as given: a NUL
 * character (PostgreSQL text refuses it) or a lone UTF-16 surrogate (it would turn into U+FFFD).
 * Recursive: the body parser (json-body.ts) has refused nesting deeper than MAX_BODY_DEPTH.
 */
function unstorablePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorablePath(item, path ? `${path}.${i}` : String(i));
      if (found !== undefined) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = unstorablePath(key, path ? `${path}.${key}` : key) ?? unstorablePath(item, path ? `${path}.${key}` : key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** preValidation hook: unstorable text anywhere in the body or query is a 400 naming the field. */
export async function rejectUnstorableText(request: FastifyRequest): Promise<void> {
  const field = unstorablePath(request.body, '') ?? unstorablePath(request.query, '');
  if (field !== undefined) throw new InvalidField(field || 'body', 'must not contain NUL characters or unpaired surrogates');
}

const DECIMAL_INTEGER = /^-?(0|[1-9]\d*)$/;

// Per route schema, computed once: this runs before every request's validation.
const integerFieldsOf = new WeakMap<object, Set<string>>();

function integerFields(schema: object): Set<string> {
  const known = integerFieldsOf.get(schema);
  if (known) return known;
  const names = new Set<string>();
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  for (const [name, prop] of Object.entries(properties)) {
    const type = prop.type;
    if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) names.add(name);
  }
  integerFieldsOf.set(schema, names);
  return names;
}

/**
 * preValidation hook: integers in the path and the query must be written in plain decimal.
 * Ajv's coercion reads anything Number() reads ("0x2b", "+43", "4.3e1"), so a DELETE of
 * `/users/user/0x2b` would delete user 43; ids are compared as written instead.
 */
export async function rejectNonDecimalIntegers(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema;
  const parts: [unknown, unknown][] = [[schema?.params, request.params], [schema?.querystring, request.query]];
  for (const [partSchema, values] of parts) {
    if (!partSchema || typeof partSchema !== 'object' || !values || typeof values !== 'object') continue;
    for (const name of integerFields(partSchema)) {
      const raw = (values as Record<string, unknown>)[name];
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        if (typeof value === 'string' && !DECIMAL_INTEGER.test(value)) throw new InvalidField(name, 'must be a whole number written in decimal digits');
      }
    }
  }
}
