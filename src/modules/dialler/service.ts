// Agents in campaigns, manual reservations and the external dialler's leases: the checks the API
// makes before the engine's operations (src/dialler/), and the answers it gives.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CampaignNotFound, ContactNotFound, Conflict, InvalidField } from '../../errors.ts';
import { localTimestamp } from '../../domain/dialler-calendar.ts';
import { giveBackIn, releaseLease, renewLease } from '../../dialler/actions.ts';
import { asCandidate, claimForDialler, isDialling, whenFor, type HandedOut } from '../../dialler/hand-out.ts';
import { campaignConfigs, type CampaignConfig } from '../../dialler/sql/campaign-config.ts';
import { heldWrite, lockAgent, lockCandidate } from '../../dialler/sql/hand-out.ts';
import { contactStateWrite, stateOf, STATE_COLUMNS, type ContactRow } from '../../dialler/sql/contact-state.ts';
import { recordContactChanges } from '../../dialler/sql/record.ts';
import { compareHandout, isEligibleFor, pickNumber } from '../../domain/dialler-schedule.ts';
import { lockState } from '../agents/repository.ts';

type Db = Kysely<Database>;

async function configOf(db: Db, clientId: number, campaignId: number): Promise<CampaignConfig> {
  const config = (await campaignConfigs(db, [campaignId])).get(campaignId);
  if (!config || config.clientId !== clientId) throw new CampaignNotFound();
  return config;
}

/** jtel: agents work a campaign as members of the ACD group it names. */
export async function loginToCampaign(db: Db, clientId: number, agentId: number, campaignId: number, now: number): Promise<void> {
  const config = await configOf(db, clientId, campaignId);
  if (config.groupId === null) throw new Conflict(`Dialler campaign ${campaignId} names no ACD group (AcdGroupsID): nobody can work it yet`);
  const { rows } = await sql`SELECT 1 FROM acd_group_members WHERE group_id = ${config.groupId} AND user_id = ${agentId}`.execute(db);
  if (rows.length === 0) throw new Conflict(`You are not a member of ACD group ${config.groupId}, whose members work dialler campaign ${campaignId}`);
  // Under the agent's state lock (made if the agent never logged in to the ACD): the hand-out
  // reads the logins under the same lock.
  await db.transaction().execute(async (trx) => {
    await lockState(trx, agentId);
    await sql`INSERT INTO dialler_campaign_logins (campaign_id, user_id, created_at) VALUES (${campaignId}, ${agentId}, ${new Date(now)})
      ON CONFLICT DO NOTHING`.execute(trx);
  });
}

/**
 * Leaves the campaign: no contact reaches the agent from it any more. Contacts held but not yet
 * dialled go back untouched; an attempt under way stays in the agent's hands until they post its
 * result ("log out after this call": a result may hand out the next contact with it, so logging
 * out first is how an agent stops).
 */
export async function logoutFromCampaign(db: Db, clientId: number, agentId: number, campaignId: number, now: number): Promise<void> {
  await configOf(db, clientId, campaignId);
  // Under the agent's lock, which every hand-out takes first: no contact can reach the agent
  // between giving back what they hold and the end of the login.
  await db.transaction().execute(async (trx) => {
    await lockState(trx, agentId);
    await sql`DELETE FROM dialler_campaign_logins WHERE campaign_id = ${campaignId} AND user_id = ${agentId}`.execute(trx);
    const { rows } = await sql<{ id: number; attempt_started_at: Date | null }>`SELECT id, attempt_started_at FROM dialler_contacts
      WHERE holder_user_id = ${agentId} AND campaign_id = ${campaignId} AND state = 'InProgress' ORDER BY id`.execute(trx);
    for (const row of rows.filter((r) => r.attempt_started_at === null)) {
      await giveBackIn(trx, clientId, { kind: 'agent', userId: agentId }, row.id, 'Released', now);
    }
  });
}

export interface HeldContact {
  DiallerContactsID: number;
  DiallerCampaignsID: number;
  AttemptID: string;
  HoldKind: string;
  PhoneIndex: number | null;
  PhoneNumber: string | null;
  bStarted: boolean;
  dtPreviewEnds: string | null;
}

export function heldContact(r: ContactRow, timeZone: string): HeldContact {
  const index = r.attempt_phone_index;
  return {
    DiallerContactsID: r.id,
    DiallerCampaignsID: r.campaign_id,
    AttemptID: r.attempt_id!,
    HoldKind: r.hold_kind!,
    PhoneIndex: index === null ? null : index + 1,
    PhoneNumber: index === null ? null : (r[`phone_number${index + 1}`] as string | null),
    bStarted: r.attempt_started_at !== null,
    dtPreviewEnds: r.hold_kind === 'Preview' && r.attempt_started_at === null && r.hold_until !== null
      ? localTimestamp(timeZone, new Date(r.hold_until).getTime()) : null,
  };
}

async function requireManual(db: Db, clientId: number, agentId: number, campaignId: number, now: number): Promise<CampaignConfig> {
  const config = await configOf(db, clientId, campaignId);
  if (config.mode !== 'Manual') throw new Conflict(`Dialler campaign ${campaignId} is in ${config.mode} mode: the engine hands its contacts out`);
  if (!isDialling(config, now)) throw new Conflict(`Dialler campaign ${campaignId} is ${config.running ? 'over (dtTo)' : 'paused'}`);
  const { rows } = await sql`SELECT 1 FROM dialler_campaign_logins WHERE campaign_id = ${campaignId} AND user_id = ${agentId}`.execute(db);
  if (rows.length === 0) throw new Conflict(`Log in to dialler campaign ${campaignId} first`);
  return config;
}

/**
 * Manual mode: the contacts the agent may call now, in jtel's order (at most `limit`): due,
 * inside their window, free for this agent. A read: another agent may reserve one first.
 */
export async function callableContacts(db: Db, clientId: number, agentId: number, campaignId: number, limit: number, now: number): Promise<number[]> {
  const config = await requireManual(db, clientId, agentId, campaignId, now);
  const { rows } = await sql<ContactRow>`SELECT ${STATE_COLUMNS} FROM dialler_contacts k
    WHERE k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.dt_next_try <= ${new Date(now)}
      AND (k.bound_user_id IS NULL OR k.bound_user_id = ${agentId} OR k.bound_until <= ${new Date(now)})
    ORDER BY k.due_rank, k.dt_next_try, k.priority DESC, k.id LIMIT ${limit * 4}`.execute(db);
  return rows
    .filter((r) => whenFor(config, r.time_zone, now).isOpenAt(now) && isEligibleFor(asCandidate(r), agentId, now))
    .map((r) => ({ r, c: asCandidate(r) }))
    .sort((a, b) => compareHandout(a.c, b.c, agentId))
    .slice(0, limit)
    .map((x) => x.r.id);
}

/** Manual mode: the agent takes a callable contact; held until its result or a release. */
export async function reserveContact(db: Db, clientId: number, agentId: number, contactId: number, now: number): Promise<HandedOut> {
  const { rows: [found] } = await sql<{ campaign_id: number }>`SELECT campaign_id FROM dialler_contacts WHERE id = ${contactId} AND client_id = ${clientId}`.execute(db);
  if (!found) throw new ContactNotFound();
  const config = await requireManual(db, clientId, agentId, found.campaign_id, now);
  return db.transaction().execute(async (trx) => {
    const agent = await lockAgent(trx, agentId);
    if (!agent) throw new Conflict('Your agent state is being changed right now; try again');
    if (agent.acd_held > 0) throw new Conflict('You hold ACD events: finish them before dialler work');
    const row = await lockCandidate(trx, contactId, agentId, new Date(now));
    if (!row) throw new Conflict(`Dialler contact ${contactId} is not callable for you now (ask …/whyNot)`);
    if (!whenFor(config, row.time_zone, now).isOpenAt(now)) throw new Conflict(`Dialler contact ${contactId} is outside its calling times now`);
    const state = stateOf(row);
    const blocked = new Set(row.blocked);
    const phoneIndex = pickNumber(state, config.rules, (n) => blocked.has(n));
    if (phoneIndex === null) throw new Conflict(`Dialler contact ${contactId} has no number that may be dialled`);
    await recordContactChanges(trx, [{
      clientId, campaignId: config.id, contactId, change: 'HandedOut', state: 'InProgress', actor: `agent ${agentId}`, at: now,
      attemptId: row.next_attempt_id, userId: agentId, phoneIndex, phoneNumber: state.phones[phoneIndex].number, reason: 'reserved',
    }], false, [contactStateWrite(row.id, state, {
      kind: 'Manual', userId: agentId, leaseId: null, until: null, attemptId: row.next_attempt_id, phoneIndex, startedAt: null,
    }, now), heldWrite(agentId, 1)]);
    return {
      clientId, campaignId: config.id, contactId, attemptId: row.next_attempt_id, phoneIndex, phoneNumber: state.phones[phoneIndex].number!,
      holdKind: 'Manual', holdUntil: null, started: false,
    };
  });
}

/** External mode: up to `count` contacts under a lease. */
export async function claimContacts(db: Db, clientId: number, campaignId: number, count: number, leaseSeconds: number, now: number) {
  const config = await configOf(db, clientId, campaignId);
  if (config.mode !== 'External') throw new Conflict(`Dialler campaign ${campaignId} is in ${config.mode} mode: only External campaigns lease contacts to a dialler`);
  if (!isDialling(config, now)) throw new Conflict(`Dialler campaign ${campaignId} is ${config.running ? 'over (dtTo)' : 'paused'}`);
  return claimForDialler(db, config, count, leaseSeconds, now);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function renew(db: Db, clientId: number, leaseId: string, seconds: number, now: number): Promise<number> {
  if (!UUID.test(leaseId)) throw new InvalidField('LeaseID', 'must be a lease id as answered by the claim');
  const n = await renewLease(db, clientId, leaseId, seconds, now);
  if (n === 0) throw new Conflict(`Lease ${leaseId} holds no contacts (ran out, released or all resulted)`);
  return n;
}

export async function release(db: Db, clientId: number, leaseId: string, now: number): Promise<number> {
  if (!UUID.test(leaseId)) throw new InvalidField('LeaseID', 'must be a lease id as answered by the claim');
  return releaseLease(db, clientId, leaseId, now);
}
