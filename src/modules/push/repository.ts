// Reading the push feed. Message ids come from one sequence, but transactions commit in any
// order: a reader that delivered id 12 could later see id 11 appear. So delivery follows
// (xid, id) and stops below the oldest transaction still running (the snapshot's xmin): every
// transaction under that line has finished, so nothing can appear behind the reader's position.
// A message waits at most as long as the transactions started before it, which here are short.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

export interface Audience {
  clientId: number;
  /** An agent's stream: only messages concerning them. Absent: the whole client (supervisors). */
  agentId?: number;
}

export interface Cursor {
  xid: string;
  id: string;
}

export interface PushMessage {
  id: string;
  xid: string;
  topic: string;
  json: string;
}

export const RETENTION_HOURS = 48;

const DELIVERABLE = sql`m.xid < pg_snapshot_xmin(pg_current_snapshot())`;

function audienceSql(audience: Audience) {
  return audience.agentId === undefined
    ? sql`m.client_id = ${audience.clientId}`
    : sql`m.client_id = ${audience.clientId} AND m.agent_id = ${audience.agentId}`;
}

/** Where a stream starts: after the message the client saw last, or after the newest one. */
export async function startCursor(db: Db, audience: Audience, lastEventId: string | null): Promise<Cursor> {
  if (lastEventId !== null) {
    const { rows } = await sql<{ xid: string }>`SELECT xid::text AS xid FROM push_messages WHERE id = ${lastEventId}::bigint`.execute(db);
    // Gone (older than the retention): everything still kept is newer than what they saw.
    return { xid: rows[0]?.xid ?? '0', id: rows[0] ? lastEventId : '0' };
  }
  // The client's newest message: no message of one of its agents comes after it, and finding it
  // never walks back through the rest of the client's feed looking for the agent's.
  const { rows } = await sql<{ xid: string; id: string }>`
    SELECT m.xid::text AS xid, m.id::text AS id FROM push_messages m WHERE m.client_id = ${audience.clientId} AND ${DELIVERABLE}
    ORDER BY m.xid DESC, m.id DESC LIMIT 1`.execute(db);
  return rows[0] ?? { xid: '0', id: '0' };
}

/** The next deliverable messages after `cursor`, oldest first; JSON with the time in the client's zone. */
export async function messagesAfter(db: Db, audience: Audience, cursor: Cursor, timeZone: string, limit: number): Promise<PushMessage[]> {
  const { rows } = await sql<PushMessage>`
    SELECT m.id::text AS id, m.xid::text AS xid, m.topic,
      (m.data || jsonb_build_object('dtCreated', to_char(m.created_at AT TIME ZONE ${timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')))::text AS json
    FROM push_messages m
    WHERE ${audienceSql(audience)} AND (m.xid, m.id) > (${cursor.xid}::xid8, ${cursor.id}::bigint) AND ${DELIVERABLE}
    -- Qualified: the bare names would sort by the text columns of the select list.
    ORDER BY m.xid, m.id
    LIMIT ${limit}`.execute(db);
  return rows;
}

export interface FeedMessage extends PushMessage {
  clientId: number;
  agentId: number | null;
}

/** The newest deliverable message of the whole feed (where a reader with no past starts). */
export async function feedHead(db: Db): Promise<Cursor> {
  const { rows } = await sql<Cursor>`
    SELECT m.xid::text AS xid, m.id::text AS id FROM push_messages m WHERE ${DELIVERABLE}
    ORDER BY m.xid DESC, m.id DESC LIMIT 1`.execute(db);
  return rows[0] ?? { xid: '0', id: '0' };
}

/** The next deliverable messages of every client after `cursor`, each in its client's time zone. */
export async function feedAfter(db: Db, cursor: Cursor, limit: number): Promise<FeedMessage[]> {
  const { rows } = await sql<FeedMessage>`
    SELECT m.id::text AS id, m.xid::text AS xid, m.topic, m.client_id AS "clientId", m.agent_id AS "agentId",
      (m.data || jsonb_build_object('dtCreated', to_char(m.created_at AT TIME ZONE c.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS.MS')))::text AS json
    FROM push_messages m JOIN clients c ON c.id = m.client_id
    WHERE (m.xid, m.id) > (${cursor.xid}::xid8, ${cursor.id}::bigint) AND ${DELIVERABLE}
    ORDER BY m.xid, m.id
    LIMIT ${limit}`.execute(db);
  return rows;
}

export async function deleteExpired(db: Db, now: Date): Promise<number> {
  const before = new Date(now.getTime() - RETENTION_HOURS * 3600_000);
  const result = await db.deleteFrom('push_messages').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
