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
}

/** The PostgreSQL pool's settings when none are given (see StoreOptions). */
export const POOL_DEFAULTS = { size: 10, idleMs: 300_000 } as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded store)');
  }
  return {
    port: intFrom(env.PORT, 8080, 'PORT'),
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    dataDir: env.SWITCHBOARD_DATA_DIR || './data',
    adminToken: env.SWITCHBOARD_ADMIN_TOKEN || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: intFrom(env.SWITCHBOARD_BODY_LIMIT, 2 * 1024 * 1024, 'SWITCHBOARD_BODY_LIMIT'),
    shutdownGraceMs: intFrom(env.SWITCHBOARD_SHUTDOWN_GRACE_MS, 10_000, 'SWITCHBOARD_SHUTDOWN_GRACE_MS'),
    databasePoolSize: positiveIntFrom(env.SWITCHBOARD_DB_POOL_SIZE, POOL_DEFAULTS.size, 'SWITCHBOARD_DB_POOL_SIZE'),
    databasePoolIdleMs: intFrom(env.SWITCHBOARD_DB_POOL_IDLE_MS, POOL_DEFAULTS.idleMs, 'SWITCHBOARD_DB_POOL_IDLE_MS'),
  };
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
