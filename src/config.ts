// Configuration comes from the environment only, so the same build runs on a laptop
// (embedded store in ./data) and in production (PostgreSQL, many instances).

export interface Config {
  port: number;
  host: string;
  /** `postgres://…` selects PostgreSQL; absent selects the embedded PGlite store. */
  databaseUrl: string | undefined;
  dataDir: string;
  adminToken: string | undefined;
  logLevel: string;
  /** Largest accepted request body in bytes (413 beyond). */
  bodyLimit: number;
  /** How long a shutdown waits for in-flight requests before closing their connections. */
  shutdownGraceMs: number;
  /** PostgreSQL: connections per instance, and how long one may sit idle before it is closed. */
  databasePoolSize: number;
  databasePoolIdleMs: number;
  /** PostgreSQL: how long connecting (or waiting for a pooled connection) may take before a 503. */
  databaseConnectTimeoutMs: number;
  /** Request limits (src/http/rate-limit.ts). */
  limits: LimitSettings;
  /** Who may read GET /metrics, and how many groups it names (src/http/metrics.ts). */
  metrics: MetricsSettings;
  /** Fastify's trustProxy: whose X-Forwarded-For names the client's address (login throttle). */
  trustProxy: TrustProxy;
  /** SWITCHBOARD_CORS_ORIGINS: which web origins may call the API from a browser (src/http/cors.ts). */
  corsOrigins: CorsOrigins;
  /** SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE=1: webhooks may target loopback and private addresses. */
  webhooksAllowPrivate: boolean;
  /** SWITCHBOARD_WEBHOOKS_TIMEOUT_MS: a webhook attempt's deadline (default 10 s). */
  webhooksTimeoutMs: number;
  /** SWITCHBOARD_WEBHOOKS_SECRET_KEY: seals webhook signing secrets at rest; unset: stored as they are. */
  webhooksSecretKey: string | undefined;
}

/** The PostgreSQL pool's settings when none are given (see StoreOptions). */
export const POOL_DEFAULTS = { size: 10, idleMs: 300_000, connectTimeoutMs: 5000 } as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded store)');
  }
  return {
    port: portFrom(env.PORT),
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    dataDir: env.SWITCHBOARD_DATA_DIR || './data',
    adminToken: env.SWITCHBOARD_ADMIN_TOKEN || undefined,
    logLevel: logLevelFrom(env.LOG_LEVEL),
    bodyLimit: intFrom(env.SWITCHBOARD_BODY_LIMIT, 2 * 1024 * 1024, 'SWITCHBOARD_BODY_LIMIT'),
    shutdownGraceMs: intFrom(env.SWITCHBOARD_SHUTDOWN_GRACE_MS, 10_000, 'SWITCHBOARD_SHUTDOWN_GRACE_MS'),
    databasePoolSize: positiveIntFrom(env.SWITCHBOARD_DB_POOL_SIZE, POOL_DEFAULTS.size, 'SWITCHBOARD_DB_POOL_SIZE'),
    databasePoolIdleMs: intFrom(env.SWITCHBOARD_DB_POOL_IDLE_MS, POOL_DEFAULTS.idleMs, 'SWITCHBOARD_DB_POOL_IDLE_MS'),
    databaseConnectTimeoutMs: positiveIntFrom(env.SWITCHBOARD_DB_CONNECT_TIMEOUT_MS, POOL_DEFAULTS.connectTimeoutMs, 'SWITCHBOARD_DB_CONNECT_TIMEOUT_MS'),
    limits: limitsFrom(env),
    metrics: metricsFrom(env),
    trustProxy: trustProxyFrom(env.SWITCHBOARD_TRUST_PROXY),
    corsOrigins: corsOriginsFrom(env.SWITCHBOARD_CORS_ORIGINS),
    webhooksAllowPrivate: flagFrom(env.SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE, 'SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE'),
    webhooksTimeoutMs: positiveIntFrom(env.SWITCHBOARD_WEBHOOKS_TIMEOUT_MS, 10_000, 'SWITCHBOARD_WEBHOOKS_TIMEOUT_MS'),
    webhooksSecretKey: env.SWITCHBOARD_WEBHOOKS_SECRET_KEY || undefined,
  };
}

/** pino's levels: anything else would fail only later, after the store was opened. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function logLevelFrom(value: string | undefined): string {
  if (!value) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return value;
}

function flagFrom(value: string | undefined, name: string): boolean {
  if (value === undefined || ['', '0', 'false'].includes(value)) return false;
  if (['1', 'true'].includes(value)) return true;
  throw new Error(`${name} must be 1 or 0 (true or false), got "${value}"`);
}

function portFrom(value: string | undefined): number {
  const port = intFrom(value, 8080, 'PORT');
  if (port > 65535) throw new Error(`PORT must be at most 65535, got "${value}"`);
  return port;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function positiveIntFrom(value: string | undefined, fallback: number, name: string): number {
  const n = intFrom(value, fallback, name);
  if (n === 0) throw new Error(`${name} must be at least 1`);
  return n;
}

export interface LimitSettings {
  /** SWITCHBOARD_RATE_LIMIT: requests per client per window, 0 = off. High by default: a
   * guard against one tenant starving the others, not a quota (one instance serves ~5,000/s). */
  clientMax: number;
  /** SWITCHBOARD_RATE_LIMIT_WINDOW_MS */
  clientWindowMs: number;
  /** SWITCHBOARD_LOGIN_LIMIT_PER_ADDRESS: failed agent logins per address per login window, 0 = off. */
  loginPerAddress: number;
  /** SWITCHBOARD_LOGIN_LIMIT_PER_UID: failed agent logins per UID per login window, 0 = off. */
  loginPerUid: number;
  /** SWITCHBOARD_LOGIN_LIMIT_WINDOW_MS */
  loginWindowMs: number;
}

export const LIMIT_DEFAULTS: LimitSettings = {
  clientMax: 600_000, clientWindowMs: 60_000, loginPerAddress: 100, loginPerUid: 10, loginWindowMs: 600_000,
};

export interface MetricsSettings {
  /** SWITCHBOARD_METRICS_TOKEN: a bearer token that reads /metrics (besides the admin token). */
  token: string | undefined;
  /** SWITCHBOARD_METRICS_PUBLIC=true: /metrics without any token (a scrape on a private network). */
  public: boolean;
  /** SWITCHBOARD_METRICS_TOP_GROUPS: groups named with their own waiting/offered counts. */
  topGroups: number;
}

export const METRICS_DEFAULTS: MetricsSettings = { token: undefined, public: false, topGroups: 20 };

function limitsFrom(env: NodeJS.ProcessEnv): LimitSettings {
  const d = LIMIT_DEFAULTS;
  return {
    clientMax: intFrom(env.SWITCHBOARD_RATE_LIMIT, d.clientMax, 'SWITCHBOARD_RATE_LIMIT'),
    clientWindowMs: positiveIntFrom(env.SWITCHBOARD_RATE_LIMIT_WINDOW_MS, d.clientWindowMs, 'SWITCHBOARD_RATE_LIMIT_WINDOW_MS'),
    loginPerAddress: intFrom(env.SWITCHBOARD_LOGIN_LIMIT_PER_ADDRESS, d.loginPerAddress, 'SWITCHBOARD_LOGIN_LIMIT_PER_ADDRESS'),
    loginPerUid: intFrom(env.SWITCHBOARD_LOGIN_LIMIT_PER_UID, d.loginPerUid, 'SWITCHBOARD_LOGIN_LIMIT_PER_UID'),
    loginWindowMs: positiveIntFrom(env.SWITCHBOARD_LOGIN_LIMIT_WINDOW_MS, d.loginWindowMs, 'SWITCHBOARD_LOGIN_LIMIT_WINDOW_MS'),
  };
}

function metricsFrom(env: NodeJS.ProcessEnv): MetricsSettings {
  const open = env.SWITCHBOARD_METRICS_PUBLIC ?? '';
  if (!['', 'true', 'false'].includes(open)) throw new Error(`SWITCHBOARD_METRICS_PUBLIC must be true or false, got "${open}"`);
  return {
    token: env.SWITCHBOARD_METRICS_TOKEN || undefined,
    public: open === 'true',
    topGroups: intFrom(env.SWITCHBOARD_METRICS_TOP_GROUPS, METRICS_DEFAULTS.topGroups, 'SWITCHBOARD_METRICS_TOP_GROUPS'),
  };
}

export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** `true`/`false`, a number of proxy hops, or addresses/CIDRs separated by commas. */
function trustProxyFrom(value: string | undefined): TrustProxy {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value;
}

/** Off (no CORS headers, the default), any origin (`*`), or these origins exactly. */
export type CorsOrigins = false | '*' | string[];

/**
 * SWITCHBOARD_CORS_ORIGINS: origins separated by commas, each `scheme://host[:port]` as a browser
 * sends it in `Origin`; `*` alone: any origin. Unset or empty: off.
 */
function corsOriginsFrom(value: string | undefined): CorsOrigins {
  const items = (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length === 0) return false;
  if (items.includes('*')) {
    if (items.length > 1) throw new Error(`SWITCHBOARD_CORS_ORIGINS: "*" (any origin) stands alone, got "${value}"`);
    return '*';
  }
  for (const item of items) {
    let origin: string | undefined;
    try {
      origin = new URL(item).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== item.toLowerCase() || !/^https?:/.test(item)) {
      throw new Error(`SWITCHBOARD_CORS_ORIGINS: "${item}" is not an origin (http(s)://host[:port], no path or trailing slash)`);
    }
  }
  return items.map((item) => item.toLowerCase());
}
