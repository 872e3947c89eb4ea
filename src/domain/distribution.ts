// Who gets which waiting event (spec §7), as a pure function of a group's queue and its agents,
// so the rules are testable without a database and the dispatcher only gathers facts and writes.

export const DistributionAlgorithm = { LongestIdle: 1, RoundRobin: 2, HighestSkill: 3 } as const;

/** A required skill of an event: the agent's value for `skillId` must be at least `minimum`. */
export interface SkillRequirement {
  skillId: number;
  minimum: number;
}

export interface WaitingEvent {
  id: number;
  typeId: number;
  /** The only agent the event may go to (UsersID), or null for anyone in the group. */
  targetUserId: number | null;
  skills: SkillRequirement[];
}

export interface AvailableAgent {
  userId: number;
  /** Skill values of the agent in this group, keyed by SkillsID. */
  skills: Record<string, number>;
  /** Free places per event type: capacity minus events offered or in hand (set-aside excluded). */
  free: Record<string, number>;
  /** Epoch ms since when the agent has had no new work (last offer or last finish); null: never. */
  idleSinceMs: number | null;
}

export interface Offer {
  eventId: number;
  userId: number;
}

export function meetsSkills(agent: Pick<AvailableAgent, 'skills'>, required: SkillRequirement[]): boolean {
  return required.every((r) => (agent.skills[String(r.skillId)] ?? -1) >= r.minimum);
}

export function isEligible(agent: AvailableAgent, event: WaitingEvent): boolean {
  if (event.targetUserId !== null && event.targetUserId !== agent.userId) return false;
  return (agent.free[String(event.typeId)] ?? 0) > 0 && meetsSkills(agent, event.skills);
}

/** Oldest idle first; an agent who never had work counts as idle the longest; then by user id. */
function byLongestIdle(a: AvailableAgent, b: AvailableAgent): number {
  const ai = a.idleSinceMs ?? -Infinity;
  const bi = b.idleSinceMs ?? -Infinity;
  return ai !== bi ? ai - bi : a.userId - b.userId;
}

function skillScore(agent: AvailableAgent, required: SkillRequirement[]): number {
  return required.reduce((sum, r) => sum + (agent.skills[String(r.skillId)] ?? 0), 0);
}

/**
 * Picks one of the eligible agents for the event. Round robin takes the first agent after
 * `lastUserId` in user-id order (wrapping round); highest skill takes the best total of the
 * event's required skills, ties (and events that require none) going to the longest idle.
 */
export function pickAgent(
  algorithm: number,
  eligible: AvailableAgent[],
  event: WaitingEvent,
  lastUserId: number | null,
): AvailableAgent | undefined {
  if (eligible.length === 0) return undefined;
  if (algorithm === DistributionAlgorithm.RoundRobin) {
    const ordered = [...eligible].sort((a, b) => a.userId - b.userId);
    return ordered.find((a) => lastUserId === null || a.userId > lastUserId) ?? ordered[0];
  }
  if (algorithm === DistributionAlgorithm.HighestSkill) {
    return [...eligible].sort((a, b) => skillScore(b, event.skills) - skillScore(a, event.skills) || byLongestIdle(a, b))[0];
  }
  return [...eligible].sort(byLongestIdle)[0];
}

/**
 * Walks the queue in order (the caller passes it sorted by Priority descending, then age) and
 * offers each event to an eligible agent with a free place. An event nobody can take keeps its
 * place and does not hold up the events behind it that someone can take. `now` becomes the
 * idle mark of an agent who gets an offer, so the next event prefers someone else. Answers the
 * agents as the offers leave them (fewer free places), for the next page of the queue.
 */
export function planOffers(
  algorithm: number,
  queue: WaitingEvent[],
  agents: AvailableAgent[],
  lastUserId: number | null,
  now: number,
): { offers: Offer[]; lastUserId: number | null; agents: AvailableAgent[] } {
  const pool = agents.map((a) => ({ ...a, free: { ...a.free } }));
  const offers: Offer[] = [];
  let last = lastUserId;
  for (const event of queue) {
    const chosen = pickAgent(algorithm, pool.filter((a) => isEligible(a, event)), event, last);
    if (!chosen) continue;
    chosen.free[String(event.typeId)] -= 1;
    chosen.idleSinceMs = now;
    last = chosen.userId;
    offers.push({ eventId: event.id, userId: chosen.userId });
  }
  return { offers, lastUserId: last, agents: pool };
}
