// SQL of ACD groups and their memberships. Every query is scoped by client (directly or through
// the group row), so a caller cannot reach another client's rows by id.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { clientRows } from '../../db/client-rows.ts';
import type { GroupType } from '../../domain/acd-groups.ts';
import { selectRecords } from '../../http/records.ts';
import { FIRST_CLOSED_STATUS } from '../events/enumerations.ts';
import { GroupRecord, MembershipRecord } from './records.ts';
import type { GroupInput } from './schemas.ts';

type Db = Kysely<Database>;

/** jtel field → column; the record definition reads the same columns back. */
const COLUMNS = {
  Name: 'name',
  GroupType: 'group_type',
  PrimaryAgentGroupsID: 'primary_agent_group_id',
  ForeignSystemID: 'foreign_system_id',
  DistributionAlgorithmID: 'distribution_algorithm_id',
  ServiceLevelSeconds: 'service_level_seconds',
  QueueMusicID4Sec: 'queue_music_id',
  SupervisorAggregationSkill5ID: 'supervisor_aggregation_skill_id',
  QueueOffhookAnnouncementID: 'queue_offhook_announcement_id',
  bPositionAnnouncement3: 'b_position_announcement',
  TarifAnnouncementWavesID: 'tarif_announcement_waves_id',
  bCallRedirectionAfterNumberAnnouncement: 'b_call_redirection_after_number_announcement',
  bAvoidDuplicateEvents: 'b_avoid_duplicate_events',
  OfferTimeoutSeconds: 'offer_timeout_seconds',
} as const satisfies Record<keyof GroupInput, string>;

const groupRows = clientRows<GroupInput>('acd_groups', COLUMNS, 'name');
export const groupNameTaken = groupRows.valueTaken;
export const insertGroup = groupRows.insert;
export const updateGroup = groupRows.update;
export const deleteGroup = groupRows.remove;

export interface GroupRow {
  id: number;
  type: GroupType;
  primaryAgentGroupId: number | null;
  name: string;
}

/**
 * Reads a group of the client and locks its row for the rest of the transaction: `update` for
 * changes and deletion, `share` while something is attached to it (a member, a configuration
 * group), so a concurrent type change or deletion waits and then sees the attachment.
 */
export async function lockGroup(db: Db, clientId: number, groupId: number, mode: 'update' | 'share'): Promise<GroupRow | undefined> {
  const query = db
    .selectFrom('acd_groups')
    .select(['id', 'group_type', 'primary_agent_group_id', 'name'])
    .where('id', '=', groupId)
    .where('client_id', '=', clientId);
  const row = await (mode === 'update' ? query.forUpdate() : query.forShare()).executeTakeFirst();
  return row && { id: row.id, type: row.group_type, primaryAgentGroupId: row.primary_agent_group_id, name: row.name };
}

/** Open events that name the group in any role: target, configuration, agent or queue group. */
export async function countOpenEventsOfGroup(db: Db, groupId: number): Promise<number> {
  const row = await db
    .selectFrom('acd_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status_id', '<', FIRST_CLOSED_STATUS)
    .where((eb) => eb.or([
      eb('group_id', '=', groupId),
      eb('configuration_group_id', '=', groupId),
      eb('agent_group_id', '=', groupId),
      eb('queue_group_id', '=', groupId),
    ]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countQueuedOpenEvents(db: Db, groupId: number): Promise<number> {
  const row = await db
    .selectFrom('acd_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status_id', '<', FIRST_CLOSED_STATUS)
    .where('queue_group_id', '=', groupId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countMembers(db: Db, groupId: number): Promise<number> {
  const row = await db
    .selectFrom('acd_group_members')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('group_id', '=', groupId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function configurationGroupsNaming(db: Db, agentGroupId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('acd_groups')
    .select('id')
    .where('primary_agent_group_id', '=', agentGroupId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** PUT semantics: the skill map replaces the previous one; the membership keeps its creation time. */
export async function upsertMembership(db: Db, groupId: number, userId: number, skills: Record<string, number>, now: Date): Promise<void> {
  await db
    .insertInto('acd_group_members')
    .values({ group_id: groupId, user_id: userId, skills: JSON.stringify(skills), created_at: now })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doUpdateSet({ skills: (eb) => eb.ref('excluded.skills') }))
    .execute();
}

export async function deleteMembership(db: Db, groupId: number, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('acd_group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function groupTexts(db: Db, clientId: number, timeZone: string, groupId: number): Promise<string[]> {
  const { rows } = await selectRecords(GroupRecord, timeZone, sql`g.client_id = ${clientId} AND g.id = ${groupId}`).execute(db);
  return rows.map((r) => r.j);
}

/** LIKE treats `%`, `_` and the escape character as patterns; a searched name means them literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function groupTextsByName(db: Db, clientId: number, timeZone: string, name: string): Promise<string[]> {
  const pattern = `%${escapeLike(name)}%`;
  const { rows } = await selectRecords(
    GroupRecord,
    timeZone,
    sql`g.client_id = ${clientId} AND g.name ILIKE ${pattern} ESCAPE '\\'`,
    sql`ORDER BY g.name, g.id`,
  ).execute(db);
  return rows.map((r) => r.j);
}

export async function membershipTexts(db: Db, clientId: number, timeZone: string, groupId: number, userId: number): Promise<string[]> {
  const { rows } = await selectRecords(
    MembershipRecord,
    timeZone,
    sql`g.client_id = ${clientId} AND m.group_id = ${groupId} AND m.user_id = ${userId}`,
  ).execute(db);
  return rows.map((r) => r.j);
}
