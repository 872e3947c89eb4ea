// The last pass over the generated OpenAPI document: what every operation answers because of the
// hooks around it rather than its own schema (403, 413, 415, 429), the rules the services check
// themselves (SERVICE_RULES), NUL-free strings wherever the server refuses NUL, request bodies the
// route reads as a stream, response descriptions and examples. Generic by construction: a new
// route gets all of it from where it is registered and what it declares.
import { SERVICE_RULES } from './service-rules.ts';
import { EXAMPLES } from './openapi-examples.ts';

type Json = Record<string, any>;

/** Operation extensions set by the route pass (openapi.ts) and consumed here. */
export const WRONG_TOKEN_KIND = 'x-wrong-token-kind';
export const RATE_LIMITED = 'x-rate-limited';
/** A route whose body is not parsed as JSON (a streamed file) describes its requestBody here. */
export const REQUEST_BODY = 'x-request-body';

/** src/http/validation.ts refuses NUL in every string of the body and the query, and in the keys. */
export const NUL_FREE = '^[^\\u0000]*$';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query'];
const ERROR_REF = { $ref: '#/components/schemas/ErrorBody' };
const errorResponse = (description: string, extra: Json = {}) => ({ description, content: { 'application/json': { schema: ERROR_REF } }, ...extra });

const DESCRIPTIONS: Record<string, string> = {
  200: 'Success (jtel answers every success, creates included, with 200)',
  400: 'A parameter or field is missing or invalid: `error` (and `details`) name it and say why',
  401: 'Token missing or wrong, or a ClientsID that is not the token\'s',
  403: 'The wrong kind of credential: a client token on /agents/me…, an agent session token or an agent\'s console session anywhere else, '
    + 'a supervisor\'s console session beyond reads and supervisor actions, or a console change without its X-CSRF-Token',
  404: 'The object does not exist (a JSON body; an endpoint that does not exist answers an empty body)',
  409: 'The request conflicts with the current state of the object: `error` says how',
  413: 'The body is larger than the configured limit',
  415: 'The body is not of a content type this endpoint takes',
  429: 'Too many requests: `Retry-After` says in how many seconds the window starts over',
};

const integerHeader = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });
const RATE_LIMIT_HEADERS = {
  'Retry-After': integerHeader('Seconds until requests are admitted again'),
  'RateLimit-Limit': integerHeader('Requests allowed per window'),
  'RateLimit-Remaining': integerHeader('Requests left in this window'),
  'RateLimit-Reset': integerHeader('Seconds until the window starts over'),
};

export function finishDocument(doc: Json): Json {
  liftServiceRules(doc);
  const tags = (doc.tags ??= []) as Json[];
  for (const path of Object.values(doc.paths ?? {}) as Json[]) {
    for (const method of METHODS) {
      const op = path[method] as Json | undefined;
      if (!op) continue;
      finishOperation(op);
      // A tag not described in openapi.ts is declared bare, so the lint's tag-description names it.
      for (const name of (op.tags ?? []) as string[]) if (!tags.some((t) => t.name === name)) tags.push({ name });
    }
  }
  return doc;
}

function finishOperation(op: Json): void {
  op.responses ??= {};
  const responses = op.responses as Json;
  if (op[REQUEST_BODY]) op.requestBody = op[REQUEST_BODY];
  if (op[WRONG_TOKEN_KIND]) responses[403] ??= errorResponse(DESCRIPTIONS[403]);
  if (op.requestBody) {
    responses[413] ??= errorResponse(DESCRIPTIONS[413]);
    responses[415] ??= errorResponse(DESCRIPTIONS[415]);
  }
  if (op[RATE_LIMITED]) responses[429] = errorResponse(DESCRIPTIONS[429], { headers: RATE_LIMIT_HEADERS });
  for (const key of [REQUEST_BODY, WRONG_TOKEN_KIND, RATE_LIMITED]) delete op[key];
  for (const [status, response] of Object.entries(responses) as [string, Json][]) {
    if (response.description === 'Default Response' && DESCRIPTIONS[status]) response.description = DESCRIPTIONS[status];
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
  for (const media of Object.values(op.requestBody?.content ?? {}) as Json[]) nulFree(media.schema);
  for (const parameter of (op.parameters ?? []) as Json[]) nulFree(parameter.schema);
  const examples = EXAMPLES[op.operationId as string];
  if (examples?.request !== undefined) setExample(op.requestBody, examples.request);
  if (examples?.response !== undefined) setExample(responses[200], examples.response);
}

function setExample(holder: Json | undefined, example: unknown): void {
  const media = holder?.content?.['application/json'] as Json | undefined;
  if (media) media.example = example;
}

/** Every schema object below `node`, `node` included (not through $ref). */
function* schemasIn(node: unknown): Generator<Json> {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) yield* schemasIn(item);
    return;
  }
  yield node as Json;
  for (const value of Object.values(node)) yield* schemasIn(value);
}

/** The keywords a schema states under SERVICE_RULES become its own; a keyword it has already joins allOf. */
function liftServiceRules(doc: Json): void {
  for (const schema of schemasIn(doc)) {
    const rules = schema[SERVICE_RULES] as Json | undefined;
    if (!rules) continue;
    delete schema[SERVICE_RULES];
    for (const [keyword, value] of Object.entries(rules)) {
      if (schema[keyword] === undefined) schema[keyword] = value;
      else schema.allOf = [...(schema.allOf ?? []), { [keyword]: value }];
    }
  }
}

const isString = (schema: Json) => schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string'));

/** Strings of a request without a pattern of their own (enums and constants are exact already) say they are NUL-free. */
function nulFree(root: unknown): void {
  for (const schema of schemasIn(root)) {
    if (isString(schema) && schema.pattern === undefined && schema.enum === undefined && schema.const === undefined) schema.pattern = NUL_FREE;
  }
}
