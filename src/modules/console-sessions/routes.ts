// The web console's sign-in, session and sign-out [ours, spec §9]. The sign-in needs no token
// (its throttle is the agent login's); the session's GET and DELETE take the cookie only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ClientScopedParams, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { SESSION_COOKIE, type ConsoleAuth } from '../../http/auth.ts';
import { Unauthorized } from '../../errors.ts';
import { LoginBody } from '../agents/schemas.ts';
import { SESSION_HOURS } from '../agents/service.ts';
import { ConsoleSession } from './schemas.ts';
import { describeSession, sessionCookieHeader, signIn, signOut } from './service.ts';

const tags = ['Console sessions'];
const ErrorBody = Type.Ref('ErrorBody');

function consoleOf(request: FastifyRequest): ConsoleAuth {
  if (!request.console) throw new Unauthorized();
  return request.console;
}

function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  reply.header('set-cookie', sessionCookieHeader(SESSION_COOKIE, value, maxAgeSeconds, request.protocol === 'https'));
  // The answer names a session: no cache may keep it.
  reply.header('cache-control', 'no-store');
}

export const consoleSessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.post('/console/session', {
    config: { public: true, loginThrottle: true },
    schema: {
      tags, operationId: 'signInToConsole',
      summary: `Sign in to the web console with UID and password (no token): sets the HttpOnly cookie \`${SESSION_COOKIE}\`, valid ${SESSION_HOURS} h, and answers the session with its CsrfToken. Any failure: the same 401`,
      security: [],
      params: ClientScopedParams(),
      body: LoginBody,
      response: { 200: SingleEnvelope(ConsoleSession), 400: ErrorBody, 401: ErrorBody },
    },
  }, async (request, reply) => {
    const { token, record, expiresMs } = await signIn(db, app.clock, request.params.ClientsID, request.body.UID, request.body.Password);
    setCookie(request, reply, token, Math.max(0, Math.floor((expiresMs - app.clock.now()) / 1000)));
    return { records: [record], count: 1, status: 200 };
  });

  app.get('/console/session', {
    config: { consoleSession: true },
    schema: {
      tags, operationId: 'getConsoleSession', summary: 'The signed-in user and the session\'s CsrfToken (the cookie only; 401 without a live session)',
      params: ClientScopedParams(),
      response: { 200: SingleEnvelope(ConsoleSession), 400: ErrorBody, 401: ErrorBody },
    },
  }, async (request, reply) => {
    const { userId, token, expiresAt } = consoleOf(request);
    reply.header('cache-control', 'no-store');
    return { records: [await describeSession(db, request.client.id, userId, token, expiresAt)], count: 1, status: 200 };
  });

  app.delete('/console/session', {
    config: { consoleSession: true },
    schema: {
      tags, operationId: 'signOutOfConsole', summary: 'Sign out: the session ends at once and the cookie is cleared (needs X-CSRF-Token)',
      params: ClientScopedParams(),
      response: { 200: StatusOnly, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
    },
  }, async (request, reply) => {
    await signOut(db, consoleOf(request).sessionId);
    setCookie(request, reply, '', 0);
    return { status: 200 };
  });
};
