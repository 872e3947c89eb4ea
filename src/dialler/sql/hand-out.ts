// Which contact goes to whom: the probes of jtel's hand-out order (spec §8.1) and the claim.
//
// Locking, in this order, all in one short transaction:
//   1. the agent's agent_states row, FOR UPDATE SKIP LOCKED (agents only). It is the row every
//      ACD offer locks before counting an agent's events (src/distributor/sql/agent-capacity.ts),
//      so dialler and ACD work for one agent serialise here: whoever comes second sees the
//      other's work (`dialler_held`, or the events counted) and gives nothing. SKIP: another
//      instance serving the same agent right now will do what we would.
//   2. with nMaxParallelLines, the campaign row FOR NO KEY UPDATE, then the count of contacts in
//      progress: two hand-outs of one campaign cannot both take the last line. (NO KEY: contact
//      inserts, which key-share-lock the campaign through their foreign key, are not blocked.)
//   3. the first candidate contact (in the hand-out order) that is free, FOR UPDATE SKIP LOCKED,
//      re-checked (`state`, due, bound) under the lock: a contact another hand-out holds is
//      skipped, never waited for, and one that changed since the probe read it is not taken.
//      The candidates are tried in order in one statement, the next only when one is skipped.
// Probes read without locks; they only propose.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CAPACITY_STATUSES } from '../../domain/event-flow.ts';
import { STATE_COLUMNS, type ContactRow } from './contact-state.ts';
import { PHONE_SLOTS } from '../../domain/dialler-contact.ts';
import { blockedAmong } from '../../modules/donotcall/repository.ts';
import { setForTransaction, type PlannerSettings } from '../../db/planner.ts';

type Db = Kysely<Database>;

export interface Candidate {
  id: number;
  due_rank: number;
  bound_user_id: number | null;
  bound_until: Date | string | null;
  last_user_id: number | null;
  dt_next_try: Date | string;
  priority: number;
  created_at: Date | string;
  time_zone: string;
}

const CANDIDATE = sql.raw('k.id, k.due_rank, k.bound_user_id, k.bound_until, k.last_user_id, k.dt_next_try, k.priority, k.created_at, k.time_zone');
const RANKS = [1, 2, 3, 4];

/**
 * The campaign's zones that have contacts waiting, bound to nobody: a loose index scan over
 * `dialler_contacts_due` (per rank, the next zone after the last one found), a few index probes
 * per zone instead of a scan of the campaign's contacts.
 */
export async function waitingZones(db: Db, campaignId: number): Promise<string[]> {
  const { rows } = await sql<{ zone: string }>`
    WITH RECURSIVE z(rank, zone) AS (
      SELECT r, (SELECT min(time_zone) FROM dialler_contacts
        WHERE campaign_id = ${campaignId} AND state = 'Waiting' AND bound_user_id IS NULL AND due_rank = r)
      FROM unnest(${RANKS}::int[]) AS r
      UNION ALL
      SELECT z.rank, (SELECT min(time_zone) FROM dialler_contacts
        WHERE campaign_id = ${campaignId} AND state = 'Waiting' AND bound_user_id IS NULL AND due_rank = z.rank AND time_zone > z.zone)
      FROM z WHERE z.zone IS NOT NULL
    )
    SELECT DISTINCT zone FROM z WHERE zone IS NOT NULL`.execute(db);
  return rows.map((r) => r.zone);
}

/**
 * Due contacts of the campaign that may go to `agentId` (null: an external dialler), a few per
 * jtel step: per rank and open zone the first `limit` bound to nobody; the agent's own bound
 * contacts and own retry series (steps 1, 3, 5, 7) in any zone, for the caller to check the
 * window. Their order is the caller's (compareHandout).
 */
export async function probeCandidates(db: Db, campaignId: number, agentId: number | null, openZones: readonly string[], now: Date, limit: number): Promise<Candidate[]> {
  return probeCandidatesFor(db, campaignId, agentId === null ? [] : [agentId], openZones, now, limit, limit * 4);
}

/** A candidate of a batch's probe: `owner` is the agent whose own step proposed it (null: everyone's). */
export type BatchCandidate = Candidate & { owner: number | null };

/**
 * probeCandidates for several agents of one campaign at once: everyone's candidates once (`limit`
 * per rank and open zone, enough for all of them), and each agent's own bound contacts and retry
 * series (`ownLimit` of each kind).
 */
export async function probeCandidatesFor(
  db: Db, campaignId: number, agentIds: readonly number[], openZones: readonly string[], now: Date, limit: number, ownLimit: number,
): Promise<BatchCandidate[]> {
  const general = openZones.length === 0 ? sql`` : sql`
    SELECT NULL::int AS owner, c.* FROM unnest(${RANKS}::int[]) AS r(rank) CROSS JOIN unnest(${[...openZones]}::text[]) AS z(zone)
    CROSS JOIN LATERAL (
      SELECT ${CANDIDATE} FROM dialler_contacts k
      WHERE k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.bound_user_id IS NULL
        AND k.due_rank = r.rank AND k.time_zone = z.zone AND k.dt_next_try <= ${now}
      ORDER BY k.dt_next_try, k.priority DESC, k.id LIMIT ${limit}) c`;
  const own = agentIds.length === 0 ? sql`` : sql`
    SELECT a.agent AS owner, c.* FROM unnest(${[...agentIds]}::int[]) AS a(agent) CROSS JOIN LATERAL (
      (SELECT ${CANDIDATE} FROM dialler_contacts k
        WHERE k.bound_user_id = a.agent AND k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.dt_next_try <= ${now}
        ORDER BY k.due_rank, k.dt_next_try LIMIT ${ownLimit})
      UNION ALL
      (SELECT ${CANDIDATE} FROM dialler_contacts k
        WHERE k.last_user_id = a.agent AND k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.due_rank = 3
          AND k.bound_user_id IS NULL AND k.dt_next_try <= ${now}
        ORDER BY k.dt_next_try LIMIT ${ownLimit})) c`;
  if (openZones.length === 0 && agentIds.length === 0) return [];
  const union = openZones.length > 0 && agentIds.length > 0 ? sql`UNION ALL` : sql``;
  const { rows } = await sql<BatchCandidate>`${general} ${union} ${own}`.execute(db);
  return rows;
}

/**
 * The hand-out's statements run with generic plans and without JIT, set by the first statement of
 * its transaction. PostgreSQL otherwise keeps choosing custom plans for the probe and the locks,
 * planned anew at every execution from their array parameters: 0.3–0.65 ms of planning each (the
 * server log's bind times), more than they take to run, for the same plan whatever the values.
 * A generic plan's cost is estimated without the values, and at a million contacts the probe's
 * passes jit_above_cost: JIT compiled it at every execution (14 ms), so JIT is off here (these
 * statements read a few index entries; compiling never pays).
 */
export async function useGenericPlans(db: Db): Promise<void> {
  await setForTransaction(db, GENERIC_PLANS);
}

export const GENERIC_PLANS: PlannerSettings = { plan_cache_mode: 'force_generic_plan', jit: 'off' };

export interface AgentLock {
  dialler_held: number;
  acd_held: number;
  /** The campaigns the agent is logged in to, read under the lock (logins take it too). */
  campaigns: number[];
}

// What step 1 reads of an agent under the lock (alias s: agent_states).
const AGENT_LOCK = sql`s.dialler_held,
      (SELECT count(*)::int FROM acd_events e WHERE e.agent_id = s.user_id
        AND e.status_id IN (${sql.join(CAPACITY_STATUSES.map((x) => sql.lit(x)))})) AS acd_held,
      ARRAY(SELECT l.campaign_id FROM dialler_campaign_logins l WHERE l.user_id = s.user_id) AS campaigns`;

/** Step 1 of the locking order: the agent's state row (undefined: another transaction has it). */
export async function lockAgent(db: Db, agentId: number): Promise<AgentLock | undefined> {
  return (await lockAgents(db, [agentId])).get(agentId);
}

/** Step 1 for a batch: the agents' rows that no other transaction holds (SKIP LOCKED: theirs are served there). */
export async function lockAgents(db: Db, agentIds: readonly number[]): Promise<Map<number, AgentLock>> {
  const { rows } = await sql<AgentLock & { user_id: number }>`
    SELECT s.user_id, ${AGENT_LOCK}
    FROM agent_states s WHERE s.user_id = ANY(${[...agentIds]}::int[])
    FOR UPDATE OF s SKIP LOCKED`.execute(db);
  return new Map(rows.map(({ user_id, ...lock }) => [user_id, lock]));
}

/**
 * Step 2: the lines in use, under the campaign's lock. The count is its own statement, after the
 * lock is granted: a subquery of the locking statement would read with that statement's snapshot,
 * taken before the wait, and miss the hand-out it waited for.
 */
export async function linesInUse(db: Db, campaignId: number): Promise<number> {
  await sql`SELECT 1 FROM dialler_campaigns WHERE id = ${campaignId} FOR NO KEY UPDATE`.execute(db);
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM dialler_contacts WHERE campaign_id = ${campaignId} AND state = 'InProgress'`.execute(db);
  return rows[0]?.n ?? 0;
}

/** A candidate locked for the hand-out: with a fresh attempt id and its numbers on the do-not-call list. */
export type Locked = ContactRow & { next_attempt_id: string; blocked: string[] };

/**
 * Step 3: the candidate, locked, if it is still waiting, due and free for `agentId` (null: for
 * anyone not bound).
 */
export async function lockCandidate(db: Db, contactId: number, agentId: number | null, now: Date): Promise<Locked | undefined> {
  return lockFirstCandidate(db, [contactId], agentId, now);
}

const NUMBERS = sql.raw(`ARRAY[${Array.from({ length: PHONE_SLOTS }, (_, i) => `l.phone_number${i + 1}`).join(', ')}]`);

/**
 * Step 3 over a list: the first of `contactIds`, in their order, that lockCandidate would take.
 * Rows are locked in that order and a locked or changed one is passed over (SKIP LOCKED, and
 * the conditions re-checked on the row's newest version), so this is the loop of lockCandidate
 * in one round trip: under contention, when many hand-outs propose the same heads, the loop
 * cost one round trip per contact already taken. The do-not-call check of the one taken rides
 * along (after the lock, so only for that row).
 */
export async function lockFirstCandidate(db: Db, contactIds: readonly number[], agentId: number | null, now: Date): Promise<Locked | undefined> {
  if (contactIds.length === 0) return undefined;
  const { rows } = await sql<Locked>`
    WITH l AS (
      SELECT ${STATE_COLUMNS}, nextval('dialler_attempt_ids')::text AS next_attempt_id
      FROM unnest(${[...contactIds]}::int[]) WITH ORDINALITY AS c(id, place) JOIN dialler_contacts k ON k.id = c.id
      WHERE k.state = 'Waiting' AND k.dt_next_try <= ${now}
        AND (k.bound_user_id IS NULL OR k.bound_until <= ${now} ${agentId === null ? sql`` : sql`OR k.bound_user_id = ${agentId}`})
      ORDER BY c.place LIMIT 1
      FOR UPDATE OF k SKIP LOCKED)
    SELECT l.*, ARRAY(${blockedAmong(sql`l.client_id`, NUMBERS, now)}) AS blocked FROM l`.execute(db);
  return rows[0];
}

/**
 * Step 3 for a batch: each contact proposed to its agent, locked if it is still free for that
 * agent (as lockCandidate; SKIP LOCKED: one another transaction holds is left out).
 */
export async function lockCandidatesFor(db: Db, pairs: readonly { contactId: number; agentId: number }[], now: Date): Promise<(Locked & { agent: number })[]> {
  if (pairs.length === 0) return [];
  const { rows } = await sql<Locked & { agent: number }>`
    WITH l AS (
      SELECT ${STATE_COLUMNS}, nextval('dialler_attempt_ids')::text AS next_attempt_id, c.agent
      FROM unnest(${pairs.map((p) => p.contactId)}::int[], ${pairs.map((p) => p.agentId)}::int[]) AS c(id, agent)
      JOIN dialler_contacts k ON k.id = c.id
      WHERE k.state = 'Waiting' AND k.dt_next_try <= ${now}
        AND (k.bound_user_id IS NULL OR k.bound_until <= ${now} OR k.bound_user_id = c.agent)
      FOR UPDATE OF k SKIP LOCKED)
    SELECT l.*, ARRAY(${blockedAmong(sql`l.client_id`, NUMBERS, now)}) AS blocked FROM l`.execute(db);
  return rows;
}

/** What the hand-out that rides on an agent's result read and locked (lockNextFor). */
export interface NextLock {
  /** The agent is free once this result is in, and theirs was the lock. */
  free: boolean;
  /** An own contact of the agent waits in a zone the caller did not judge: the engine serves them. */
  elsewhere: boolean;
  /** Proposals gone meanwhile (no longer waiting, not due, or outside their window). */
  gone: number[];
  row: Locked | undefined;
}

// jtel's step (compareHandout) in SQL, for agent `agent`: per due rank their own first.
const stepFor = (agent: number) => sql`2 * k.due_rank - CASE WHEN (CASE WHEN k.due_rank = 3 THEN k.last_user_id ELSE k.bound_user_id END) = ${agent} THEN 1 ELSE 0 END`;

/**
 * The hand-out that rides on an agent's result (actions.ts postResult), in one statement:
 * step 1 for the agent, SKIP LOCKED as in lockAgents, free once the result is in when the
 * contact being resulted is their only work, they are logged in to this campaign alone, and no
 * ACD event waits in a group they are logged in to (the ACD side gets its turn then); then step 3
 * over the proposals (a kept head of the campaign's queue, hopper.ts) and the agent's own
 * contacts read here, in jtel's order, the first that is free locked. Windows are judged by the
 * caller: `open` are the zones open now among `known`; an own contact in any other zone makes
 * this give nothing (`elsewhere`), as the caller cannot judge its window.
 */
export async function lockNextFor(
  db: Db, agentId: number, campaignId: number, proposals: readonly number[], zones: { known: readonly string[]; open: readonly string[] }, now: Date,
): Promise<NextLock> {
  const { rows } = await sql<Locked & { free: boolean; elsewhere: boolean; gone: number[]; id: number | null }>`
    WITH a AS (
      SELECT ${AGENT_LOCK},
        EXISTS (SELECT 1 FROM agent_group_logins g JOIN acd_events e ON e.queue_group_id = g.group_id AND e.status_id = 4
          WHERE g.user_id = s.user_id) AS acd_waiting
      FROM agent_states s WHERE s.user_id = ${agentId}
      FOR UPDATE OF s SKIP LOCKED),
    go AS (SELECT 1 FROM a WHERE a.dialler_held = 1 AND a.acd_held = 0 AND NOT a.acd_waiting AND a.campaigns = ARRAY[${campaignId}]::int[]),
    own AS (
      (SELECT k.id, k.time_zone FROM dialler_contacts k
        WHERE k.bound_user_id = ${agentId} AND k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.dt_next_try <= ${now}
        ORDER BY k.due_rank, k.dt_next_try LIMIT 8)
      UNION ALL
      (SELECT k.id, k.time_zone FROM dialler_contacts k
        WHERE k.last_user_id = ${agentId} AND k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.due_rank = 3
          AND k.bound_user_id IS NULL AND k.dt_next_try <= ${now}
        ORDER BY k.dt_next_try LIMIT 8)),
    f AS (SELECT EXISTS (SELECT 1 FROM go) AS free,
      EXISTS (SELECT 1 FROM own WHERE own.time_zone <> ALL(${[...zones.known]}::text[])) AS elsewhere),
    l AS (
      SELECT ${STATE_COLUMNS}, nextval('dialler_attempt_ids')::text AS next_attempt_id
      FROM (SELECT unnest(${[...proposals]}::int[]) AS id UNION SELECT id FROM own) c JOIN dialler_contacts k ON k.id = c.id
      WHERE (SELECT free AND NOT elsewhere FROM f)
        AND k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.dt_next_try <= ${now}
        AND (k.bound_user_id IS NULL OR k.bound_until <= ${now} OR k.bound_user_id = ${agentId})
        AND k.time_zone = ANY(${[...zones.open]}::text[])
      ORDER BY ${stepFor(agentId)}, k.dt_next_try, k.priority DESC, k.created_at, k.id
      LIMIT 1
      FOR UPDATE OF k SKIP LOCKED)
    SELECT f.free, f.elsewhere,
      ARRAY(SELECT p.id FROM unnest(${[...proposals]}::int[]) AS p(id) LEFT JOIN dialler_contacts k ON k.id = p.id
        WHERE f.free AND (k.id IS NULL OR k.state <> 'Waiting' OR k.dt_next_try > ${now} OR k.time_zone <> ALL(${[...zones.open]}::text[]))) AS gone,
      l.*, ARRAY(${blockedAmong(sql`l.client_id`, NUMBERS, now)}) AS blocked
    FROM f LEFT JOIN l ON true`.execute(db);
  const { free, elsewhere, gone, ...row } = rows[0]!;
  return { free, elsewhere, gone, row: row.id === null ? undefined : row as Locked };
}

/** The agent now holds one more (or, with -1, one less) dialler contact: the statement, to go with its change (sql/record.ts). */
export function heldWrite(agentId: number | readonly number[], delta: 1 | -1) {
  const who = typeof agentId === 'number' ? sql`user_id = ${agentId}` : sql`user_id = ANY(${[...agentId]}::int[])`;
  return sql`UPDATE agent_states SET dialler_held = greatest(dialler_held + ${delta}, 0) WHERE ${who}`;
}
