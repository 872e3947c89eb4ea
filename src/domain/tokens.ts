// API tokens are 32 random bytes; only their SHA-256 is stored. A slow password hash buys nothing
// for tokens of that entropy, and a fast one keeps authentication off the hot path's budget.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(presented: string, storedHash: string | null | undefined): boolean {
  return hashMatches(hashToken(presented), storedHash);
}

/** Constant-time comparison of a presented token's hash (hashToken) with a stored hash. */
export function hashMatches(presentedHash: string, storedHash: string | null | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(presentedHash, 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
