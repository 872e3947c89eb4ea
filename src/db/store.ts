// The two stores behind one Kysely PostgreSQL dialect: PGlite in a data folder (embedded
// default) and PostgreSQL through a pg pool (production, many instances).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryResult } from 'kysely';
import pg from 'pg';
import { POOL_DEFAULTS } from '../config.ts';
import { PGliteSessionDialect } from './pglite-dialect.ts';
import { freshClusterTemplate } from './pglite-footprint.ts';
import { preparingClient } from './prepared.ts';
import { migrateToLatest } from './migrate.ts';
import { encodeNotice, NOTICE_STATEMENT, registerAnnouncer, type ChangeNotice } from './changes.ts';
import { registerCopyOut } from './copy-out.ts';
import { ChangeListeners, PostgresListener } from './postgres-listener.ts';
import type { Database } from './schema.ts';

export { joinPayloads } from './postgres-listener.ts';

export type StoreKind = 'pglite' | 'postgres';

/**
 * The channel every recorded change notifies once committed, with its notice (src/db/changes.ts:
 * encodeNotice, decodeNotice; the empty payload means "look, something may have been missed").
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
   * Publishes a committed change on CHANGE_CHANNEL (src/db/changes.ts, announceChanges): this
   * process's listeners hear it at once, other instances within a few milliseconds, many notices
   * sharing one NOTIFY.
   */
  announce(notice: ChangeNotice): void;
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
   * at 0). PGlite, in process, always names them. With them, a transaction's BEGIN also goes
   * with its first statement (src/db/leading-begin.ts).
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

/**
 * A dialect whose driver holds the notices a transaction announces (NOTICE_STATEMENT,
 * src/db/changes.ts) until it commits, and hands them to `announce` then: whoever opened the
 * transaction, its changes are heard once committed and never when rolled back. Outside a
 * transaction the statement before has committed: they go at once. A savepoint rolled back keeps
 * its notices: one notice too many only makes a listener look.
 */
class NoticeDialect implements Dialect {
  readonly #inner: Dialect;
  readonly #announce: (payload: string) => void;
  constructor(inner: Dialect, announce: (payload: string) => void) {
    this.#inner = inner;
    this.#announce = announce;
  }
  createDriver(): Driver {
    return new NoticeDriver(this.#inner.createDriver(), this.#announce);
  }
  createQueryCompiler() {
    return this.#inner.createQueryCompiler();
  }
  createAdapter() {
    return this.#inner.createAdapter();
  }
  createIntrospector(db: Kysely<any>) {
    return this.#inner.createIntrospector(db);
  }
}

class NoticeConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #announce: (payload: string) => void;
  /** The notices of the open transaction; null outside one. */
  held: string[] | null = null;
  constructor(inner: DatabaseConnection, announce: (payload: string) => void) {
    this.inner = inner;
    this.#announce = announce;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (query.sql !== NOTICE_STATEMENT) return this.inner.executeQuery<R>(query);
    const payloads = query.parameters[0] as string[];
    if (this.held) this.held.push(...payloads);
    else for (const payload of payloads) this.#announce(payload);
    return { rows: [] };
  }
  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class NoticeDriver implements Driver {
  readonly #inner: Driver;
  readonly #announce: (payload: string) => void;
  // The inner driver may hand out the same connection object again (PGlite's one session, pg's
  // pooled clients): its wrapper goes with it.
  readonly #wrapped = new WeakMap<DatabaseConnection, NoticeConnection>();
  constructor(inner: Driver, announce: (payload: string) => void) {
    this.#inner = inner;
    this.#announce = announce;
    if (inner.savepoint) this.savepoint = (c, name, compile) => inner.savepoint!(unwrap(c), name, compile);
    if (inner.rollbackToSavepoint) this.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint!(unwrap(c), name, compile);
    if (inner.releaseSavepoint) this.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint!(unwrap(c), name, compile);
  }
  savepoint?: Driver['savepoint'];
  rollbackToSavepoint?: Driver['rollbackToSavepoint'];
  releaseSavepoint?: Driver['releaseSavepoint'];
  init(): Promise<void> {
    return this.#inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    let connection = this.#wrapped.get(inner);
    if (!connection) this.#wrapped.set(inner, connection = new NoticeConnection(inner, this.#announce));
    return connection;
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection));
  }
  async beginTransaction(connection: DatabaseConnection, settings: Parameters<Driver['beginTransaction']>[1]): Promise<void> {
    await this.#inner.beginTransaction(unwrap(connection), settings);
    (connection as NoticeConnection).held = [];
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as NoticeConnection;
    const held = c.held ?? [];
    c.held = null;
    await this.#inner.commitTransaction(c.inner);
    for (const payload of held) this.#announce(payload);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as NoticeConnection).held = null;
    await this.#inner.rollbackTransaction(unwrap(connection));
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

const unwrap = (connection: DatabaseConnection) => (connection instanceof NoticeConnection ? connection.inner : connection);

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
  const channels = { [CHANGE_CHANNEL]: new ChangeListeners(), [CREDENTIALS_CHANNEL]: new ChangeListeners() };
  const announce = (payload: string) => {
    channels[CHANGE_CHANNEL].emit(payload);
    announcer.add(payload);
  };
  const db = new Kysely<Database>({ dialect: new NoticeDialect(new PostgresDialect({ pool }), announce) });
  registerCopyOut(db, pool);
  const listener = new PostgresListener(url, channels, { connectTimeoutMs });
  const announcer = new Announcer((payloads) => listener.notify(CHANGE_CHANNEL, payloads, db));
  return {
    kind: 'postgres',
    db,
    onChange: (fn) => {
      listener.ensure();
      return channels[CHANGE_CHANNEL].add(fn);
    },
    announce: (notice) => announce(encodeNotice(notice)),
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
  // One process: its listeners are everyone who needs to hear.
  const announce = (payload: string) => changes.emit(payload);
  const db = new Kysely<Database>({ dialect: new NoticeDialect(new PGliteSessionDialect(pglite), announce) });
  return {
    kind: 'pglite',
    db,
    onChange: (fn) => changes.add(fn),
    announce: (notice) => announce(encodeNotice(notice)),
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
