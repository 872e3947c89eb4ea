// SQL of the wallboard: three statements for all of a client's groups, each on an index
// (acd_events_queue for the queues, acd_events_held for the agents' work, acd_events_client_created
// and acd_event_history_event for today's service level).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';
import type { AgentState } from './schemas.ts';
import { queueCounts } from '../work/repository.ts';

type Db = Kysely<Database>;

export interface QueueRow {
  id: number;
  name: string;
  group_type: string;
  service_level_seconds: number;
  waiting: number;
  offered: number;
  in_hand: number;
  oldest: Date | string | null;
}

export async function queueRows(db: Db, clientId: number): Promise<QueueRow[]> {
  const { rows } = await sql<QueueRow>`
    SELECT g.id, g.name, g.group_type, g.service_level_seconds, q.*
    FROM acd_groups g CROSS JOIN LATERAL (${queueCounts}) q
    WHERE g.client_id = ${clientId}
    ORDER BY g.name, g.id`.execute(db);
  return rows;
}

export interface AgentStateRow {
  group_id: number;
  state: AgentState;
  n: number;
}

/** The members of each group by state: logged in to both the ACD and the group, then by their work. */
export async function agentStateRows(db: Db, clientId: number): Promise<AgentStateRow[]> {
  const { rows } = await sql<AgentStateRow>`
    SELECT m.group_id,
      CASE WHEN NOT coalesce(s.b_logged_in, false) OR l.user_id IS NULL THEN 'LoggedOut'
           WHEN w.offered > 0 THEN 'Offered'
           WHEN w.busy > 0 THEN 'Busy'
           ELSE 'Idle' END AS state,
      count(*)::int AS n
    FROM acd_group_members m
    JOIN acd_groups g ON g.id = m.group_id
    LEFT JOIN agent_states s ON s.user_id = m.user_id
    LEFT JOIN agent_group_logins l ON l.group_id = m.group_id AND l.user_id = m.user_id
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE status_id = ${sql.lit(Status.TransportAgent)}) AS offered,
             count(*) FILTER (WHERE status_id IN (${sql.lit(Status.New)}, ${sql.lit(Status.Seen)})) AS busy
      FROM acd_events WHERE agent_id = m.user_id AND status_id BETWEEN ${sql.lit(Status.TransportAgent)} AND ${sql.lit(Status.Remind)}) w
    WHERE g.client_id = ${clientId}
    GROUP BY 1, 2`.execute(db);
  return rows;
}

export interface ServiceLevelRow {
  group_id: number;
  within: number;
  decided: number;
}

/**
 * Per group, the events created from `since` on: how many were accepted (their first move to New,
 * 20) within the group's ServiceLevelSeconds of creation, and how many have a known outcome
 * (accepted at all, or older than ServiceLevelSeconds at `now`).
 */
export async function serviceLevelRows(db: Db, clientId: number, since: Date, now: Date): Promise<ServiceLevelRow[]> {
  const { rows } = await sql<ServiceLevelRow>`
    SELECT e.queue_group_id AS group_id,
      count(*) FILTER (WHERE a.at <= e.created_at + g.service_level_seconds * interval '1 second')::int AS within,
      count(*) FILTER (WHERE a.at IS NOT NULL OR e.created_at + g.service_level_seconds * interval '1 second' < ${now})::int AS decided
    FROM acd_events e
    JOIN acd_groups g ON g.id = e.queue_group_id
    CROSS JOIN LATERAL (
      SELECT min(h.created_at) AS at FROM acd_event_history h
      WHERE h.event_id = e.id AND h.to_status_id = ${sql.lit(Status.New)}) a
    WHERE e.client_id = ${clientId} AND e.created_at >= ${since} AND e.created_at <= ${now}
    GROUP BY 1`.execute(db);
  return rows;
}
