// ACD group provisioning and memberships. Each change runs in one transaction that locks the rows
// it depends on, so the checks (name free, primary group is an Agent group, nothing open refers
// to a deleted group) still hold when the change commits, with any number of instances.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { Clock } from '../../domain/clock.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AlreadyExists, GroupNotFound, InvalidField, MembershipNotFound, NotFound, UserNotFound } from '../../errors.ts';
import {
  checkCanHaveMembers, checkDeletable, checkPrimaryAgentGroup, checkPrimaryCandidate, checkTypeChange, normaliseSkills,
  type GroupType,
} from '../../domain/acd-groups.ts';
import { lockUser } from '../users/repository.ts';
import * as repo from './repository.ts';
import { lockState } from '../agents/repository.ts';
import { releaseDepartingAgent } from '../work/repository.ts';
import { API_ACTOR } from '../events/service.ts';
import type { GroupInput } from './schemas.ts';

type Db = Kysely<Database>;

/** Runs `work`; a unique-name race that slipped past the check still answers 409. */
async function guardName<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (name !== undefined && isUniqueViolation(error)) throw new AlreadyExists('ACD group', name);
    throw error;
  }
}

async function checkPrimary(trx: Db, clientId: number, primaryId: number | null, selfId?: number): Promise<void> {
  if (primaryId === null) return;
  if (primaryId === selfId) throw new InvalidField('PrimaryAgentGroupsID', 'a group cannot be its own primary agent group');
  // Shared lock: the agent group cannot change type or disappear until this commits.
  const candidate = await repo.lockGroup(trx, clientId, primaryId, 'share');
  if (!candidate) throw new GroupNotFound(primaryId);
  checkPrimaryCandidate(candidate);
}

export async function getGroup(db: Db, client: ClientContext, groupId: number): Promise<string[]> {
  const texts = await repo.groupTexts(db, client.id, client.timeZone, groupId);
  if (texts.length === 0) throw new GroupNotFound(groupId);
  return texts;
}

export async function findGroupsByName(db: Db, client: ClientContext, name: string): Promise<string[]> {
  const texts = await repo.groupTextsByName(db, client.id, client.timeZone, name);
  if (texts.length === 0) throw new NotFound(`ACD group with a name containing "${name}"`);
  return texts;
}

export async function createGroup(db: Db, clock: Clock, client: ClientContext, input: GroupInput): Promise<string[]> {
  const type: GroupType = input.GroupType ?? 'Standalone';
  const primaryId = input.PrimaryAgentGroupsID ?? null;
  checkPrimaryAgentGroup(type, primaryId);
  const id = await guardName(input.Name, () => db.transaction().execute(async (trx) => {
    await checkPrimary(trx, client.id, primaryId);
    if (await repo.groupNameTaken(trx, client.id, input.Name!)) throw new AlreadyExists('ACD group', input.Name!);
    return repo.insertGroup(trx, client.id, { ...input, GroupType: type }, new Date(clock.now()));
  }));
  return repo.groupTexts(db, client.id, client.timeZone, id);
}

export async function updateGroup(db: Db, clock: Clock, client: ClientContext, groupId: number, input: GroupInput): Promise<string[]> {
  await guardName(input.Name, () => db.transaction().execute(async (trx) => {
    const current = await repo.lockGroup(trx, client.id, groupId, 'update');
    if (!current) throw new GroupNotFound(groupId);
    const type = input.GroupType ?? current.type;
    // Leaving the Configuration type drops the primary group unless the body names one.
    const primaryId = input.PrimaryAgentGroupsID !== undefined
      ? input.PrimaryAgentGroupsID
      : type === 'Configuration' ? current.primaryAgentGroupId : null;
    checkPrimaryAgentGroup(type, primaryId);
    if (primaryId !== current.primaryAgentGroupId) await checkPrimary(trx, client.id, primaryId, groupId);
    if (type !== current.type) {
      checkTypeChange(groupId, current.type, type, {
        members: await repo.countMembers(trx, groupId),
        queuedOpenEvents: await repo.countQueuedOpenEvents(trx, groupId),
        configurationGroupIds: await repo.configurationGroupsNaming(trx, groupId),
      });
    }
    if (input.Name !== undefined && input.Name !== current.name && (await repo.groupNameTaken(trx, client.id, input.Name, groupId))) {
      throw new AlreadyExists('ACD group', input.Name);
    }
    await repo.updateGroup(trx, client.id, groupId, { ...input, GroupType: type, PrimaryAgentGroupsID: primaryId }, new Date(clock.now()));
  }));
  return repo.groupTexts(db, client.id, client.timeZone, groupId);
}

/**
 * Refused (409) while open events still name the group or a configuration group relies on it as
 * its primary agent group: deleting it would strand those events in a queue nobody works.
 * Finished events keep their history with the group reference cleared.
 */
export async function deleteGroup(db: Db, client: ClientContext, groupId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // The exclusive lock makes concurrent event creation for this group wait, then find it gone
    // (creates lock their groups FOR KEY SHARE, migration 009).
    const current = await repo.lockGroup(trx, client.id, groupId, 'update');
    if (!current) throw new GroupNotFound(groupId);
    checkDeletable(`ACD group ${groupId}`, await repo.countOpenEventsOfGroup(trx, groupId), await repo.configurationGroupsNaming(trx, groupId));
    await repo.deleteGroup(trx, client.id, groupId);
  });
}

/** Create-or-replace: the body's skill map becomes the member's whole skill set in the group. */
export async function putMembership(
  db: Db, clock: Clock, client: ClientContext, groupId: number, userId: number, skills: Record<string, number> = {},
): Promise<string[]> {
  const normalised = normaliseSkills(skills);
  // Shared locks: neither row can be deleted, nor the group turned into a Configuration group,
  // before the membership is committed.
  await db.transaction().execute(async (trx) => {
    const group = await repo.lockGroup(trx, client.id, groupId, 'share');
    if (!group) throw new GroupNotFound(groupId);
    if (!(await lockUser(trx, client.id, userId, 'share'))) throw new UserNotFound(userId);
    checkCanHaveMembers(group);
    await repo.upsertMembership(trx, groupId, userId, normalised, new Date(clock.now()));
  });
  return repo.membershipTexts(db, client.id, client.timeZone, groupId, userId);
}

/**
 * Ends a membership (and so the agent's login to the group). Events of the group reserved for
 * the agent become Error, those they held there return to the queue: see releaseDepartingAgent.
 */
export async function deleteMembership(db: Db, clock: Clock, client: ClientContext, groupId: number, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await repo.lockGroup(trx, client.id, groupId, 'share'))) throw new GroupNotFound(groupId);
    if (!(await lockUser(trx, client.id, userId, 'share'))) throw new UserNotFound(userId);
    await lockState(trx, userId);
    if (!(await repo.deleteMembership(trx, groupId, userId))) throw new MembershipNotFound(userId, groupId);
    await releaseDepartingAgent(trx, userId, new Date(clock.now()), API_ACTOR, `left ACD group ${groupId}`, groupId);
  });
}
