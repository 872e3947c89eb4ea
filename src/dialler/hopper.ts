// The head of each campaign's queue in jtel's order, kept in memory per store for a moment, so an
// agent's result can hand out their next contact in its own transaction (actions.ts) without a
// probe of its own: the agent is then never free between two contacts. Without it the agent
// waited for the engine's next batch (the batch under way, then theirs: 7 round trips).
//
// The head only proposes. Everything that decides is read again under the contact's lock by
// lockNextFor (waiting, due, free for the agent, its zone open now, the agent's own contacts in
// their place in the order), so a stale head never hands out a contact it should not; it can
// only pass over a better one that arrived or came due since it was read. That is bounded: a
// head older than HEAD_TTL_MS by the store's clock is not used (the agent is served by the
// engine as before). The engine reads the heads (engine.ts), in its passes and when a result
// asks for it; concurrent results of one process take different proposals, those of other
// instances meet under SKIP LOCKED and pass over each other's.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import * as calendar from '../domain/dialler-calendar.ts';
import { compareHandout, isEligibleFor } from '../domain/dialler-schedule.ts';
import { perDatabase } from '../db/per-database.ts';
import { storeKey, type CampaignConfig } from './sql/campaign-config.ts';
import { probeCandidates, waitingZones } from './sql/hand-out.ts';
import { asCandidate } from './hand-out.ts';

type Db = Kysely<Database>;

/**
 * How long a head may be used: a contact that arrives or comes due ahead of the head's is
 * handed out at most this much later than its place in the order says (the engine's sweep,
 * which hands out contacts coming due, runs every second).
 */
export const HEAD_TTL_MS = 250;
/** Contacts a head keeps; read again when fewer than HEAD_LOW are left unproposed. */
const HEAD_SIZE = 256;
const HEAD_LOW = 64;
/** Read per due rank and zone: the head is exact up to where the first of these lists was cut. */
const PER_LIST = 64;
/**
 * Proposed to one result: enough that the first still free is among them when other instances
 * have taken the head's best meanwhile (with three instances, four found none in most results).
 */
const PROPOSE = 16;

interface Head {
  ids: number[];
  /** Proposed to a result under way. */
  out: Set<number>;
  /** The zones that had contacts waiting when the head was read: the windows lockNextFor judges. */
  zones: string[];
  /** The clock's time it was read at. */
  readAt: number;
}

const headsByStore = perDatabase((_adapter: object) => ({ heads: new Map<number, Head>(), reading: new Map<number, Promise<void>>() }));
const heads = (db: Db) => headsByStore(storeKey(db));

const fresh = (head: Head, now: number) => Math.abs(now - head.readAt) <= HEAD_TTL_MS;
// Read again from half its time on: the new head is there before the old one may not be used.
const young = (head: Head, now: number) => Math.abs(now - head.readAt) <= HEAD_TTL_MS / 2;

/** Whether this store has any head: none is read on PGlite (app.ts), nor before the engine's first pass. */
export function keepsHeads(db: Db): boolean {
  return heads(db).heads.size > 0;
}

export interface Proposal {
  ids: number[];
  /** The zones the head knows, and those among them open now. */
  known: string[];
  open: string[];
}

/** A few contacts from the head for one result, or undefined when there is no fresh head. */
export function propose(db: Db, config: CampaignConfig, now: number): Proposal | undefined {
  const head = heads(db).heads.get(config.id);
  if (!head || !fresh(head, now)) return undefined;
  const ids: number[] = [];
  for (const id of head.ids) {
    if (ids.length === PROPOSE) break;
    if (!head.out.has(id)) ids.push(id);
  }
  ids.forEach((id) => head.out.add(id));
  return { ids, known: head.zones, open: head.zones.filter((zone) => calendar.isOpenAt(config.calendar, zone, now)) };
}

/** After the result's transaction: the contact taken and those found gone leave the head, the rest return to it. */
export function settle(db: Db, campaignId: number, proposal: Proposal, leaving: readonly number[]): void {
  const head = heads(db).heads.get(campaignId);
  if (!head) return;
  proposal.ids.forEach((id) => head.out.delete(id));
  if (leaving.length > 0) head.ids = head.ids.filter((id) => !leaving.includes(id));
}

/**
 * Reads the campaign's head again when it is missing, past half its time or running out (one read
 * at a time per campaign; a second caller meanwhile gets the same read). On the root store, not a
 * transaction.
 */
export function refill(db: Db, config: CampaignConfig, now: number): Promise<void> {
  const { heads: byCampaign, reading } = heads(db);
  const under = reading.get(config.id);
  if (under) return under;
  const head = byCampaign.get(config.id);
  if (head && young(head, now) && head.ids.length - head.out.size >= HEAD_LOW) return Promise.resolve();
  const read = readHead(db, config, now)
    .then((h) => void byCampaign.set(config.id, h))
    // A head not read is a hand-out left to the engine, nothing more (the store may be closing).
    .catch(() => void byCampaign.delete(config.id))
    .finally(() => reading.delete(config.id));
  reading.set(config.id, read);
  return read;
}

async function readHead(db: Db, config: CampaignConfig, now: number): Promise<Head> {
  const zones = await waitingZones(db, config.id);
  const open = zones.filter((zone) => calendar.isOpenAt(config.calendar, zone, now));
  const rows = (await probeCandidates(db, config.id, null, open, new Date(now), PER_LIST)).map(asCandidate);
  // Each list (per rank and zone) was cut at PER_LIST: beyond the first cut list's last contact
  // the merged order could miss contacts, so the head ends there.
  const lists = Map.groupBy(rows, (c) => `${c.dueRank} ${c.zone}`);
  const byOrder = (a: (typeof rows)[number], b: (typeof rows)[number]) => compareHandout(a, b, null);
  const cuts = [...lists.values()].filter((list) => list.length >= PER_LIST).map((list) => list.at(-1)!).sort(byOrder);
  const ids = rows
    .filter((c) => isEligibleFor(c, null, now) && (cuts.length === 0 || byOrder(c, cuts[0]!) <= 0))
    .sort(byOrder).slice(0, HEAD_SIZE).map((c) => c.id);
  return { ids, out: new Set(), zones, readAt: now };
}
