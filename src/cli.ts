// `switchboard` command line: thin wrappers over the same services the API uses.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { openStore } from './db/store.ts';
import { migrateToLatest } from './db/migrate.ts';
import { startServer } from './server.ts';
import { createClient, rotateClientToken } from './modules/clients/service.ts';
import { ApiError } from './errors.ts';

const USAGE = `Usage: switchboard <command>
  serve [--demo]                          start the API server (--demo seeds a demo on an empty store)
  migrate                                 apply pending database migrations
  clients create --name NAME [--time-zone ZONE]   create a client account; prints ClientsID and token
  clients token CLIENTS_ID                make a new token for a client (the old one stops working)

Environment: PORT, HOST, DATABASE_URL (postgres://… selects PostgreSQL), SWITCHBOARD_DATA_DIR,
SWITCHBOARD_ADMIN_TOKEN, LOG_LEVEL`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      demo: { type: 'boolean', default: false },
      name: { type: 'string' },
      'time-zone': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadConfig();

  if (command === 'serve') {
    const running = await startServer(config, { demo: values.demo });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        running.app.log.info({ signal }, 'shutting down');
        running.stop().then(() => process.exit(0), (error) => {
          running.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        });
      });
    }
    return -1; // keep running
  }

  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false });
  try {
    if (command === 'migrate') {
      const applied = await migrateToLatest(store.db);
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
      return 0;
    }
    await migrateToLatest(store.db);
    if (command === 'clients' && sub === 'create' && values.name) {
      const created = await createClient(store.db, { Name: values.name, TimeZone: values['time-zone'] });
      process.stdout.write(`ClientsID ${created.ClientsID}\nToken ${created.Token}\n`);
      return 0;
    }
    if (command === 'clients' && sub === 'token' && arg && /^\d+$/.test(arg)) {
      const rotated = await rotateClientToken(store.db, Number(arg));
      process.stdout.write(`ClientsID ${rotated.ClientsID}\nToken ${rotated.Token}\n`);
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(`switchboard: ${error instanceof ApiError || error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
