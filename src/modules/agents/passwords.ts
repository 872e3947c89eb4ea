// Agent passwords as argon2id hashes (Node's own implementation), stored as PHC strings so the
// cost parameters can be raised later: old hashes keep verifying with the parameters they carry.
import { argon2, randomBytes, timingSafeEqual, type BinaryLike } from 'node:crypto';

export interface Argon2Cost {
  /** KiB */
  memory: number;
  passes: number;
  parallelism: number;
}

/** OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): ~20 ms, hard to attack on GPUs. */
export const CURRENT_COST: Argon2Cost = { memory: 19456, passes: 2, parallelism: 1 };
const SALT_BYTES = 16;
const TAG_BYTES = 32;
const VERSION = 19;

function derive(password: string, salt: Buffer, cost: Argon2Cost, tagLength: number): Promise<Buffer> {
  // NIST SP 800-63B: compatibility normalisation, so the same password typed on another
  // keyboard or OS (composed vs. decomposed accents) still matches.
  const message: BinaryLike = Buffer.from(password.normalize('NFKC'), 'utf8');
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message, nonce: salt, tagLength, ...cost }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, cost: Argon2Cost = CURRENT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const tag = await derive(password, salt, cost, TAG_BYTES);
  return `$argon2id$v=${VERSION}$m=${cost.memory},t=${cost.passes},p=${cost.parallelism}$${b64(salt)}$${b64(tag)}`;
}

interface Parsed {
  cost: Argon2Cost;
  salt: Buffer;
  tag: Buffer;
}

const PHC = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{6,})$/;

function parse(stored: string): Parsed | undefined {
  const m = PHC.exec(stored);
  if (!m) return undefined;
  return {
    cost: { memory: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) },
    salt: Buffer.from(m[4], 'base64'),
    tag: Buffer.from(m[5], 'base64'),
  };
}

// Stands in for a missing or unreadable hash: the same argon2 work is done and always fails, so
// an unknown UID (or one without a password) takes as long as a wrong password.
const decoy: Parsed = { cost: CURRENT_COST, salt: randomBytes(SALT_BYTES), tag: randomBytes(TAG_BYTES) };

/** Whether `password` matches the stored PHC string; `null` (no password set) never matches. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = (stored === null ? undefined : parse(stored));
  const { cost, salt, tag } = parsed ?? decoy;
  const candidate = await derive(password, salt, cost, tag.length);
  return timingSafeEqual(candidate, tag) && parsed !== undefined;
}
