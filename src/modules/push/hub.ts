// Live push over Server-Sent Events. One reader per instance follows the whole feed (repository.ts)
// and hands each message to the open streams it concerns, so a change costs one read however many
// streams are open: with a read per stream, an agent's three messages per event made the feed the
// busiest query of the server. The reader runs whenever the store reports a change for an open
// stream — any instance's change, through NOTIFY on PostgreSQL — and on a short poll as a backup,
// so a notification lost in a reconnect only delays a message, never drops it. Messages carry
// their feed id, so a client that comes back with Last-Event-ID gets everything it missed.
//
// The reader's position: every message up to it has been handed to every joined stream it
// concerns. A new stream first catches up on its own (from its Last-Event-ID, or from now) and
// then joins. Catch-ups and shared reads take turns in one loop, so the position cannot move
// while a stream catches up: a catch-up read that starts after the read which set the position
// sees every message up to it, and the stream joins exactly there. With no stream joined, the
// position is first moved to the head of the feed, so that nobody's first read scans the past.
import type { ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { feedAfter, feedHead, messagesAfter, type Audience, type Cursor, type FeedMessage } from './repository.ts';
import { decodeNotice } from '../../db/changes.ts';

const BATCH = 500;
// After a notice whose message is held back, look again after 50, 100, 200, 400, 800 and 800 ms:
// a transaction anywhere on a PostgreSQL server (its xmin horizon is the server's) can hold a
// message back for longer than a few tries, and the poll alone would then leave it for up to 2 s.
const RETRIES = 6;
const RETRY_MS = 50;
const RETRY_MAX_MS = 800;
/** How long a read waits after one that found messages (see #drain). */
const GATHER_MS = 3;
/** A stream whose client reads slower than this much is behind is closed; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface HubOptions {
  pollMs?: number;
  heartbeatMs?: number;
}

const after = (a: Cursor, b: Cursor): boolean => {
  const ax = BigInt(a.xid), bx = BigInt(b.xid);
  return ax !== bx ? ax > bx : BigInt(a.id) > BigInt(b.id);
};

const cursorOf = (m: Cursor): Cursor => ({ xid: m.xid, id: m.id });

const frame = (m: { id: string; topic: string; json: string }) => `id: ${m.id}\nevent: ${m.topic}\ndata: ${m.json}\n\n`;

class Stream {
  readonly audience: Audience;
  readonly timeZone: string;
  readonly #res: ServerResponse;
  /** Everything concerning this stream up to here has been written to it. */
  cursor: Cursor;
  #closed = false;

  constructor(res: ServerResponse, audience: Audience, cursor: Cursor, timeZone: string) {
    this.#res = res;
    this.audience = audience;
    this.cursor = cursor;
    this.timeZone = timeZone;
  }

  get closed(): boolean {
    return this.#closed;
  }

  concerns(m: FeedMessage): boolean {
    return m.clientId === this.audience.clientId && (this.audience.agentId === undefined || m.agentId === this.audience.agentId);
  }

  write(text: string): void {
    if (this.#closed || text === '') return;
    this.#res.write(text);
    // Never hold the reader (and every other stream) back for one slow client.
    if (this.#res.writableLength > MAX_BUFFERED_BYTES) this.close();
  }

  heartbeat(): void {
    // A comment line now and then keeps proxies from closing an idle stream.
    this.write(': keep-alive\n\n');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.end();
  }
}

export class PushHub {
  readonly #db: Kysely<Database>;
  readonly #joined = new Set<Stream>();
  readonly #catchingUp = new Set<Stream>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #unsubscribe: () => void;
  readonly #onError: (error: unknown) => void;
  #position: Cursor | null = null;
  #reading: Promise<void> | null = null;
  #again = false;
  #retries = 0;
  #closed = false;

  constructor(store: Store, options: HubOptions = {}, onError: (error: unknown) => void = () => undefined) {
    this.#db = store.db;
    this.#onError = onError;
    this.#timers.push(setInterval(() => this.#joined.size > 0 && this.#poke(), options.pollMs ?? 2000));
    this.#timers.push(setInterval(() => this.#each((s) => s.heartbeat()), options.heartbeatMs ?? 15000));
    // The payload names the client whose feed grew and the agent concerned; an empty one (after
    // a reconnect) means "look". Changes no open stream cares about cost no read.
    this.#unsubscribe = store.onChange((payload) => {
      if (this.#cares(payload)) this.#poke(true);
    });
  }

  get size(): number {
    return this.#joined.size + this.#catchingUp.size;
  }

  open(res: ServerResponse, audience: Audience, cursor: Cursor, timeZone: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const stream = new Stream(res, audience, cursor, timeZone);
    this.#catchingUp.add(stream);
    res.once('close', () => {
      stream.close();
      this.#catchingUp.delete(stream);
      this.#joined.delete(stream);
    });
    this.#poke();
  }

  /** Ends every stream (their clients reconnect elsewhere, with Last-Event-ID). */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const timer of this.#timers) clearInterval(timer);
    this.#each((s) => s.close());
    this.#joined.clear();
    this.#catchingUp.clear();
  }

  #each(fn: (stream: Stream) => void): void {
    for (const stream of this.#joined) fn(stream);
    for (const stream of this.#catchingUp) fn(stream);
  }

  #cares(payload: string): boolean {
    const notice = decodeNotice(payload);
    if (notice === null) return this.size > 0;
    for (const set of [this.#joined, this.#catchingUp]) {
      for (const { audience } of set) {
        if (notice.clientId === audience.clientId && (audience.agentId === undefined || notice.agentId === audience.agentId)) return true;
      }
    }
    return false;
  }

  /**
   * Reads what is new. `notified`: a change was announced for an open stream; if nothing is
   * deliverable yet (an older transaction still running holds it back), look again shortly
   * rather than wait for the poll.
   */
  #poke(notified = false): void {
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
    let found = false;
    do {
      // Under load changes come faster than reads: a read that follows one which found messages
      // waits a moment first, and then brings several changes' messages at once. A change after
      // a quiet spell is read at once.
      if (found) await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
      if (this.#closed) return;
      this.#again = false;
      try {
        for (const stream of [...this.#catchingUp]) await this.#catchUp(stream);
        const read = this.#joined.size > 0 ? await this.#readShared() : -1;
        found = read > 0;
        if (read === 0 && this.#retries > 0) {
          const delay = Math.min(RETRY_MS * 2 ** (RETRIES - this.#retries), RETRY_MAX_MS);
          this.#retries--;
          setTimeout(() => this.#poke(), delay).unref();
        }
      } catch (error) {
        // The store may be briefly unreachable; the poll tries again.
        this.#onError(error);
        return;
      }
    } while (this.#again && !this.#closed);
  }

  /** Everything for the stream after its cursor, then it joins the shared reader (see the top). */
  async #catchUp(stream: Stream): Promise<void> {
    if (this.#joined.size === 0 || this.#position === null) this.#position = await feedHead(this.#db);
    let full = true;
    while (full && !stream.closed) {
      const messages = await messagesAfter(this.#db, stream.audience, stream.cursor, stream.timeZone, BATCH);
      full = messages.length === BATCH;
      stream.write(messages.map(frame).join(''));
      if (messages.length > 0) stream.cursor = cursorOf(messages[messages.length - 1]!);
    }
    this.#catchingUp.delete(stream);
    if (stream.closed) return;
    if (after(this.#position, stream.cursor)) stream.cursor = this.#position;
    this.#joined.add(stream);
  }

  /** One read of the whole feed after the position, handed to the joined streams; answers how many. */
  async #readShared(): Promise<number> {
    let total = 0;
    let full = true;
    while (full && this.#joined.size > 0) {
      const messages = await feedAfter(this.#db, this.#position!, BATCH);
      full = messages.length === BATCH;
      total += messages.length;
      if (messages.length === 0) break;
      const texts = new Map<Stream, string>();
      for (const m of messages) {
        for (const stream of this.#joined) {
          if (!stream.concerns(m) || !after(m, stream.cursor)) continue;
          texts.set(stream, (texts.get(stream) ?? '') + frame(m));
          stream.cursor = cursorOf(m);
        }
      }
      for (const [stream, text] of texts) stream.write(text);
      this.#position = cursorOf(messages[messages.length - 1]!);
    }
    return total;
  }
}
