// Handing contacts out: to an agent (Preview, Progressive) or to an external dialler under a
// lease. The order is jtel's (compareHandout), the checks under lock are in sql/hand-out.ts.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import * as calendar from '../domain/dialler-calendar.ts';
import { calendarWhen, compareHandout, isEligibleFor, pickNumber, type HandoutCandidate, type When } from '../domain/dialler-schedule.ts';
import type { ContactDiallerState, DueRankId } from '../domain/dialler-contact.ts';
import { storeKey, type CampaignConfig } from './sql/campaign-config.ts';
import { contactStateWrites, dueMs, holdOf, ms, saveContactState, stateOf, type ContactRow, type Hold, type StateWrite } from './sql/contact-state.ts';
import {
  heldWrite, linesInUse, lockAgent, lockAgents, lockNextFor, lockCandidatesFor, lockFirstCandidate, probeCandidates, probeCandidatesFor, useGenericPlans, waitingZones,
  type AgentLock, type Candidate, type Locked,
} from './sql/hand-out.ts';
import { recordContactChanges, type ContactChangeInput } from './sql/record.ts';
import { perDatabase } from '../db/per-database.ts';
import type { Proposal } from './hopper.ts';

type Db = Kysely<Database>;

export const ENGINE_ACTOR = 'dialler';
/** Candidates per rank and zone a probe proposes: enough that concurrent hand-outs rarely all miss. */
const PROBE_LIMIT = 8;
const ZONES_TTL_MS = 5000;

/** The clock and the campaign's calendar in one contact's zone, for the scheduler. */
export function whenFor(config: CampaignConfig, zone: string, now: number): When {
  return calendarWhen(config.calendar, zone, now);
}

export interface HandedOut {
  clientId: number;
  campaignId: number;
  contactId: number;
  attemptId: string;
  phoneIndex: number;
  phoneNumber: string;
  holdKind: NonNullable<Hold['kind']>;
  holdUntil: number | null;
  started: boolean;
}

/** Whether a campaign dials at all right now: running and not past its end. */
export function isDialling(config: CampaignConfig, now: number): boolean {
  return config.running && (config.endsAt === null || config.endsAt > now);
}

// Per store, not per Kysely instance: the hand-out runs in a transaction (see storeKey).
const zonesByStore = perDatabase((_adapter: object) => new Map<number, { zones: string[]; at: number }>());
const zonesCache = (db: Db) => zonesByStore(storeKey(db));

/**
 * The zones with waiting contacts whose window is open now. The list is kept for ZONES_TTL_MS;
 * `fresh` reads it again (the caller does when the kept list found nothing, so a contact in a
 * zone that had none waiting is never passed over for lack of a fresh list).
 */
async function openZones(db: Db, config: CampaignConfig, now: number, fresh: boolean): Promise<{ zones: string[]; kept: boolean }> {
  const cache = zonesCache(db);
  let known = cache.get(config.id);
  const kept = !fresh && known !== undefined && performance.now() - known.at <= ZONES_TTL_MS;
  if (!kept) {
    known = { zones: await waitingZones(db, config.id), at: performance.now() };
    cache.set(config.id, known);
  }
  return { zones: known!.zones.filter((zone) => calendar.isOpenAt(config.calendar, zone, now)), kept };
}

/** A row with the candidate columns (a probe's, or a whole contact row) in jtel-order terms. */
export function asCandidate(c: Candidate): HandoutCandidate & { zone: string } {
  return {
    id: c.id, dueRank: c.due_rank as DueRankId, nextTryAt: dueMs(c.dt_next_try), priority: c.priority,
    createdAt: new Date(c.created_at).getTime(), boundUserId: c.bound_user_id, boundUntil: ms(c.bound_until),
    lastUserId: c.last_user_id, zone: c.time_zone,
  };
}

/** The campaign's candidates for `agentId` (null: external), best first, inside their windows. */
async function rankedCandidates(db: Db, config: CampaignConfig, agentId: number | null, now: number, fresh = false): Promise<number[]> {
  const { zones, kept } = await openZones(db, config, now, fresh);
  const rows = await probeCandidates(db, config.id, agentId, zones, new Date(now), PROBE_LIMIT);
  if (rows.length === 0 && kept) return rankedCandidates(db, config, agentId, now, true);
  const seen = new Set<number>();
  const candidates = rows.map(asCandidate).filter((c) => {
    if (seen.has(c.id)) return false;
    seen.add(c.id);
    return isEligibleFor(c, agentId, now) && calendar.isOpenAt(config.calendar, c.zone, now);
  });
  return candidates.sort((a, b) => compareHandout(a, b, agentId)).map((c) => c.id);
}

type Taken = { row: ContactRow; hold: Hold; phoneIndex: number; number: string; write: StateWrite };
type HoldOf = (row: ContactRow, attemptId: string) => Hold;

/**
 * A locked candidate with a number that may be dialled, or undefined: a contact whose numbers
 * are all invalid, used up or on the do-not-call list is closed (jtel:
 * AbortOnNoTelNumberResultCodesID). The hold is not written yet: `write` goes with the hand-out's
 * record (or is run by the caller).
 */
async function takeLocked(trx: Db, config: CampaignConfig, row: Locked, now: number, hold: HoldOf, closed: ContactChangeInput[]): Promise<Taken | undefined> {
  const state = stateOf(row);
  const blocked = new Set(row.blocked);
  const phoneIndex = pickNumber(state, config.rules, (n) => blocked.has(n));
  if (phoneIndex === null) {
    const after = closeForNoNumber(state, config);
    await saveContactState(trx, row.id, after, holdOf(row), now);
    closed.push({
      clientId: config.clientId, campaignId: config.id, contactId: row.id, change: 'Closed', state: after.state, actor: ENGINE_ACTOR, at: now,
      resultCodeId: after.resultCodeId, reason: blocked.size > 0 ? 'no number left that may be dialled (do-not-call list)' : 'no number left that may be dialled',
    });
    return undefined;
  }
  const h = { ...hold(row, row.next_attempt_id), phoneIndex };
  return { row, hold: h, phoneIndex, number: state.phones[phoneIndex].number!, write: { contactId: row.id, state, hold: h } };
}

/** Takes the first of `ids` that is still free and has a number (takeLocked), in their order. */
async function takeContact(trx: Db, config: CampaignConfig, ids: number[], agentId: number | null, now: number, hold: HoldOf, closed: ContactChangeInput[]): Promise<Taken | undefined> {
  // One statement locks the first candidate still free (in the order given); after a contact
  // closed for want of a number, the next look starts behind it.
  for (let rest = ids; rest.length > 0;) {
    const row = await lockFirstCandidate(trx, rest, agentId, new Date(now));
    if (!row) break;
    rest = rest.slice(rest.indexOf(row.id) + 1);
    const taken = await takeLocked(trx, config, row, now, hold, closed);
    if (taken) return taken;
  }
  return undefined;
}

/** jtel: when no number of a contact can be tried any more, AbortOnNoTelNumberResultCodesID applies. */
export function closeForNoNumber(state: ContactDiallerState, config: CampaignConfig): ContactDiallerState {
  const code = config.rules.abortOnNoNumber;
  return { ...state, state: 'Aborted', closedReason: 'NoNumber', resultCodeId: code?.id ?? null, resultExportKey: code?.exportKey ?? null };
}

/** Shuffles the campaigns by weight (Efraimidis–Spirakis keys): each is first with its share. */
function byWeight(configs: CampaignConfig[]): CampaignConfig[] {
  return configs.map((c) => ({ c, key: Math.random() ** (1 / c.weight) })).sort((a, b) => b.key - a.key).map((x) => x.c);
}

/**
 * The next contact for a free agent from the campaigns given (the caller's read of where the
 * agent is logged in; checked again under the agent's lock). 'busy': another transaction holds
 * the agent; null: nothing for them now.
 */
export async function handOutToAgent(db: Db, agentId: number, configs: CampaignConfig[], now: number): Promise<HandedOut | 'busy' | null> {
  const closed: ContactChangeInput[] = [];
  const result = await db.transaction().execute(async (trx) => {
    await useGenericPlans(trx);
    const agent = await lockAgent(trx, agentId);
    if (!agent) return 'busy' as const;
    if (!isFree(agent)) return null;
    const mine = configs.filter((c) => agent.campaigns.includes(c.id) && isDialling(c, now) && inAgentMode(c));
    for (const config of byWeight(mine)) {
      if (config.maxParallel !== null && (await linesInUse(trx, config.id)) >= config.maxParallel) continue;
      const ids = await rankedCandidates(trx, config, agentId, now);
      const taken = await takeContact(trx, config, ids, agentId, now, holdFor(config, agentId, now), closed);
      if (!taken) continue;
      const [handed] = await recordHandOuts(trx, config, [{ agentId, taken }], closed, now);
      return handed!;
    }
    await recordContactChanges(trx, closed, false);
    return null;
  });
  return result;
}

const inAgentMode = (c: CampaignConfig) => c.mode === 'Preview' || c.mode === 'Progressive';

/** An agent with dialler or ACD work in hand gets nothing more. */
const isFree = (agent: AgentLock) => agent.dialler_held === 0 && agent.acd_held === 0;

const hasPreview = (config: CampaignConfig) => config.mode === 'Preview' && config.previewSeconds > 0;

/** The hold of a contact handed to an agent: the preview countdown, or the attempt started at once. */
function holdFor(config: CampaignConfig, agentId: number, now: number): HoldOf {
  const preview = hasPreview(config);
  return (_row, attemptId) => ({
    kind: config.mode as 'Preview' | 'Progressive', userId: agentId, leaseId: null,
    until: preview ? now + config.previewSeconds * 1000 : null, attemptId, phoneIndex: null, startedAt: preview ? null : now,
  });
}

/** The changes of hand-outs of one campaign (HandedOut, and AttemptStarted without a preview) and what each handed out. */
function handOutChanges(config: CampaignConfig, handOuts: { agentId: number; taken: Taken }[], now: number): { changes: ContactChangeInput[]; handed: HandedOut[] } {
  const preview = hasPreview(config);
  const changes: ContactChangeInput[] = [];
  for (const { agentId, taken } of handOuts) {
    const base = {
      clientId: config.clientId, campaignId: config.id, contactId: taken.row.id, state: 'InProgress', actor: ENGINE_ACTOR, at: now,
      attemptId: taken.hold.attemptId, userId: agentId, phoneIndex: taken.phoneIndex, phoneNumber: taken.number,
    };
    changes.push({ ...base, change: 'HandedOut', reason: preview ? `preview for ${config.previewSeconds} s` : null });
    if (!preview) changes.push({ ...base, change: 'AttemptStarted', reason: config.mode === 'Progressive' ? 'progressive' : 'no preview time' });
  }
  const handed = handOuts.map(({ taken }) => ({
    clientId: config.clientId, campaignId: config.id, contactId: taken.row.id, attemptId: taken.hold.attemptId!, phoneIndex: taken.phoneIndex,
    phoneNumber: taken.number, holdKind: taken.hold.kind!, holdUntil: taken.hold.until, started: !preview,
  }));
  return { changes, handed };
}

/**
 * Records hand-outs of one campaign (and the contacts closed on the way) in one statement with
 * their holds and the agents' counts of held contacts.
 */
async function recordHandOuts(trx: Db, config: CampaignConfig, handOuts: { agentId: number; taken: Taken }[], closed: ContactChangeInput[], now: number): Promise<HandedOut[]> {
  const { changes, handed } = handOutChanges(config, handOuts, now);
  const agents = handOuts.map((h) => h.agentId);
  await recordContactChanges(trx, [...closed, ...changes], false, [contactStateWrites(handOuts.map((h) => h.taken.write), now), heldWrite(agents.length === 1 ? agents[0]! : agents, 1)]);
  return handed;
}

/** What the hand-out that rides on a result gives its transaction to record (with the result, in its one statement). */
export interface HandOutWithResult {
  next: { handed: HandedOut; changes: ContactChangeInput[]; write: StateWrite } | undefined;
  /** How long choosing and locking it took (ms); its writes ride on the result's one statement. */
  tookMs: number;
  /** Contacts closed on the way (no number left): their changes, to record; their state is written. */
  closed: ContactChangeInput[];
  /** Proposals that leave the campaign's head (hopper.ts): the one taken, and those gone. */
  leaving: number[];
}

/**
 * The next contact for an agent, in the transaction of their result (actions.ts postResult), from
 * a proposal of the campaign's head (hopper.ts) and their own contacts: under the agent's lock,
 * only when the result leaves them free for it (lockNextFor). The agent keeps their count of
 * held contacts: one leaves their hands as the next arrives. For a campaign in agent mode with
 * no cap on lines (a cap is counted under the campaign's lock: the engine's). The transaction
 * runs with generic plans (GENERIC_PLANS, set by postResult's first statement): planned anew at
 * each execution, lockNextFor's plan took 2.3 ms (server log), seven times its run.
 */
export async function handOutWithResult(trx: Db, config: CampaignConfig, agentId: number, proposal: Proposal, now: number): Promise<HandOutWithResult> {
  const started = performance.now();
  const closed: ContactChangeInput[] = [];
  const lock = await lockNextFor(trx, agentId, config.id, proposal.ids, proposal, new Date(now));
  const leaving = [...lock.gone];
  if (!lock.row) return { next: undefined, closed, leaving, tookMs: performance.now() - started };
  leaving.push(lock.row.id);
  const taken = await takeLocked(trx, config, lock.row, now, holdFor(config, agentId, now), closed);
  if (!taken) return { next: undefined, closed, leaving, tookMs: performance.now() - started };
  const { changes, handed } = handOutChanges(config, [{ agentId, taken }], now);
  return { next: { handed: handed[0]!, changes, write: taken.write }, closed, leaving, tookMs: performance.now() - started };
}

/** Whether a result in this campaign may hand out the agent's next contact itself (handOutWithResult). */
export function handsOutWithResult(config: CampaignConfig, now: number): boolean {
  return isDialling(config, now) && inAgentMode(config) && config.maxParallel === null;
}

/**
 * Several agents served at once, as handOutToAgent would serve each (the answer per agent is the
 * same: the contact, 'busy' or null). Agents whose one campaign has no cap on lines share one
 * transaction per campaign (handOutBatch): the engine's round trips are then per batch, not per
 * agent. The others are served one by one.
 */
export async function handOutToAgents(db: Db, requests: { agentId: number; configs: CampaignConfig[] }[], now: number): Promise<Map<number, HandedOut | 'busy' | null>> {
  const out = new Map<number, HandedOut | 'busy' | null>();
  const batches = new Map<number, { config: CampaignConfig; agents: number[] }>();
  const alone: typeof requests = [];
  for (const request of requests) {
    const wanted = request.configs.filter((c) => isDialling(c, now) && inAgentMode(c));
    const [only] = wanted;
    if (wanted.length === 1 && only!.maxParallel === null) {
      const batch = batches.get(only!.id) ?? { config: only!, agents: [] };
      batch.agents.push(request.agentId);
      batches.set(only!.id, batch);
    } else {
      alone.push(request);
    }
  }
  for (const { config, agents } of batches.values()) {
    for (const [agentId, result] of await handOutBatch(db, config, agents, now)) out.set(agentId, result);
  }
  for (const { agentId, configs } of alone) out.set(agentId, await handOutToAgent(db, agentId, configs, now));
  return out;
}

/**
 * One campaign's agents in one transaction, in the locking order of sql/hand-out.ts: the agents
 * (those another transaction holds are 'busy'), one probe for all of them, each agent's best
 * candidate in jtel's order that no agent before them in the batch was given, then all those
 * contacts locked in one statement. An agent whose contact was taken meanwhile (or closed for
 * want of a number) is served step by step as handOutToAgent does, past the batch's contacts:
 * the batch gives what serving the agents one by one would give, those served at once first.
 * One statement records every hand-out.
 */
async function handOutBatch(db: Db, config: CampaignConfig, agentIds: number[], now: number): Promise<Map<number, HandedOut | 'busy' | null>> {
  const out = new Map<number, HandedOut | 'busy' | null>();
  await db.transaction().execute(async (trx) => {
    await useGenericPlans(trx);
    const closed: ContactChangeInput[] = [];
    const locks = await lockAgents(trx, agentIds);
    const free: number[] = [];
    for (const agentId of agentIds) {
      const lock = locks.get(agentId);
      if (!lock) out.set(agentId, 'busy');
      else if (!isFree(lock) || !lock.campaigns.includes(config.id)) out.set(agentId, null);
      else free.push(agentId);
    }
    if (free.length === 0) return;
    const { zones, kept } = await openZones(trx, config, now, false);
    const rows = await probeCandidatesFor(trx, config.id, free, zones, new Date(now), PROBE_LIMIT + free.length, PROBE_LIMIT * 4);
    const general = rows.filter((r) => r.owner === null).map(asCandidate);
    const assigned = new Set<number>();
    const proposals: { contactId: number; agentId: number }[] = [];
    for (const agentId of free) {
      const own = rows.filter((r) => r.owner === agentId).map(asCandidate);
      const best = [...own, ...general]
        .filter((c) => !assigned.has(c.id) && isEligibleFor(c, agentId, now) && calendar.isOpenAt(config.calendar, c.zone, now))
        .sort((a, b) => compareHandout(a, b, agentId))[0];
      if (!best) continue;
      assigned.add(best.id);
      proposals.push({ contactId: best.id, agentId });
    }
    const locked = new Map((await lockCandidatesFor(trx, proposals, new Date(now))).map((row) => [row.agent, row]));
    const handOuts: { agentId: number; taken: Taken }[] = [];
    for (const agentId of free) {
      const row = locked.get(agentId);
      let taken = row ? await takeLocked(trx, config, row, now, holdFor(config, agentId, now), closed) : undefined;
      // Nothing proposed from a kept list of zones: the step by step path looks with a fresh one.
      if (!taken && (row || rows.length > 0 || kept)) {
        const ids = (await rankedCandidates(trx, config, agentId, now)).filter((id) => !assigned.has(id));
        taken = await takeContact(trx, config, ids, agentId, now, holdFor(config, agentId, now), closed);
        if (taken) assigned.add(taken.row.id);
      }
      if (taken) handOuts.push({ agentId, taken });
      else out.set(agentId, null);
    }
    if (handOuts.length === 0) {
      await recordContactChanges(trx, closed, false);
      return;
    }
    const handed = await recordHandOuts(trx, config, handOuts, closed, now);
    handOuts.forEach(({ agentId }, i) => out.set(agentId, handed[i]!));
  });
  return out;
}

export interface Lease {
  leaseId: string;
  until: number;
  contacts: HandedOut[];
}

/**
 * Up to `count` contacts for an external dialler, under one lease: each attempt counts as started
 * (the dialler dials at once); a lease that runs out returns its contacts untouched.
 */
export async function claimForDialler(db: Db, config: CampaignConfig, count: number, leaseSeconds: number, now: number): Promise<Lease> {
  const leaseId = randomUUID();
  const until = now + leaseSeconds * 1000;
  const contacts: HandedOut[] = [];
  if (!isDialling(config, now)) return { leaseId, until, contacts };
  await db.transaction().execute(async (trx) => {
    await useGenericPlans(trx);
    const closed: ContactChangeInput[] = [];
    let free = count;
    if (config.maxParallel !== null) free = Math.min(free, config.maxParallel - (await linesInUse(trx, config.id)));
    let ids = await rankedCandidates(trx, config, null, now);
    let probedAgain = false;
    while (contacts.length < free && ids.length > 0) {
      const taken = await takeContact(trx, config, ids, null, now, (_row, attemptId) => ({
        kind: 'External', userId: null, leaseId, until, attemptId, phoneIndex: null, startedAt: now,
      }), closed);
      if (taken) {
        // Written now: a fresh probe below must not propose it again (our own lock does not hide it).
        await contactStateWrites([taken.write], now).execute(trx);
        contacts.push({
          clientId: config.clientId, campaignId: config.id, contactId: taken.row.id, attemptId: taken.hold.attemptId!, phoneIndex: taken.phoneIndex,
          phoneNumber: taken.number, holdKind: 'External', holdUntil: until, started: true,
        });
        ids = ids.slice(ids.indexOf(taken.row.id) + 1);
        if (ids.length > 0 || contacts.length >= free) continue;
      } else if (probedAgain) {
        break;
      }
      // The proposals are used up (or all taken by others): one fresh look, which also sees
      // what the probe's per-zone limit left out.
      probedAgain = !taken;
      ids = await rankedCandidates(trx, config, null, now);
    }
    await recordContactChanges(trx, [...closed, ...contacts.map((c): ContactChangeInput => ({
      clientId: c.clientId, campaignId: c.campaignId, contactId: c.contactId, change: 'HandedOut', state: 'InProgress', actor: 'external dialler',
      at: now, attemptId: c.attemptId, phoneIndex: c.phoneIndex, phoneNumber: c.phoneNumber, reason: `lease ${leaseId}`,
    }))], false);
  });
  return { leaseId, until, contacts };
}
