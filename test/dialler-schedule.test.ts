// Spec §8.1/§8.2 scheduling rules of src/domain/dialler-schedule.ts: random contacts worked through
// random attempts on a fake calendar (weekdays 09:00-17:00 local, a fixed UTC offset, restricted
// dates, optionally closing for good) against a small reference model written here, plus jtel's
// eight hand-out steps as a literal list of filters, and an example per rule and per reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import type { Calendar } from '../src/domain/dialler-calendar.ts';
import { DueRank, PHONE_SLOTS, SystemCause, type CampaignRules, type ContactDiallerState, type DueRankId, type ResultCode, type SystemCauseName } from '../src/domain/dialler-contact.ts';
import { applyAttempt, calendarWhen, compareHandout, handoutStep, isEligibleFor, nextValidNumber, pickNumber, whyNot, WHY_NOT_REASONS, type Attempt, type HandoutCandidate, type When } from '../src/domain/dialler-schedule.ts';

const MINUTE = 60_000;
const DAY = 1440 * MINUTE;

// ---- Fake calendar ----
interface FakeCalendar { offsetMin: number; restricted: string[]; closesAt: number | null }
const localDate = (cal: FakeCalendar, t: number) => new Date(t + cal.offsetMin * MINUTE).toISOString().slice(0, 10);
function fakeReason(cal: FakeCalendar, t: number): 'RestrictedPeriod' | 'WindowClosed' | null {
  if (cal.restricted.includes(localDate(cal, t))) return 'RestrictedPeriod';
  const local = new Date(t + cal.offsetMin * MINUTE);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const weekday = local.getUTCDay();
  const inWindow = weekday >= 1 && weekday <= 5 && minute >= 540 && minute < 1020;
  return inWindow && (cal.closesAt === null || t < cal.closesAt) ? null : 'WindowClosed';
}
function fakeWhen(cal: FakeCalendar, now: number): When {
  const startOfDay = (t: number) => Math.floor((t + cal.offsetMin * MINUTE) / DAY) * DAY - cal.offsetMin * MINUTE;
  return {
    now,
    isOpenAt: (t) => fakeReason(cal, t) === null,
    closedReason: (t) => fakeReason(cal, t),
    localDateOf: (t) => localDate(cal, t),
    startOfNextLocalDay: (t) => startOfDay(t) + DAY,
    nextOpenAt(t) {
      for (let day = startOfDay(t), n = 0; n < 60; day += DAY, n++) {
        const at = Math.max(t, day + 540 * MINUTE);
        if (at < day + 1020 * MINUTE && fakeReason(cal, at) === null) return at;
      }
      return null;
    },
  };
}
/** Minute by minute: the earliest open instant at or after `t` (times here are whole minutes). */
function scanOpen(cal: FakeCalendar, t: number): number | null {
  for (let at = t; at < t + 30 * DAY; at += MINUTE) if (fakeReason(cal, at) === null) return at;
  return null;
}

// ---- Reference model ----
type Code = ResultCode;
function modelApply(s: ContactDiallerState, a: Attempt, rules: CampaignRules, w: When): ContactDiallerState {
  const c: ContactDiallerState = structuredClone(s);
  const today = w.localDateOf(w.now);
  const phone = c.phones[a.phoneIndex];
  phone.tries++;
  phone.lastCause = SystemCause[a.cause];
  if (a.cause === 'InvalidNumber') phone.invalid = true;
  c.tries++;
  if (c.triesDate !== today) c.triesDay = 0;
  c.triesDay++;
  c.triesDate = today;
  c.lastUserId = a.agentId;
  c.reservedUserId = c.followUpUserId = c.followUpAt = c.boundUserId = c.boundUntil = null;
  const usable = (i: number) => c.phones[i].number !== null && !c.phones[i].invalid && c.phones[i].tries < rules.maxTriesPerNumber;
  const order = (first: number) => [0, 1, 2, 3, 4, 5].map((k) => (first + k) % 6);
  const finish = (state: 'Done' | 'Aborted', reason: ContactDiallerState['closedReason']) => Object.assign(c, { state, closedReason: reason });
  const schedule = (at: number, rank: DueRankId) => {
    let due = at;
    if (!w.isOpenAt(due)) {
      const open = w.nextOpenAt(due);
      if (open === null) return finish('Aborted', 'NeverOpen');
      due = open;
    }
    return Object.assign(c, { state: 'Waiting', closedReason: null, dueRank: rank, nextTryAt: due });
  };
  const capped = (at: number) => (c.triesDay >= rules.maxTriesPerDay && w.localDateOf(at) === today ? w.startOfNextLocalDay(w.now) : at);
  const noNumber = () => Object.assign(finish('Aborted', 'NoNumber'), { resultCodeId: rules.abortOnNoNumber?.id ?? null, resultExportKey: rules.abortOnNoNumber?.exportKey ?? null });
  if (a.code === null) {
    if (c.tries >= rules.maxTries) return finish('Aborted', 'TriesExhausted');
    const nextPhone = order(a.phoneIndex + 1).find(usable);
    if (nextPhone === undefined) return noNumber();
    c.nextPhoneIndex = nextPhone;
    const minutes = a.cause === 'InvalidNumber' ? 0 : rules.retryDelays[a.cause as 'Busy'];
    return schedule(capped(w.now + minutes * MINUTE), DueRank.Retry);
  }
  c.resultCodeId = a.code.id;
  c.resultExportKey = a.code.exportKey;
  switch (a.code.typeId) {
    case 1: return finish('Done', 'Result');
    case 2: return finish('Aborted', 'Result');
    case 3: if (c.tries >= rules.maxTries) return finish('Aborted', 'TriesExhausted');
  }
  const nextPhone = order(a.phoneIndex).find(usable);
  if (nextPhone === undefined) return noNumber();
  c.nextPhoneIndex = nextPhone;
  if (a.code.typeId === 3) schedule(capped(w.now + (a.code.timeOffset ?? 0) * MINUTE), DueRank.Delay);
  else {
    schedule(a.appointmentAt!, DueRank.Appointment);
    if (c.state === 'Waiting') c.followUpAt = c.nextTryAt;
  }
  if (c.state === 'Waiting' && a.code.agentBound && a.agentId !== null) {
    c.boundUserId = c.followUpUserId = a.agentId;
    c.boundUntil = rules.appointmentFallbackMinutes === null ? null : c.nextTryAt + rules.appointmentFallbackMinutes * MINUTE;
  }
  return c;
}

// ---- Generators ----
const START = Date.parse('2026-03-02T00:00:00Z');
function newContact(slots: { number: string | null; invalid: boolean }[]): ContactDiallerState {
  return {
    state: 'Waiting', dueRank: DueRank.New, nextTryAt: -Infinity, phones: slots.map((p) => ({ ...p, tries: 0, lastCause: null })),
    tries: 0, triesDay: 0, triesDate: null, nextPhoneIndex: null, reservedUserId: null, followUpUserId: null, followUpAt: null,
    boundUserId: null, boundUntil: null, lastUserId: null, resultCodeId: null, resultExportKey: null, closedReason: null,
  };
}
const slotsArb = fc.array(fc.record({ number: fc.option(fc.constantFrom('+4930111', '+4930222', '0301234', '+331234'), { freq: 3 }), invalid: fc.constantFrom(false, false, false, false, true) }), { minLength: PHONE_SLOTS, maxLength: PHONE_SLOTS })
  .filter((s) => s.some((p) => p.number !== null));
const codeArb = (typeId: 1 | 2 | 3 | 4, id: number): fc.Arbitrary<Code> =>
  fc.record({ timeOffset: fc.constantFrom(null, 0, 15, 90, 600, 1440, 4000), agentBound: fc.boolean() }).map((r) => ({ id, exportKey: `K${id}`, typeId, ...r }));
const rulesArb: fc.Arbitrary<CampaignRules> = fc.record({
  maxTries: fc.integer({ min: 1, max: 10 }),
  maxTriesPerNumber: fc.integer({ min: 1, max: 5 }),
  maxTriesPerDay: fc.integer({ min: 1, max: 4 }),
  retryDelays: fc.record({ Busy: fc.constantFrom(0, 5, 30), NoAnswer: fc.constantFrom(10, 120, 600), AnsweringMachine: fc.constantFrom(60, 1440), Other: fc.constantFrom(0, 3000) }),
  appointmentFallbackMinutes: fc.option(fc.constantFrom(0, 30, 600)),
  abortOnNoNumber: fc.option(codeArb(2, 99)),
});
const calArb: fc.Arbitrary<FakeCalendar> = fc.record({
  offsetMin: fc.constantFrom(0, 120, -300, 330),
  restricted: fc.subarray(['2026-03-03', '2026-03-04', '2026-03-10', '2026-03-11', '2026-03-12']),
  closesAt: fc.option(fc.integer({ min: 0, max: 40 }).map((d) => START + d * DAY), { freq: 4 }),
});
const NO_CODE: SystemCauseName[] = ['Busy', 'NoAnswer', 'AnsweringMachine', 'InvalidNumber', 'Other'];
const stepArb = fc.record({
  waitMin: fc.constantFrom(0, 0, 1, 45, 300, 1440),
  agent: fc.constantFrom(null, 1, 2, 3),
  cause: fc.constantFrom<SystemCauseName>(...NO_CODE, 'Connected', 'Connected'),
  code: fc.option(fc.oneof(codeArb(1, 1), codeArb(2, 2), { arbitrary: codeArb(3, 3), weight: 3 }, { arbitrary: codeArb(4, 4), weight: 3 }), { freq: 2 }),
  appointmentMin: fc.integer({ min: 0, max: 8000 }),
});
const scenarioArb = fc.record({ cal: calArb, rules: rulesArb, slots: slotsArb, startMin: fc.integer({ min: 0, max: 7 * 1440 }), steps: fc.array(stepArb, { maxLength: 25 }) });
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Worked { before: ContactDiallerState; after: ContactDiallerState; attempt: Attempt; at: number; picked: number }
/** Works the contact as the engine would: at an open instant once due, the picked number, the step's result. */
function work(s: Scenario, whenAt: (now: number) => When, check: (w: Worked, when: When) => void): ContactDiallerState {
  let state = newContact(s.slots);
  let now = START + s.startMin * MINUTE;
  const invalid = new Set(s.slots.flatMap((p, i) => (p.invalid && p.number !== null ? [i] : [])));
  for (const step of s.steps) {
    const when0 = whenAt(now);
    if (state.state !== 'Waiting') {
      assert.throws(() => applyAttempt(state, { phoneIndex: 0, agentId: null, cause: 'Busy', code: null, appointmentAt: null }, s.rules, when0), RangeError);
      const why = whyNot({ ...state, holderUserId: null, holdKind: null }, { running: true, endsAt: null }, when0, s.rules, step.agent);
      assert.deepEqual([why.callable, why.from], [false, null]);
      break;
    }
    const at = when0.nextOpenAt(Math.max(now, state.nextTryAt) + step.waitMin * MINUTE);
    if (at === null) break;
    now = at;
    const when = whenAt(now);
    const agentId = isEligibleFor(state, step.agent, now) ? step.agent : state.boundUserId;
    const why = whyNot({ ...state, holderUserId: null, holdKind: null }, { running: true, endsAt: null }, when, s.rules, agentId);
    const picked = pickNumber(state, s.rules, () => false);
    if (picked === null) {
      assert.equal(why.reason, 'NoValidNumber');
      break;
    }
    assert.deepEqual(why, { callable: true, reason: null, from: now });
    assert.ok(!invalid.has(picked), 'an invalid number is picked again');
    assert.ok(state.phones[picked].tries < s.rules.maxTriesPerNumber, 'a used-up number is picked');
    // A conversation always ends with a code: a plain Delay when the step has none.
    const code = step.cause === 'Connected' && step.code === null ? { id: 3, exportKey: 'K3', typeId: 3 as const, timeOffset: 60, agentBound: false } : step.code;
    const attempt: Attempt = { phoneIndex: picked, agentId, cause: step.cause, code, appointmentAt: code?.typeId === 4 ? now + step.appointmentMin * MINUTE : null };
    const after = applyAttempt(state, attempt, s.rules, when);
    assert.deepEqual(after, modelApply(state, attempt, s.rules, when));
    if (step.cause === 'InvalidNumber') invalid.add(picked);
    check({ before: state, after, attempt, at: now, picked }, when);
    state = after;
  }
  return state;
}

/** Caps of a contact's attempts, and waiting only for open instants. */
function capsHold(rules: CampaignRules) {
  const perDate = new Map<string, number>();
  return ({ before, after, at }: Worked, when: When) => {
    const date = when.localDateOf(at);
    const earlier = perDate.get(date) ?? 0;
    if (before.dueRank !== DueRank.Appointment) {
      assert.ok(earlier < rules.maxTriesPerDay, `daily cap: attempt ${earlier + 1} on ${date}`);
      assert.ok(after.tries <= rules.maxTries, 'more tries than the campaign allows, without an appointment');
    }
    perDate.set(date, earlier + 1);
    if (after.state === 'Waiting') assert.ok(when.isOpenAt(after.nextTryAt) && after.nextTryAt >= at, 'due outside the calendar');
    for (const p of after.phones) assert.ok(p.tries <= rules.maxTriesPerNumber);
  };
}

describe('dialler schedule: attempts against the reference model (fake calendar)', () => {
  it('the model and applyAttempt agree, the caps hold, waiting contacts wait for an open instant', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const caps = capsHold(s.rules);
      work(s, (now) => fakeWhen(s.cal, now), (w, when) => {
        const { after, attempt, at } = w;
        caps(w, when);
        if (attempt.code?.typeId === 3 && after.state === 'Waiting') {
          const base = at + (attempt.code.timeOffset ?? 0) * MINUTE;
          const from = after.triesDay >= s.rules.maxTriesPerDay ? Math.max(base, when.startOfNextLocalDay(at)) : base;
          assert.equal(after.nextTryAt, scanOpen(s.cal, from), 'a delay lands at the earliest open instant');
        }
        if (attempt.code?.typeId === 4 && after.state === 'Waiting') assert.equal(after.nextTryAt, scanOpen(s.cal, attempt.appointmentAt!));
      });
    }), propertyParameters(300));
  });

  it('rotation after no-contact causes visits the numbers in slot order', () => {
    const arb = fc.record({ slots: slotsArb.map((s) => s.map((p) => ({ ...p, invalid: false }))), startMin: fc.integer({ min: 0, max: 5000 }), causes: fc.array(fc.constantFrom<SystemCauseName>('Busy', 'NoAnswer', 'Other'), { maxLength: 15 }) });
    fc.assert(fc.property(arb, ({ slots, startMin, causes }) => {
      const rules: CampaignRules = { maxTries: 100, maxTriesPerNumber: 100, maxTriesPerDay: 100, retryDelays: { Busy: 0, NoAnswer: 0, AnsweringMachine: 0, Other: 0 }, appointmentFallbackMinutes: null, abortOnNoNumber: null };
      const numbered = slots.flatMap((p, i) => (p.number === null ? [] : [i]));
      const cal: FakeCalendar = { offsetMin: 0, restricted: [], closesAt: null };
      let state = newContact(slots);
      const picked: number[] = [];
      for (const cause of causes) {
        const phoneIndex = pickNumber(state, rules, () => false)!;
        picked.push(phoneIndex);
        state = applyAttempt(state, { phoneIndex, agentId: 1, cause, code: null, appointmentAt: null }, rules, fakeWhen(cal, fakeWhen(cal, START + startMin * MINUTE).nextOpenAt(START + startMin * MINUTE)!));
      }
      assert.deepEqual(picked, picked.map((_, k) => numbered[k % numbered.length]));
    }), propertyParameters(200));
  });
});

describe('dialler schedule: attempts on the real calendar, across DST changes', () => {
  const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', to: '17:00' }));
  const CALENDARS: Calendar[] = [
    { windows: weekdays, restricted: [{ from: '2026-03-31', to: '2026-04-02' }] },
    // Sunday nights: Berlin and New York skip or repeat an hour in them.
    { windows: [...weekdays, { weekday: 7, from: '01:30', to: '03:30' }], restricted: [] },
    { windows: [{ weekday: 7, from: '02:00', to: '02:45' }], restricted: [{ from: '2026-11-01', to: '2026-11-01' }] },
  ];
  // Days after 2 March 2026 just before the changes: 8 March and 1 November (New York), 29 March and 25 October (Berlin).
  const startArb = fc.tuple(fc.constantFrom(4, 25, 235, 242), fc.integer({ min: 0, max: 4 * 1440 })).map(([d, m]) => d * 1440 + m);
  it('the model and applyAttempt agree and the caps hold', () => {
    const arb = fc.record({ scenario: scenarioArb, startMin: startArb, cal: fc.constantFrom(...CALENDARS), zone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'Asia/Kolkata') });
    fc.assert(fc.property(arb, ({ scenario, startMin, cal, zone }) => {
      const caps = capsHold(scenario.rules);
      work({ ...scenario, startMin }, (now) => calendarWhen(cal, zone, now), caps);
    }), propertyParameters(100));
  });
});

// ---- Hand-out order: jtel's eight steps, literally ----
const mine = (c: HandoutCandidate, a: number | null, field: 'boundUserId' | 'lastUserId') => a !== null && c[field] === a;
const STEPS: ((c: HandoutCandidate, a: number | null) => boolean)[] = [
  (c, a) => c.dueRank === DueRank.Appointment && mine(c, a, 'boundUserId'),
  (c) => c.dueRank === DueRank.Appointment,
  (c, a) => c.dueRank === DueRank.Delay && mine(c, a, 'boundUserId'),
  (c) => c.dueRank === DueRank.Delay,
  (c, a) => c.dueRank === DueRank.Retry && mine(c, a, 'lastUserId'),
  (c) => c.dueRank === DueRank.Retry,
  (c, a) => c.dueRank === DueRank.New && mine(c, a, 'boundUserId'),
  (c) => c.dueRank === DueRank.New,
];
const ties = (x: HandoutCandidate, y: HandoutCandidate) => (x.nextTryAt === y.nextTryAt ? 0 : x.nextTryAt < y.nextTryAt ? -1 : 1) || y.priority - x.priority || x.createdAt - y.createdAt || x.id - y.id;
const candidateArb = (id: number): fc.Arbitrary<HandoutCandidate> => fc.record({
  id: fc.constant(id), dueRank: fc.constantFrom<DueRankId>(1, 2, 3, 4), nextTryAt: fc.constantFrom(-Infinity, 0, 10, 20), priority: fc.integer({ min: 0, max: 2 }),
  createdAt: fc.integer({ min: 0, max: 3 }), boundUserId: fc.constantFrom(null, 1, 2), boundUntil: fc.constantFrom(null, 5, 50), lastUserId: fc.constantFrom(null, 1, 2),
});

describe('dialler schedule: hand-out order', () => {
  it('handoutStep, compareHandout and isEligibleFor agree with the eight steps as filters', () => {
    const arb = fc.record({ ids: fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 12 }), agent: fc.constantFrom(null, 1, 2, 3), now: fc.constantFrom(0, 30, 100) })
      .chain(({ ids, agent, now }) => fc.record({ list: fc.tuple(...ids.map(candidateArb)), agent: fc.constant(agent), now: fc.constant(now) }));
    fc.assert(fc.property(arb, ({ list, agent, now }) => {
      let rest: HandoutCandidate[] = list;
      const expected: HandoutCandidate[] = [];
      for (const [k, step] of STEPS.entries()) {
        const hit = rest.filter((c) => step(c, agent));
        for (const c of hit) assert.equal(handoutStep(c, agent), k + 1);
        expected.push(...hit.sort(ties));
        rest = rest.filter((c) => !step(c, agent));
      }
      assert.deepEqual([...list].sort((x, y) => compareHandout(x, y, agent)), expected);
      for (const c of list) {
        const otherAgents = c.boundUserId !== null && c.boundUserId !== agent && (c.boundUntil === null || c.boundUntil > now);
        assert.equal(isEligibleFor(c, agent, now), !otherAgents);
      }
    }), propertyParameters(300));
  });

  it('an external dialler (no agent) sees every contact in its general step', () => {
    const c = { dueRank: DueRank.Appointment, boundUserId: null, lastUserId: null };
    assert.deepEqual([1, 2, 3, 4].map((r) => handoutStep({ ...c, dueRank: r as DueRankId }, null)), [2, 4, 6, 8]);
    assert.deepEqual([1, 2, 3, 4].map((r) => handoutStep({ ...c, dueRank: r as DueRankId, boundUserId: 7, lastUserId: 7 }, 7)), [1, 3, 5, 7]);
  });
});

// ---- Examples: Monday 2 March 2026, 10:00 UTC; Wednesday 4 March is restricted ----
const CAL: FakeCalendar = { offsetMin: 0, restricted: ['2026-03-04'], closesAt: null };
const T = (iso: string) => Date.parse(`${iso}Z`);
const NOW = T('2026-03-02T10:00');
const RULES: CampaignRules = {
  maxTries: 5, maxTriesPerNumber: 3, maxTriesPerDay: 3, retryDelays: { Busy: 30, NoAnswer: 480, AnsweringMachine: 60, Other: 10 },
  appointmentFallbackMinutes: 60, abortOnNoNumber: { id: 90, exportKey: 'NOTEL', typeId: 2, timeOffset: null, agentBound: false },
};
const code = (typeId: 1 | 2 | 3 | 4, extra: Partial<Code> = {}): Code => ({ id: 10 + typeId, exportKey: `C${typeId}`, typeId, timeOffset: null, agentBound: false, ...extra });
const contact = (numbers: (string | null)[], extra: Partial<ContactDiallerState> = {}) =>
  ({ ...newContact([0, 1, 2, 3, 4, 5].map((i) => ({ number: numbers[i] ?? null, invalid: false }))), ...extra });
const attempt = (extra: Partial<Attempt>): Attempt => ({ phoneIndex: 0, agentId: 5, cause: 'Busy', code: null, appointmentAt: null, ...extra });
const apply = (c: ContactDiallerState, a: Partial<Attempt>, rules: Partial<CampaignRules> = {}, now = NOW, cal = CAL) => applyAttempt(c, attempt(a), { ...RULES, ...rules }, fakeWhen(cal, now));

describe('dialler schedule: attempt examples', () => {
  it('busy: the next number after the cause delay, counted per number, contact and day', () => {
    const after = apply(contact(['+4930111', null, '+4930222'], { reservedUserId: 5, boundUserId: 5, boundUntil: NOW, followUpAt: NOW, followUpUserId: 5 }), {});
    assert.deepEqual(
      { ...after, phones: after.phones.slice(0, 3) },
      { ...contact(['+4930111', null, '+4930222']), phones: [{ number: '+4930111', tries: 1, lastCause: SystemCause.Busy, invalid: false }, contact([null]).phones[1], { number: '+4930222', tries: 0, lastCause: null, invalid: false }],
        dueRank: DueRank.Retry, nextTryAt: T('2026-03-02T10:30'), nextPhoneIndex: 2, tries: 1, triesDay: 1, triesDate: '2026-03-02', lastUserId: 5 },
    );
  });
  it('an invalid number is marked and the next one tried at once; a lone busy number is retried itself', () => {
    const after = apply(contact(['+4930111', '+4930222']), { cause: 'InvalidNumber' });
    assert.deepEqual([after.phones[0].invalid, after.nextPhoneIndex, after.nextTryAt], [true, 1, NOW]);
    assert.equal(apply(contact(['+4930111']), {}).nextPhoneIndex, 0);
  });
  it('a retry past the window waits for the next window; the daily cap and restricted dates push it further', () => {
    assert.equal(apply(contact(['+4930111']), { cause: 'NoAnswer' }).nextTryAt, T('2026-03-03T09:00'));
    assert.equal(apply(contact(['+4930111']), {}, { maxTriesPerDay: 1 }).nextTryAt, T('2026-03-03T09:00'));
    const twoToday = contact(['+4930111'], { triesDay: 2, triesDate: '2026-03-02' });
    assert.equal(apply(twoToday, {}).nextTryAt, T('2026-03-03T09:00'));
    assert.equal(apply({ ...twoToday, triesDate: '2026-02-27' }, {}).triesDay, 1);
    assert.equal(apply(contact(['+4930111']), {}, {}, T('2026-03-03T16:50')).nextTryAt, T('2026-03-05T09:00'));
  });
  it('tries used up, no number left, calendar closed for good', () => {
    const before = contact(['+4930111', '+4930222'], { tries: 4, resultCodeId: 13, resultExportKey: 'C3' });
    assert.deepEqual(pick(apply(before, {})), ['Aborted', 'TriesExhausted', 13, 'C3']);
    const used = contact(['+4930111'], { phones: contact(['+4930111']).phones.map((p, i) => (i === 0 ? { ...p, tries: 2 } : p)) });
    assert.deepEqual(pick(apply(used, {})), ['Aborted', 'NoNumber', 90, 'NOTEL']);
    assert.deepEqual(pick(apply(used, {}, { abortOnNoNumber: null })), ['Aborted', 'NoNumber', null, null]);
    assert.deepEqual(pick(apply(contact(['+4930111']), {}, {}, NOW, { ...CAL, closesAt: T('2026-03-02T10:15') })), ['Aborted', 'NeverOpen', null, null]);
  });
  it('done and abort close with their code', () => {
    assert.deepEqual(pick(apply(contact(['+4930111']), { cause: 'Connected', code: code(1) })), ['Done', 'Result', 11, 'C1']);
    assert.deepEqual(pick(apply(contact(['+4930111']), { cause: 'Connected', code: code(2) })), ['Aborted', 'Result', 12, 'C2']);
  });
  it('an agent-bound delay comes back after its offset to the agent, who keeps it until the fallback', () => {
    const after = apply(contact([null, '+4930111', '+4930222']), { phoneIndex: 1, cause: 'Connected', code: code(3, { timeOffset: 90, agentBound: true }) });
    assert.deepEqual([after.state, after.dueRank, after.nextTryAt, after.nextPhoneIndex, after.boundUserId, after.followUpUserId, after.boundUntil, after.followUpAt, after.resultExportKey],
      ['Waiting', DueRank.Delay, T('2026-03-02T11:30'), 1, 5, 5, T('2026-03-02T12:30'), null, 'C3']);
    const forever = apply(contact(['+4930111']), { cause: 'Connected', code: code(3, { timeOffset: 90, agentBound: true }) }, { appointmentFallbackMinutes: null });
    assert.deepEqual([forever.boundUserId, forever.boundUntil], [5, null]);
    assert.equal(apply(contact(['+4930111']), { cause: 'Connected', code: code(3, { timeOffset: 90 }) }).boundUserId, null);
  });
  it('a delay that would be one try too many closes; an appointment is honoured beyond the tries, moved into the calendar', () => {
    const last = contact(['+4930111'], { tries: 4 });
    assert.deepEqual(pick(apply(last, { cause: 'Connected', code: code(3, { timeOffset: 10 }) })), ['Aborted', 'TriesExhausted', 13, 'C3']);
    const appt = apply(last, { cause: 'Connected', code: code(4, { agentBound: true }), appointmentAt: T('2026-03-04T11:00') });
    assert.deepEqual([appt.state, appt.dueRank, appt.nextTryAt, appt.followUpAt, appt.boundUserId, appt.tries], ['Waiting', DueRank.Appointment, T('2026-03-05T09:00'), T('2026-03-05T09:00'), 5, 5]);
  });
  it('refuses what the service must have checked', () => {
    assert.throws(() => apply(contact(['+4930111']), { cause: 'Connected' }), RangeError);
    assert.throws(() => apply(contact(['+4930111']), { phoneIndex: 1 }), RangeError);
    assert.throws(() => apply(contact(['+4930111'], { state: 'Done' }), { cause: 'Connected', code: code(1) }), RangeError);
    assert.throws(() => apply(contact(['+4930111']), { cause: 'Connected', code: code(4) }), RangeError);
  });
  it('pickNumber skips empty, invalid, used-up and do-not-call numbers and wraps round', () => {
    const c = contact(['+4930111', '+4930222', '+4930333', null, '+4930555'], { nextPhoneIndex: 4 });
    c.phones[0].invalid = true;
    c.phones[1].tries = 3;
    assert.equal(pickNumber(c, RULES, () => false), 4);
    assert.equal(pickNumber(c, RULES, (n) => n === '+4930555'), 2);
    assert.equal(pickNumber(c, RULES, () => true), null);
    assert.equal(nextValidNumber(c, RULES, 2), 4);
    assert.equal(nextValidNumber(c, RULES, 4), 2);
  });
});
const pick = (c: ContactDiallerState) => [c.state, c.closedReason, c.resultCodeId, c.resultExportKey];

describe('dialler schedule: why not dialled', () => {
  const seen = new Set<string | null>();
  const running = { running: true, endsAt: null };
  const why = (extra: Partial<ContactDiallerState & { holderUserId: number | null; holdKind: string | null }>, opts: { campaign?: typeof running | { running: boolean; endsAt: number }; now?: number; agent?: number | null; blocked?: (n: string) => boolean } = {}) => {
    const r = whyNot({ ...contact(['+4930111']), holderUserId: null, holdKind: null, ...extra }, opts.campaign ?? running, fakeWhen(CAL, opts.now ?? NOW), RULES, opts.agent, opts.blocked);
    seen.add(r.reason);
    return [r.callable, r.reason, r.from];
  };
  it('closed contacts never come back', () => {
    assert.deepEqual(why({ state: 'Done', closedReason: 'Result' }), [false, 'Done', null]);
    assert.deepEqual(why({ state: 'Aborted', closedReason: 'Result' }), [false, 'Aborted', null]);
    assert.deepEqual(why({ state: 'Aborted', closedReason: 'IncomingCall' }), [false, 'Aborted', null]);
    assert.deepEqual(why({ state: 'Aborted', closedReason: 'TriesExhausted' }), [false, 'TriesExhausted', null]);
    assert.deepEqual(why({ state: 'Aborted', closedReason: 'NoNumber' }), [false, 'NoValidNumber', null]);
    assert.deepEqual(why({ state: 'Aborted', closedReason: 'NeverOpen' }), [false, 'NeverOpen', null]);
  });
  it('in hand, no usable number, campaign ended or paused', () => {
    assert.deepEqual(why({ state: 'InProgress', holderUserId: 5, holdKind: 'Preview' }), [false, 'InProgress', null]);
    assert.deepEqual(why({}, { blocked: () => true }), [false, 'NoValidNumber', null]);
    assert.deepEqual(why({}, { campaign: { running: false, endsAt: NOW } }), [false, 'CampaignEnded', null]);
    assert.deepEqual(why({}, { campaign: { running: false, endsAt: NOW + 1 } }), [false, 'CampaignPaused', null]);
  });
  it('not yet due: by rank, the daily cap, from the first open instant', () => {
    const evening = T('2026-03-02T18:00');
    assert.deepEqual(why({ dueRank: DueRank.Retry, nextTryAt: evening }), [false, 'RetryDelay', T('2026-03-03T09:00')]);
    assert.deepEqual(why({ dueRank: DueRank.Retry, nextTryAt: evening, triesDay: 3, triesDate: '2026-03-02' }), [false, 'DailyCap', T('2026-03-03T09:00')]);
    assert.deepEqual(why({ dueRank: DueRank.Delay, nextTryAt: NOW + MINUTE }), [false, 'DelayPending', NOW + MINUTE]);
    assert.deepEqual(why({ dueRank: DueRank.Appointment, nextTryAt: T('2026-03-04T10:00') }), [false, 'AppointmentPending', T('2026-03-05T09:00')]);
  });
  it('due, but the calendar is closed', () => {
    assert.deepEqual(why({}, { now: T('2026-03-02T20:00') }), [false, 'WindowClosed', T('2026-03-03T09:00')]);
    assert.deepEqual(why({}, { now: T('2026-03-04T10:00') }), [false, 'RestrictedPeriod', T('2026-03-05T09:00')]);
  });
  it('bound to another agent until the fallback; callable otherwise', () => {
    const bound = { dueRank: DueRank.Delay, boundUserId: 7, boundUntil: T('2026-03-02T19:00') };
    assert.deepEqual(why(bound, { agent: 5 }), [false, 'BoundToOtherAgent', T('2026-03-03T09:00')]);
    assert.deepEqual(why(bound, { agent: null }), [false, 'BoundToOtherAgent', T('2026-03-03T09:00')]);
    assert.deepEqual(why({ ...bound, boundUntil: null }, { agent: 5 }), [false, 'BoundToOtherAgent', null]);
    assert.deepEqual(why(bound, { agent: 7 }), [true, null, NOW]);
    assert.deepEqual(why(bound), [true, null, NOW]);
    assert.deepEqual(why({ ...bound, boundUntil: NOW }, { agent: 5 }), [true, null, NOW]);
  });
  it('every reason the API enumerates is reached above', () => {
    assert.deepEqual([...WHY_NOT_REASONS].filter((r) => !seen.has(r)), []);
  });
});
