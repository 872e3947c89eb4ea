// The Idempotency-Key header in the routes' schemas, hence in the OpenAPI document: a header
// parameter on every operation it covers, and the 409 and 422 it may answer.
import type { RouteOptions } from 'fastify';
import { Type } from 'typebox';
import { HEADER, MAX_KEY_LENGTH } from './fingerprint.ts';

const DESCRIPTION = 'Makes a retry safe. The same request (method, path, query, body) with the same key within 24 h '
  + 'answers the first answer again, with `Idempotent-Replayed: true`, and does nothing; another request with the key: '
  + `422; while the first is still running: 409 (Retry-After). 1 to ${MAX_KEY_LENGTH} printable ASCII characters, bare `
  + 'or as a structured-field string ("…"), e.g. a UUID. Keys are the caller\'s own: the client\'s, an agent session\'s, the admin\'s.';

// Bare printable ASCII, or an sf-string of printable ASCII in which only \" and \\ are escaped.
const KEY_PATTERN = String.raw`^(?:[\x20-\x7e]{1,${MAX_KEY_LENGTH}}|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,${MAX_KEY_LENGTH}}")$`;

/**
 * The parameter as one OpenAPI Parameter Object, for a document that shares it
 * (`components.parameters.IdempotencyKey`) instead of repeating it per operation.
 */
export const idempotencyKeyParameter = {
  name: HEADER, in: 'header', required: false, description: DESCRIPTION, schema: { type: 'string', pattern: KEY_PATTERN },
} as const;

// The key is checked before validation (fingerprint.ts), with its own 400; this pattern lets
// through at least what that check accepts, so it only documents.
const KeyHeader = Type.Optional(Type.String({ description: DESCRIPTION, pattern: KEY_PATTERN }));

const IN_USE = Type.Ref('ErrorBody', { description: 'The first request with this Idempotency-Key is still running: send it again after Retry-After' });
const REUSED = Type.Ref('ErrorBody', { description: 'This Idempotency-Key was used within 24 h for another request' });

/** Adds the header and its answers to the schema of a route the key covers. */
export function documentIdempotency(route: RouteOptions): void {
  const schema = (route.schema ??= {}) as Record<string, unknown>;
  const headers = (schema.headers ?? Type.Object({})) as { properties?: Record<string, unknown> };
  schema.headers = { ...headers, properties: { ...headers.properties, [HEADER]: KeyHeader } };
  const response = schema.response as Record<string, unknown> | undefined;
  // A route's own 409 (a conflict its service answers) keeps its description.
  if (response) schema.response = { 409: IN_USE, ...response, 422: REUSED };
}
