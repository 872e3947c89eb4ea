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
}

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
  };
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}
