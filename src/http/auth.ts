// Authentication of the two kinds of caller: a client's integrator (token of one client, on
// /rest/v1.0/{ClientsID}/…) and the system administrator (admin token, on /rest/v1.0/clients…).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminUnauthorized, Unauthorized } from '../errors.ts';
import { bearerToken, tokenMatches } from '../domain/tokens.ts';
import { findClientCredentials } from '../modules/clients/repository.ts';
import { adminTokenHash } from '../modules/clients/admin-token.ts';

export interface ClientContext {
  id: number;
  timeZone: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    client: ClientContext;
  }
}

const MAX_CLIENT_ID = 2147483647;

/** onRequest hook for client-scoped routes: every failure is the same 401, so nothing leaks. */
export async function authenticateClient(this: FastifyInstance, request: FastifyRequest): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  const raw = (request.params as { ClientsID?: string }).ClientsID ?? '';
  const clientId = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!token || !(clientId <= MAX_CLIENT_ID)) throw new Unauthorized();
  const row = await findClientCredentials(this.store.db, clientId);
  // Compare even when the client is unknown, so timing does not tell which ClientsIDs exist.
  const ok = tokenMatches(token, row?.token_hash ?? '0'.repeat(64));
  if (!row || !ok) throw new Unauthorized();
  request.client = { id: clientId, timeZone: row.time_zone };
}

export async function authenticateAdmin(this: FastifyInstance, request: FastifyRequest): Promise<void> {
  const token = bearerToken(request.headers.authorization);
  if (!token || !tokenMatches(token, await adminTokenHash(this.store.db))) throw new AdminUnauthorized();
}
