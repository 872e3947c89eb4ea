// Idempotency-Key (IETF httpapi draft; spec §10) on every POST and PATCH that acts: the first
// request with a key runs and its answer is kept 24 h; the same request with that key again gets
// that answer (`Idempotent-Replayed: true`) and does nothing; another request with it gets 422;
// while the first is still running, 409. Keys belong to the caller: the client (client token),
// the agent session (agent token) or the system administrator.
//
// The lifecycle, on the routes it covers:
// - preParsing: the key is read and checked (400 naming the header), the body hashed as it
//   streams past (fingerprint.ts);
// - preHandler: the key is claimed in the database (repository.ts), so across instances exactly
//   one request runs; a running claim renews its lock, so a process that dies does not hold the
//   key longer than its lock (idempotencyTiming.lockMs, 30 s);
// - onSend: the answer is stored before it leaves, so a retry after it arrived finds it. A 5xx is
//   our failure and not the request's: the key is released and a retry runs. Any other answer,
//   4xx included, is stored: the route ran and decided, and running it again later could decide
//   otherwise (an event created meanwhile, an offer that expired) under the same key.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { IdempotencyBodyUnknown, IdempotencyKeyInUse, IdempotencyKeyReused } from '../../errors.ts';
import { BodyHash, declaredLength, keyHash, keyOf, open, requestHash, seal } from './fingerprint.ts';
import { documentIdempotency } from './schemas.ts';
import { claimKey, deleteExpiredKeys, releaseKey, renewLock, storeAnswer, takeOver, type Claim, type KeyRow } from './repository.ts';

/** How long a key answers with its first answer. */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** Lock and renewal of a running key, and the sweep of expired keys; tests shorten them. */
export const idempotencyTiming = { lockMs: 30_000, renewMs: 10_000, sweepMs: 600_000 };

/** POSTs that change nothing: a key on them is ignored. */
const READ_ONLY_POSTS = ['/dialler/doNotCall/check'];

/**
 * Headers of an answer that belong to the exchange, not to the answer (framing, request id, rate
 * limit, CORS): the replay gets its own.
 */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'x-request-id', 'retry-after', 'vary']);
const replayed = (name: string) => !NOT_REPLAYED.has(name) && !name.startsWith('ratelimit-') && !name.startsWith('access-control-');

export type KeyScope = 'admin' | 'client';

interface KeyedRequest {
  key: string;
  scope: string;
  body: BodyHash;
  claim?: Claim;
  renew?: NodeJS.Timeout;
  settled?: boolean;
}

const KEYED = Symbol('idempotency key');
type Keyed = FastifyRequest & { [KEYED]?: KeyedRequest };

/** Whose key it is: the admin, the client, or one agent session of the client. */
function scopeOf(request: FastifyRequest, scope: KeyScope): string {
  if (scope === 'admin') return 'admin';
  const actor = request.actor;
  return actor.kind === 'agent' ? `agent:${request.client.id}:${actor.sessionId}` : `client:${request.client.id}`;
}

type Verdict = 'take-over' | 'in-use' | 'mismatch' | 'replay' | 'read-body' | 'body-unknown';

/** What to do with a key some request already holds (`row`), for the request `c`. */
function verdict(row: KeyRow, c: Claim, now: number): Verdict {
  if (row.expires_at.getTime() <= now) return 'take-over';
  const differ = (a: string | number | null, b: string | number | null) => a !== null && b !== null && a !== b;
  if (row.request_hash !== c.requestHash || differ(row.body_length, c.bodyLength) || differ(row.body_hash, c.bodyHash)) return 'mismatch';
  if (row.status === null) return row.locked_until!.getTime() <= now ? 'take-over' : 'in-use';
  // The first answer went out before its body had all arrived (an import refused at its header):
  // replaying it to any body would answer for a request it never saw.
  if (row.body_hash === null) return 'body-unknown';
  // A file still arriving: its hash decides between the stored answer and 422.
  return c.bodyHash === null ? 'read-body' : 'replay';
}

function replayableHeaders(reply: FastifyReply): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined && replayed(name)) kept[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

function appendHook(route: RouteOptions, name: 'preParsing' | 'preHandler' | 'onSend' | 'onResponse', hook: unknown): void {
  const existing = route[name];
  const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  (route as unknown as Record<string, unknown>)[name] = [...hooks, hook];
}

const covers = (route: RouteOptions) => {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((m) => m === 'POST' || m === 'PATCH') && !route.config?.public
    && !READ_ONLY_POSTS.some((path) => route.url.endsWith(path));
};

const sweeping = new WeakSet<object>();

/**
 * Installs the Idempotency-Key on the routes registered on `app` after this call. `scope` says
 * whose keys they are: the admin's (admin routes) or the authenticated caller's (client routes).
 */
export function installIdempotency(app: FastifyInstance, scope: KeyScope): void {
  const db = app.store.db;
  const clock = app.clock;
  const at = (ms: number) => new Date(ms);

  // One sweep per application, on the instance that runs the background sweeps.
  if (app.distributorRunning && !sweeping.has(app.server)) {
    sweeping.add(app.server);
    const sweep = setInterval(() => {
      deleteExpiredKeys(db, at(clock.now())).catch((error) => app.log.warn({ err: error }, 'idempotency key sweep failed'));
    }, idempotencyTiming.sweepMs);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }

  const readKey = async (request: Keyed) => {
    const key = keyOf(request.raw);
    if (key !== undefined) request[KEYED] = { key, scope: scopeOf(request, scope), body: new BodyHash(request.raw) };
  };

  const holdKey = (request: Keyed, state: KeyedRequest, claim: Claim) => {
    state.claim = claim;
    state.renew = setInterval(() => {
      renewLock(db, claim, at(clock.now() + idempotencyTiming.lockMs)).catch((error) => request.log.warn({ err: error }, 'idempotency key lock renewal failed'));
    }, idempotencyTiming.renewMs);
    state.renew.unref();
  };

  const claimOrReplay = async (request: Keyed, reply: FastifyReply) => {
    const state = request[KEYED];
    if (!state) return;
    const claim: Claim = {
      scope: state.scope, keyHash: keyHash(state.scope, state.key), requestHash: requestHash(request.raw),
      bodyHash: state.body.hash ?? null, bodyLength: declaredLength(request.raw), claim: randomUUID(),
    };
    // A take-over lost to another request is read again; after a few, that one is running.
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = clock.now();
      const lock = at(now + idempotencyTiming.lockMs);
      const expires = at(now + KEY_TTL_MS);
      const held = await claimKey(db, claim, at(now), lock, expires);
      if (held === true) return holdKey(request, state, claim);
      let next = verdict(held, claim, now);
      if (next === 'read-body') next = (await state.body.rest(held.body_length ?? Infinity)) === held.body_hash ? 'replay' : 'mismatch';
      if (next === 'mismatch') throw new IdempotencyKeyReused();
      if (next === 'body-unknown') throw new IdempotencyBodyUnknown();
      if (next === 'in-use') throw new IdempotencyKeyInUse();
      if (next === 'replay') {
        const answer = open(state.scope, state.key, held.answer!);
        return reply.code(held.status!).headers(answer.headers).header('idempotent-replayed', 'true').send(answer.body);
      }
      if (await takeOver(db, claim, held.claim, at(now), lock, expires)) return holdKey(request, state, claim);
    }
    throw new IdempotencyKeyInUse();
  };

  const settle = (state: KeyedRequest) => {
    clearInterval(state.renew);
    state.settled = true;
  };

  const keepAnswer = async (request: Keyed, reply: FastifyReply, payload: unknown) => {
    const state = request[KEYED];
    if (!state?.claim || state.settled) return payload;
    settle(state);
    const claim = state.claim;
    try {
      const body = payload === undefined || payload === null ? '' : typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
      // A streamed answer cannot be replayed: nothing is kept, as if no key had been sent.
      if (reply.statusCode >= 500 || body === undefined) {
        await releaseKey(db, claim);
      } else {
        const sealed = seal(state.scope, state.key, { headers: replayableHeaders(reply), body });
        await storeAnswer(db, claim, reply.statusCode, sealed, state.body.hash ?? null, state.body.length ?? null);
      }
    } catch (error) {
      // The answer still goes out; the key stays locked until its lock lapses.
      request.log.error({ err: error }, 'idempotency key: the answer could not be kept');
    }
    return payload;
  };

  // An answer that never went through onSend (the connection broke first): the key is given up.
  const giveUp = async (request: Keyed) => {
    const state = request[KEYED];
    if (!state?.claim || state.settled) return;
    settle(state);
    await releaseKey(db, state.claim).catch((error) => request.log.warn({ err: error }, 'idempotency key release failed'));
  };

  app.addHook('onRoute', (route) => {
    if (!covers(route)) return;
    documentIdempotency(route);
    appendHook(route, 'preParsing', async (request: Keyed, _reply: FastifyReply, payload: unknown) => {
      await readKey(request);
      return payload;
    });
    appendHook(route, 'preHandler', claimOrReplay);
    appendHook(route, 'onSend', keepAnswer);
    appendHook(route, 'onResponse', giveUp);
  });
}
