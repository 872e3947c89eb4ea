// Agent passwords, sessions and ACD state. Each state change runs in one transaction holding the
// user's row (shared: it cannot be deleted meanwhile) and the agent's state row (exclusive: one
// change of one agent at a time, on any number of instances), and writes its history there too.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Actor, ClientContext } from '../../http/auth.ts';
import { actorLabel } from '../../http/auth.ts';
import type { Clock } from '../../domain/clock.ts';
import { hashToken, newToken } from '../../domain/tokens.ts';
import { formatLocal } from '../../domain/event-rules.ts';
import { GroupNotFound, LoginFailed, NotAMember, UserNotFound } from '../../errors.ts';
import { lockUser } from '../users/repository.ts';
import { lockGroup } from '../groups/repository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import * as repo from './repository.ts';
import { returnOffersOf } from '../work/repository.ts';
import type { AgentState, HistoryEntry } from './repository.ts';

type Db = Kysely<Database>;

export const SESSION_HOURS = 12;

/**
 * Stores the new password's hash and ends the user's sessions: whoever set a new password
 * (an administrator after a leak, say) expects the old one's sessions to stop working too.
 */
export async function setPassword(db: Db, clock: Clock, client: ClientContext, userId: number, password: string): Promise<void> {
  // Hashed before the transaction: the argon2 work must not hold row locks.
  const hash = await hashPassword(password);
  await db.transaction().execute(async (trx) => {
    if (!(await lockUser(trx, client.id, userId, 'share'))) throw new UserNotFound(userId);
    await repo.upsertPassword(trx, userId, hash, new Date(clock.now()));
    await repo.deleteSessionsOfUser(trx, userId);
  });
}

export interface SessionGrant {
  UsersID: number;
  Token: string;
  dtExpires: string;
}

/**
 * The one check of a UID and password, for the agent login and the console's sign-in. Unknown
 * client, unknown UID, no password set and a wrong password all fail alike, after the same
 * argon2 work, so neither the answer nor its timing tells which UIDs exist.
 */
export async function checkPassword(db: Db, clientId: number, uid: string, password: string): Promise<repo.LoginCandidate> {
  const candidate = await repo.findLoginCandidate(db, clientId, uid);
  const ok = await verifyPassword(password, candidate?.passwordHash ?? null);
  if (!candidate || !ok) throw new LoginFailed();
  return candidate;
}

/**
 * Opens a session of the user for SESSION_HOURS: a bearer one, or with `csrfHash` a console one.
 * Their expired sessions go now. Returns when it expires (ms).
 */
export async function openSession(db: Db, clock: Clock, userId: number, tokenHash: string, csrfHash: string | null = null): Promise<number> {
  const now = clock.now();
  const expires = now + SESSION_HOURS * 3600_000;
  await db.transaction().execute(async (trx) => {
    await repo.deleteExpiredSessions(trx, userId, new Date(now));
    await repo.insertSession(trx, userId, tokenHash, new Date(now), new Date(expires), csrfHash);
  });
  return expires;
}

export async function login(db: Db, clock: Clock, clientId: number, uid: string, password: string): Promise<SessionGrant> {
  const candidate = await checkPassword(db, clientId, uid, password);
  const token = newToken('sbs');
  const expires = await openSession(db, clock, candidate.userId, hashToken(token));
  return { UsersID: candidate.userId, Token: token, dtExpires: formatLocal(expires, candidate.timeZone) };
}

export async function logout(db: Db, sessionId: number): Promise<void> {
  await repo.deleteSession(db, sessionId);
}

export async function getAgent(db: Db, client: ClientContext, userId: number): Promise<string[]> {
  const texts = await repo.agentTexts(db, client.id, client.timeZone, userId);
  if (texts.length === 0) throw new UserNotFound(userId);
  return texts;
}

type Change = (trx: Db, state: AgentState, now: Date, actor: string) => Promise<HistoryEntry[]>;

const LOGIN_CHANGES = new Set(['AcdLogin', 'AcdLogout', 'GroupLogin', 'GroupLogout']);

/**
 * Runs one change of the agent's state under the locks described above. `change` returns what
 * actually changed: repeating a login (or logout) is a success that changes and records nothing.
 */
async function changeState(db: Db, clock: Clock, client: ClientContext, actor: Actor, userId: number, change: Change): Promise<string[]> {
  await db.transaction().execute(async (trx) => {
    if (!(await lockUser(trx, client.id, userId, 'share'))) throw new UserNotFound(userId);
    const state = await repo.lockState(trx, userId);
    const now = new Date(clock.now());
    const entries = await change(trx, state, now, actorLabel(actor));
    if (entries.some((e) => LOGIN_CHANGES.has(e.change))) await repo.markStateChange(trx, userId, now);
    await repo.insertHistory(trx, client.id, userId, actorLabel(actor), now, entries);
  });
  return getAgent(db, client, userId);
}

export function setAcdLogin(db: Db, clock: Clock, client: ClientContext, actor: Actor, userId: number, loggedIn: boolean): Promise<string[]> {
  return changeState(db, clock, client, actor, userId, async (trx, state, now, label) => {
    if (state.loggedIn === loggedIn) return [];
    await repo.setAcdLogin(trx, userId, loggedIn);
    // Offers not yet accepted go back to their queues; events in hand stay the agent's.
    if (!loggedIn) await returnOffersOf(trx, userId, now, 'agent logged out of the ACD', label);
    return [{ change: loggedIn ? 'AcdLogin' : 'AcdLogout' }];
  });
}

/** Only a member may log in to a group (409 otherwise); logging out of it asks the same. */
export function setGroupLogin(
  db: Db, clock: Clock, client: ClientContext, actor: Actor, userId: number, groupId: number, loggedIn: boolean,
): Promise<string[]> {
  return changeState(db, clock, client, actor, userId, async (trx, _state, now, label) => {
    if (!(await lockGroup(trx, client.id, groupId, 'share'))) throw new GroupNotFound(groupId);
    if (!(await repo.lockMembership(trx, groupId, userId))) throw new NotAMember(userId, groupId);
    if (loggedIn) return (await repo.insertGroupLogin(trx, groupId, userId, now)) ? [{ change: 'GroupLogin', groupId }] : [];
    await returnOffersOf(trx, userId, now, 'agent logged out of the group', label, groupId);
    return (await repo.deleteGroupLogins(trx, userId, groupId)).map((id) => ({ change: 'GroupLogout', groupId: id }));
  });
}

/** The types named take the new values; the others keep theirs. */
export function setCapacity(
  db: Db, clock: Clock, client: ClientContext, actor: Actor, userId: number, capacity: Record<string, number | undefined>,
): Promise<string[]> {
  return changeState(db, clock, client, actor, userId, async (trx, state) => {
    const next = { ...state.capacity };
    for (const [type, value] of Object.entries(capacity)) if (value !== undefined) next[type] = value;
    if (Object.keys(next).every((type) => next[type] === state.capacity[type])) return [];
    await repo.setCapacity(trx, userId, next);
    return [{ change: 'Capacity', capacity: next }];
  });
}

/** A supervisor's logout: out of the ACD and every group at once, each recorded as forced. */
export function forceLogout(db: Db, clock: Clock, client: ClientContext, actor: Actor, userId: number): Promise<string[]> {
  return changeState(db, clock, client, actor, userId, async (trx, state, now, label) => {
    const reason = 'forced';
    await returnOffersOf(trx, userId, now, 'agent logged out by a supervisor', label);
    const entries: HistoryEntry[] = [];
    if (state.loggedIn) {
      await repo.setAcdLogin(trx, userId, false);
      entries.push({ change: 'AcdLogout', reason });
    }
    for (const groupId of await repo.deleteGroupLogins(trx, userId)) entries.push({ change: 'GroupLogout', groupId, reason });
    return entries;
  });
}
