// Why a contact is not dialled (spec §8.2), from its stored state: per contact with the numbers on
// the do-not-call list, per campaign as counts. Both use whyNot() of dialler-schedule.ts, so they
// cannot disagree on a rule.
//
// The campaign counts come from ONE grouped aggregate over the campaign's contacts: the columns
// whyNot reads are reduced in SQL to the few facts it decides on (state, closed reason, held,
// a usable number left, due, rank, zone, day cap used up), and each group, a handful per zone,
// gets its reason from whyNot on a representative state. No contact is looked at in JS.
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

/** One group of the aggregate: the facts whyNot decides on, null where they do not matter. */
interface Group {
  state: ContactStateName;
  closed_reason: string | null;
  held: boolean | null;
  usable: boolean | null;
  due: boolean | null;
  due_rank: number | null;
  time_zone: string | null;
  capped_day: string | null;
  n: number | string;
}

const slots = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

/**
 * Only waiting contacts need more than their state and closed reason; the CASEs keep every
 * other row in one group per state, and read no more columns for it.
 */
async function groups(db: Db, config: CampaignConfig, now: number): Promise<Group[]> {
  const at = new Date(now);
  const maxPerNumber = config.rules.maxTriesPerNumber;
  const usable = sql.join(slots.map((n) => sql`(${sql.ref(`k.phone_number${n}`)} IS NOT NULL
    AND NOT ${sql.ref(`k.b_phone_number${n}_invalid`)} AND ${sql.ref(`k.n_tries_phone_number${n}`)} < ${maxPerNumber})`), sql` OR `);
  const waiting = sql`k.state = 'Waiting'`;
  const { rows } = await sql<Group>`
    SELECT k.state,
      CASE WHEN k.state IN ('Done', 'Aborted') THEN k.closed_reason END AS closed_reason,
      CASE WHEN ${waiting} THEN (k.holder_user_id IS NOT NULL OR k.hold_kind IS NOT NULL) END AS held,
      CASE WHEN ${waiting} THEN (${usable}) END AS usable,
      CASE WHEN ${waiting} THEN k.dt_next_try <= ${at} END AS due,
      CASE WHEN ${waiting} THEN k.due_rank END AS due_rank,
      CASE WHEN ${waiting} THEN k.time_zone END AS time_zone,
      CASE WHEN ${waiting} AND k.due_rank = 3 AND k.n_tries_day >= ${config.rules.maxTriesPerDay} THEN k.tries_day::text END AS capped_day,
      count(*) AS n
    FROM dialler_contacts k
    WHERE k.campaign_id = ${config.id}
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`.execute(db);
  return rows;
}

/** A state with exactly the group's facts, for whyNot. */
function representative(g: Group, config: CampaignConfig, now: number) {
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
  for (const g of await groups(db, config, now)) {
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
