// TransportToGroup (4) → TransportAgent (10): offers a group's waiting events to its agents.
//
// Locking, in this order, all in one short transaction:
//   1. the group's acd_group_dispatch row, FOR UPDATE SKIP LOCKED. One dispatcher per group at a
//      time on any number of instances; a second one skips the group instead of waiting (the
//      first will offer everything that can be offered, and every change wakes it again).
//      Without this, two dispatchers could each skip the other's locked head event and offer
//      the second event of the queue before the first.
//   2. the state rows of the group's logged-in agents, FOR UPDATE in user-id order
//      (agent-capacity.ts). Capacity is per agent across groups, so dispatchers of two groups
//      sharing an agent serialise here; the fixed order keeps them from deadlocking.
//   3. the waiting events, read after 2 (READ COMMITTED: the read sees every offer committed
//      before our locks were granted) and updated with `status_id = 4` as a guard, because a
//      supervisor may move one away meanwhile without taking the locks above.
// Agents' own transitions lock their event and then, at most, their own state row; they never
// touch a waiting event, so no cycle with this order can form.
import { sql, type Kysely } from 'kysely';
import { perDatabase } from '../../db/per-database.ts';
import type { Database } from '../../db/schema.ts';
import { planOffers, type AvailableAgent, type SkillRequirement, type WaitingEvent } from '../../domain/distribution.ts';
import { Status } from '../../domain/event-flow.ts';
import { lockAgentCapacity } from './agent-capacity.ts';
import { announceChanges, noticesOf, type ChangeNotice } from '../../db/changes.ts';
import { historyFrom } from './history.ts';

interface QueueRow {
  id: number; type_id: number; user_id: number | null; priority: number; created_at: Date | string;
  skills_id1: number | null; skills_value1: number | null;
  skills_id2: number | null; skills_value2: number | null;
  skills_id3: number | null; skills_value3: number | null;
}

function requirements(row: QueueRow): SkillRequirement[] {
  const out: SkillRequirement[] = [];
  for (const [id, value] of [[row.skills_id1, row.skills_value1], [row.skills_id2, row.skills_value2], [row.skills_id3, row.skills_value3]]) {
    if (id !== null) out.push({ skillId: id, minimum: value ?? 0 });
  }
  return out;
}

/** Groups this process has seen a dispatch row of: the row stays until the group is deleted. */
const knownGroups = perDatabase((_db: Kysely<Database>) => new Set<number>());

export interface Dispatched {
  offered: number;
  /** The lease the offers got (null: none made). */
  leaseUntil: number | null;
}

/**
 * The group's offers; 'busy' when another dispatcher holds the group. An offer gives no
 * dispatcher anything to do: its notice wakes only the agent's and supervisors' streams.
 */
export async function dispatchGroup(db: Kysely<Database>, groupId: number, now: Date, pageSize: number): Promise<Dispatched | 'busy'> {
  const known = knownGroups(db);
  if (!known.has(groupId)) {
    await sql`INSERT INTO acd_group_dispatch (group_id) SELECT id FROM acd_groups WHERE id = ${groupId}
      ON CONFLICT (group_id) DO NOTHING`.execute(db);
    known.add(groupId);
  }
  return db.transaction().execute(async (trx) => {
    // The group's logged-in members come with the lock; they are read before it is granted,
    // which is harmless: presence is checked again under the agents' lock below.
    const { rows: [group] } = await sql<{
      last_user_id: number | null; algorithm: number; timeout: number; members: { user_id: number; skills: Record<string, number> }[];
    }>`
      SELECT d.last_user_id, g.distribution_algorithm_id AS algorithm, g.offer_timeout_seconds AS timeout,
        (SELECT coalesce(json_agg(json_build_object('user_id', l.user_id, 'skills', m.skills)), '[]')
         FROM agent_group_logins l
         JOIN agent_states s ON s.user_id = l.user_id AND s.b_logged_in
         JOIN acd_group_members m ON m.group_id = l.group_id AND m.user_id = l.user_id
         WHERE l.group_id = d.group_id) AS members
      FROM acd_group_dispatch d JOIN acd_groups g ON g.id = d.group_id
      WHERE d.group_id = ${groupId} FOR UPDATE OF d SKIP LOCKED`.execute(trx);
    if (!group) return 'busy';

    const memberIds = group.members.map((m) => m.user_id);
    // The first page of the queue shares the capacity count's round trip; it cannot know yet
    // which types have a free place, so it is filtered by target agent only.
    const locked = await lockAgentCapacity(trx, memberIds, groupId, queuePageSql(groupId, null, memberIds, pageSize));
    const skillsOf = new Map(group.members.map((m) => [m.user_id, m.skills]));
    let agents: AvailableAgent[] = locked.agents
      .filter((a) => a.present && Object.values(a.free).some((n) => n > 0))
      .map(({ userId, free, idleSinceMs }) => ({ userId, free, idleSinceMs, skills: skillsOf.get(userId) ?? {} }));
    if (agents.length === 0) return { offered: 0, leaseUntil: null };

    let lastUserId = group.last_user_id;
    let offered = 0;
    const offeredTo: ChangeNotice[] = [];
    const nowMs = now.getTime();
    const lease = nowMs + group.timeout * 1000;
    let page = locked.alongside.sort(inQueueOrder);
    for (;;) {
      if (page.length === 0) break;
      const queue: WaitingEvent[] = page.map((r) => ({ id: r.id, typeId: r.type_id, targetUserId: r.user_id, skills: requirements(r) }));
      const plan = planOffers(group.algorithm, queue, agents, lastUserId, nowMs);
      agents = plan.agents;
      if (plan.offers.length > 0) {
        const written = await writeOffers(trx, groupId, plan.offers, now, new Date(lease), lastUserId === plan.lastUserId ? undefined : plan.lastUserId);
        offered += written.length;
        offeredTo.push(...noticesOf(written, false));
        lastUserId = plan.lastUserId;
      }
      if (page.length < pageSize || !agents.some((a) => Object.values(a.free).some((n) => n > 0))) break;
      page = await readQueuePage(trx, groupId, agents, pageSize, page[page.length - 1]);
    }
    await announceChanges(trx, offeredTo);
    return { offered, leaseUntil: offered > 0 ? lease : null };
  });
}

const createdMs = (row: QueueRow) => new Date(row.created_at).getTime();

/** Priority descending, then age, then id: the queue's order (rows read through JSON come unordered). */
function inQueueOrder(a: QueueRow, b: QueueRow): number {
  return b.priority - a.priority || createdMs(a) - createdMs(b) || a.id - b.id;
}

/**
 * The next page of the queue in order (Priority descending, then age), limited to events some
 * available agent could take by type and target, so that a long run of events for an absent
 * agent does not hide the events behind it.
 */
async function readQueuePage(trx: Kysely<Database>, groupId: number, agents: AvailableAgent[], pageSize: number, after: QueueRow) {
  const types = [...new Set(agents.flatMap((a) => Object.entries(a.free).filter(([, n]) => n > 0).map(([t]) => Number(t))))];
  const { rows } = await queuePageSql(groupId, types, agents.map((a) => a.userId), pageSize, after).execute(trx);
  return rows;
}

/** Waiting events of the group in queue order; `types` null: of any type. */
function queuePageSql(groupId: number, types: number[] | null, userIds: number[], pageSize: number, after?: QueueRow) {
  const keyset = after
    ? sql`AND (priority < ${after.priority} OR (priority = ${after.priority} AND (created_at, id) > (${after.created_at}::timestamptz, ${after.id}::int)))`
    : sql``;
  const ofTypes = types === null ? sql`` : sql`AND type_id = ANY(${types}::int[])`;
  return sql<QueueRow>`
    SELECT id, type_id, user_id, priority, created_at,
      skills_id1, skills_value1, skills_id2, skills_value2, skills_id3, skills_value3
    FROM acd_events
    WHERE queue_group_id = ${groupId} AND status_id = ${sql.lit(Status.TransportToGroup)}
      ${ofTypes} AND (user_id IS NULL OR user_id = ANY(${userIds}::int[])) ${keyset}
    ORDER BY priority DESC, created_at, id
    LIMIT ${pageSize}`;
}

/** The offers, and where round robin stopped (`lastUserId`, when it moved). */
async function writeOffers(
  trx: Kysely<Database>, groupId: number, offers: { eventId: number; userId: number }[], now: Date, lease: Date,
  lastUserId: number | null | undefined,
): Promise<{ client_id: number; agent_id: number }[]> {
  const roundRobin = lastUserId === undefined
    ? sql``
    : sql`, turn AS (UPDATE acd_group_dispatch SET last_user_id = ${lastUserId} WHERE group_id = ${groupId})`;
  const { rows } = await sql<{ client_id: number; agent_id: number }>`
    WITH offered AS (
      UPDATE acd_events e SET status_id = ${sql.lit(Status.TransportAgent)}, agent_id = o.user_id, lease_until = ${lease},
        offered_at = ${now}, modified_at = ${now}, last_modified_at = ${now}
      FROM unnest(${offers.map((o) => o.eventId)}::int[], ${offers.map((o) => o.userId)}::int[]) AS o(event_id, user_id)
      WHERE e.id = o.event_id AND e.status_id = ${sql.lit(Status.TransportToGroup)} AND e.queue_group_id = ${groupId}
      RETURNING e.id, e.client_id, e.agent_id, e.type_id, e.queue_group_id
    ), ${historyFrom('offered', Status.TransportToGroup, Status.TransportAgent, 'offered', now)}, idle AS (
      UPDATE agent_states s SET last_offer_at = ${now} FROM (SELECT DISTINCT agent_id FROM offered) x WHERE s.user_id = x.agent_id
    )${roundRobin}
    SELECT client_id, agent_id FROM offered`.execute(trx);
  return rows;
}
