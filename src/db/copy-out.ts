// Lists on PostgreSQL read each batch with COPY … TO STDOUT (FORMAT binary) instead of a query:
// the records arrive as raw bytes and go to the socket as bytes, so a million-row list never
// becomes a million JavaScript strings (whose garbage, not any retained data, was what swelled
// the process). COPY takes no bind parameters, so the batch's parameters are written into the
// statement as literals, quoted by pg's own escaping; anything that is not a plain string,
// number, boolean or null makes the caller use the ordinary query instead.
import type { CompiledQuery, Kysely } from 'kysely';
import pg from 'pg';

const copyCapable = new WeakMap<Kysely<any>, pg.Pool>();

export function registerCopyOut(db: Kysely<any>, pool: pg.Pool): void {
  copyCapable.set(db, pool);
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const OUT_CHUNK = 64 * 1024;
const EMPTY = Buffer.alloc(0);

function literal(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return pg.Client.prototype.escapeLiteral(value);
  return undefined;
}

/** The compiled query with its $n placeholders replaced by literals, or undefined if it cannot be. */
export function inlineParameters(query: CompiledQuery): string | undefined {
  const literals = query.parameters.map(literal);
  if (literals.some((l) => l === undefined)) return undefined;
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => `(${literals[Number(n) - 1]})`);
}

export interface CopiedBatch {
  /** The first column of every row, joined by commas, in chunks of about 64 KiB. */
  body: Buffer[];
  rows: number;
  /** The other columns of the last row, as text (null for NULL). */
  last: (string | null)[];
}

/**
 * Parses PostgreSQL's binary COPY format as it streams in: a header, then per row a field count
 * and (length, bytes) per field, then a -1 trailer. Rows may straddle chunks; the unparsed rest
 * is carried over. Values of the first field are copied straight into the output chunks.
 */
export class BinaryRows {
  #carry: Buffer = EMPTY;
  #headerDone = false;
  #out: Buffer = Buffer.allocUnsafe(OUT_CHUNK);
  #outAt = 0;
  readonly body: Buffer[] = [];
  rows = 0;
  last: (string | null)[] = [];

  push(chunk: Buffer): void {
    let at = 0;
    if (this.#carry.length > 0) {
      // A row straddles the chunks: complete it from as little of the new chunk as it needs, so
      // the common case copies a row's worth of bytes, not a whole chunk.
      for (let take = Math.min(chunk.length, 4096); ; take = Math.min(chunk.length, take * 4)) {
        const joined = Buffer.concat([this.#carry, chunk.subarray(0, take)]);
        const end = this.#parse(joined, 0, 1);
        if (end > this.#carry.length) {
          at = end - this.#carry.length;
          this.#carry = EMPTY;
          break;
        }
        if (take === chunk.length) {
          this.#carry = Buffer.from(joined.subarray(end));
          return;
        }
      }
    }
    const end = this.#parse(chunk, at, Infinity);
    // Copied, not sliced: a slice would keep the whole chunk alive.
    this.#carry = end < chunk.length ? Buffer.from(chunk.subarray(end)) : EMPTY;
  }

  /** Consumes the header and up to `maxRows` complete rows of `buf` from `at`; returns where it stopped. */
  #parse(buf: Buffer, at: number, maxRows: number): number {
    if (!this.#headerDone) {
      if (buf.length - at < 19) return at;
      if (!buf.subarray(at, at + 11).equals(SIGNATURE)) throw new Error('COPY: not the binary format');
      const extension = buf.readInt32BE(at + 15);
      if (buf.length - at < 19 + extension) return at;
      at += 19 + extension;
      this.#headerDone = true;
    }
    let lastRanges: [number, number][] | undefined;
    for (let parsed = 0; parsed < maxRows; parsed++) {
      const rowStart = at;
      if (buf.length - at < 2) break;
      const fields = buf.readInt16BE(at);
      at += 2;
      if (fields === -1) break;
      const ranges: [number, number][] = [];
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (buf.length - at < 4) { complete = false; break; }
        const length = buf.readInt32BE(at);
        at += 4;
        if (length === -1) { ranges.push([-1, -1]); continue; }
        if (buf.length - at < length) { complete = false; break; }
        ranges.push([at, at + length]);
        at += length;
      }
      if (!complete) {
        at = rowStart;
        break;
      }
      this.#emit(buf, ranges[0]!);
      lastRanges = ranges;
      this.rows++;
    }
    // Only the last row's keys matter (the next batch continues after them): decoded once per call.
    if (lastRanges) this.last = lastRanges.slice(1).map(([s, e]) => (s === -1 ? null : buf.toString('utf8', s, e)));
    return at;
  }

  #emit(buf: Buffer, [start, end]: [number, number]): void {
    if (this.rows > 0) this.#write(buf, -1, -1);
    this.#write(buf, start, end);
  }

  /** Appends bytes [start, end) of `buf` (or a comma, for start -1) to the output chunks. */
  #write(buf: Buffer, start: number, end: number): void {
    if (start === -1) {
      if (this.#outAt === this.#out.length) this.#flush();
      this.#out[this.#outAt++] = 0x2c;
      return;
    }
    while (start < end) {
      if (this.#outAt === this.#out.length) this.#flush();
      const n = Math.min(end - start, this.#out.length - this.#outAt);
      buf.copy(this.#out, this.#outAt, start, start + n);
      this.#outAt += n;
      start += n;
    }
  }

  #flush(): void {
    if (this.#outAt === 0) return;
    this.body.push(this.#out.subarray(0, this.#outAt));
    this.#out = Buffer.allocUnsafe(OUT_CHUNK);
    this.#outAt = 0;
  }

  finish(): CopiedBatch {
    this.#flush();
    return { body: this.body, rows: this.rows, last: this.last };
  }
}

/**
 * `COPY … TO STDOUT` as a pg "submittable": pg hands copy-out data only to a query object that
 * asks for it. Each chunk goes to `onChunk` as it arrives; `finish` makes the result.
 */
export class CopyOutQuery<T> {
  readonly text: string;
  readonly done: Promise<T>;
  readonly #onChunk: (chunk: Buffer) => void;
  readonly #finish: () => T;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  #error: Error | null = null;
  constructor(text: string, onChunk: (chunk: Buffer) => void, finish: () => T) {
    this.text = text;
    this.#onChunk = onChunk;
    this.#finish = finish;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }
  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }
  handleCopyData(message: { chunk: Buffer }): void {
    if (this.#error) return;
    try {
      this.#onChunk(message.chunk);
    } catch (error) {
      this.#error = error as Error;
    }
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  /**
   * Settles at once: pg forgets its active query when it hands it an error, so no ReadyForQuery
   * follows (after a server error the client consumes it; after a lost connection none comes),
   * and waiting for one would hold the request, and its pooled connection, forever.
   */
  handleError(error: Error): void {
    this.#reject(this.#error ?? error);
  }
  handleReadyForQuery(): void {
    if (this.#error) this.#reject(this.#error);
    else this.#resolve(this.#finish());
  }
}

/**
 * Runs `query` (whose first column is the record JSON) as a binary COPY on a pooled connection.
 * Undefined when this store cannot (PGlite) or the parameters cannot be written as literals.
 */
export async function copyBatch(db: Kysely<any>, query: CompiledQuery): Promise<CopiedBatch | undefined> {
  const pool = copyCapable.get(db);
  if (!pool) return undefined;
  const inlined = inlineParameters(query);
  if (inlined === undefined) return undefined;
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    const rows = new BinaryRows();
    const copy = new CopyOutQuery(`COPY (${inlined}) TO STDOUT (FORMAT binary)`, (chunk) => rows.push(chunk), () => rows.finish());
    client.query(copy as unknown as pg.QueryConfig);
    return await copy.done;
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    // A connection whose COPY failed is closed rather than handed out again.
    client.release(failed);
  }
}
