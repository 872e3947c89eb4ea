// Rules of ACD group provisioning that need no database: how group types pair with a primary
// agent group, which type changes are allowed given what already hangs on a group, and what a
// skill map may hold. The service gathers the facts and turns the verdicts into API errors.
import { Conflict, InvalidField } from '../errors.ts';

export const GROUP_TYPES = ['Standalone', 'Configuration', 'Agent'] as const;
export type GroupType = (typeof GROUP_TYPES)[number];

export const SKILL_MIN = 0;
export const SKILL_MAX = 100;
export const MAX_SKILLS_PER_MEMBERSHIP = 100;
const MAX_ID = 2147483647;

/**
 * A configuration group holds call-flow settings only; the agents who work its events sit in
 * its primary agent group, so it must name one, and only it may name one.
 */
export function checkPrimaryAgentGroup(type: GroupType, primaryAgentGroupId: number | null): void {
  if (type === 'Configuration' && primaryAgentGroupId === null) {
    throw new InvalidField('PrimaryAgentGroupsID', 'is required for a Configuration group');
  }
  if (type !== 'Configuration' && primaryAgentGroupId !== null) {
    throw new InvalidField('PrimaryAgentGroupsID', `only a Configuration group has one, not a ${type} group`);
  }
}

/** The group a configuration group names as primary must be an agent group. */
export function checkPrimaryCandidate(candidate: { id: number; type: GroupType }): void {
  if (candidate.type !== 'Agent') {
    throw new InvalidField('PrimaryAgentGroupsID', `ACD group ${candidate.id} is a ${candidate.type} group, not an Agent group`);
  }
}

/** What already depends on a group; decides whether its type may change. */
export interface GroupDependants {
  members: number;
  /** Open events queued in this group. */
  queuedOpenEvents: number;
  /** Configuration groups naming this group as their primary agent group. */
  configurationGroupIds: number[];
}

export function checkTypeChange(groupId: number, from: GroupType, to: GroupType, dependants: GroupDependants): void {
  if (from === to) return;
  if (from === 'Agent' && dependants.configurationGroupIds.length > 0) {
    throw new Conflict(
      `ACD group ${groupId} is the primary agent group of configuration group(s) ${dependants.configurationGroupIds.join(', ')}; it must stay an Agent group`,
    );
  }
  if (to === 'Configuration' && dependants.members > 0) {
    throw new Conflict(`ACD group ${groupId} has ${dependants.members} member(s); a Configuration group has none`);
  }
  if (to === 'Configuration' && dependants.queuedOpenEvents > 0) {
    throw new Conflict(`ACD group ${groupId} has ${dependants.queuedOpenEvents} open event(s) in its queue; a Configuration group has no queue`);
  }
}

/** Agents are members of the groups whose queues they work; a configuration group has no queue. */
export function checkCanHaveMembers(group: { id: number; type: GroupType }): void {
  if (group.type === 'Configuration') {
    throw new Conflict(`ACD group ${group.id} is a Configuration group; add agents to its agent group instead`);
  }
}

/** Why a group or user cannot be deleted yet, or nothing. */
export function checkDeletable(what: string, openEvents: number, configurationGroupIds: number[] = []): void {
  if (openEvents > 0) {
    throw new Conflict(`${what} is still referenced by ${openEvents} open ACD event(s); finish or move them first`);
  }
  if (configurationGroupIds.length > 0) {
    throw new Conflict(`${what} is the primary agent group of configuration group(s) ${configurationGroupIds.join(', ')}`);
  }
}

/**
 * Skill values keyed by SkillsID. Keys arrive as JSON object keys, so they are text: accept only
 * a canonical positive integer, so "007" and "7" cannot become two different skills.
 */
export function normaliseSkills(skills: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(skills)) {
    if (!/^[1-9]\d{0,9}$/.test(key) || Number(key) > MAX_ID) {
      throw new InvalidField(`Skills.${key}`, 'the key must be a SkillsID (a positive integer)');
    }
    out[key] = value;
  }
  return out;
}
