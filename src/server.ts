// Starts Switchboard: opens the store (migrating it), makes sure an admin token exists, seeds the
// demo on an empty store when asked, listens, and shuts down gracefully on SIGTERM/SIGINT.
import type { FastifyInstance } from 'fastify';
import { build } from './app.ts';
import type { Config } from './config.ts';
import { openStore, type Store } from './db/store.ts';
import { ensureAdminToken } from './modules/clients/admin-token.ts';
import { seedDemo, type DemoCredentials } from './demo.ts';

export interface Running {
  app: FastifyInstance;
  store: Store;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: { demo?: boolean; out?: (line: string) => void } = {}): Promise<Running> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const store = await openStore({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize, poolIdleMs: config.databasePoolIdleMs,
  });
  const adminToken = await ensureAdminToken(store.db, config.adminToken);
  const app = await build({ store, bodyLimit: config.bodyLimit, logger: { level: config.logLevel }, distribute: true });
  let demo: DemoCredentials | undefined;
  if (options.demo) demo = await seedDemo(app);
  await app.listen({ port: config.port, host: config.host });

  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${shownHost}:${(app.server.address() as { port: number }).port}`;
  printBanner(out, url, store, adminToken, !!config.adminToken, demo);

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    // close() stops accepting and lets in-flight requests finish; a client that stalls a
    // download must not hold the shutdown forever, so after the grace period its socket goes.
    const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
    try {
      await app.close();
    } finally {
      clearTimeout(force);
    }
    await store.close();
  })());
  return { app, store, url, stop };
}

function printBanner(out: (line: string) => void, url: string, store: Store, adminToken: string | undefined, adminFromEnv: boolean, demo: DemoCredentials | undefined): void {
  out('');
  out(`Switchboard listening on ${url} (store: ${store.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`);
  out(`  API docs:      ${url}/docs`);
  if (adminToken && !adminFromEnv) out(`  Admin token:   ${adminToken}   (shown once; only its hash is stored)`);
  else if (!adminToken) out('  Admin token:   set earlier (only its hash is stored); set SWITCHBOARD_ADMIN_TOKEN to choose one');
  if (demo) {
    const base = `${url}/rest/v1.0/${demo.clientId}`;
    out(`  Demo client:   ClientsID ${demo.clientId}`);
    out(`  Base URL:      ${base}`);
    out(`  Client token:  ${demo.token}   (shown once; \`npx switchboard clients token ${demo.clientId}\` makes a new one)`);
    out('  Try:');
    out(`    curl -s -H "Authorization: Bearer ${demo.token}" ${base}/acd/events`);
    for (const agent of demo.agents) {
      out(`  Agent ${agent.uid} (password ${agent.password}) is logged in; their inbox:`);
      out(`    curl -s -H "Authorization: Bearer ${agent.token}" ${base}/agents/me/events`);
    }
  }
  out('');
}
