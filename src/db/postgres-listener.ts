// Notifications on PostgreSQL: one connection outside the pool LISTENs on the store's channels and
// NOTIFYs this instance's announcements. It may drop at any moment (a restart, terminated
// backends, a network cut) and must come back by itself without ever ending the process.
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/** Fan-out of one notification source to many in-process listeners. */
export class ChangeListeners {
  readonly #listeners = new Set<(payload: string) => void>();
  add(listener: (payload: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(payload: string): void {
    for (const listener of this.#listeners) listener(payload);
  }
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

export interface ListenerOptions {
  /** How long connecting, or a heartbeat's answer, may take before the connection counts as lost. */
  connectTimeoutMs: number;
  /** Pause before connecting again after a loss. */
  retryMs?: number;
  /** How often a live connection proves it still answers (default: every connectTimeoutMs). */
  heartbeatMs?: number;
}

/**
 * One connection outside the pool that LISTENs, opened on first use. When it drops it comes back
 * after a pause; what was notified meanwhile is not lost for the change feed, because its
 * listeners treat a notification only as a hint to read the tables (and the distributor sweeps
 * anyway). Every channel hears '' when the connection drops and when it is back.
 *
 * A connection cut without a word (a network partition, a server that froze) raises no error
 * while nothing is sent on it, and TCP's own keep-alive notices after minutes: a heartbeat
 * query with a deadline finds it out within seconds, so that `live` (which the credential cache
 * trusts) never stays true for a connection that no longer hears anything.
 */
export class PostgresListener {
  readonly #url: string;
  readonly #channels: Record<string, ChangeListeners>;
  readonly #connectTimeoutMs: number;
  readonly #retryMs: number;
  readonly #heartbeatMs: number;
  #client: pg.Client | null = null;
  #live = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  /** The last statement sent on the connection: the next waits for it (pg 9 refuses overlapping ones). */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(url: string, channels: Record<string, ChangeListeners>, options: ListenerOptions) {
    this.#url = url;
    this.#channels = channels;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#retryMs = options.retryMs ?? 1000;
    this.#heartbeatMs = options.heartbeatMs ?? options.connectTimeoutMs;
  }

  get live(): boolean {
    return this.#live;
  }

  #emitAll(payload: string): void {
    for (const listeners of Object.values(this.#channels)) listeners.emit(payload);
  }

  ensure(): void {
    if (this.#client || this.#closed) return;
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true, connectionTimeoutMillis: this.#connectTimeoutMs });
    this.#client = client;
    this.#tail = Promise.resolve();
    const lost = () => this.#lost(client);
    client.on('notification', (message) => {
      // Our own announcements (sent on this connection) were heard here when they were made.
      if (message.processId === (client as unknown as { processID?: number }).processID) return;
      const listeners = this.#channels[message.channel];
      if (!listeners) return;
      // An announcement carries many payloads, one per line (see notify); a trigger's, one.
      for (const payload of (message.payload ?? '').split('\n')) listeners.emit(payload);
    });
    // Stays attached after a loss: a dead client may still report errors, and each must be heard.
    client.on('error', lost);
    client.on('end', lost);
    client.connect()
      .then(() => client.query(Object.keys(this.#channels).map((channel) => `LISTEN ${channel}`).join('; ')))
      .then(() => {
        if (this.#client !== client) return;
        this.#live = true;
        this.#heartbeat = setInterval(() => this.#beat(client), this.#heartbeatMs);
        this.#heartbeat.unref();
        // A reconnect may have missed notifications: tell listeners to look.
        this.#emitAll('');
      })
      .catch(lost);
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (this.#live) {
      this.#live = false;
      this.#emitAll('');
    }
    // Destroyed rather than ended: ending waits for a goodbye a silent server never sends, and
    // destroying fails whatever is still waiting on it (a NOTIFY) at once.
    destroy(client);
    client.end().catch(() => undefined);
    if (!this.#closed) {
      this.#retry = setTimeout(() => this.ensure(), this.#retryMs);
      this.#retry.unref();
    }
  }

  /** Runs `query` on the connection once the statements sent before it are done. */
  #serial<T>(query: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(query, query);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #beat(client: pg.Client): void {
    // The deadline covers a NOTIFY still waiting ahead of the heartbeat: it too must be answered.
    const deadline = setTimeout(() => this.#lost(client), this.#connectTimeoutMs);
    deadline.unref();
    this.#serial(() => client.query('SELECT 1')).then(() => clearTimeout(deadline), () => {
      clearTimeout(deadline);
      this.#lost(client);
    });
  }

  /**
   * NOTIFYs the payloads on `channel` in one transaction, as few notifications as fit
   * (payloads one per line, each notification under PostgreSQL's 8000-byte limit): every listener
   * receives and parses each notification, so one per payload cost them all ~18 times as many
   * messages under load. On the listening connection when it is up (its echo is then recognised
   * and skipped), else on a pooled one.
   */
  async notify(channel: string, payloads: string[], db: Kysely<Database>): Promise<void> {
    const client = this.#live ? this.#client : null;
    const joined = joinPayloads(payloads);
    const text = 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p';
    // Named: parsed and planned once per connection, not once per announcement.
    if (client) await this.#serial(() => client.query({ name: 'switchboard_notify', text, values: [channel, joined] }));
    else await sql`SELECT pg_notify(${channel}, p) FROM unnest(${joined}::text[]) AS p`.execute(db);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = null;
    if (!client) return;
    // A goodbye unanswered (the server gone silent) must not hold the shutdown.
    const ended = client.end().catch(() => undefined);
    const timer = setTimeout(() => destroy(client), this.#connectTimeoutMs);
    await ended;
    clearTimeout(timer);
  }
}

/** Closes the client's socket at once: whatever waits on it fails, and 'end' follows. */
function destroy(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
