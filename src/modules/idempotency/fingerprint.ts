// What identifies a keyed request and its stored answer, without I/O: the key as sent, the
// request's fingerprint (method, path and query, content type, and the body's bytes, hashed as
// they stream past so a file is never buffered), and the answer sealed with a key only the caller
// holds.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InvalidField } from '../../errors.ts';

export const HEADER = 'Idempotency-Key';
export const MAX_KEY_LENGTH = 255;

/** Printable ASCII, space included (RFC 8941 sf-string content); checked after unquoting. */
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * The key of a request, or undefined without the header. The IETF draft sends it as a structured
 * field string (`"8e03…"`), Stripe's clients send it bare: both are the same key.
 */
export function keyOf(raw: IncomingMessage): string | undefined {
  // From the raw lines: Node joins repeated fields with ", ", which a key may contain.
  const values: string[] = [];
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]!.toLowerCase() === 'idempotency-key') values.push(raw.rawHeaders[i + 1]!.trim());
  }
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidField(HEADER, 'send one key, not several');
  const sent = values[0]!;
  const key = sent.length >= 2 && sent.startsWith('"') && sent.endsWith('"') ? unquote(sent) : sent;
  if (key === undefined) throw new InvalidField(HEADER, 'is not a valid quoted string');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !PRINTABLE.test(key)) {
    throw new InvalidField(HEADER, `must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

/** The content of an sf-string (`"…"`, in which only \" and \\ are escapes), or undefined if it is not one. */
function unquote(quoted: string): string | undefined {
  let content = '';
  for (let i = 1; i < quoted.length - 1; i++) {
    let c = quoted[i]!;
    if (c === '\\') {
      c = quoted[++i]!;
      if (i === quoted.length - 1 || (c !== '"' && c !== '\\')) return undefined;
    } else if (c === '"') {
      return undefined;
    }
    content += c;
  }
  return content;
}

const sha256 = (...parts: string[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
};

/** The row's key: the caller's scope and key, of which only this hash is stored. */
export const keyHash = (scope: string, key: string) => sha256(scope, key);

/** Everything of a request but its body: method, path with query as sent, and content type. */
export function requestHash(raw: IncomingMessage): string {
  const type = String(raw.headers['content-type'] ?? '').toLowerCase().replace(/\s+/g, '');
  return sha256(raw.method ?? '', raw.url ?? '', type);
}

/** The declared body length, or null when the body comes chunked. */
export function declaredLength(raw: IncomingMessage): number | null {
  const value = raw.headers['content-length'];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

const EMPTY_BODY = createHash('sha256').digest('hex');

/**
 * Hashes the body as whoever reads it reads it: a listener on the request stream sees every chunk,
 * whether the reader pulls (read()) or lets it flow, and takes nothing from the data path. `hash`
 * is known once the body has ended: before the route runs for a JSON body, only after the route
 * has read it for a streamed file.
 */
export class BodyHash {
  readonly #raw: IncomingMessage;
  readonly #hash = createHash('sha256');
  #bytes = 0;
  #digest: string | undefined;

  constructor(raw: IncomingMessage) {
    this.#raw = raw;
    if (declaredLength(raw) === 0 || (declaredLength(raw) === null && raw.headers['transfer-encoding'] === undefined)) {
      this.#digest = EMPTY_BODY;
      return;
    }
    // A 'data' listener would set a stream flowing that nobody reads yet; paused, it waits for its reader.
    if (raw.readableFlowing !== true) raw.pause();
    raw.on('data', (chunk: Buffer) => {
      this.#bytes += chunk.length;
      this.#hash.update(chunk);
    });
    raw.once('end', () => { this.#digest = this.#hash.digest('hex'); });
  }

  /** The body's hash once it has all been read. */
  get hash(): string | undefined {
    return this.#digest;
  }

  /** The body's length once it has all been read. */
  get length(): number | undefined {
    return this.#digest === undefined ? undefined : this.#bytes;
  }

  /**
   * Reads what is left of the body, discarding it, and answers its hash: undefined if the body
   * broke off or grew past `max` bytes (it cannot be the body it is compared with).
   */
  async rest(max: number): Promise<string | undefined> {
    if (this.#digest !== undefined || this.#raw.readableEnded) return this.#digest;
    const raw = this.#raw;
    await new Promise<void>((resolve) => {
      const done = () => {
        raw.off('end', done).off('close', done).off('error', done).off('data', tooLong);
        resolve();
      };
      const tooLong = () => {
        if (this.#bytes > max) done();
      };
      raw.once('end', done).once('close', done).once('error', done).on('data', tooLong);
      raw.resume();
    });
    // 'end' runs the digest before our own listener, which was added later.
    return this.#digest;
  }
}

/** What a replay sends again. */
export interface StoredAnswer {
  headers: Record<string, string>;
  body: string;
}

const INFO = Buffer.from('switchboard idempotent answer');

function answerKey(scope: string, key: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, scope, INFO, 32));
}

/** AES-256-GCM under a key derived from the caller's key: nonce, tag and text, base64. */
export function seal(scope: string, key: string, answer: StoredAnswer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', answerKey(scope, key), nonce);
  const text = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), text]).toString('base64');
}

export function open(scope: string, key: string, sealed: string): StoredAnswer {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', answerKey(scope, key), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')) as StoredAnswer;
}
