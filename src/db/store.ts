// The two stores behind one Kysely PostgreSQL dialect: PGlite in a data folder (embedded
// default) and PostgreSQL through a pg pool (production, many instances).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { POOL_DEFAULTS } from '../config.ts';
import { PGliteSessionDialect } from './pglite-dialect.ts';
import { preparingClient } from './prepared.ts';
import { migrateToLatest } from './migrate.ts';
import { registerAnnouncer } from './announce.ts';
import { registerCopyOut } from './copy-out.ts';
import type { Database } from './schema.ts';

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
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: how long a connection may sit idle before the pool closes it (default 5 minutes;
   * 0 keeps them open). Long, because a fresh connection costs the server a backend process with
   * cold caches and this process its prepared statements: a burst after a quiet minute would pay
   * for that on every connection at once.
   */
  poolIdleMs?: number;
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
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? POOL_DEFAULTS.size,
    idleTimeoutMillis: options.poolIdleMs ?? POOL_DEFAULTS.idleMs,
    ...(options.preparedStatements !== false && { Client: preparingClient() }),
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  registerCopyOut(db, pool);
  const channels = { [CHANGE_CHANNEL]: new ChangeListeners(), [CREDENTIALS_CHANNEL]: new ChangeListeners() };
  const listener = new PostgresListener(url, channels);
  const announcer = new Announcer((payloads) => listener.notify(payloads, db));
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
    close: async () => {
      await announcer.close();
      await listener.close();
      await db.destroy();
    },
  };
}

/** Payloads one per line, in as few texts as keep each under `limit` bytes (NOTIFY's is 8000). */
export function joinPayloads(payloads: string[], limit = 7900): string[] {
  const texts: string[] = [];
  let lines: string[] = [];
  let bytes = 0;
  for (const payload of payloads) {
    const size = Buffer.byteLength(payload) + 1;
    if (lines.length > 0 && bytes + size > limit) {
      texts.push(lines.join('\n'));
      lines = [];
      bytes = 0;
    }
    lines.push(payload);
    bytes += size;
  }
  if (lines.length > 0) texts.push(lines.join('\n'));
  return texts;
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

/**
 * One connection outside the pool that LISTENs, opened on first use. When it drops it comes back
 * after a pause; what was notified meanwhile is not lost for the change feed, because its
 * listeners treat a notification only as a hint to read the tables (and the distributor sweeps
 * anyway). Every channel hears '' when the connection drops and when it is back.
 */
class PostgresListener {
  readonly #url: string;
  readonly #channels: Record<string, ChangeListeners>;
  #client: pg.Client | null = null;
  #live = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  constructor(url: string, channels: Record<string, ChangeListeners>) {
    this.#url = url;
    this.#channels = channels;
  }
  get live(): boolean {
    return this.#live;
  }
  #emitAll(payload: string): void {
    for (const listeners of Object.values(this.#channels)) listeners.emit(payload);
  }
  ensure(): void {
    if (this.#client || this.#closed) return;
    // Keep-alive: a connection that died without a word must not look live for long.
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true });
    this.#client = client;
    const reconnect = () => {
      if (this.#client !== client) return;
      this.#client = null;
      if (this.#live) {
        this.#live = false;
        this.#emitAll('');
      }
      client.end().catch(() => undefined);
      if (!this.#closed) {
        this.#retry = setTimeout(() => this.ensure(), 1000);
        this.#retry.unref();
      }
    };
    client.on('notification', (message) => {
      // Our own announcements (sent on this connection) were heard here when they were made.
      if (message.processId === (client as unknown as { processID?: number }).processID) return;
      const listeners = this.#channels[message.channel];
      if (!listeners) return;
      // An announcement carries many payloads, one per line (see notify); a trigger's, one.
      for (const payload of (message.payload ?? '').split('\n')) listeners.emit(payload);
    });
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.connect()
      .then(() => client.query(Object.keys(this.#channels).map((channel) => `LISTEN ${channel}`).join('; ')))
      .then(() => {
        if (this.#client !== client) return;
        this.#live = true;
        // A reconnect may have missed notifications: tell listeners to look.
        this.#emitAll('');
      })
      .catch(reconnect);
  }
  /**
   * NOTIFYs the payloads on CHANGE_CHANNEL in one transaction, as few notifications as fit
   * (payloads one per line, each notification under PostgreSQL's 8000-byte limit): every listener
   * receives and parses each notification, so one per payload cost them all ~18 times as many
   * messages under load. On the listening connection when it is up (its echo is then recognised
   * and skipped), else on a pooled one.
   */
  async notify(payloads: string[], db: Kysely<Database>): Promise<void> {
    const client = this.#live ? this.#client : null;
    const joined = joinPayloads(payloads);
    const text = 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p';
    // Named: parsed and planned once per connection, not once per announcement.
    if (client) await client.query({ name: 'switchboard_notify', text, values: [CHANGE_CHANNEL, joined] });
    else await sql`SELECT pg_notify(${CHANGE_CHANNEL}, p) FROM unnest(${joined}::text[]) AS p`.execute(db);
  }
  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
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

export async function isReachable(store: Store): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}
