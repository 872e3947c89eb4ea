// The dialler's scheduling rules (spec §8.1, §8.2), pure: what an attempt's result does to a
// contact, which of its numbers comes next, jtel's hand-out order, and why a contact is not dialled.
// Time comes in as a `When` bound to the contact's calendar and zone (the engine builds it from
// dialler-calendar.ts), so the rules can be checked against a simple fake calendar too.
//
// An attempt's result (applyAttempt):
// - Always: the number's tries and last cause, the contact's tries, the tries of the contact's local
//   day (restarting on a new date), the agent who worked it. Reservation, follow-up and agent
//   binding end with every attempt unless the result sets them again. InvalidNumber marks the
//   number invalid for good.
// - Done / Abort codes close the contact with that code.
// - Delay: due TimeOffset minutes later, at the first open instant from then; on the next local day
//   or later when the day's cap is used up. It would be one try too many once the contact has
//   used its tries: it closes as TriesExhausted instead.
// - Appointment: due at the time given (the first open instant from it), whatever the tries used;
//   that is the customer's word. It is never honoured beyond a number's own cap, though: a number
//   used up is used up.
// - Delay and Appointment try the number the conversation was on first; bAgentBound binds the
//   contact to the agent until the campaign's fallback runs out (never, without a fallback).
// - No conversation: a retry of the next usable number after this one (slot order, wrapping round
//   to this one last) after the cause's retry delay (an invalid number: at once), unless the tries
//   are used up (TriesExhausted) or no number is left (NoNumber, with the campaign's
//   AbortOnNoTelNumber code).
// - A try that would fall where the calendar never opens again closes the contact as NeverOpen.
import { DueRank, SystemCause, type ContactDiallerState, type CampaignRules, type ClosedReason, type DueRankId, type ResultCode, type SystemCauseName } from './dialler-contact.ts';
import { ResultCodeType } from './dialler.ts';
import * as calendar from './dialler-calendar.ts';

const MINUTE = 60_000;

/** The clock and the contact's calendar, bound to its zone. */
export interface When {
  now: number;
  isOpenAt(at: number): boolean;
  /** The first open instant at or after `at`; null: never open again. */
  nextOpenAt(at: number): number | null;
  closedReason(at: number): 'RestrictedPeriod' | 'WindowClosed' | null;
  /** The contact's local date, YYYY-MM-DD. */
  localDateOf(at: number): string;
  startOfNextLocalDay(at: number): number;
}

/** The engine's `When`: the real calendar in the contact's zone. */
export function calendarWhen(cal: calendar.Calendar, zone: string, now: number): When {
  return {
    now,
    isOpenAt: (at) => calendar.isOpenAt(cal, zone, at),
    nextOpenAt: (at) => calendar.nextOpenAt(cal, zone, at),
    closedReason: (at) => calendar.closedReason(cal, zone, at),
    localDateOf: (at) => calendar.localDateOf(zone, at),
    startOfNextLocalDay: (at) => calendar.startOfNextLocalDay(zone, at),
  };
}

export interface Attempt {
  phoneIndex: number;
  /** null: an external dialler without an agent. */
  agentId: number | null;
  cause: SystemCauseName;
  code: ResultCode | null;
  appointmentAt: number | null;
}

type Closing = Pick<ContactDiallerState, 'state' | 'closedReason'>;
const close = (state: 'Done' | 'Aborted', closedReason: ClosedReason): Closing => ({ state, closedReason });

export function applyAttempt(state: ContactDiallerState, attempt: Attempt, rules: CampaignRules, when: When): ContactDiallerState {
  const { phoneIndex, agentId, cause, code } = attempt;
  if (state.state === 'Done' || state.state === 'Aborted') throw new RangeError(`the contact is closed (${state.state})`);
  if (!Number.isInteger(phoneIndex) || phoneIndex < 0 || phoneIndex >= state.phones.length || state.phones[phoneIndex].number === null) {
    throw new RangeError(`no number in slot ${phoneIndex}`);
  }
  if (code === null && cause === 'Connected') throw new RangeError('a connected call needs a result code');

  const now = when.now;
  const today = when.localDateOf(now);
  const phones = state.phones.map((p, i) =>
    i === phoneIndex ? { ...p, tries: p.tries + 1, lastCause: SystemCause[cause], invalid: p.invalid || cause === 'InvalidNumber' } : { ...p },
  );
  const next: ContactDiallerState = {
    ...state,
    phones,
    tries: state.tries + 1,
    triesDay: (state.triesDate === today ? state.triesDay : 0) + 1,
    triesDate: today,
    lastUserId: agentId,
    reservedUserId: null,
    followUpUserId: null,
    followUpAt: null,
    boundUserId: null,
    boundUntil: null,
  };
  const capReached = next.triesDay >= rules.maxTriesPerDay;
  const triesUsed = next.tries >= rules.maxTries;
  const noNumber = (): ContactDiallerState => ({
    ...next,
    ...close('Aborted', 'NoNumber'),
    resultCodeId: rules.abortOnNoNumber?.id ?? null,
    resultExportKey: rules.abortOnNoNumber?.exportKey ?? null,
  });
  /** Waiting from the first open instant at or after `at`, or closed when there is none. */
  const waitUntil = (at: number, dueRank: DueRankId, fields: Partial<ContactDiallerState>): ContactDiallerState => {
    const due = when.isOpenAt(at) ? at : when.nextOpenAt(at);
    if (due === null) return { ...next, ...fields, ...close('Aborted', 'NeverOpen') };
    return { ...next, ...fields, state: 'Waiting', closedReason: null, dueRank, nextTryAt: due };
  };
  /** The day's cap pushes a try that would still fall today to the next local day. */
  const notToday = (at: number) => (capReached ? Math.max(at, when.startOfNextLocalDay(now)) : at);

  if (code === null) {
    if (triesUsed) return { ...next, ...close('Aborted', 'TriesExhausted') };
    const phone = nextValidNumber(next, rules, phoneIndex);
    if (phone === null) return noNumber();
    const delay = cause === 'InvalidNumber' || cause === 'Connected' ? 0 : rules.retryDelays[cause];
    return waitUntil(notToday(now + delay * MINUTE), DueRank.Retry, { nextPhoneIndex: phone });
  }

  const result = { resultCodeId: code.id, resultExportKey: code.exportKey };
  if (code.typeId === ResultCodeType.Done) return { ...next, ...result, ...close('Done', 'Result') };
  if (code.typeId === ResultCodeType.Abort) return { ...next, ...result, ...close('Aborted', 'Result') };

  const isDelay = code.typeId === ResultCodeType.Delay;
  if (isDelay && triesUsed) return { ...next, ...result, ...close('Aborted', 'TriesExhausted') };
  const phone = pickNumber(next, rules, () => false, phoneIndex);
  if (phone === null) return noNumber();
  let waiting: ContactDiallerState;
  if (isDelay) {
    waiting = waitUntil(notToday(now + (code.timeOffset ?? 0) * MINUTE), DueRank.Delay, { ...result, nextPhoneIndex: phone });
  } else {
    if (attempt.appointmentAt === null) throw new RangeError('an appointment needs its time');
    waiting = waitUntil(attempt.appointmentAt, DueRank.Appointment, { ...result, nextPhoneIndex: phone });
    if (waiting.state === 'Waiting') waiting.followUpAt = waiting.nextTryAt;
  }
  if (waiting.state === 'Waiting' && code.agentBound && agentId !== null) {
    waiting.boundUserId = waiting.followUpUserId = agentId;
    waiting.boundUntil = rules.appointmentFallbackMinutes === null ? null : waiting.nextTryAt + rules.appointmentFallbackMinutes * MINUTE;
  }
  return waiting;
}

/**
 * The number to dial: the first slot from `startAt` on (wrapping round) that holds a number which
 * is not invalid, has tries left, and is not on the do-not-call list.
 */
export function pickNumber(
  state: Pick<ContactDiallerState, 'phones' | 'nextPhoneIndex'>,
  rules: Pick<CampaignRules, 'maxTriesPerNumber'>,
  blocked: (number: string) => boolean,
  startAt: number = state.nextPhoneIndex ?? 0,
): number | null {
  const slots = state.phones.length;
  for (let k = 0; k < slots; k++) {
    const i = (startAt + k) % slots;
    const p = state.phones[i];
    if (p.number !== null && !p.invalid && p.tries < rules.maxTriesPerNumber && !blocked(p.number)) return i;
  }
  return null;
}

/** The rotation after a no-contact cause: the next usable number after `after`, itself last. */
export function nextValidNumber(state: Pick<ContactDiallerState, 'phones' | 'nextPhoneIndex'>, rules: Pick<CampaignRules, 'maxTriesPerNumber'>, after: number): number | null {
  return pickNumber(state, rules, () => false, (after + 1) % state.phones.length);
}

// ---- Hand-out order (jtel's preview order, spec §8.1) ----

export interface HandoutCandidate {
  id: number;
  dueRank: DueRankId;
  nextTryAt: number;
  priority: number;
  createdAt: number;
  boundUserId: number | null;
  boundUntil: number | null;
  lastUserId: number | null;
}

/**
 * jtel's step 1..8: per due rank (appointment, delay, retry, never tried) first the agent's own
 * (bound to them; for retries, the series they last worked), then everyone's. An external
 * dialler (null) has no own steps.
 */
export function handoutStep(c: Pick<HandoutCandidate, 'dueRank' | 'boundUserId' | 'lastUserId'>, agentId: number | null): number {
  const owner = c.dueRank === DueRank.Retry ? c.lastUserId : c.boundUserId;
  const own = agentId !== null && owner === agentId;
  return 2 * c.dueRank - (own ? 1 : 0);
}

/** A contact bound to someone else is theirs until the binding falls back. */
export function isEligibleFor(c: Pick<HandoutCandidate, 'boundUserId' | 'boundUntil'>, agentId: number | null, now: number): boolean {
  return c.boundUserId === null || c.boundUserId === agentId || (c.boundUntil !== null && c.boundUntil <= now);
}

export function compareHandout(a: HandoutCandidate, b: HandoutCandidate, agentId: number | null): number {
  return (
    handoutStep(a, agentId) - handoutStep(b, agentId) ||
    compareNumbers(a.nextTryAt, b.nextTryAt) ||
    b.priority - a.priority ||
    a.createdAt - b.createdAt ||
    a.id - b.id
  );
}

/** -Infinity (due at once) compares without NaN. */
const compareNumbers = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);

// ---- Why not dialled (spec §8.2) ----

export const WHY_NOT_REASONS = [
  'Done',
  'Aborted',
  'TriesExhausted',
  'NoValidNumber',
  'NeverOpen',
  'InProgress',
  'CampaignPaused',
  'CampaignEnded',
  'RetryDelay',
  'DelayPending',
  'AppointmentPending',
  'DailyCap',
  'WindowClosed',
  'RestrictedPeriod',
  'BoundToOtherAgent',
] as const;
export type WhyNotReason = (typeof WHY_NOT_REASONS)[number];

export interface WhyNot {
  callable: boolean;
  reason: WhyNotReason | null;
  /** When it becomes callable; null: never, or not foreseeable (in someone's hands, campaign paused). */
  from: number | null;
}

const PENDING: Record<DueRankId, WhyNotReason> = {
  [DueRank.Appointment]: 'AppointmentPending',
  [DueRank.Delay]: 'DelayPending',
  [DueRank.Retry]: 'RetryDelay',
  [DueRank.New]: 'RetryDelay',
};

/**
 * Whether the contact could be handed out now, and if not the first reason in the order: closed,
 * in progress, no number left (invalid, used up, or all on the do-not-call list), campaign ended,
 * paused, not yet due, outside the calendar, bound to another agent (asked for an agent or the
 * external dialler, null).
 */
export function whyNot(
  c: ContactDiallerState & { priority?: number; holderUserId: number | null; holdKind: string | null },
  campaign: { running: boolean; endsAt: number | null },
  when: When,
  rules: CampaignRules,
  agentId?: number | null,
  blocked: (number: string) => boolean = () => false,
): WhyNot {
  const now = when.now;
  const no = (reason: WhyNotReason, from: number | null): WhyNot => ({ callable: false, reason, from });
  if (c.state === 'Done' || c.state === 'Aborted') {
    const reason = c.closedReason === 'TriesExhausted' || c.closedReason === 'NeverOpen' ? c.closedReason : c.closedReason === 'NoNumber' ? 'NoValidNumber' : c.state;
    return no(reason, null);
  }
  if (c.state === 'InProgress' || c.holderUserId !== null || c.holdKind !== null) return no('InProgress', null);
  if (pickNumber(c, rules, blocked) === null) return no('NoValidNumber', null);
  if (campaign.endsAt !== null && campaign.endsAt <= now) return no('CampaignEnded', null);
  if (!campaign.running) return no('CampaignPaused', null);
  if (c.nextTryAt > now) {
    const capped = c.dueRank === DueRank.Retry && c.triesDate === when.localDateOf(now) && c.triesDay >= rules.maxTriesPerDay;
    return no(capped ? 'DailyCap' : PENDING[c.dueRank], when.nextOpenAt(c.nextTryAt));
  }
  const closed = when.closedReason(now);
  if (closed !== null) return no(closed, when.nextOpenAt(now));
  if (agentId !== undefined && !isEligibleFor(c, agentId, now)) return no('BoundToOtherAgent', c.boundUntil === null ? null : when.nextOpenAt(c.boundUntil));
  return { callable: true, reason: null, from: now };
}
