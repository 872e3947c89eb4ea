// Authentication of the kinds of caller: a client's integrator (client token, full access to
// /rest/v1.0/{ClientsID}/…), an agent of that client (agent session token, /agents/me… only), the
// system administrator (admin token, on /rest/v1.0/clients…), and a person signed in to the web
// console (the `sb_session` cookie, spec §9): an agent gets an agent token's rights, a supervisor
// the client's reads and the supervisor actions, never provisioning.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AdminUnauthorized, AgentAreaOnly, AgentConsoleOnly, AgentTokenRequired, CsrfRejected, SupervisorNotAgent, SupervisorReadOnly, Unauthorized,
} from '../errors.ts';
import { bearerToken, hashMatches, hashToken, tokenMatches } from '../domain/tokens.ts';
import { findClientCredentials } from '../modules/clients/repository.ts';
import { adminTokenHash } from '../modules/clients/admin-token.ts';
import { findConsoleSession, findSession } from '../modules/agents/repository.ts';
import type { UserRole } from '../modules/users/schemas.ts';
import { isLocalAdminToken } from './local-admin.ts';

export interface ClientContext {
  id: number;
  timeZone: string;
}

/**
 * Who is calling: the client's integrator, one of its agents (by token or console cookie), a
 * supervisor signed in to the console, or nobody yet (the login routes).
 */
export type Actor =
  | { kind: 'client' }
  | { kind: 'agent'; userId: number; sessionId: number }
  | { kind: 'supervisor'; userId: number; sessionId: number }
  | { kind: 'anonymous' };

/** The console session behind a request authenticated by its cookie. */
export interface ConsoleAuth {
  sessionId: number;
  userId: number;
  role: UserRole;
  /** The cookie's session token: the CSRF token is derived from it (src/modules/console-sessions/). */
  token: string;
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    client: ClientContext;
    actor: Actor;
    /** Set when the request was authenticated by the console cookie. */
    console?: ConsoleAuth;
  }
  interface FastifyContextConfig {
    /** Reachable without a token (agent login); the route checks its own credentials. */
    public?: boolean;
    /** The console session's own routes: the cookie only, whatever the user's role. */
    consoleSession?: boolean;
  }
}

/** The console's session cookie (src/modules/console-sessions/). */
export const SESSION_COOKIE = 'sb_session';
/** The header carrying a console session's CSRF token on every change. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const MAX_CLIENT_ID = 2147483647;
const CLIENT: Actor = { kind: 'client' };
const ANONYMOUS: Actor = { kind: 'anonymous' };

/** The agent's own area: the only routes an agent session token reaches. */
const AGENT_AREA = /\/:ClientsID\/agents\/me(\/|$)/;

/** How history rows name the actor; client-token changes are the API's, as for ACD events. */
export function actorLabel(actor: Actor): string {
  if (actor.kind === 'agent') return `agent:${actor.userId}`;
  return actor.kind === 'supervisor' ? `supervisor:${actor.userId}` : 'api';
}

/** The supervisor actions beyond reading (spec §7's supervisor endpoints). */
const SUPERVISOR_ACTIONS = new Set(['reassignAcdEvent', 'forceAgentLogout']);
/** Reads that are the integrator's configuration, not the contact center's work. */
const INTEGRATOR_AREA = /\/:ClientsID\/webhooks(\/|$)/;

/**
 * Whether a supervisor's console session reaches the route: every read of the client's API (lists,
 * events, groups, queues, agents, campaigns, contacts, why-not, the client stream) except the
 * webhooks' configuration, and the supervisor actions. Also read by the OpenAPI pass (openapi.ts).
 */
export function supervisorMay(method: string, url: string, operationId: string | undefined): boolean {
  if (operationId !== undefined && SUPERVISOR_ACTIONS.has(operationId)) return true;
  return (method === 'GET' || method === 'HEAD') && !AGENT_AREA.test(url) && !INTEGRATOR_AREA.test(url);
}

/** The `sb_session` cookie's value, if well-formed; a small parse of the Cookie header. */
export function sessionCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{1,256}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * onRequest hook for client-scoped routes: every failure to authenticate is the same 401, so
 * nothing leaks. The client token is tried first and costs one query (it is the hot path of event
 * creation); only a token that is not the client's is looked up as an agent session.
 */
export async function authenticateClient(this: FastifyInstance, request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config.public) {
    request.actor = ANONYMOUS;
    return;
  }
  const token = bearerToken(request.headers.authorization);
  const raw = (request.params as { ClientsID?: string }).ClientsID ?? '';
  const clientId = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  // The cookie counts only without an Authorization header: an integrator's request is never
  // turned into a browser's by a stray cookie.
  const cookie = request.headers.authorization === undefined ? sessionCookie(request.headers.cookie) : undefined;
  if (cookie !== undefined && clientId <= MAX_CLIENT_ID) return authenticateConsole(this, request, clientId, cookie);
  if (request.routeOptions.config.consoleSession) throw new Unauthorized();
  if (!token || !(clientId <= MAX_CLIENT_ID)) throw new Unauthorized();
  const db = this.store.db;
  const row = await this.credentials.client(clientId, () => findClientCredentials(db, clientId));
  // Compare even when the client is unknown, so timing does not tell which ClientsIDs exist.
  // One hash serves both looks: as the client's token, then as an agent session's.
  const hash = hashToken(token);
  const isClientToken = hashMatches(hash, row ? row.tokenHash : '0'.repeat(64));
  if (!row) throw new Unauthorized();
  const agentArea = AGENT_AREA.test(request.routeOptions.url ?? '');
  if (isClientToken) {
    if (agentArea) throw new AgentTokenRequired();
    request.actor = CLIENT;
  } else {
    const now = new Date(this.clock.now());
    const session = await this.credentials.session(clientId, hash, now, () => findSession(db, clientId, hash, now));
    if (!session) throw new Unauthorized();
    if (!agentArea) throw new AgentAreaOnly();
    request.actor = { kind: 'agent', userId: session.userId, sessionId: session.id };
  }
  request.client = { id: clientId, timeZone: row.timeZone };
}

/**
 * A request carrying the console cookie. The session is read from the database every time (one
 * indexed query) rather than from the credential cache: a browser's requests are few, and so a
 * sign-out, a new password or a change of role holds at once on every instance. A change must
 * carry the session's CSRF token: the cookie goes with any request the browser makes, the header
 * only with the console's own.
 */
async function authenticateConsole(app: FastifyInstance, request: FastifyRequest, clientId: number, token: string): Promise<void> {
  const db = app.store.db;
  const row = await app.credentials.client(clientId, () => findClientCredentials(db, clientId));
  const now = new Date(app.clock.now());
  // Looked up for an unknown client too (it finds nothing), so timing does not tell which exist.
  const session = await findConsoleSession(db, clientId, hashToken(token), now);
  if (!row || !session) throw new Unauthorized();
  if (!SAFE_METHODS.has(request.method)) {
    const header = request.headers[CSRF_HEADER];
    if (typeof header !== 'string' || !tokenMatches(header, session.csrfHash)) throw new CsrfRejected();
  }
  const url = request.routeOptions.url ?? '';
  const { id: sessionId, userId, role } = session;
  if (!request.routeOptions.config.consoleSession) {
    if (role === 'agent' && !AGENT_AREA.test(url)) throw new AgentConsoleOnly();
    if (role === 'supervisor' && AGENT_AREA.test(url)) throw new SupervisorNotAgent();
    if (role === 'supervisor' && !supervisorMay(request.method, url, (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId)) throw new SupervisorReadOnly();
  }
  request.actor = role === 'agent' ? { kind: 'agent', userId, sessionId } : { kind: 'supervisor', userId, sessionId };
  request.console = { sessionId, userId, role, token, expiresAt: session.expiresAt };
  request.client = { id: clientId, timeZone: row.timeZone };
}

export async function authenticateAdmin(this: FastifyInstance, request: FastifyRequest): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new AdminUnauthorized();
  // The per-process token is for this host's commands (src/cli/remote.ts): loopback only.
  const local = isLoopback(request.socket.remoteAddress) && isLocalAdminToken(this.store, token);
  if (!local && !tokenMatches(token, await adminTokenHash(this.store.db))) throw new AdminUnauthorized();
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}
