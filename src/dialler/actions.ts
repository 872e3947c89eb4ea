// What happens to a contact in someone's hands: the attempt starts on a number, is skipped or
// released, gets its result; and the engine's timers (a preview that ran out, a lease that
// expired, an agent binding that falls back). Each runs under the contact's row lock and records
// its change (sql/record.ts).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { applyAttempt, pickNumber } from '../domain/dialler-schedule.ts';
import { SystemCause, type ContactDiallerState, type ResultCode, type SystemCauseName } from '../domain/dialler-contact.ts';
import { ResultCodeType } from '../domain/dialler.ts';
import * as calendar from '../domain/dialler-calendar.ts';
import { BadRequest, ContactNotFound, Conflict, InvalidField } from '../errors.ts';
import { blockedNumbers } from '../modules/donotcall/repository.ts';
import { campaignConfigs, type CampaignConfig } from './sql/campaign-config.ts';
import { contactStateWrite, contactStateWrites, holdOf, lockContact, NO_HOLD, stateOf, type ContactRow, type Hold } from './sql/contact-state.ts';
import { GENERIC_PLANS, heldWrite } from './sql/hand-out.ts';
import { recordContactChanges, type ContactChangeInput } from './sql/record.ts';
import { ENGINE_ACTOR, handOutWithResult, handsOutWithResult, whenFor, type HandedOut, type HandOutWithResult } from './hand-out.ts';
import { keepsHeads, propose, settle, type Proposal } from './hopper.ts';

type Db = Kysely<Database>;

/** Who acts: an agent (their own holds) or the client's integration (external dialler, supervisor). */
export type DiallerActor = { kind: 'agent'; userId: number } | { kind: 'client' };

const actorName = (a: DiallerActor) => (a.kind === 'agent' ? `agent ${a.userId}` : 'external dialler');

async function configOf(db: Db, row: ContactRow): Promise<CampaignConfig> {
  const config = (await campaignConfigs(db, [row.campaign_id])).get(row.campaign_id);
  if (!config) throw new ContactNotFound();
  return config;
}

/** The contact, locked, and checked to be in `actor`'s hands. */
async function heldBy(trx: Db, clientId: number, contactId: number, actor: DiallerActor): Promise<ContactRow> {
  return checkHeld(await lockContact(trx, clientId, contactId), contactId, actor);
}

/** `row` (locked by the caller; undefined: not the client's) checked to be in `actor`'s hands. */
function checkHeld(row: ContactRow | undefined, contactId: number, actor: DiallerActor): ContactRow {
  if (!row) throw new ContactNotFound();
  if (row.state !== 'InProgress') throw new Conflict(`Dialler contact ${contactId} is not in anyone's hands (state ${row.state})`);
  const mine = actor.kind === 'agent' ? row.holder_user_id === actor.userId : row.hold_kind === 'External';
  if (!mine) throw new Conflict(`Dialler contact ${contactId} is not in your hands`);
  return row;
}

function change(row: ContactRow, c: Omit<ContactChangeInput, 'clientId' | 'campaignId' | 'contactId'>): ContactChangeInput {
  return { clientId: row.client_id, campaignId: row.campaign_id, contactId: row.id, ...c };
}

/** Gives back the agent's place for other work when the contact leaves their hands (none: no agent held it). */
function letGo(row: ContactRow) {
  return row.holder_user_id === null ? [] : [heldWrite(row.holder_user_id, -1)];
}

export interface Started { attemptId: string; phoneIndex: number; phoneNumber: string }

/**
 * The attempt starts on the number chosen (index 0..5; default: the one proposed). Starting it
 * again on the same number answers the same; on another number once started: 409.
 */
export async function startAttempt(db: Db, clientId: number, actor: DiallerActor, contactId: number, phoneIndex: number | undefined, now: number): Promise<Started> {
  return db.transaction().execute(async (trx) => {
    const row = await heldBy(trx, clientId, contactId, actor);
    const hold = holdOf(row);
    const state = stateOf(row);
    const index = phoneIndex ?? hold.phoneIndex!;
    if (hold.startedAt !== null) {
      if (index !== hold.phoneIndex) throw new Conflict(`The attempt already started on PhoneNumber${hold.phoneIndex! + 1}`);
      return { attemptId: hold.attemptId!, phoneIndex: index, phoneNumber: state.phones[index].number! };
    }
    const config = await configOf(trx, row);
    const number = state.phones[index]?.number ?? null;
    if (number === null) throw new InvalidField('PhoneIndex', `PhoneNumber${index + 1} is empty`);
    const blocked = await blockedNumbers(trx, clientId, [number], new Date(now));
    if (pickNumber(state, config.rules, (n) => blocked.has(n), index) !== index) {
      throw new InvalidField('PhoneIndex', `PhoneNumber${index + 1} may not be dialled (invalid, tried ${config.rules.maxTriesPerNumber} times, or on the do-not-call list)`);
    }
    await recordContactChanges(trx, [change(row, {
      change: 'AttemptStarted', state: 'InProgress', actor: actorName(actor), at: now, attemptId: hold.attemptId,
      userId: row.holder_user_id, phoneIndex: index, phoneNumber: number,
    })], false, [contactStateWrite(row.id, state, { ...hold, phoneIndex: index, startedAt: now, until: null }, now)]);
    return { attemptId: hold.attemptId!, phoneIndex: index, phoneNumber: number };
  });
}

/**
 * Back to the queue untouched, before the attempt started: `Released` (a manual reservation, a
 * lease given back) keeps its due time; `Skipped` (the agent passes on a preview) moves it back
 * by the campaign's retry delay for "Other", so the next agent does not get it straight away.
 */
export async function giveBack(db: Db, clientId: number, actor: DiallerActor, contactId: number, how: 'Skipped' | 'Released', now: number): Promise<void> {
  await db.transaction().execute((trx) => giveBackIn(trx, clientId, actor, contactId, how, now));
}

/** giveBack inside the caller's transaction. */
export async function giveBackIn(trx: Db, clientId: number, actor: DiallerActor, contactId: number, how: 'Skipped' | 'Released', now: number): Promise<void> {
  const row = await heldBy(trx, clientId, contactId, actor);
  if (row.attempt_started_at !== null) throw new Conflict(`The attempt on dialler contact ${contactId} has started: post its result`);
  await returnToQueue(trx, row, how, actorName(actor), now, how === 'Skipped' ? 'skipped by the agent' : null);
}

async function returnToQueue(trx: Db, row: ContactRow, how: 'Skipped' | 'Released' | 'LeaseExpired', actor: string, now: number, reason: string | null): Promise<void> {
  const state: ContactDiallerState = { ...stateOf(row), state: 'Waiting' };
  if (how === 'Skipped') {
    const config = await configOf(trx, row);
    state.nextTryAt = Math.max(state.nextTryAt, now + config.rules.retryDelays.Other * 60_000);
    state.nextTryAt = whenFor(config, row.time_zone, now).nextOpenAt(state.nextTryAt) ?? state.nextTryAt;
  }
  const freed = letGo(row);
  await recordContactChanges(trx, [change(row, {
    change: how, state: 'Waiting', actor, at: now, attemptId: row.attempt_id, userId: row.holder_user_id, reason,
  })], freed.length > 0, [contactStateWrite(row.id, state, NO_HOLD, now), ...freed]);
}

export interface ResultInput {
  attemptId: string;
  /** The result code by ID or ExportKey; none: no conversation (give the cause). */
  resultCodeId?: number;
  exportKey?: string;
  cause?: SystemCauseName;
  appointmentAt?: number | null;
  comment?: string | null;
}

function codeOf(config: CampaignConfig, input: ResultInput): ResultCode | null {
  if (input.resultCodeId !== undefined) {
    const code = config.codes.get(input.resultCodeId);
    if (!code) throw new InvalidField('ResultCodesID', `not a result code of campaign ${config.id}`);
    if (input.exportKey !== undefined && input.exportKey !== code.exportKey) throw new InvalidField('ResultCodesExportKey', 'names another result code than ResultCodesID');
    return code;
  }
  if (input.exportKey !== undefined) {
    const code = config.codesByKey.get(input.exportKey);
    if (!code) throw new InvalidField('ResultCodesExportKey', `no result code "${input.exportKey}" in campaign ${config.id}`);
    return code;
  }
  return null;
}

/** A result posted: applied, or a repeat that changed nothing; `next`, the agent's next contact handed out with it. */
export interface Posted {
  outcome: 'applied' | 'repeated';
  next: HandedOut | null;
  /** With `next`: how long handing it out took inside the result's transaction (ms). */
  handOutMs: number | null;
  /** The campaign whose head (hopper.ts) the result drew on, or would have: for the engine to keep read. */
  headOf: number | null;
}

/**
 * The attempt's result. A result for an attempt that already has one changes nothing and answers
 * 'repeated' (an integrator retrying after a lost answer must not schedule twice); for an attempt
 * the contact never had: 409. An agent's result also hands out their next contact when the
 * campaign's head has one for them (handOutWithResult; otherwise the engine serves them after).
 */
export async function postResult(db: Db, clientId: number, actor: DiallerActor, contactId: number, input: ResultInput, now: number): Promise<Posted> {
  let head: { config: CampaignConfig; proposal: Proposal | undefined; leaving: number[] } | undefined;
  try {
    return await db.transaction().execute(async (trx): Promise<Posted> => {
      // An agent's result may hand out their next contact (handOutWithResult): with generic plans.
      const row = await lockContact(trx, clientId, contactId, actor.kind === 'agent' && keepsHeads(db) ? GENERIC_PLANS : undefined);
      if (!row) throw new ContactNotFound();
      if (row.attempt_id !== input.attemptId) {
        const { rows } = await sql`SELECT 1 FROM dialler_contact_history
          WHERE attempt_id = ${input.attemptId} AND contact_id = ${contactId} AND change = 'Result'`.execute(trx);
        if (rows.length > 0) return { outcome: 'repeated', next: null, handOutMs: null, headOf: null };
        throw new Conflict(`Attempt ${input.attemptId} is not dialler contact ${contactId}'s current attempt`);
      }
      const held = checkHeld(row, contactId, actor);
      const config = await configOf(trx, held);
      const { after, change: result } = resultOf(held, config, input, actor, now);
      const freed = letGo(held);
      let withNext: HandOutWithResult | undefined;
      if (actor.kind === 'agent' && handsOutWithResult(config, now)) {
        head = { config, proposal: propose(db, config, now), leaving: [] };
        if (head.proposal) withNext = await handOutWithResult(trx, config, actor.userId, head.proposal, now);
      }
      const next = withNext?.next;
      // With a next contact the agent's count of held contacts stays: one leaves, one arrives.
      await recordContactChanges(trx, [result, ...(withNext?.closed ?? []), ...(next?.changes ?? [])], freed.length > 0 && !next,
        [contactStateWrite(held.id, after, NO_HOLD, now), ...(next ? [contactStateWrites([next.write], now)] : freed)]);
      if (head) head.leaving = withNext?.leaving ?? [];
      return { outcome: 'applied', next: next?.handed ?? null, handOutMs: next ? withNext!.tookMs : null, headOf: head?.config.id ?? null };
    });
  } finally {
    if (head?.proposal) settle(db, head.config.id, head.proposal, head.leaving);
  }
}

/** What a result does to the contact (applyAttempt), after its input is checked, and its change to record. */
function resultOf(held: ContactRow, config: CampaignConfig, input: ResultInput, actor: DiallerActor, now: number): { after: ContactDiallerState; change: ContactChangeInput } {
  const code = codeOf(config, input);
  const cause = input.cause ?? (code ? 'Connected' : undefined);
  if (cause === undefined) throw new BadRequest('Give a result code (ResultCodesID or ResultCodesExportKey) or a SystemCause');
  if (code === null && cause === 'Connected') throw new InvalidField('SystemCause', 'a connected call needs a result code');
  const when = whenFor(config, held.time_zone, now);
  let appointmentAt: number | null = null;
  if (code?.typeId === ResultCodeType.Appointment) {
    if (input.appointmentAt == null) throw new InvalidField('dtAppointment', `result code ${code.exportKey} is an appointment: give its date and time`);
    if (input.appointmentAt <= now) throw new InvalidField('dtAppointment', 'must be in the future');
    if (!when.isOpenAt(input.appointmentAt)) {
      const next = when.nextOpenAt(input.appointmentAt);
      throw new InvalidField('dtAppointment', `outside the campaign's calling times for this contact (${held.time_zone})${next === null ? '' : `; the next opening is ${calendar.localTimestamp(held.time_zone, next)}`}`);
    }
    appointmentAt = input.appointmentAt;
  } else if (input.appointmentAt != null) {
    throw new InvalidField('dtAppointment', 'only for a result code of type Appointment');
  }
  const hold = holdOf(held);
  const after = applyAttempt(stateOf(held), { phoneIndex: hold.phoneIndex!, agentId: held.holder_user_id, cause, code, appointmentAt }, config.rules, when);
  return {
    after,
    change: change(held, {
      change: 'Result', state: after.state, actor: actorName(actor), at: now, attemptId: hold.attemptId, userId: held.holder_user_id,
      phoneIndex: hold.phoneIndex, phoneNumber: held[`phone_number${hold.phoneIndex! + 1}`] as string, cause: SystemCause[cause],
      resultCodeId: code?.id ?? null, appointmentAt, comment: input.comment ?? null,
    }),
  };
}

/**
 * The engine's timers that are due: a preview countdown that ran out starts the attempt on the
 * proposed number (jtel: the preview time is the time before the call); a lease that ran out
 * returns its contact untouched. Rows another transaction holds are skipped: they are being
 * changed anyway. Answers how many it handled.
 */
export async function runDueHolds(db: Db, now: number, batch: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: number; client_id: number }>`
      SELECT id, client_id FROM dialler_contacts WHERE state = 'InProgress' AND hold_until <= ${new Date(now)}
      ORDER BY hold_until LIMIT ${batch} FOR UPDATE SKIP LOCKED`.execute(trx);
    for (const { id, client_id } of rows) {
      const row = (await lockContact(trx, client_id, id))!;
      const hold = holdOf(row);
      if (row.hold_kind === 'External') {
        await returnToQueue(trx, row, 'LeaseExpired', ENGINE_ACTOR, now, `lease ${row.lease_id} ran out`);
        continue;
      }
      const started: Hold = { ...hold, startedAt: now, until: null };
      await recordContactChanges(trx, [change(row, {
        change: 'AttemptStarted', state: 'InProgress', actor: ENGINE_ACTOR, at: now, attemptId: hold.attemptId, userId: row.holder_user_id,
        phoneIndex: hold.phoneIndex, phoneNumber: row[`phone_number${hold.phoneIndex! + 1}`] as string, reason: 'preview time over',
      })], false, [contactStateWrite(row.id, stateOf(row), started, now)]);
    }
    return rows.length;
  });
}

/** Agent-bound appointments and delays whose fallback time has come go to any agent. */
export async function releaseBindings(db: Db, now: number): Promise<number> {
  const result = await sql`UPDATE dialler_contacts SET bound_user_id = NULL, bound_until = NULL
    WHERE state = 'Waiting' AND bound_until <= ${new Date(now)}`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The earliest timer the engine must wake for (ms), or null. */
export async function nextTimerAt(db: Db): Promise<number | null> {
  const { rows } = await sql<{ at: Date | string | null }>`SELECT least(
      (SELECT min(hold_until) FROM dialler_contacts WHERE state = 'InProgress' AND hold_until IS NOT NULL),
      (SELECT min(bound_until) FROM dialler_contacts WHERE state = 'Waiting' AND bound_until IS NOT NULL)) AS at`.execute(db);
  return rows[0]?.at == null ? null : new Date(rows[0].at).getTime();
}

/** Leases: renewing moves every contact of the lease to the new end; answers how many. */
export async function renewLease(db: Db, clientId: number, leaseId: string, seconds: number, now: number): Promise<number> {
  const result = await sql`UPDATE dialler_contacts SET hold_until = ${new Date(now + seconds * 1000)}
    WHERE client_id = ${clientId} AND lease_id = ${leaseId} AND state = 'InProgress' AND hold_kind = 'External'`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Gives back every contact of the lease not yet resulted, untouched; answers how many. */
export async function releaseLease(db: Db, clientId: number, leaseId: string, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: number }>`SELECT id FROM dialler_contacts
      WHERE client_id = ${clientId} AND lease_id = ${leaseId} AND state = 'InProgress' AND hold_kind = 'External'
      ORDER BY id FOR UPDATE`.execute(trx);
    for (const { id } of rows) {
      const row = (await lockContact(trx, clientId, id))!;
      await returnToQueue(trx, row, 'Released', 'external dialler', now, `lease ${leaseId} given back`);
    }
    return rows.length;
  });
}
