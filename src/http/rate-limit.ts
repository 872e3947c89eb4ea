// Request limits on the client-scoped API, through @fastify/rate-limit with a store of our own
// (src/modules/limits/allowance.ts: counted in memory, shared through PostgreSQL in leased slices):
// - per client: requests per window per ClientsID, counted after authentication (a stranger
//   cannot spend a client's allowance), with the IETF RateLimit-Limit / -Remaining / -Reset
//   header fields on every answer;
// - the agent login, which needs no token and costs an argon2id hash: failed attempts per
//   address and per UID. An attempt counts from its start (a burst in parallel cannot slip
//   through while the hashes are being computed) and a successful one is given back. The UID's
//   count is kept whether or not the UID exists, so a 429 says nothing about it.
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { LimitSettings } from '../config.ts';
import { TooManyRequests } from '../errors.ts';
import { Allowances, MemoryLedger, type Verdict } from '../modules/limits/allowance.ts';
import { PostgresLedger } from '../modules/limits/repository.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Throttle this route's attempts per address and per UID (the agent login). */
    loginThrottle?: boolean;
  }
}

/** The keys an attempt was counted under, given back when it succeeds. */
const ATTEMPT = Symbol('login attempt');
type Counted = FastifyRequest & { [ATTEMPT]?: string[] };

/** @fastify/rate-limit's store interface over our allowances. */
function storeOf(allowances: Allowances) {
  return class LeasedStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void {
      const answer = (verdict: Verdict) => callback(null, { current: verdict.admitted ? max - verdict.remaining : max + 1, ttl: verdict.resetInMs });
      const verdict = allowances.take(key, max, timeWindow);
      if (verdict instanceof Promise) verdict.then(answer, (error: Error) => callback(error));
      else answer(verdict);
    }
    child(): LeasedStore {
      return this;
    }
  };
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function rateLimitHeaders(limit: number, remaining: number, resetSeconds: number): Record<string, string> {
  return { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetSeconds) };
}

function appendHook(route: RouteOptions, name: 'preHandler' | 'onResponse', hook: (request: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  const existing = route[name];
  const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  (route as unknown as Record<string, unknown>)[name] = [...hooks, hook];
}

/**
 * Installs the limits on the client-scoped instance, before its routes are registered. Limits of
 * 0 are off.
 */
export async function installRequestLimits(scope: FastifyInstance, settings: LimitSettings): Promise<void> {
  const ledger = scope.store.kind === 'postgres' ? new PostgresLedger(scope.store.db) : new MemoryLedger();
  const allowances = new Allowances(ledger);
  scope.addHook('onClose', async () => allowances.close());

  await scope.register(rateLimit, {
    global: settings.clientMax > 0,
    max: settings.clientMax,
    timeWindow: settings.clientWindowMs,
    // After the scope's authentication: route hooks run after the instance's.
    hook: 'onRequest',
    enableDraftSpec: true,
    // A ledger out of reach lets requests through: they meet the store's own 503 soon enough.
    skipOnError: true,
    store: storeOf(allowances),
    keyGenerator: (request) => (request.client ? `client:${request.client.id}` : 'anonymous'),
    // The login has no client yet: it has its own throttle.
    allowList: (request) => request.routeOptions.config.public === true,
    errorResponseBuilder: (_request, context) => new TooManyRequests('requests for this client', seconds(context.ttl)),
  });

  const attemptLimit = (max: number, keyOf: (request: FastifyRequest) => string) => max > 0
    ? scope.createRateLimit({ max, timeWindow: settings.loginWindowMs, keyGenerator: keyOf, allowList: undefined, skipOnError: true })
    : undefined;
  // IPv6 clients usually hold a /64: counted as one address.
  const byAddress = attemptLimit(settings.loginPerAddress, (request) => `login-address:${normalizeIP(request.ip)}`);
  const byUid = attemptLimit(settings.loginPerUid, (request) => {
    const params = request.params as { ClientsID?: string };
    const body = request.body as { UID?: string };
    return `login-uid:${params.ClientsID}:${body.UID}`;
  });

  const throttle = async (request: Counted): Promise<void> => {
    for (const limit of [byAddress, byUid]) {
      if (!limit) continue;
      const verdict = await limit(request);
      if (verdict.isAllowed) continue;
      if (verdict.isExceeded) {
        const reset = seconds(verdict.ttl);
        throw new TooManyRequests('login attempts', reset, rateLimitHeaders(verdict.max, 0, reset));
      }
      (request[ATTEMPT] ??= []).push(verdict.key);
    }
  };
  const giveBackOnSuccess = async (request: Counted, reply: FastifyReply): Promise<void> => {
    if (reply.statusCode === 200) for (const key of request[ATTEMPT] ?? []) allowances.giveBack(key);
  };

  scope.addHook('onRoute', (route) => {
    if (!route.config?.loginThrottle) return;
    // preHandler: after validation, so the body's UID is known, and before the hash is computed.
    appendHook(route, 'preHandler', throttle);
    appendHook(route, 'onResponse', giveBackOnSuccess);
  });
}
