// SQL of agent credentials, sessions and state. Reads are scoped by client through the users row;
// writes take a user id the service has already checked (and locked) within the client.
import { sql, type Kysely } from 'kysely';
import { AgentChange, announceChanges, changeValues, recordChanges } from '../../db/changes.ts';
import type { AgentStateChange, Database } from '../../db/schema.ts';
import type { AgentSession } from '../../http/credential-cache.ts';
import { selectRecords } from '../../http/records.ts';
import { AgentRecord } from './records.ts';
import type { UserRole } from '../users/schemas.ts';

type Db = Kysely<Database>;

export interface LoginCandidate {
  userId: number;
  timeZone: string;
  passwordHash: string | null;
}

export async function findLoginCandidate(db: Db, clientId: number, uid: string): Promise<LoginCandidate | undefined> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('clients as c', 'c.id', 'u.client_id')
    .leftJoin('agent_credentials as p', 'p.user_id', 'u.id')
    .select(['u.id', 'c.time_zone', 'p.password_hash'])
    .where('u.client_id', '=', clientId)
    .where('u.uid', '=', uid)
    .executeTakeFirst();
  return row && { userId: row.id, timeZone: row.time_zone, passwordHash: row.password_hash };
}

export async function upsertPassword(db: Db, userId: number, hash: string, now: Date): Promise<void> {
  await db
    .insertInto('agent_credentials')
    .values({ user_id: userId, password_hash: hash, updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ password_hash: hash, updated_at: now }))
    .execute();
}

/** A session; with `csrfHash` a console (cookie) session, else a bearer one. */
export async function insertSession(db: Db, userId: number, tokenHash: string, now: Date, expires: Date, csrfHash: string | null = null): Promise<void> {
  await db.insertInto('agent_sessions').values({ user_id: userId, token_hash: tokenHash, created_at: now, expires_at: expires, csrf_hash: csrfHash }).execute();
}

/** Sessions past their expiry are useless; they go when their user next logs in. */
export async function deleteExpiredSessions(db: Db, userId: number, now: Date): Promise<void> {
  await db.deleteFrom('agent_sessions').where('user_id', '=', userId).where('expires_at', '<=', now).execute();
}

export async function deleteSessionsOfUser(db: Db, userId: number): Promise<void> {
  await db.deleteFrom('agent_sessions').where('user_id', '=', userId).execute();
}

export async function deleteSession(db: Db, sessionId: number): Promise<void> {
  await db.deleteFrom('agent_sessions').where('id', '=', sessionId).execute();
}

/**
 * A live bearer session of a user of this client, by the hash of its token. A console session's
 * token is not a bearer token: it works only as the cookie, with its CSRF token.
 */
export async function findSession(db: Db, clientId: number, tokenHash: string, now: Date): Promise<AgentSession | undefined> {
  const row = await db
    .selectFrom('agent_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.expires_at'])
    .where('s.token_hash', '=', tokenHash)
    .where('u.client_id', '=', clientId)
    .where('s.expires_at', '>', now)
    .where('s.csrf_hash', 'is', null)
    .executeTakeFirst();
  return row && { id: row.id, userId: row.user_id, clientId, expiresAt: row.expires_at };
}

export interface ConsoleSessionRow {
  id: number;
  userId: number;
  /** Read with the session, so a change of role holds from the next request. */
  role: UserRole;
  csrfHash: string;
  expiresAt: Date;
}

/** A live console session of a user of this client, by the hash of its cookie's token. */
export async function findConsoleSession(db: Db, clientId: number, tokenHash: string, now: Date): Promise<ConsoleSessionRow | undefined> {
  const row = await db
    .selectFrom('agent_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.expires_at', 's.csrf_hash', 'u.role'])
    .where('s.token_hash', '=', tokenHash)
    .where('u.client_id', '=', clientId)
    .where('s.expires_at', '>', now)
    .where('s.csrf_hash', 'is not', null)
    .executeTakeFirst();
  return row && { id: row.id, userId: row.user_id, role: row.role, csrfHash: row.csrf_hash!, expiresAt: row.expires_at };
}

export interface AgentState {
  loggedIn: boolean;
  capacity: Record<string, number>;
}

/**
 * The agent's state row, created if missing, locked for the rest of the transaction: every
 * change of one agent's state (and later, every offer to them) queues on this lock. The no-op
 * DO UPDATE is what makes the upsert return and lock an existing row in one statement.
 */
export async function lockState(db: Db, userId: number): Promise<AgentState> {
  const row = await db
    .insertInto('agent_states')
    .values({ user_id: userId })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }))
    .returning(['b_logged_in', 'capacity'])
    .executeTakeFirstOrThrow();
  return { loggedIn: row.b_logged_in, capacity: row.capacity };
}

export async function setAcdLogin(db: Db, userId: number, loggedIn: boolean): Promise<void> {
  await db.updateTable('agent_states').set({ b_logged_in: loggedIn }).where('user_id', '=', userId).execute();
}

export async function markStateChange(db: Db, userId: number, now: Date): Promise<void> {
  await db.updateTable('agent_states').set({ last_state_change_at: now }).where('user_id', '=', userId).execute();
}

export async function setCapacity(db: Db, userId: number, capacity: Record<string, number>): Promise<void> {
  await db.updateTable('agent_states').set({ capacity: JSON.stringify(capacity) }).where('user_id', '=', userId).execute();
}

/** Whether the user is a member of the group; the shared lock keeps the membership until commit. */
export async function lockMembership(db: Db, groupId: number, userId: number): Promise<boolean> {
  const row = await db
    .selectFrom('acd_group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .forShare()
    .executeTakeFirst();
  return row !== undefined;
}

/** True when the login is new. */
export async function insertGroupLogin(db: Db, groupId: number, userId: number, now: Date): Promise<boolean> {
  const rows = await db
    .insertInto('agent_group_logins')
    .values({ group_id: groupId, user_id: userId, created_at: now })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .returning('group_id')
    .execute();
  return rows.length > 0;
}

/** Ends the user's logins to the given groups (all groups without `groupId`); returns the groups left. */
export async function deleteGroupLogins(db: Db, userId: number, groupId?: number): Promise<number[]> {
  let query = db.deleteFrom('agent_group_logins').where('user_id', '=', userId);
  if (groupId !== undefined) query = query.where('group_id', '=', groupId);
  const rows = await query.returning('group_id').execute();
  return rows.map((r) => r.group_id).sort((a, b) => a - b);
}

export interface HistoryEntry {
  change: AgentStateChange;
  groupId?: number;
  capacity?: Record<string, number>;
  reason?: string;
}

/** Records the agent's changes (history, feed), heard by every instance once committed. */
export async function insertHistory(
  db: Db, clientId: number, userId: number, actor: string, now: Date, entries: HistoryEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    client_id: clientId, user_id: userId, change: e.change, group_id: e.groupId ?? null, capacity: e.capacity ?? null,
    actor, reason: e.reason ?? null, created_at: now,
  }));
  await sql`WITH ${recordChanges(AgentChange, changeValues(AgentChange, rows))} SELECT 1`.execute(db);
  await announceChanges(db, [{ clientId, agentId: userId, distribute: true }]);
}

export async function agentTexts(db: Db, clientId: number, timeZone: string, userId: number): Promise<string[]> {
  const { rows } = await selectRecords(AgentRecord, timeZone, sql`u.client_id = ${clientId} AND u.id = ${userId}`).execute(db);
  return rows.map((r) => r.j);
}
