// The wallboard of the supervisor view: per group, the queue, today's service level and the
// members by state, from three statements whatever the number of groups.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import { startOfLocalDay } from '../../domain/time.ts';
import { agentStateRows, queueRows, serviceLevelRows } from './repository.ts';
import { AGENT_STATES, type AgentState } from './schemas.ts';

type Db = Kysely<Database>;

export interface WallboardGroup {
  AcdGroupsID: number;
  Name: string;
  GroupType: string;
  Waiting: number;
  Offered: number;
  InProgress: number;
  LongestWaitSeconds: number | null;
  ServiceLevelSeconds: number;
  ServiceLevelPercent: number | null;
  AgentsLoggedIn: number;
  AgentsByState: Record<AgentState, number>;
}

export async function wallboard(db: Db, client: ClientContext, now: number): Promise<WallboardGroup[]> {
  const [groups, agents, levels] = await Promise.all([
    queueRows(db, client.id),
    agentStateRows(db, client.id),
    serviceLevelRows(db, client.id, new Date(startOfLocalDay(now, client.timeZone)), new Date(now)),
  ]);
  const none = () => Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<AgentState, number>;
  const byState = new Map<number, Record<AgentState, number>>();
  for (const row of agents) {
    const states = byState.get(row.group_id) ?? none();
    states[row.state] += row.n;
    byState.set(row.group_id, states);
  }
  const level = new Map(levels.map((row) => [row.group_id, row]));
  return groups.map((g) => {
    const states = byState.get(g.id) ?? none();
    const sl = level.get(g.id);
    return {
      AcdGroupsID: g.id,
      Name: g.name,
      GroupType: g.group_type,
      Waiting: g.waiting,
      Offered: g.offered,
      InProgress: g.in_hand,
      LongestWaitSeconds: g.oldest === null ? null : Math.max(0, Math.floor((now - new Date(g.oldest).getTime()) / 1000)),
      ServiceLevelSeconds: g.service_level_seconds,
      ServiceLevelPercent: sl && sl.decided > 0 ? Math.round((1000 * sl.within) / sl.decided) / 10 : null,
      AgentsLoggedIn: states.Idle + states.Offered + states.Busy,
      AgentsByState: states,
    };
  });
}
