// The two stores behind one Kysely PostgreSQL dialect: PGlite in a data folder (embedded
// default) and PostgreSQL through a pg pool (production, many instances).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteSessionDialect } from './pglite-dialect.ts';
import { preparingClient } from './prepared.ts';
import { migrateToLatest } from './migrate.ts';
import { registerCopyOut } from './copy-out.ts';
import type { Database } from './schema.ts';

export type StoreKind = 'pglite' | 'postgres';

/**
 * The channel every published change notifies, with the payload "<ClientsID>:<UsersID>" (UsersID
 * empty when no agent is concerned; the whole payload empty means "look, something may have been
 * missed"); see migration 004.
 */
export const CHANGE_CHANNEL = 'switchboard';

export interface Store {
  kind: StoreKind;
  db: Kysely<Database>;
  /**
   * Calls `listener` with the payload of every notification on CHANGE_CHANNEL, from this process
   * or (on PostgreSQL) any other; returns the unsubscribe function.
   */
  onChange(listener: (payload: string) => void): () => void;
  close(): Promise<void>;
}

/** Fan-out of one notification source to many in-process listeners. */
class ChangeListeners {
  readonly #listeners = new Set<(payload: string) => void>();
  add(listener: (payload: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(payload: string): void {
    for (const listener of this.#listeners) listener(payload);
  }
}

export interface StoreOptions {
  databaseUrl?: string;
  /** Folder for PGlite; `memory://` or undefined keeps it in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  migrate?: boolean;
  /**
   * PostgreSQL: send repeated parameterized statements named (prepared once per connection);
   * default true. Turn off behind a pooler that moves clients between server connections per
   * transaction without tracking prepared statements (PgBouncer < 1.21, or max_prepared_statements
   * at 0). PGlite, in process, always names them.
   */
  preparedStatements?: boolean;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize, options.preparedStatements !== false)
    : await openPGlite(options.dataDir);
  if (options.migrate !== false) await migrateToLatest(store.db);
  return store;
}

function openPostgres(url: string, poolSize = 10, prepared = true): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, ...(prepared && { Client: preparingClient() }) });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  registerCopyOut(db, pool);
  const listeners = new ChangeListeners();
  const listener = new PostgresListener(url, listeners);
  return {
    kind: 'postgres',
    db,
    onChange: (fn) => {
      listener.ensure();
      return listeners.add(fn);
    },
    close: async () => {
      await listener.close();
      await db.destroy();
    },
  };
}

/**
 * One connection outside the pool that LISTENs, opened on first use. When it drops it comes back
 * after a pause; what was notified meanwhile is not lost, because listeners treat a notification
 * only as a hint to read the tables (and the distributor sweeps anyway).
 */
class PostgresListener {
  readonly #url: string;
  readonly #listeners: ChangeListeners;
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  constructor(url: string, listeners: ChangeListeners) {
    this.#url = url;
    this.#listeners = listeners;
  }
  ensure(): void {
    if (this.#client || this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url });
    this.#client = client;
    const reconnect = () => {
      if (this.#client !== client) return;
      this.#client = null;
      client.end().catch(() => undefined);
      if (!this.#closed) {
        this.#retry = setTimeout(() => this.ensure(), 1000);
        this.#retry.unref();
      }
    };
    client.on('notification', (message) => this.#listeners.emit(message.payload ?? ''));
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.connect()
      .then(() => client.query(`LISTEN ${CHANGE_CHANNEL}`))
      // A reconnect may have missed notifications: tell listeners to look.
      .then(() => this.#listeners.emit(''))
      .catch(reconnect);
  }
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }
}

async function openPGlite(dataDir?: string): Promise<Store> {
  let pglite: PGlite;
  if (!dataDir || dataDir.startsWith('memory://')) {
    pglite = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    pglite = new PGlite(dataDir);
  }
  await pglite.waitReady;
  // LISTEN now, before any traffic: issued later it could land inside another caller's
  // transaction on the single session, and vanish with its rollback.
  const listeners = new ChangeListeners();
  await pglite.listen(CHANGE_CHANNEL, (payload) => listeners.emit(payload));
  const db = new Kysely<Database>({ dialect: new PGliteSessionDialect(pglite) });
  return { kind: 'pglite', db, onChange: (fn) => listeners.add(fn), close: () => db.destroy() };
}

export async function isReachable(store: Store): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}
