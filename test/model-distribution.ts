// The reference model of the distribution property (properties-distribution.test.ts): the events
// and agents as the spec says they must be, and the rules the engine is checked against.
import type { Harness, TestClient } from './helper.ts';
import type { TestAgent } from './fixtures-agents.ts';
import { Distributor } from '../src/distributor/distributor.ts';

export const RUNS = 30;
export const MAX_COMMANDS = 40;
/**
 * Shrinking a failure replays whole runs and can take minutes: after this long, runs are skipped
 * (never cut off half-way: a run owns its client until its tear-down), so fast-check reports the
 * smallest counterexample found so far. Green runs take a few seconds.
 */
export const TIME_BUDGET_MS = 60_000;
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
/** Event types in play: Email and SMS (no phone-number rules on Sender). */
export const TYPES = [5, 4] as const;
export const SKILLS = [7, 8] as const;
export const AGENTS = 3;
export const DEFAULT_TIMEOUT_S = 30;
/** The batch of the app's distributor (its default). */
export const APP_BATCH = 500;
/** Agent sessions made here last this long; the runs jump the clock by hours, so they are renewed. */
export const SESSION_MS = 12 * 3600 * SECOND;
export const RENEW_SESSION_AFTER = 10 * 3600 * SECOND;

export const S = { Distribute: 1, Queued: 4, Offered: 10, New: 20, Seen: 30, Remind: 40, Done: 99 } as const;
export const ALLOWED = new Set<number>(Object.values(S));
export const HELD = new Set<number>([S.Offered, S.New, S.Seen, S.Remind]);
export const LOAD = new Set<number>([S.Offered, S.New, S.Seen]);

export type Action = 'accept' | 'reject' | 'seen' | 'remind' | 'done' | 'forward';
/** The model's own table of what an agent may do from which status (spec §7). */
export const ACTION_FROM: Record<Action, readonly number[]> = {
  accept: [S.Offered],
  reject: [S.Offered],
  seen: [S.New, S.Seen],
  remind: [S.New, S.Seen, S.Remind],
  done: [S.New, S.Seen, S.Remind],
  forward: [S.New, S.Seen, S.Remind],
};

// ---------------------------------------------------------------------------------------------
// The model

export interface ModelEvent {
  id: number;
  type: number;
  /** Group index (0, 1). */
  group: number;
  /** UsersID as an agent index, or null: anyone in the group. */
  target: number | null;
  priority: number;
  createdAt: number;
  skill: { id: number; min: number } | null;
  appointmentAt: number | null;
  status: number;
  /** Agent index in agent_id: the holder in 10..40, whoever finished it in 99. */
  holder: number | null;
  lease: number | null;
  remindAt: number | null;
  /** Every status the event has been in, as its history must record them. */
  path: number[];
  /** Agents it was ever offered to: their history names them, so a late action is 409, not 404. */
  offeredTo: Set<number>;
}

export interface ModelAgent {
  userId: number;
  member: boolean[];
  skills: Record<string, number>[];
  acd: boolean;
  groups: boolean[];
  cap: Record<string, number>;
  /** Per type: a load above capacity that a capacity cut left (it may only shrink). */
  over: Record<string, number>;
}

export interface Model {
  tally: Tally;
  /** The distributor's batch: rows per sweep statement and per queue page. */
  batch: number;
  now: number;
  groups: { id: number; algorithm: number; timeout: number }[];
  agents: ModelAgent[];
  events: Map<number, ModelEvent>;
  /** Steps taken, for the messages. */
  step: number;
}

export interface RealAgent extends TestAgent {
  loginAt: number;
}

export interface Real {
  h: Harness;
  c: TestClient;
  agents: RealAgent[];
  distributor: Distributor;
}

export const capOf = (m: Model, a: number, type: number) => m.agents[a].cap[String(type)] ?? 1;

export function loadOf(m: Model, a: number, type: number): number {
  let n = 0;
  for (const e of m.events.values()) if (e.holder === a && e.type === type && LOAD.has(e.status)) n++;
  return n;
}

/** Everything but capacity: logged in to the ACD and the group, the target, the skills. */
export function qualifies(m: Model, a: number, e: ModelEvent): boolean {
  const agent = m.agents[a];
  if (!agent.acd || !agent.groups[e.group] || !agent.member[e.group]) return false;
  if (e.target !== null && e.target !== a) return false;
  return e.skill === null || (agent.skills[e.group][String(e.skill.id)] ?? -1) >= e.skill.min;
}

/** Queue order: Priority descending, then dtCreated, then ID. */
export const queueOrder = (a: ModelEvent, b: ModelEvent) => b.priority - a.priority || a.createdAt - b.createdAt || a.id - b.id;

export const describeEvent = (e: ModelEvent) =>
  `#${e.id}(type ${e.type}, g${e.group}, prio ${e.priority}, status ${e.status}, holder ${e.holder}, target ${e.target}, skill ${e.skill ? `${e.skill.id}>=${e.skill.min}` : '-'})`;

export function modelDump(m: Model): string {
  const agents = m.agents.map((a, i) =>
    `agent ${i}: acd ${a.acd} groups ${a.groups} member ${a.member} skills ${JSON.stringify(a.skills)} cap ${JSON.stringify(a.cap)}`);
  return [...agents, ...[...m.events.values()].map(describeEvent)].join('\n');
}

/** A change of status; one that changes nothing is not recorded in the history. */
export function moveTo(e: ModelEvent, status: number): void {
  if (status !== e.status) e.path.push(status);
  e.status = status;
}

export function release(e: ModelEvent): void {
  moveTo(e, S.Queued);
  e.holder = null;
  e.lease = null;
}

/** What the runs got to see, so that a quiet generator cannot pass for a green property. */
export class Tally {
  readonly seen = new Map<string, number>();
  add(what: string, n = 1): void { if (n > 0) this.seen.set(what, (this.seen.get(what) ?? 0) + n); }
  toString(): string { return [...this.seen].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', '); }
}
