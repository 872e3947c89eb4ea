// `switchboard` command line: thin wrappers over the same services the API uses. Help and the
// version answer before anything heavy is loaded (no store, no folder lock). Every failure ends
// the process non-zero with one line on stderr naming the cause: 2 for a wrong command line, 1
// for anything else.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { COMMAND_HELP, USAGE } from './cli/help.ts';
import { loadConfig, type Config } from './config.ts';

class UsageError extends Error {}

const COMMANDS = new Set(['serve', 'migrate', 'clients', 'contacts']);

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        demo: { type: 'boolean', default: false },
        name: { type: 'string' },
        'time-zone': { type: 'string' },
        campaign: { type: 'string' },
        client: { type: 'string' },
        format: { type: 'string' },
        overwrite: { type: 'boolean' },
        reset: { type: 'boolean' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, sub, arg] = positionals;
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`switchboard ${pkg.version}\n`);
    return 0;
  }
  if (command === 'help') return help(sub);
  if (values.help || !command) return help(command, !values.help);
  if (!COMMANDS.has(command)) throw new UsageError(`unknown command "${command}" (see switchboard --help)`);

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    throw new (await import('./errors.ts')).StartFailure((error as Error).message);
  }
  if (command === 'serve') return serve(config, values.demo);

  if (command === 'clients' && sub === 'create') {
    if (!values.name) throw new UsageError('clients create needs --name NAME (see switchboard clients --help)');
    const input = { Name: values.name, TimeZone: values['time-zone'] };
    return printCredentials(await withStore(config, 'clients create', {
      local: async (db) => (await import('./modules/clients/service.ts')).createClient(db, input),
      remote: async (holder) => (await import('./cli/remote.ts')).createClientOnServer(holder, input),
    }));
  }
  if (command === 'clients' && sub === 'token') {
    if (!arg || !/^[1-9]\d{0,9}$/.test(arg) || Number(arg) > 2_147_483_647) throw new UsageError('clients token needs a CLIENTS_ID (see switchboard clients --help)');
    const id = Number(arg);
    return printCredentials(await withStore(config, 'clients token', {
      local: async (db) => (await import('./modules/clients/service.ts')).rotateClientToken(db, id),
      remote: async (holder) => (await import('./cli/remote.ts')).rotateTokenOnServer(holder, id),
    }));
  }
  if (command === 'contacts' && sub === 'import') {
    const contacts = await import('./cli/contacts.ts');
    const args = contacts.contactsImportArgs(arg, values);
    if (typeof args === 'string') throw new UsageError(args);
    return contacts.printReport(await withStore(config, 'contacts import', {
      local: (db) => contacts.importLocally(db, args),
      remote: (holder) => contacts.importOnServer(holder, args),
    }));
  }
  if (command === 'migrate') {
    const { migrateToLatest } = await import('./db/migrate.ts');
    process.stdout.write(`${await withStore(config, 'migrate', {
      migrate: false,
      local: async (db) => {
        const applied = await migrateToLatest(db);
        return applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date';
      },
      remote: async (holder) => (await import('./cli/remote.ts')).migrationsOfServer(holder),
    })}\n`);
    return 0;
  }
  throw new UsageError(`unknown command "${positionals.join(' ')}" (see switchboard ${command} --help)`);
}

function help(command: string | undefined, asError = false): number {
  const text = command && COMMAND_HELP[command] ? COMMAND_HELP[command] : USAGE;
  (asError ? process.stderr : process.stdout).write(`${text}\n`);
  return asError ? 2 : 0;
}

function printCredentials(credentials: { ClientsID: number; Token: string }): number {
  process.stdout.write(`ClientsID ${credentials.ClientsID}\nToken ${credentials.Token}\n`);
  return 0;
}

type Db = import('kysely').Kysely<import('./db/schema.ts').Database>;
type Holder = import('./db/folder-lock.ts').LockHolder;

/**
 * Runs a command on the store: itself when it may open it (PostgreSQL, or a data folder nobody
 * holds), else through the server holding the folder.
 */
async function withStore<T>(config: Config, command: string, how: { local(db: Db): Promise<T>; remote(holder: Holder): Promise<T>; migrate?: boolean }): Promise<T> {
  const { usesDataFolder } = await import('./db/folder-lock.ts');
  let lock: import('./db/folder-lock.ts').FolderLock | undefined;
  if (usesDataFolder(config)) {
    const outcome = await (await import('./cli/remote.ts')).lockOrFindServer(config.dataDir, command);
    if (outcome.kind === 'server') return how.remote(outcome.holder);
    lock = outcome.lock;
  }
  try {
    const { openStore } = await import('./db/store.ts');
    const { migrateToLatest } = await import('./db/migrate.ts');
    const { storeFailure } = await import('./start-failure.ts');
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false, connectTimeoutMs: config.databaseConnectTimeoutMs })
      .catch((error: unknown) => { throw storeFailure(error, config); });
    try {
      if (how.migrate !== false) await migrateToLatest(store.db);
      return await how.local(store.db);
    } finally {
      await store.close();
    }
  } finally {
    lock?.release();
  }
}

async function serve(config: Config, demo: boolean): Promise<number> {
  // The folder first: a second server fails before it spends seconds loading the first one's code.
  const { lockDataFolder, usesDataFolder } = await import('./db/folder-lock.ts');
  const lock = usesDataFolder(config) ? await lockDataFolder(config.dataDir, 'serve') : undefined;
  const { startServer } = await import('./server.ts');
  const running = await startServer(config, { demo, lock });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.app.log.info({ signal }, 'shutting down');
      running.stop().then(() => process.exit(0), (error: unknown) => {
        running.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  async (error: unknown) => {
    const { describeError } = await import('./start-failure.ts');
    process.stderr.write(`switchboard: ${describeError(error)}\n`);
    // Whatever a failed start left open (a pool, a timer) must not keep the process alive.
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
