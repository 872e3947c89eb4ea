// The commands of the dialler property (properties-dialler-flow.test.ts): each does one thing
// through the API (the engine through runPass, time through the pinned clock), applies what the
// spec determines to the model, and checks the invariants (model-dialler.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { isOpenAt, localTimestamp, nextOpenAt, openUntil } from '../src/domain/dialler-calendar.ts';
import { session } from './model-distribution-system.ts';
import { configure } from './fixtures-dialler-engine.ts';
import {
  SECOND, MINUTE, HOUR, RETRY_MINUTES, LATER_MINUTES, type Model, type Real, type ModelContact, type Row,
  adoptClosed, adoptHandOuts, advance, claim, contactRows, describeContact, dueMs, expectStatus, letGo, ms, numberAt, pass, usableSlot, verify,
} from './model-dialler.ts';

export type Cmd = fc.AsyncCommand<Model, Real>;
export const MAX_AGENTS = 4;
const SESSION_RENEW_MS = 10 * HOUR;

export function command(label: string, run: (m: Model, r: Real, where: string) => Promise<void>): Cmd {
  return {
    check: () => true,
    run: async (m, r) => {
      m.step++;
      await run(m, r, `step ${m.step} ${label}`);
    },
    toString: () => label,
  };
}

/** The agent's request with a session that outlives the clock's jumps. */
export async function agentRequest(m: Model, r: Real, a: number, path: string, body?: unknown) {
  const agent = r.agents[a];
  if (m.now - agent.loginAt > SESSION_RENEW_MS) r.agents[a] = await session(r.h, r.c, agent.userId, agent.uid);
  return r.agents[a].request('POST', path, body ?? {});
}

const sorted = (m: Model) => [...m.contacts.values()].sort((a, b) => a.id - b.id);
const held = (m: Model) => sorted(m).filter((k) => k.state === 'InProgress');

/** With `smart`, a contact in someone's hands and its holder; otherwise any contact and `agent`. */
function pick(m: Model, n: number, agent: number, smart: boolean): { k: ModelContact; actor: number | 'client' } {
  const inHand = held(m);
  if (smart && inHand.length > 0) {
    const k = inHand[n % inHand.length];
    return { k, actor: typeof k.holder === 'number' ? k.holder : 'client' };
  }
  const all = sorted(m);
  return { k: all[n % all.length], actor: agent % (m.agents.length + 1) === m.agents.length ? 'client' : agent % m.agents.length };
}

/** 409 unless `actor` holds `k` (the client holds what a lease holds). */
const holds = (k: ModelContact, actor: number | 'client') =>
  k.state === 'InProgress' && (actor === 'client' ? k.kind === 'External' : k.holder === actor);

const agentArb = fc.nat({ max: MAX_AGENTS });
const campaignArb = fc.nat({ max: 1 });

export const loginCmd = fc.record({ agent: agentArb, campaign: campaignArb, out: fc.boolean() })
  .map(({ agent, campaign, out }) => command(`${out ? 'logout' : 'login'} agent ${agent} campaign ${campaign}`, async (m, r, where) => {
    const a = agent % m.agents.length;
    const c = campaign % m.campaigns.length;
    const res = await agentRequest(m, r, a, `/agents/me/dialler/campaigns/${m.campaigns[c].id}/${out ? 'logout' : 'login'}`);
    if (out) {
      // Not dialled yet: given back; an attempt under way stays with the agent until its result.
      const mine = held(m).filter((k) => k.holder === a && k.campaign === c && !k.started);
      expectStatus(m, 'logout', res, 200, where);
      for (const k of mine) letGo(k, 'Waiting', 'Released');
      m.agents[a].logins.delete(c);
    } else {
      expectStatus(m, 'login', res, m.agents[a].member ? 200 : 409, where);
      if (res.statusCode === 200) m.agents[a].logins.add(c);
    }
    await verify(m, r, where);
  }));

export const passCmd = fc.constant(null).map(() => command('pass', (m, r, where) => pass(m, r, where)));

export const startCmd = fc.record({
  smart: fc.constantFrom(true, true, true, false), agent: agentArb, n: fc.nat(),
  index: fc.constantFrom(undefined, undefined, undefined, 1, 2, 3, 4, 0, 7),
}).map((x) => command(`start ${JSON.stringify(x)}`, async (m, r, where) => {
  const { k, actor } = pick(m, x.n, x.agent, x.smart);
  if (actor === 'client') return;
  where = `${where}: agent ${actor} on ${describeContact(k)}`;
  const row = (await contactRows(r)).get(k.id)!;
  const index = x.index === undefined ? k.phoneIndex : x.index - 1;
  let expected = 200;
  if (x.index === 0 || x.index === 7) expected = 400;
  else if (!holds(k, actor)) expected = 409;
  else if (k.started) expected = index === k.phoneIndex ? 200 : 409;
  else if (numberAt(row, index!) === null || usableSlot(row, index) !== index) expected = 400;
  const res = await agentRequest(m, r, actor, `/agents/me/dialler/contacts/${k.id}/start`, x.index === undefined ? {} : { PhoneIndex: x.index });
  expectStatus(m, 'start', res, expected, where);
  if (res.statusCode === 200) {
    assert.deepEqual(res.json().records[0], { AttemptID: k.attemptId, PhoneIndex: index! + 1, PhoneNumber: numberAt(row, index!) }, where);
    if (!k.started) k.path.push('AttemptStarted');
    Object.assign(k, { started: true, phoneIndex: index, until: null });
  }
  await verify(m, r, where);
}));

export const giveBackCmd = fc.record({ smart: fc.constantFrom(true, true, false), agent: agentArb, n: fc.nat(), how: fc.constantFrom('skip', 'release') })
  .map((x) => command(`${x.how} ${JSON.stringify(x)}`, async (m, r, where) => {
    const { k, actor } = pick(m, x.n, x.agent, x.smart);
    if (actor === 'client') return;
    where = `${where}: agent ${actor} on ${describeContact(k)}`;
    const res = await agentRequest(m, r, actor, `/agents/me/dialler/contacts/${k.id}/${x.how}`);
    expectStatus(m, x.how, res, !holds(k, actor) || k.started ? 409 : 200, where);
    if (res.statusCode === 200) {
      letGo(k, 'Waiting', x.how === 'skip' ? 'Skipped' : 'Released');
      if (x.how === 'skip') {
        const row = (await contactRows(r)).get(k.id)!;
        const due = dueMs(row.dt_next_try);
        assert.ok(due >= m.now + RETRY_MINUTES.Other * MINUTE, `${where}: skipped, due again at ${row.dt_next_try}`);
        assert.ok(isOpenAt(m.campaigns[k.campaign].calendar, k.zone, due), `${where}: skipped, due again at ${row.dt_next_try}, a closed time`);
      }
    }
    await verify(m, r, where);
  }));

// DONE thrice: the property's coverage check wants runs that close contacts by a result.
const resultKindArb = fc.constantFrom('DONE', 'DONE', 'DONE', 'NOTEL', 'LATER', 'APPT', 'APPT', 'cause', 'cause', 'cause', 'unknown-key', 'foreign-id', 'connected', 'nothing');
const resultBodyArb = fc.record({
  kind: resultKindArb,
  cause: fc.constantFrom('Busy', 'NoAnswer', 'AnsweringMachine', 'InvalidNumber', 'Other'),
  /** Appointment: minutes from now, moved to the next opening or not; -1: none given. */
  appointment: fc.oneof(fc.integer({ min: -120, max: 3 * 24 * 60 }), fc.constant(-1)),
  snap: fc.boolean(),
});
type ResultBody = typeof resultBodyArb extends fc.Arbitrary<infer T> ? T : never;

/** The request body of a result, and its answer when the attempt is the current one in the actor's hands. */
function resultBody(m: Model, k: ModelContact, attemptId: string, x: ResultBody): { body: Record<string, unknown>; expected: number; at: number | null } {
  const campaign = m.campaigns[k.campaign];
  const body: Record<string, unknown> = { AttemptID: attemptId };
  switch (x.kind) {
    case 'DONE': case 'NOTEL': case 'LATER': body.ResultCodesExportKey = x.kind; return { body, expected: 200, at: null };
    case 'cause': body.SystemCause = x.cause; return { body, expected: 200, at: null };
    case 'unknown-key': body.ResultCodesExportKey = 'NO-SUCH-KEY'; return { body, expected: 400, at: null };
    case 'foreign-id': body.ResultCodesID = m.campaigns[(k.campaign + 1) % m.campaigns.length].codes.DONE; break;
    case 'connected': body.SystemCause = 'Connected'; break;
    case 'nothing': break;
    case 'APPT': {
      body.ResultCodesExportKey = 'APPT';
      if (x.appointment === -1) return { body, expected: 400, at: null };
      let at = Math.floor(m.now / SECOND) * SECOND + x.appointment * MINUTE;
      if (x.snap) at = nextOpenAt(campaign.calendar, k.zone, at) ?? at;
      body.dtAppointment = localTimestamp('UTC', at);
      return { body, expected: at > m.now && isOpenAt(campaign.calendar, k.zone, at) ? 200 : 400, at };
    }
  }
  // A foreign campaign's result code is refused; the same campaign's DONE would do.
  return { body, expected: x.kind === 'foreign-id' && m.campaigns.length === 1 ? 200 : 400, at: null };
}

const resultPath = (k: ModelContact, actor: number | 'client') => (actor === 'client' ? `/dialler/contacts/${k.id}/result` : `/agents/me/dialler/contacts/${k.id}/result`);

async function postResult(m: Model, r: Real, k: ModelContact, actor: number | 'client', body: unknown) {
  return actor === 'client' ? r.c.post(resultPath(k, actor), body) : agentRequest(m, r, actor, resultPath(k, actor), body);
}

/** The result of the current attempt; what it schedules is checked, the state the engine chose adopted. */
export async function result(m: Model, r: Real, k: ModelContact, actor: number | 'client', x: ResultBody, where: string): Promise<void> {
  const attemptId = k.attemptId ?? k.attempts.at(-1) ?? '1';
  const { body, expected: valid, at } = resultBody(m, k, attemptId, x);
  let expected = valid;
  if (k.attemptId === null) expected = k.resulted.has(attemptId) ? 200 : 409;
  else if (!holds(k, actor)) expected = 409;
  const repeated = k.attemptId === null && expected === 200;
  const before = await contactRows(r);
  const res = await postResult(m, r, k, actor, body);
  expectStatus(m, `result ${repeated ? 'repeated' : x.kind}`, res, expected, where);
  if (res.statusCode !== 200) return void await verify(m, r, where);
  assert.equal(res.json().records[0].bRepeated, repeated, where);
  if (repeated) return void await verify(m, r, where);
  const after = await contactRows(r);
  const row = after.get(k.id)!;
  const holder = k.holder;
  const campaign = m.campaigns[k.campaign];
  k.resulted.add(attemptId);
  letGo(k, row.state as ModelContact['state'], 'Result');
  const code = body.ResultCodesExportKey ?? (body.ResultCodesID !== undefined ? 'DONE' : null);
  if (code === 'DONE') assert.equal(row.state, 'Done', where);
  else if (code === 'NOTEL') assert.equal(row.state, 'Aborted', where);
  else if (row.state === 'Aborted') {
    assert.ok(['TriesExhausted', 'NoNumber', 'NeverOpen'].includes(row.closed_reason!), `${where}: aborted for ${row.closed_reason}`);
    m.tally.add(`aborted ${row.closed_reason}`);
  } else {
    assert.equal(row.state, 'Waiting', where);
    const due = dueMs(row.dt_next_try);
    const minutes = code === 'LATER' ? LATER_MINUTES : code === 'APPT' ? 0 : RETRY_MINUTES[x.cause];
    assert.ok(isOpenAt(campaign.calendar, k.zone, due), `${where}: due again at ${row.dt_next_try}, a closed time in ${k.zone}`);
    assert.ok(due >= m.now + minutes * MINUTE, `${where}: due again at ${row.dt_next_try}, before ${minutes} minutes`);
    if (code === 'APPT') assert.equal(due, at, `${where}: the appointment`);
    assert.equal(row.due_rank, code === 'APPT' ? 1 : code === 'LATER' ? 2 : 3, `${where}: due rank`);
    assert.equal(row.bound_user_id, code === 'LATER' && typeof holder === 'number' ? m.agents[holder].userId : null, `${where}: bound to`);
  }
  // An agent's result may hand out their next contact with it (when the campaign's head is fresh):
  // only to them, and only when this result left them free.
  const freeNow = typeof holder === 'number' && ![...m.contacts.values()].some((c) => c.holder === holder);
  const given = adoptHandOuts(m, before, after, (a) => freeNow && a === holder, `${where}: with the result`);
  adoptClosed(m, before, after, where);
  if (given.size > 0) m.tally.add('handed out with a result');
  await verify(m, r, where, after);
}

export const resultCmd = fc.record({ smart: fc.constantFrom(true, true, true, true, false), agent: agentArb, n: fc.nat(), body: resultBodyArb })
  .map((x) => command(`result ${JSON.stringify(x)}`, async (m, r, where) => {
    const { k, actor } = pick(m, x.n, x.agent, x.smart);
    await result(m, r, k, actor, x.body, `${where}: ${actor === 'client' ? 'client' : `agent ${actor}`} on ${describeContact(k)}`);
  }));

async function snapshot(m: Model, r: Real, k: ModelContact) {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dialler_contact_history WHERE contact_id = ${k.id}`.execute(r.h.store.db);
  const states = await r.h.store.db.selectFrom('agent_states').select(['user_id', 'dialler_held']).where('user_id', 'in', m.agents.map((a) => a.userId)).orderBy('user_id').execute();
  return JSON.stringify({ row: (await contactRows(r)).get(k.id), history: rows[0].n, states });
}

/** An attempt's result posted again, by anyone, with any body: answered as repeated, and nothing changes. */
export const repeatCmd = fc.record({ agent: agentArb, n: fc.nat(), body: resultBodyArb })
  .map((x) => command(`repeat ${JSON.stringify(x)}`, async (m, r, where) => {
    const done = sorted(m).flatMap((k) => [...k.resulted].map((attemptId) => ({ k, attemptId })));
    if (done.length === 0) return;
    const { k, attemptId } = done[x.n % done.length];
    const actor = x.agent % (m.agents.length + 1) === m.agents.length ? 'client' : x.agent % m.agents.length;
    where = `${where}: attempt ${attemptId} of ${describeContact(k)}`;
    const before = await snapshot(m, r, k);
    const { body } = resultBody(m, k, attemptId, x.body);
    const res = await postResult(m, r, k, actor, body);
    expectStatus(m, 'result repeated', res, 200, where);
    assert.equal(res.json().records[0].bRepeated, true, where);
    assert.equal(await snapshot(m, r, k), before, `${where}: a repeated result changed something`);
    await verify(m, r, where);
  }));

/** A result under an attempt id that is not the contact's current one and never had a result: 409, nothing changes. */
export const staleCmd = fc.record({ agent: agentArb, n: fc.nat(), which: fc.constantFrom('stale', 'foreign', 'unknown'), body: resultBodyArb })
  .map((x) => command(`stale result ${JSON.stringify(x)}`, async (m, r, where) => {
    const { k, actor } = pick(m, x.n, x.agent, true);
    const others = sorted(m).filter((o) => o !== k).flatMap((o) => o.attempts);
    const candidates = x.which === 'stale' ? k.attempts.filter((id) => id !== k.attemptId && !k.resulted.has(id))
      : x.which === 'foreign' ? others : ['8999999999999999'];
    if (candidates.length === 0) return;
    const attemptId = candidates[x.n % candidates.length];
    where = `${where}: attempt ${attemptId} on ${describeContact(k)}`;
    const before = await snapshot(m, r, k);
    const res = await postResult(m, r, k, actor, resultBody(m, k, attemptId, x.body).body);
    expectStatus(m, `result ${x.which}`, res, 409, where);
    assert.equal(await snapshot(m, r, k), before, `${where}: a refused result changed something`);
    await verify(m, r, where);
  }));

/** Mostly (`smart`) from an External campaign, when there is one. */
export const claimCmd = fc.record({
  smart: fc.constantFrom(true, true, true, false), campaign: campaignArb, count: fc.integer({ min: 1, max: 5 }),
  seconds: fc.oneof(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 300, max: 3600 })),
}).map((x) => command(`claim ${JSON.stringify(x)}`, (m, r, where) => {
  const external = m.campaigns.findIndex((c) => c.mode === 'External');
  return claim(m, r, x.smart && external >= 0 ? external : x.campaign % m.campaigns.length, x.count, x.seconds, where);
}));

const leaseOf = (m: Model, n: number, bogus: number) => {
  const leases = [...m.leases.keys()];
  return bogus === 2 ? 'not-a-lease' : bogus === 1 || leases.length === 0 ? randomUUID() : leases[n % leases.length];
};

export const renewCmd = fc.record({ n: fc.nat(), bogus: fc.constantFrom(0, 0, 0, 1, 2), seconds: fc.integer({ min: 5, max: 1800 }) })
  .map((x) => command(`renew ${JSON.stringify(x)}`, async (m, r, where) => {
    const lease = leaseOf(m, x.n, x.bogus);
    const mine = held(m).filter((k) => k.holder === lease);
    const res = await r.c.post(`/dialler/leases/${lease}/renew`, { LeaseSeconds: x.seconds });
    expectStatus(m, 'renew', res, x.bogus === 2 ? 400 : mine.length > 0 ? 200 : 409, where);
    if (res.statusCode === 200) {
      assert.equal(res.json().records[0].nContacts, mine.length, where);
      for (const k of mine) k.until = m.now + x.seconds * SECOND;
    }
    await verify(m, r, where);
  }));

export const leaseReleaseCmd = fc.record({ n: fc.nat(), bogus: fc.constantFrom(0, 0, 0, 1, 2) })
  .map((x) => command(`release lease ${JSON.stringify(x)}`, async (m, r, where) => {
    const lease = leaseOf(m, x.n, x.bogus);
    const mine = held(m).filter((k) => k.holder === lease);
    const res = await r.c.post(`/dialler/leases/${lease}/release`);
    expectStatus(m, 'release lease', res, x.bogus === 2 ? 400 : 200, where);
    if (res.statusCode === 200) {
      assert.equal(res.json().records[0].nContacts, mine.length, where);
      for (const k of mine) letGo(k, 'Waiting', 'Released');
    }
    await verify(m, r, where);
  }));

export const pauseCmd = fc.record({ campaign: campaignArb, running: fc.boolean() })
  .map((x) => command(`${x.running ? 'resume' : 'pause'} campaign ${x.campaign}`, async (m, r, where) => {
    const c = m.campaigns[x.campaign % m.campaigns.length];
    await configure(r.h, c.id, { running: x.running });
    c.running = x.running;
    await verify(m, r, where);
  }));

export const advanceCmd = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 60, max: 1800 }), fc.integer({ min: 1800, max: 12 * 3600 }))
  .map((seconds) => command(`advance ${seconds}s`, async (m, r, where) => {
    advance(m, r, seconds * SECOND);
    await verify(m, r, where);
  }));

/** The next moment anything changes: a preview or lease running out, a contact coming due, a binding falling back, a window opening or closing. */
export async function nextTimer(m: Model, r: Real, rows?: Map<number, Row>): Promise<number | null> {
  const all = rows ?? await contactRows(r);
  const times: number[] = [];
  for (const k of m.contacts.values()) {
    const row = all.get(k.id)!;
    const cal = m.campaigns[k.campaign].calendar;
    times.push(k.until ?? Infinity, dueMs(row.dt_next_try), ms(row.bound_until) ?? Infinity);
    times.push(isOpenAt(cal, k.zone, m.now) ? openUntil(cal, k.zone, m.now) ?? Infinity : nextOpenAt(cal, k.zone, m.now) ?? Infinity);
  }
  const next = times.filter((t) => t > m.now && Number.isFinite(t));
  return next.length === 0 ? null : Math.min(...next);
}

export const nextTimerCmd = fc.constantFrom(0, 0, 1).map((extra) => command(`next timer +${extra}ms`, async (m, r, where) => {
  const at = await nextTimer(m, r);
  if (at !== null) advance(m, r, at - m.now + extra);
  await pass(m, r, where);
}));

export function commandsArb(maxCommands: number) {
  return fc.commands([
    loginCmd, loginCmd, passCmd, passCmd, passCmd, passCmd, passCmd,
    startCmd, startCmd, startCmd, giveBackCmd, giveBackCmd, resultCmd, resultCmd, resultCmd, resultCmd, repeatCmd, repeatCmd, staleCmd,
    claimCmd, claimCmd, renewCmd, leaseReleaseCmd, pauseCmd, advanceCmd, advanceCmd, nextTimerCmd, nextTimerCmd,
  ], { maxCommands, size: 'max' });
}
