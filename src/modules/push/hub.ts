// Live push over Server-Sent Events. Each open stream reads the feed (repository.ts) from its own
// cursor whenever the store reports a change of its client — any instance's change, through
// NOTIFY on PostgreSQL — and on a short poll as a backup, so a notification lost in a reconnect
// only delays a message, never drops it. Messages carry their feed id, so a client that comes
// back with Last-Event-ID gets everything it missed.
import type { ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { messagesAfter, type Audience, type Cursor } from './repository.ts';

const BATCH = 500;
const RETRIES = 3;
const RETRY_MS = 50;

export interface HubOptions {
  pollMs?: number;
  heartbeatMs?: number;
}

class Stream {
  readonly audience: Audience;
  readonly #res: ServerResponse;
  readonly #db: Kysely<Database>;
  readonly #timeZone: string;
  #cursor: Cursor;
  #reading: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #retries = 0;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #onError: (error: unknown) => void;

  constructor(res: ServerResponse, db: Kysely<Database>, audience: Audience, cursor: Cursor, timeZone: string, options: Required<HubOptions>, onError: (error: unknown) => void) {
    this.#res = res;
    this.#db = db;
    this.audience = audience;
    this.#cursor = cursor;
    this.#timeZone = timeZone;
    this.#onError = onError;
    this.#timers.push(setInterval(() => this.poke(), options.pollMs));
    // A comment line now and then keeps proxies from closing an idle stream.
    this.#timers.push(setInterval(() => this.#res.write(': keep-alive\n\n'), options.heartbeatMs));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads what is new. `notified`: a change was announced for this stream; if nothing is
   * deliverable yet (an older transaction still running holds it back), look again shortly
   * rather than wait for the poll.
   */
  poke(notified = false): void {
    if (this.#closed) return;
    if (notified) this.#retries = RETRIES;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = this.#drain().finally(() => {
      this.#reading = null;
    });
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      let messages;
      try {
        messages = await messagesAfter(this.#db, this.audience, this.#cursor, this.#timeZone, BATCH);
      } catch (error) {
        // The store may be briefly unreachable; the poll tries again.
        this.#onError(error);
        return;
      }
      if (this.#closed) return;
      if (messages.length === 0) {
        if (this.#retries > 0) {
          this.#retries--;
          setTimeout(() => this.poke(), RETRY_MS).unref();
        }
        return;
      }
      this.#retries = 0;
      const text = messages.map((m) => `id: ${m.id}\nevent: ${m.topic}\ndata: ${m.json}\n\n`).join('');
      const last = messages[messages.length - 1]!;
      this.#cursor = { xid: last.xid, id: last.id };
      // Backpressure: a slow reader holds only its own stream back, one batch at a time.
      if (!this.#res.write(text)) await new Promise<void>((resolve) => this.#res.once('drain', resolve).once('close', resolve));
      if (messages.length === BATCH) this.#again = true;
    } while (this.#again && !this.#closed);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#res.end();
  }
}

export class PushHub {
  readonly #db: Kysely<Database>;
  readonly #streams = new Set<Stream>();
  readonly #options: Required<HubOptions>;
  readonly #unsubscribe: () => void;
  readonly #onError: (error: unknown) => void;

  constructor(store: Store, options: HubOptions = {}, onError: (error: unknown) => void = () => undefined) {
    this.#db = store.db;
    this.#options = { pollMs: options.pollMs ?? 2000, heartbeatMs: options.heartbeatMs ?? 15000 };
    this.#onError = onError;
    // The payload names the client whose feed grew and the agent concerned; an empty one (after
    // a reconnect) means "look". An agent's stream wakes only for its own messages.
    this.#unsubscribe = store.onChange((payload) => {
      const [client, agent] = payload.split(':');
      for (const stream of this.#streams) {
        const { clientId, agentId } = stream.audience;
        if (payload === '' || (client === String(clientId) && (agentId === undefined || agent === String(agentId)))) stream.poke(true);
      }
    });
  }

  get size(): number {
    return this.#streams.size;
  }

  open(res: ServerResponse, audience: Audience, cursor: Cursor, timeZone: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const stream = new Stream(res, this.#db, audience, cursor, timeZone, this.#options, this.#onError);
    this.#streams.add(stream);
    res.once('close', () => {
      stream.close();
      this.#streams.delete(stream);
    });
    stream.poke();
  }

  /** Ends every stream (their clients reconnect elsewhere, with Last-Event-ID). */
  close(): void {
    this.#unsubscribe();
    for (const stream of this.#streams) stream.close();
    this.#streams.clear();
  }
}
