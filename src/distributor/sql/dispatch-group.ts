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

/** Offers made and the lease they got (null: none made); 'busy' when another dispatcher holds the group. */
export async function dispatchGroup(
  db: Kysely<Database>, groupId: number, now: Date, pageSize: number,
): Promise<{ offered: number; leaseUntil: number | null } | 'busy'> {
  const known = knownGroups(db);
  if (!known.has(groupId)) {
    await sql`INSERT INTO acd_group_dispatch (group_id) SELECT id FROM acd_groups WHERE id = ${groupId}
      ON CONFLICT (group_id) DO NOTHING`.execute(db);
    known.add(groupId);
  }
  return db.transaction().execute(async (trx) => {
    const { rows: [group] } = await sql<{ last_user_id: number | null; algorithm: number; timeout: number }>`
      SELECT d.last_user_id, g.distribution_algorithm_id AS algorithm, g.offer_timeout_seconds AS timeout
      FROM acd_group_dispatch d JOIN acd_groups g ON g.id = d.group_id
      WHERE d.group_id = ${groupId} FOR UPDATE OF d SKIP LOCKED`.execute(trx);
    if (!group) return 'busy';

    const { rows: members } = await sql<{ user_id: number; skills: Record<string, number> }>`
      SELECT l.user_id, m.skills FROM agent_group_logins l
      JOIN agent_states s ON s.user_id = l.user_id AND s.b_logged_in
      JOIN acd_group_members m ON m.group_id = l.group_id AND m.user_id = l.user_id
      WHERE l.group_id = ${groupId}`.execute(trx);
    // An agent who logged out between the read above and the lock keeps no claim: re-checked under it.
    const locked = await lockAgentCapacity(trx, members.map((m) => m.user_id), groupId);
    const skillsOf = new Map(members.map((m) => [m.user_id, m.skills]));
    let agents: AvailableAgent[] = locked
      .filter((a) => a.present && Object.values(a.free).some((n) => n > 0))
      .map(({ userId, free, idleSinceMs }) => ({ userId, free, idleSinceMs, skills: skillsOf.get(userId) ?? {} }));
    if (agents.length === 0) return { offered: 0, leaseUntil: null };

    let lastUserId = group.last_user_id;
    let offered = 0;
    let after: QueueRow | undefined;
    const nowMs = now.getTime();
    const lease = nowMs + group.timeout * 1000;
    for (;;) {
      const page = await readQueuePage(trx, groupId, agents, pageSize, after);
      if (page.length === 0) break;
      const queue: WaitingEvent[] = page.map((r) => ({ id: r.id, typeId: r.type_id, targetUserId: r.user_id, skills: requirements(r) }));
      const plan = planOffers(group.algorithm, queue, agents, lastUserId, nowMs);
      lastUserId = plan.lastUserId;
      agents = plan.agents;
      if (plan.offers.length > 0) {
        offered += await writeOffers(trx, groupId, plan.offers, now, new Date(lease));
      }
      if (page.length < pageSize || !agents.some((a) => Object.values(a.free).some((n) => n > 0))) break;
      after = page[page.length - 1];
    }
    if (lastUserId !== group.last_user_id) {
      await sql`UPDATE acd_group_dispatch SET last_user_id = ${lastUserId} WHERE group_id = ${groupId}`.execute(trx);
    }
    return { offered, leaseUntil: offered > 0 ? lease : null };
  });
}

/**
 * The next page of the queue in order (Priority descending, then age), limited to events some
 * available agent could take by type and target, so that a long run of events for an absent
 * agent does not hide the events behind it.
 */
async function readQueuePage(trx: Kysely<Database>, groupId: number, agents: AvailableAgent[], pageSize: number, after?: QueueRow) {
  const types = [...new Set(agents.flatMap((a) => Object.entries(a.free).filter(([, n]) => n > 0).map(([t]) => Number(t))))];
  const ids = agents.map((a) => a.userId);
  const keyset = after
    ? sql`AND (priority < ${after.priority} OR (priority = ${after.priority} AND (created_at, id) > (${after.created_at}::timestamptz, ${after.id}::int)))`
    : sql``;
  const { rows } = await sql<QueueRow>`
    SELECT id, type_id, user_id, priority, created_at,
      skills_id1, skills_value1, skills_id2, skills_value2, skills_id3, skills_value3
    FROM acd_events
    WHERE queue_group_id = ${groupId} AND status_id = ${sql.lit(Status.TransportToGroup)}
      AND type_id = ANY(${types}::int[]) AND (user_id IS NULL OR user_id = ANY(${ids}::int[])) ${keyset}
    ORDER BY priority DESC, created_at, id
    LIMIT ${pageSize}`.execute(trx);
  return rows;
}

async function writeOffers(trx: Kysely<Database>, groupId: number, offers: { eventId: number; userId: number }[], now: Date, lease: Date): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    WITH offered AS (
      UPDATE acd_events e SET status_id = ${sql.lit(Status.TransportAgent)}, agent_id = o.user_id, lease_until = ${lease},
        offered_at = ${now}, modified_at = ${now}, last_modified_at = ${now}
      FROM unnest(${offers.map((o) => o.eventId)}::int[], ${offers.map((o) => o.userId)}::int[]) AS o(event_id, user_id)
      WHERE e.id = o.event_id AND e.status_id = ${sql.lit(Status.TransportToGroup)} AND e.queue_group_id = ${groupId}
      RETURNING e.id, e.agent_id
    ), hist AS (${historyFrom('offered', Status.TransportToGroup, Status.TransportAgent, 'offered', now)}
    ), idle AS (
      UPDATE agent_states s SET last_offer_at = ${now} FROM (SELECT DISTINCT agent_id FROM offered) x WHERE s.user_id = x.agent_id
    )
    SELECT id FROM offered`.execute(trx);
  return rows.length;
}
