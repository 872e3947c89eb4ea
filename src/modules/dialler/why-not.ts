// Why a contact is not dialled (spec §8.2), from its stored state: per contact with the numbers on
// the do-not-call list, per campaign as counts. Both use whyNot() of dialler-schedule.ts, so they
// cannot disagree on a rule.
//
// The campaign counts come from the stored counts (src/dialler/sql/contact-counts.ts), kept by the
// statements that change contacts: groups of contacts by the few facts whyNot decides on (state,
// closed reason, held, a usable number left, due, rank, zone, day cap used up), and each group
// gets its reason from whyNot on a representative state. No contact is scanned.
// Do-not-call is not part of the counts: the list is checked per number at every hand-out, and a
// contact whose every number is on it is closed there (NoNumber); counting it here would cost a
// join of every number against the list.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CampaignNotFound, ContactNotFound, UserNotFound } from '../../errors.ts';
import { localTimestamp } from '../../domain/dialler-calendar.ts';
import { PHONE_SLOTS, type ClosedReason, type ContactDiallerState, type ContactStateName, type DueRankId } from '../../domain/dialler-contact.ts';
import { whyNot, WHY_NOT_REASONS, type WhyNotReason } from '../../domain/dialler-schedule.ts';
import { whenFor } from '../../dialler/hand-out.ts';
import { campaignConfigs, type CampaignConfig } from '../../dialler/sql/campaign-config.ts';
import { stateOf, STATE_COLUMNS, type ContactRow } from '../../dialler/sql/contact-state.ts';
import { countedGroups, type CountedGroup } from '../../dialler/sql/contact-counts.ts';
import { blockedNumbers } from '../donotcall/repository.ts';
import type { ClientContext } from '../../http/auth.ts';

type Db = Kysely<Database>;

export const CONTACT_STATES: readonly ContactStateName[] = ['Waiting', 'InProgress', 'Done', 'Aborted'];

export interface ContactWhyNot {
  DiallerContactsID: number;
  bCallable: boolean;
  Reason: WhyNotReason | null;
  dtCallableFrom: string | null;
  TimeZone: string;
  dtCallableFromClient: string | null;
  DoNotCall: string[];
}

async function campaignConfig(db: Db, clientId: number, campaignId: number): Promise<CampaignConfig | undefined> {
  const config = (await campaignConfigs(db, [campaignId])).get(campaignId);
  return config && config.clientId === clientId ? config : undefined;
}

/**
 * The contact now. With `agentId`, whether that agent could get it (a contact bound to another
 * agent is not callable for them); without, whether anyone could.
 */
export async function contactWhyNot(db: Db, client: ClientContext, contactId: number, agentId: number | undefined, now: number): Promise<ContactWhyNot> {
  const { rows: [row] } = await sql<ContactRow>`SELECT ${STATE_COLUMNS} FROM dialler_contacts k
    WHERE k.id = ${contactId} AND k.client_id = ${client.id}`.execute(db);
  if (!row) throw new ContactNotFound();
  if (agentId !== undefined) {
    const { rows } = await sql`SELECT 1 FROM users WHERE id = ${agentId} AND client_id = ${client.id}`.execute(db);
    if (rows.length === 0) throw new UserNotFound(agentId);
  }
  const config = await campaignConfig(db, client.id, row.campaign_id);
  if (!config) throw new ContactNotFound();
  const state = stateOf(row);
  const numbers = [...new Set(state.phones.map((p) => p.number).filter((n): n is string => n !== null))];
  const blocked = await blockedNumbers(db, client.id, numbers, new Date(now));
  const answer = whyNot(
    { ...state, holderUserId: row.holder_user_id, holdKind: row.hold_kind }, config, whenFor(config, row.time_zone, now), config.rules,
    agentId, (n) => blocked.has(n),
  );
  return {
    DiallerContactsID: row.id,
    bCallable: answer.callable,
    Reason: answer.reason,
    dtCallableFrom: answer.from === null ? null : localTimestamp(row.time_zone, answer.from),
    TimeZone: row.time_zone,
    dtCallableFromClient: answer.from === null ? null : localTimestamp(client.timeZone, answer.from),
    DoNotCall: numbers.filter((n) => blocked.has(n)),
  };
}

export interface CampaignWhyNot {
  DiallerCampaignsID: number;
  Total: number;
  ByState: Record<ContactStateName, number>;
  ByReason: Record<'Callable' | WhyNotReason, number>;
}

const slots = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

/** A state with exactly the group's facts, for whyNot. */
function representative(g: CountedGroup, config: CampaignConfig, now: number) {
  const phones = slots.map((n) => ({ number: n === 1 && g.usable !== false ? '0' : null, tries: 0, lastCause: null, invalid: false }));
  const state: ContactDiallerState = {
    state: g.state,
    dueRank: (g.due_rank ?? 4) as DueRankId,
    nextTryAt: g.due === false ? now + 1 : -Infinity,
    phones,
    tries: 0,
    triesDay: g.capped_day === null ? 0 : config.rules.maxTriesPerDay,
    triesDate: g.capped_day,
    nextPhoneIndex: null,
    reservedUserId: null,
    followUpUserId: null,
    followUpAt: null,
    boundUserId: null,
    boundUntil: null,
    lastUserId: null,
    resultCodeId: null,
    resultExportKey: null,
    closedReason: g.closed_reason as ClosedReason | null,
  };
  return { ...state, holderUserId: null, holdKind: g.held ? 'held' : null };
}

export async function campaignWhyNot(db: Db, clientId: number, campaignId: number, now: number): Promise<CampaignWhyNot> {
  const config = await campaignConfig(db, clientId, campaignId);
  if (!config) throw new CampaignNotFound();
  const byState = Object.fromEntries(CONTACT_STATES.map((s) => [s, 0])) as CampaignWhyNot['ByState'];
  const byReason = Object.fromEntries(['Callable', ...WHY_NOT_REASONS].map((r) => [r, 0])) as CampaignWhyNot['ByReason'];
  let total = 0;
  const whenByZone = new Map<string, ReturnType<typeof whenFor>>();
  for (const g of await countedGroups(db, config.id, config.rules, now)) {
    const n = Number(g.n);
    const zone = g.time_zone ?? config.zone;
    let when = whenByZone.get(zone);
    if (!when) whenByZone.set(zone, (when = whenFor(config, zone, now)));
    const answer = whyNot(representative(g, config, now), config, when, config.rules);
    total += n;
    byState[g.state] += n;
    byReason[answer.reason ?? 'Callable'] += n;
  }
  return { DiallerCampaignsID: campaignId, Total: total, ByState: byState, ByReason: byReason };
}
