// Starts Switchboard: takes the embedded store's data folder, opens the store (migrating it),
// makes sure an admin token exists, seeds the demo on an empty store when asked, listens, and
// shuts down gracefully on SIGTERM/SIGINT. A start that fails closes whatever it opened and
// throws a StartFailure naming the cause.
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { build } from './app.ts';
import type { Config } from './config.ts';
import { openStore, type Store } from './db/store.ts';
import { LATEST_MIGRATION } from './db/migrate.ts';
import { lockDataFolder, usesDataFolder, type FolderLock } from './db/folder-lock.ts';
import { ensureAdminToken } from './modules/clients/admin-token.ts';
import { issueLocalAdminToken } from './http/local-admin.ts';
import { seedDemo, type DemoCredentials } from './demo.ts';
import { listenFailure, storeFailure } from './start-failure.ts';
import { trackDrain } from './http/drain.ts';

export interface Running {
  app: FastifyInstance;
  store: Store;
  url: string;
  stop(): Promise<void>;
}

/** How long a failed start may spend closing what it opened before the process gives up on it. */
const CLEANUP_MS = 3000;

export interface StartOptions {
  demo?: boolean;
  out?: (line: string) => void;
  /** The data folder, taken already (the command line takes it before loading the server). */
  lock?: FolderLock;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<Running> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Undone in reverse order when the start fails.
  const opened: (() => unknown)[] = [];
  try {
    const lock = options.lock ?? (usesDataFolder(config) ? await lockDataFolder(config.dataDir, 'serve') : undefined);
    if (lock) opened.push(() => lock.release());
    // Opening a large store takes seconds: a port already taken is said before that.
    await ensurePortFree(config.host, config.port);
    const store = await openStore({
      databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, poolIdleMs: config.databasePoolIdleMs,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
    }).catch((error: unknown) => {
      throw storeFailure(error, config);
    });
    opened.push(() => store.close());
    const adminToken = await ensureAdminToken(store.db, config.adminToken);
    const app = await build({
      store, bodyLimit: config.bodyLimit, logger: { level: config.logLevel }, distribute: true,
      limits: config.limits, metrics: config.metrics, trustProxy: config.trustProxy,
      cors: config.corsOrigins,
      webhooks: { allowPrivate: config.webhooksAllowPrivate, timeoutMs: config.webhooksTimeoutMs, secretKey: config.webhooksSecretKey },
    });
    opened.push(() => app.close());
    const drain = trackDrain(app.server);
    let demo: DemoCredentials | undefined;
    if (options.demo) demo = await seedDemo(app);
    await app.listen({ port: config.port, host: config.host }).catch((error: unknown) => {
      throw listenFailure(error, config.host, config.port);
    });

    const port = (app.server.address() as { port: number }).port;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${port}`;
    // Commands on this host reach the server through the lock (see src/cli/remote.ts).
    lock?.update({ url: `http://${dialHost(config.host)}:${port}`, adminToken: issueLocalAdminToken(store), migration: LATEST_MIGRATION });
    printBanner(out, url, store, adminToken, !!config.adminToken, demo, cliPrefix(config));

    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= (async () => {
      try {
        await drain.drain(Math.min(config.shutdownGraceMs, 1000));
        // close() lets in-flight requests finish; a client that stalls a download must not hold
        // the shutdown forever, so after the grace period its socket goes.
        const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(force);
        }
        await store.close();
      } finally {
        lock?.release();
      }
    })());
    return { app, store, url, stop };
  } catch (error) {
    await undo(opened);
    throw error;
  }
}

/** Fails with listenFailure when `port` cannot be bound on `host` right now (port 0 always can). */
async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolvePromise, reject) => {
    probe.once('error', (error) => reject(listenFailure(error, host, port)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePromise()));
  });
}

async function undo(opened: (() => unknown)[]): Promise<void> {
  const all = (async () => {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch { /* the start failure is what the operator needs to read */ }
    }
  })();
  await Promise.race([all, new Promise((r) => setTimeout(r, CLEANUP_MS).unref())]);
}

/** An address this host reaches a server listening on `host` at. */
function dialHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** What a command on this host needs in front of `npx switchboard` to reach the same store. */
function cliPrefix(config: Config): string {
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    // A password stays out of the banner (and the logs it lands in).
    return url.password ? 'DATABASE_URL=<the same URL> ' : `DATABASE_URL=${config.databaseUrl} `;
  }
  return config.dataDir === './data' ? '' : `SWITCHBOARD_DATA_DIR=${resolve(config.dataDir)} `;
}

function printBanner(out: (line: string) => void, url: string, store: Store, adminToken: string | undefined, adminFromEnv: boolean, demo: DemoCredentials | undefined, cli: string): void {
  out('');
  out(`Switchboard listening on ${url} (store: ${store.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`);
  out(`  API docs:      ${url}/docs`);
  if (adminToken && !adminFromEnv) out(`  Admin token:   ${adminToken}   (shown once; only its hash is stored)`);
  else if (!adminToken) out('  Admin token:   set earlier (only its hash is stored); set SWITCHBOARD_ADMIN_TOKEN to choose one');
  if (demo) {
    const base = `${url}/rest/v1.0/${demo.clientId}`;
    out(`  Demo client:   ClientsID ${demo.clientId}`);
    out(`  Base URL:      ${base}`);
    out(`  Client token:  ${demo.token}   (shown once; \`${cli}npx switchboard clients token ${demo.clientId}\` makes a new one)`);
    out('  Try:');
    out(`    curl -s -H "Authorization: Bearer ${demo.token}" ${base}/acd/events`);
    for (const agent of demo.agents) {
      out(`  Agent ${agent.uid} (password ${agent.password}) is logged in; their ${agent.work.endsWith('dialler') ? 'dialler work' : 'inbox'}:`);
      out(`    curl -s -H "Authorization: Bearer ${agent.token}" ${base}${agent.work}`);
    }
    out(`  Web console:   ${url}/?client=${demo.clientId}   (agents as above; supervisor ${demo.supervisor.uid}, password ${demo.supervisor.password})`);
  }
  out('');
}
