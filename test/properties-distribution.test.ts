// Issue 3, the engine as a model-based property (spec §2 and §7). Random sequences of event
// creates (priority, type, UsersID, a required skill, an appointment), ACD and group logins and
// logouts, agent actions (accept, reject, seen, remind, done, forward), supervisor reassignments
// and forced logouts, capacity changes, inbox reads, clock jumps (onto leases, reminders, any
// timer) and distributor passes run against the API on a pinned clock; each run ends with a
// fixed epilogue that makes agents busy, sets their work aside and lets every timer run out.
// Passes use the app's distributor or one with a batch of 1-3, so that sweeps work a batch at a
// time and the dispatcher reads the queue in pages.
//
// After every step the client's events, their history and the agents' states are read from the
// database and compared with a small reference model wherever the outcome is determined; where
// the engine chooses (which agent gets an offer, which of equal leases a batch takes) the model
// adopts its choice once the choice has passed the invariants:
//   1. an event is held by exactly one agent in 10/20/30/40 and by nobody in 1 and 4;
//   2. the engine never gives an agent work (an offer, a returning reminder) beyond capacity;
//   3. after a pass, no waiting event is left that some agent could take, and no offer was made
//      while an earlier event in queue order, which the same agent could take, was left waiting;
//   4. no event is lost or gets a status the model does not allow, its history records every
//      change, and after a pass none keeps an expired lease, a due appointment or a due reminder
//      its agent has room for (unless more was due than a batch).
// The model is in model-distribution.ts, the reading and checking of the system under test in
// model-distribution-system.ts, the commands in model-distribution-commands.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeStores, type Harness } from './helper.ts';
import { addMember, createUser } from './fixtures-groups.ts';
import { standaloneGroup } from './fixtures-distribution.ts';
import { Distributor } from '../src/distributor/distributor.ts';
import { RUNS, TIME_BUDGET_MS, SECOND, MINUTE, TYPES, AGENTS, DEFAULT_TIMEOUT_S, APP_BATCH, S, type ModelEvent, type Model, type Real, capOf, loadOf, queueOrder, describeEvent, Tally } from './model-distribution.ts';
import { isoSeconds, session, verify, pass, advance } from './model-distribution-system.ts';
import { createSpecArb, createEvent, agentAct, commandsArb } from './model-distribution-commands.ts';
import { propertyParameters, propertyRuns } from './fixtures-fast-check.ts';

const skillsArb = fc.record({ 7: fc.constantFrom(0, 30, 50, 90, 100), 8: fc.constantFrom(0, 30, 50, 90, 100) }, { requiredKeys: [] });
const setupArb = fc.record({
  groups: fc.tuple(...[0, 1].map(() => fc.record({
    algorithm: fc.constantFrom(1, 2, 3),
    timeout: fc.option(fc.integer({ min: 5, max: 60 }), { nil: undefined }),
  }))),
  agents: fc.tuple(...Array.from({ length: AGENTS }, () => fc.record({
    member: fc.tuple(fc.boolean(), fc.boolean()),
    skills: fc.tuple(skillsArb, skillsArb),
    cap: fc.tuple(fc.constantFrom(0, 1, 1, 1, 2), fc.constantFrom(0, 1, 1, 1, 2)),
    loggedIn: fc.constantFrom(true, true, true, false),
  }))),
  batch: fc.constantFrom(null, null, 1, 2, 3),
  /** Events created (a second apart) and passed once before the commands start. */
  initial: fc.array(createSpecArb, { maxLength: 6 }),
});
type Setup = typeof setupArb extends fc.Arbitrary<infer T> ? T : never;

async function setUp(h: Harness, s: Setup, tally: Tally, created: Real[]): Promise<{ model: Model; real: Real }> {
  // Whole minutes from here: appointments, leases and reminders fall on whole seconds.
  h.clock.set(Math.ceil((h.clock.now() + 1) / MINUTE) * MINUTE);
  const c = await h.newClient({ TimeZone: 'UTC' });
  // The app's own distributor (batch 500: every sweep and queue in one go here), or one with a
  // tiny batch, so that sweeps take a batch at a time and the dispatcher reads the queue in pages.
  const real: Real = { h, c, agents: [], distributor: s.batch === null ? h.app.distributor : new Distributor(h.store.db, h.clock, { batch: s.batch }) };
  created.push(real);
  const groups = [];
  for (const g of s.groups) {
    const id = await standaloneGroup(c, { DistributionAlgorithmID: g.algorithm, ...(g.timeout === undefined ? {} : { OfferTimeoutSeconds: g.timeout }) });
    groups.push({ id, algorithm: g.algorithm, timeout: g.timeout ?? DEFAULT_TIMEOUT_S });
  }
  const model: Model = { tally, batch: s.batch ?? APP_BATCH, now: h.clock.now(), groups, agents: [], events: new Map(), step: 0 };
  for (const [i, spec] of s.agents.entries()) {
    // Agent 0 is in both groups, so every run has someone who could work.
    const member = spec.member.map((m) => m || i === 0);
    const user = await createUser(c, { UID: `agent-${i}` });
    const agent = await session(h, c, user.ID, user.UID);
    real.agents.push(agent);
    const skills = spec.skills.map((k) => Object.fromEntries(Object.entries(k).map(([id, v]) => [id, v as number])));
    for (const g of [0, 1]) if (member[g]) await addMember(c, groups[g].id, agent.userId, skills[g]);
    const cap = Object.fromEntries(TYPES.map((t, k) => [String(t), spec.cap[k]]));
    const res = await c.request('PUT', `${c.base}/agents/agent/${agent.userId}/capacity`, { Capacity: cap });
    assert.equal(res.statusCode, 200, res.body);
    const groupsIn = [false, false];
    if (spec.loggedIn) {
      assert.equal((await agent.request('POST', '/agents/me/acd/login')).statusCode, 200);
      for (const g of [0, 1]) {
        if (!member[g]) continue;
        assert.equal((await agent.request('POST', `/agents/me/groups/${groups[g].id}/login`)).statusCode, 200);
        groupsIn[g] = true;
      }
    }
    model.agents.push({ userId: agent.userId, member, skills, acd: spec.loggedIn, groups: groupsIn, cap, over: {} });
  }
  await verify(model, real, 'set-up');
  for (const [i, spec] of s.initial.entries()) {
    await createEvent(model, real, spec, `set-up: create ${i} ${JSON.stringify(spec)}`);
    advance(model, real, SECOND);
  }
  await pass(model, real, 'set-up: first pass');
  return { model, real };
}

/**
 * The end of every run, a fixed scenario on whatever the commands left: free places are offered
 * and every offer taken; every event in hand is set aside for a minute, and the places that frees
 * are offered and taken again; then every timer runs out. Reminders thus come due to agents with
 * and without room for them, and appointments and leases all fall due.
 */
async function epilogue(m: Model, r: Real): Promise<void> {
  const noMove = { group: null, user: null };
  const acceptAll = async (where: string) => {
    for (const e of [...m.events.values()].filter((x) => x.status === S.Offered)) {
      await agentAct(m, r, e.holder!, e, 'accept', { remindSeconds: 0, move: noMove }, `${where}: accept ${describeEvent(e)}`);
    }
  };
  await pass(m, r, 'epilogue: offers');
  await acceptAll('epilogue');
  for (const e of [...m.events.values()].filter((x) => x.status === S.New || x.status === S.Seen)) {
    await agentAct(m, r, e.holder!, e, 'remind', { remindSeconds: 60, move: noMove }, `epilogue: set aside ${describeEvent(e)}`);
  }
  await pass(m, r, 'epilogue: offers in the places set free');
  await acceptAll('epilogue, again');
  const last = Math.max(0, ...[...m.events.values()].flatMap((e) => [e.appointmentAt ?? 0, e.lease ?? 0, e.remindAt ?? 0]));
  if (last > m.now) advance(m, r, last - m.now);
  // As the engine's loop does, passes follow while a batch was not enough for what is due.
  for (let i = 1; ; i++) {
    await pass(m, r, `epilogue: every timer run out, pass ${i}`);
    const due = [...m.events.values()].some((e) =>
      (e.status === S.Distribute && (e.appointmentAt ?? 0) <= m.now) || (e.status === S.Offered && e.lease! <= m.now) ||
      (e.status === S.Remind && e.remindAt! <= m.now && loadOf(m, e.holder!, e.type) < capOf(m, e.holder!, e.type)));
    if (!due) break;
    assert.ok(i < 100, 'epilogue: something stays due however many passes run');
  }
}

/** Leaves nothing of the run's client for later passes to count: nobody logged in, nothing open. */
async function tearDown(real: Real): Promise<void> {
  for (const a of real.agents) await real.c.request('POST', `${real.c.base}/agents/agent/${a.userId}/logout`, {});
  await real.h.store.db.updateTable('acd_events').set({ status_id: S.Done, lease_until: null })
    .where('client_id', '=', real.c.id).where('status_id', '<', 98).execute();
}

describeStores('distribution engine against a model (properties)', (h) => {
  it('keeps every event with one holder, within capacity, in queue order, and nothing lost or stuck', async (t) => {
    const tally = new Tally();
    // The time budget is for shrinking a failure, on top of what the green runs take.
    const parameters = propertyParameters(RUNS, { skipAllAfterTimeLimit: TIME_BUDGET_MS + propertyRuns(RUNS) * 3 * SECOND });
    await fc.assert(fc.asyncProperty(setupArb, commandsArb, async (s, cmds) => {
      const created: Real[] = [];
      try {
        const { model, real } = await setUp(h, s, tally, created);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await epilogue(model, real);
      } finally {
        for (const real of created) await tearDown(real);
      }
    }), parameters);
    t.diagnostic(tally.toString());
  });
});

describeStores('distribution engine: regressions found by the model', (h) => {
  it('returns a due reminder to an agent with room even when a batch of due reminders waits for full agents', async () => {
    // Found by the property with a batch of 1: the reminder sweep took the first due reminders
    // in dtRemind order whether or not their agents had room, so reminders waiting for a place
    // filled every batch, and those behind them never came back (the loop only passes again
    // when a batch returned in full). With the app's batch of 500 it takes 500 such reminders.
    const distributor = new Distributor(h.store.db, h.clock, { batch: 1 });
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const user = await createUser(c, { UID: 'agent-x' });
    const agent = await session(h, c, user.ID, user.UID);
    await addMember(c, group, agent.userId);
    for (const path of ['/agents/me/acd/login', `/agents/me/groups/${group}/login`]) assert.equal((await agent.request('POST', path)).statusCode, 200);
    const create = async (type: number) => {
      const res = await c.post('/acd/events/create', { AcdEventTypesID: type, AcdGroupsID: group, Sender: `x${Math.random()}@example.com`, Subject: 'S' });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().records[0].ID as number;
    };
    const take = async (id: number) => {
      assert.equal((await agent.request('POST', `/agents/me/events/${id}/accept`)).statusCode, 200);
    };
    const now = h.clock.now();
    const remindAt = isoSeconds(Math.floor(now / SECOND) * SECOND + MINUTE);
    // An Email and an SMS in hand (capacity 1 each), both set aside for the same minute.
    const email = await create(5);
    const sms = await create(4);
    assert.deepEqual(await distributor.runPass().then((x) => [x.released, x.offered]), [1, 1], 'batch 1: a pass releases one event');
    assert.deepEqual(await distributor.runPass().then((x) => [x.released, x.offered]), [1, 1]);
    await take(email);
    await take(sms);
    for (const id of [email, sms]) {
      assert.equal((await agent.request('POST', `/agents/me/events/${id}/remind`, { dtRemind: remindAt })).statusCode, 200);
    }
    // Another Email takes the place the first one freed.
    const next = await create(5);
    await distributor.runPass();
    await take(next);
    h.clock.advance(2 * MINUTE);
    for (let i = 0; i < 3; i++) await distributor.runPass();
    const status = async (id: number) => (await h.store.db.selectFrom('acd_events').select('status_id').where('id', '=', id).executeTakeFirstOrThrow()).status_id;
    assert.equal(await status(email), S.Remind, 'the Email reminder waits for a place');
    assert.equal(await status(sms), S.New, 'the SMS reminder is back: its agent has room for an SMS');
  });
});

describe('distribution properties: the model itself', () => {
  it('orders the queue by Priority descending, then dtCreated, then ID', () => {
    const e = (id: number, priority: number, createdAt: number) => ({ id, priority, createdAt }) as ModelEvent;
    const sorted = [e(4, 50, 2), e(1, 50, 2), e(2, 200, 9), e(3, 0, 0)].sort(queueOrder).map((x) => x.id);
    assert.deepEqual(sorted, [2, 1, 4, 3]);
  });
});
