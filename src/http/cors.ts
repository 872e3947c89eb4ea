// CORS, off unless SWITCHBOARD_CORS_ORIGINS names origins: a browser application on one of them
// may then call the API with a token it holds (the Authorization header, never cookies, so no
// credentials mode). `*` lets any origin do so; the token still decides what a call may do.
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { CorsOrigins } from '../config.ts';

/** Request headers a browser may send besides the simple ones. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'];
/** Answer headers a browser application may read. */
const EXPOSED_HEADERS = [
  'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'switchboard-do-not-call',
];

export function corsOptions(origins: Exclude<CorsOrigins, false>): FastifyCorsOptions {
  return {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    // Browsers cache a preflight's answer this long (seconds) instead of asking before every call.
    maxAge: 600,
    // A refused preflight still answers 204, without the Allow-* headers: the browser then blocks the call.
    strictPreflight: true,
  };
}

export async function installCors(app: FastifyInstance, origins: CorsOrigins): Promise<void> {
  if (origins === false) return;
  await app.register(cors, corsOptions(origins));
}
