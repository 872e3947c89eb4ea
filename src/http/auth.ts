// Authentication of the three kinds of caller: a client's integrator (client token, full access
// to /rest/v1.0/{ClientsID}/…), an agent of that client (agent session token, /agents/me… only)
// and the system administrator (admin token, on /rest/v1.0/clients…).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminUnauthorized, AgentAreaOnly, AgentTokenRequired, Unauthorized } from '../errors.ts';
import { bearerToken, hashMatches, hashToken, tokenMatches } from '../domain/tokens.ts';
import { findClientCredentials } from '../modules/clients/repository.ts';
import { adminTokenHash } from '../modules/clients/admin-token.ts';
import { findSession } from '../modules/agents/repository.ts';
import { isLocalAdminToken } from './local-admin.ts';

export interface ClientContext {
  id: number;
  timeZone: string;
}

/** Who is calling: the client's integrator, one of its agents, or nobody yet (the login route). */
export type Actor =
  | { kind: 'client' }
  | { kind: 'agent'; userId: number; sessionId: number }
  | { kind: 'anonymous' };

declare module 'fastify' {
  interface FastifyRequest {
    client: ClientContext;
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** Reachable without a token (agent login); the route checks its own credentials. */
    public?: boolean;
  }
}

const MAX_CLIENT_ID = 2147483647;
const CLIENT: Actor = { kind: 'client' };
const ANONYMOUS: Actor = { kind: 'anonymous' };

/** The agent's own area: the only routes an agent session token reaches. */
const AGENT_AREA = /\/:ClientsID\/agents\/me(\/|$)/;

/** How history rows name the actor; client-token changes are the API's, as for ACD events. */
export function actorLabel(actor: Actor): string {
  return actor.kind === 'agent' ? `agent:${actor.userId}` : 'api';
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
