// The two stores behind one Kysely PostgreSQL dialect: PGlite in a data folder (embedded
// default) and PostgreSQL through a pg pool (production, many instances).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { POOL_DEFAULTS } from '../config.ts';
import { PGliteSessionDialect } from './pglite-dialect.ts';
import { freshClusterTemplate } from './pglite-footprint.ts';
import { preparingClient } from './prepared.ts';
import { migrateToLatest } from './migrate.ts';
import { registerAnnouncer } from './announce.ts';
import { registerCopyOut } from './copy-out.ts';
import { ChangeListeners, PostgresListener } from './postgres-listener.ts';
import type { Database } from './schema.ts';

export { joinPayloads } from './postgres-listener.ts';

export type StoreKind = 'pglite' | 'postgres';

/**
 * The channel every published change notifies, with the payload "<ClientsID>:<UsersID>" (UsersID
 * empty when no agent is concerned; the whole payload empty means "look, something may have been
 * missed"); see migration 004.
 */
export const CHANGE_CHANNEL = 'switchboard';

/**
 * The channel a change of credentials notifies (migration 005): "c:<ClientsID>" when a client's
 * token or time zone changed or the client went, "u:<UsersID>" when a session of that agent
 * ended. Instances that cache credentials forget the entries concerned.
 */
export const CREDENTIALS_CHANNEL = 'switchboard_credentials';

export interface Store {
  kind: StoreKind;
  db: Kysely<Database>;
  /**
   * Calls `listener` with the payload of every notification on CHANGE_CHANNEL, from this process
   * or (on PostgreSQL) any other; returns the unsubscribe function.
   */
  onChange(listener: (payload: string) => void): () => void;
  /**
   * Publishes a committed change on CHANGE_CHANNEL that no trigger announced (an event's
   * creation, migration 005; the hot paths' transitions, src/db/announce.ts): this process's
   * listeners hear it at once, other instances within a few milliseconds, many announcements
   * sharing one NOTIFY.
   */
  announce(payload: string): void;
  /**
   * Calls `listener` with the payload of every notification on CREDENTIALS_CHANNEL, and with ''
   * whenever notifications may have been missed (the listening connection dropped or came back).
   */
  onCredentialsChange(listener: (payload: string) => void): () => void;
  /**
   * Whether every notification is being received right now: a cache may trust what it learned
   * only while this holds (PGlite: always; PostgreSQL: while the listening connection is up).
   */
  notificationsLive(): boolean;
  /** PostgreSQL: the pool's connections right now (metrics); PGlite has no pool. */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  /** Folder for PGlite; `memory://` or undefined keeps it in memory (tests). */
  dataDir?: string;
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: how long a connection may sit idle before the pool closes it (default 5 minutes;
   * 0 keeps them open). Long, because a fresh connection costs the server a backend process with
   * cold caches and this process its prepared statements: a burst after a quiet minute would pay
   * for that on every connection at once.
   */
  poolIdleMs?: number;
  /**
   * PostgreSQL: how long opening a connection, or waiting for a free one in the pool, may take
   * before the statement fails as "store not reachable" (default 5 s). Also the deadline of the
   * listening connection's heartbeat.
   */
  connectTimeoutMs?: number;
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
    ? openPostgres(options.databaseUrl, options)
    : await openPGlite(options.dataDir);
  if (options.migrate !== false) await migrateToLatest(store.db);
  registerAnnouncer(store.db, store.announce);
  return store;
}

function openPostgres(url: string, options: StoreOptions): Store {
  const connectTimeoutMs = options.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? POOL_DEFAULTS.size,
    idleTimeoutMillis: options.poolIdleMs ?? POOL_DEFAULTS.idleMs,
    // Bounds both connecting and waiting for a free connection: a server that refuses, or a
    // network that swallows, the connection gives an error (a 503) instead of a request that hangs.
    connectionTimeoutMillis: connectTimeoutMs,
    // A connection idle in the pool whose server vanished is noticed and replaced.
    keepAlive: true,
    Client: lossTolerant(options.preparedStatements !== false ? preparingClient() : pg.Client),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  registerCopyOut(db, pool);
  const channels = { [CHANGE_CHANNEL]: new ChangeListeners(), [CREDENTIALS_CHANNEL]: new ChangeListeners() };
  const listener = new PostgresListener(url, channels, { connectTimeoutMs });
  const announcer = new Announcer((payloads) => listener.notify(CHANGE_CHANNEL, payloads, db));
  return {
    kind: 'postgres',
    db,
    onChange: (fn) => {
      listener.ensure();
      return channels[CHANGE_CHANNEL].add(fn);
    },
    announce: (payload) => {
      channels[CHANGE_CHANNEL].emit(payload);
      announcer.add(payload);
    },
    onCredentialsChange: (fn) => {
      listener.ensure();
      return channels[CREDENTIALS_CHANNEL].add(fn);
    },
    notificationsLive: () => listener.live,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: async () => {
      await announcer.close();
      await listener.close();
      await db.destroy();
    },
  };
}

/**
 * The pool's client class, made safe to lose its connection while checked out (inside a
 * transaction, between a COPY's batches, during a statement): pg then emits 'error', which with
 * no listener ends the process, and the pool listens only to the clients it holds idle. The
 * event needs nothing more: the statement in flight, or the next one, fails with the cause, and
 * the pool discards a client that broke when it comes back.
 */
function lossTolerant(base: typeof pg.Client): typeof pg.Client {
  return class LossTolerantClient extends base {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.on('error', () => undefined);
    }
  };
}

/** How long announcements gather before they go out in one NOTIFY. */
const ANNOUNCE_DELAY_MS = 5;

/**
 * Gathers announcements and sends them together: at most one NOTIFY transaction in flight and one
 * every few milliseconds, however many changes commit meanwhile (PostgreSQL serialises the
 * commits of notifying transactions, so one per change would cap the rate of changes).
 */
class Announcer {
  readonly #send: (payloads: string[]) => Promise<void>;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #sending: Promise<void> | null = null;
  constructor(send: (payloads: string[]) => Promise<void>) {
    this.#send = send;
  }
  add(payload: string): void {
    this.#pending.add(payload);
    this.#schedule();
  }
  #schedule(): void {
    if (this.#timer || this.#sending || this.#pending.size === 0) return;
    this.#timer = setTimeout(() => this.#flush(), ANNOUNCE_DELAY_MS);
  }
  #flush(): void {
    this.#timer = null;
    const payloads = [...this.#pending];
    this.#pending.clear();
    // A failed NOTIFY only delays other instances: their sweeps and polls find the change.
    this.#sending = this.#send(payloads).catch(() => undefined).finally(() => {
      this.#sending = null;
      this.#schedule();
    });
  }
  async close(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#flush();
    }
    await this.#sending;
  }
}

async function openPGlite(dataDir?: string): Promise<Store> {
  let pglite: PGlite;
  if (!dataDir || dataDir.startsWith('memory://')) {
    pglite = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    // A new folder unpacks a prebuilt initdb, ~10 s sooner than PGlite's own (pglite-footprint.ts).
    pglite = new PGlite(dataDir, { loadDataDir: freshClusterTemplate(dataDir) });
  }
  await pglite.waitReady;
  // LISTEN now, before any traffic: issued later it could land inside another caller's
  // transaction on the single session, and vanish with its rollback.
  // PGlite calls listeners before the notifying statement's promise settles, so whoever made a
  // change finds every listener already told.
  const changes = new ChangeListeners();
  const credentials = new ChangeListeners();
  await pglite.listen(CHANGE_CHANNEL, (payload) => changes.emit(payload));
  await pglite.listen(CREDENTIALS_CHANNEL, (payload) => credentials.emit(payload));
  const db = new Kysely<Database>({ dialect: new PGliteSessionDialect(pglite) });
  return {
    kind: 'pglite',
    db,
    onChange: (fn) => changes.add(fn),
    // One process: its listeners are everyone who needs to hear.
    announce: (payload) => changes.emit(payload),
    onCredentialsChange: (fn) => credentials.add(fn),
    notificationsLive: () => true,
    close: () => db.destroy(),
  };
}

/** How long /ready waits for its answer: a connection cut without a word would never give one. */
const READY_TIMEOUT_MS = 5000;

export async function isReachable(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
  });
  const answered = sql`SELECT 1`.execute(store.db).then(() => true, () => false);
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}
