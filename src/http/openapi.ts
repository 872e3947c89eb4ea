// The OpenAPI document's frame (info, servers, security schemes, tags) and the pass over each
// route before @fastify/swagger converts it: which credential the route takes and the ClientsID
// of the path prefix. Both follow from where a route is registered (src/app.ts) and from
// src/http/auth.ts, so a new route is documented right without saying so itself.
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { finishDocument, RATE_LIMITED, WRONG_TOKEN_KIND } from './openapi-document.ts';
import { supervisorMay } from './auth.ts';

const API_PREFIX = '/rest/v1.0';
const MAX_ID = 2147483647;

/** Security scheme names, one per kind of caller (src/http/auth.ts). */
export const SCHEME = { admin: 'adminToken', client: 'clientToken', agent: 'agentSession' } as const;
/** The web console's cookie, offered besides the token on the routes it reaches (src/http/auth.ts). */
const CONSOLE_SCHEME = 'consoleSession';
export type CallerKind = keyof typeof SCHEME;

const securitySchemes = {
  [SCHEME.admin]: {
    type: 'http', scheme: 'bearer',
    description: 'The system administrator\'s token: `SWITCHBOARD_ADMIN_TOKEN`, or generated and printed once on the first start. '
      + 'Reaches only `/rest/v1.0/clients…` (client accounts, their tokens, the command line\'s file import).',
  },
  [SCHEME.client]: {
    type: 'http', scheme: 'bearer',
    description: 'A client account\'s token, answered by `POST /rest/v1.0/clients/create` or `…/clients/client/{ClientsID}/token` '
      + '(a new token invalidates the previous one at once). Reaches everything under `/rest/v1.0/{ClientsID}` of that client '
      + 'except `/agents/me…` (403 there). Its requests count against the client\'s rate limit (429 beyond).',
  },
  [SCHEME.agent]: {
    type: 'http', scheme: 'bearer',
    description: 'An agent session token, answered by `POST /rest/v1.0/{ClientsID}/agents/login` and valid 12 h, until the agent '
      + 'logs out or gets a new password. Reaches only `/rest/v1.0/{ClientsID}/agents/me` and below (403 elsewhere).',
  },
  [CONSOLE_SCHEME]: {
    type: 'apiKey', in: 'cookie', name: 'sb_session',
    description: 'The web console\'s session cookie, set by `POST /rest/v1.0/{ClientsID}/console/session` (HttpOnly, SameSite=Strict) '
      + 'and valid 12 h, until sign-out or a new password. Counts only without an Authorization header. Every request that is not '
      + 'GET, HEAD or OPTIONS must carry the session\'s CsrfToken as `X-CSRF-Token` (403 otherwise). An agent\'s session has an agent '
      + 'session token\'s rights; a supervisor\'s reaches every read of the client except webhooks, plus reassigning events and forcing '
      + 'agents out (403 elsewhere).',
  },
};

/** Every tag an operation carries, described; a tag missing here fails `npm run openapi:lint`. */
const tags = [
  { name: 'Provisioning: clients', description: 'Client accounts (tenants) and their tokens, with the admin token.' },
  { name: 'ACD events', description: 'Work items that are not calls (voicemail, fax, callback, SMS, e-mail, tickets, chat), queued and distributed to agents [jtel].' },
  { name: 'ACD groups', description: 'Queues and call-flow settings, and which users are members with which skills.' },
  { name: 'Users', description: 'The client\'s users, who work as agents.' },
  { name: 'Agents', description: 'Agent login and state, for the agent (agent session token) and for supervisors (client token).' },
  { name: 'Agent work', description: 'What agents do with the events offered to them, and what supervisors see and move.' },
  { name: 'Live push', description: 'Server-Sent Events streams of changes.' },
  { name: 'Dialler campaigns', description: 'Outbound campaigns with their result codes [jtel].' },
  { name: 'Provisioning: dialler campaigns', description: 'Creating and changing campaigns with their settings.' },
  { name: 'Dialler contacts', description: 'The people a campaign calls: single import, files in and out [jtel].' },
  { name: 'Dialler', description: 'The dialler at work: agents in campaigns, attempts and results, an external dialler\'s leases.' },
  { name: 'Dialler engine', description: 'Why a contact is not dialled, its history, and incoming calls that close contacts.' },
  { name: 'Dialler do-not-call list', description: 'Numbers and prefixes never handed out while in force.' },
  { name: 'Webhooks', description: 'The client\'s URLs that receive signed deliveries of changes (Standard Webhooks), their delivery log and replay.' },
  { name: 'Console sessions', description: 'Signing in to the web console and out again: a session cookie with a CSRF token, for people rather than integrators.' },
];

/** The credential a route takes, by where it is registered (src/app.ts) and src/http/auth.ts's rules. */
function callerOf(url: string, isPublic: boolean): CallerKind | 'none' | undefined {
  if (url.startsWith(`${API_PREFIX}/clients`)) return 'admin';
  if (!url.startsWith(`${API_PREFIX}/:ClientsID`)) return undefined;
  if (isPublic) return 'none';
  return /\/:ClientsID\/agents\/me(\/|$)/.test(url) ? 'agent' : 'client';
}

const ClientsID = {
  type: 'integer', minimum: 1, maximum: MAX_ID,
  description: 'The client account (tenant), in decimal digits; it must be the token\'s client (401 otherwise)',
};

type Json = Record<string, unknown>;

/**
 * Per route: its security requirement, and ClientsID as the integer it is. Routes under the
 * client prefix without a params schema would otherwise document it as a string; the server
 * accepts exactly a decimal 1..2147483647 there (src/http/auth.ts), so the document says integer
 * without changing what the route validates.
 */
const transform: FastifyDynamicSwaggerOptions['transform'] = ({ schema, url, route }) => {
  if (!schema || (schema as Json).hide) return { schema, url };
  const caller = callerOf(url, route.config?.public === true);
  const out: Json = { ...schema };
  if (caller !== undefined) out.security = caller === 'none' ? [] : [{ [SCHEME[caller]]: [] }];
  // The console cookie: its own routes take nothing else; an agent's reaches what an agent token
  // does, a supervisor's what supervisorMay allows.
  const method = String(route.method);
  const operationId = (schema as Json).operationId as string | undefined;
  if (route.config?.consoleSession) out.security = [{ [CONSOLE_SCHEME]: [] }];
  else if (caller === 'agent' || (caller === 'client' && supervisorMay(method, url, operationId))) {
    out.security = [...(out.security as Json[]), { [CONSOLE_SCHEME]: [] }];
  }
  // Read by openapi-document.ts: the answers the scope's hooks give besides the route's own.
  if ((caller === 'client' || caller === 'agent') && !route.config?.consoleSession) out[WRONG_TOKEN_KIND] = true;
  if (caller === 'client' || caller === 'agent' || route.config?.loginThrottle) out[RATE_LIMITED] = true;
  if (url.includes(':ClientsID')) {
    const params = (schema.params ?? { type: 'object', properties: {}, additionalProperties: false }) as Json & { properties?: Json; required?: string[] };
    const required = [...new Set(['ClientsID', ...(params.required ?? [])])];
    out.params = { ...params, properties: Object.assign({ ClientsID }, params.properties, { ClientsID }), required };
  }
  return { schema: out, url };
};

export const openApiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard',
      version: '1.0.0',
      description: 'jtel Portal REST API (ACD events, ACD groups, users, dialler campaigns) and Switchboard extensions. '
        + 'Errors answer `{status, error[, details]}`; an endpoint that does not exist answers 404 with an empty body.',
      // The repository grants no public license (package.json is private): say so, with an SPDX reference.
      license: { name: 'Proprietary: no license granted', identifier: 'LicenseRef-Proprietary' },
    },
    // A template rather than a fixed address: every deployment has its own (npm start: http://localhost:8080).
    servers: [{
      url: '{scheme}://{host}',
      description: 'Your Switchboard',
      variables: {
        scheme: { default: 'http', enum: ['http', 'https'] },
        host: { default: 'localhost:8080', description: 'host name and port (`npm start` listens on localhost:8080)' },
      },
    }],
    components: { securitySchemes } as never,
    tags,
  },
  // Shared schemas are named by their $id (AcdEvent, ErrorBody…) instead of def-0, def-1…
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  transform,
  transformObject: (document) => finishDocument((document as { openapiObject: Json }).openapiObject) as never,
};
