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
