// Web console sessions (spec §9): a user signs in with UID and password (the agent login's one
// check and throttle) and gets an HttpOnly cookie; their role decides what the cookie reaches
// (src/http/auth.ts). Only hashes are stored: of the session token, and of the CSRF token.
//
// The CSRF token is derived from the session token (an HMAC keyed with it), so the session's
// GET can answer it again without storing it, and only who holds the cookie's value can know it.
// The cookie is HttpOnly: a page's script, even one injected, never reads it.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Clock } from '../../domain/clock.ts';
import { hashToken, newToken } from '../../domain/tokens.ts';
import { formatLocal } from '../../domain/event-rules.ts';
import { Unauthorized } from '../../errors.ts';
import { checkPassword, logout, openSession } from '../agents/service.ts';
import { findConsoleUser } from './repository.ts';
import type { UserRole } from '../users/schemas.ts';

type Db = Kysely<Database>;

export interface ConsoleSessionRecord {
  UsersID: number;
  UID: string;
  Name: string | null;
  Role: UserRole;
  ClientsID: number;
  TimeZone: string;
  CsrfToken: string;
  dtExpires: string;
}

export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('switchboard console CSRF token').digest('base64url');
}

async function recordOf(db: Db, clientId: number, userId: number, token: string, expiresMs: number): Promise<ConsoleSessionRecord> {
  const user = await findConsoleUser(db, clientId, userId);
  // Deleted between sign-in and here: its sessions went with it.
  if (!user) throw new Unauthorized();
  const name = [user.firstName, user.lastName].filter((part) => part !== null && part !== '').join(' ');
  return {
    UsersID: userId, UID: user.uid, Name: name === '' ? null : name, Role: user.role, ClientsID: clientId,
    TimeZone: user.timeZone, CsrfToken: csrfTokenOf(token), dtExpires: formatLocal(expiresMs, user.timeZone),
  };
}

export async function signIn(db: Db, clock: Clock, clientId: number, uid: string, password: string): Promise<{ token: string; record: ConsoleSessionRecord; expiresMs: number }> {
  const candidate = await checkPassword(db, clientId, uid, password);
  const token = newToken('sbw');
  const expiresMs = await openSession(db, clock, candidate.userId, hashToken(token), hashToken(csrfTokenOf(token)));
  return { token, record: await recordOf(db, clientId, candidate.userId, token, expiresMs), expiresMs };
}

export function describeSession(db: Db, clientId: number, userId: number, token: string, expiresAt: Date): Promise<ConsoleSessionRecord> {
  return recordOf(db, clientId, userId, token, expiresAt.getTime());
}

export function signOut(db: Db, sessionId: number): Promise<void> {
  return logout(db, sessionId);
}

/** The Set-Cookie value: HttpOnly, SameSite=Strict, the whole site; Secure when served over TLS. */
export function sessionCookieHeader(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
