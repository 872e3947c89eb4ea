// Issue 12, the dialler's agent and result flow as a model-based property (spec §8). Per run: one
// client, one or two campaigns (Preview with or without a preview time, Progressive, External;
// around the clock or the standard windows), 2-4 agents and 5-20 contacts with 1-3 numbers in
// four time zones, some due later or bound to an agent. Random sequences of campaign logins and
// logouts, engine passes, starts on a valid or invalid number, skips and releases, results of
// every type (appointments at valid and invalid times, system causes, invalid bodies), the same
// result again, results under stale or foreign attempt ids, external claims, lease renewals and
// releases, campaign pauses and clock jumps (seconds to hours, onto every timer and window edge)
// run against the API on a pinned clock.
//
// After every step the client's contacts, their history and the agents' states are read from the
// database and compared with the model (model-dialler.ts) wherever the outcome is determined
// (every answer's status, holder, state, attempt, hold); where the engine chooses (which contact
// goes to which agent, what a retry schedules) the model adopts its choice once checked:
//   1. a contact is InProgress iff it has exactly one holder (an agent or a lease), never two;
//   2. an agent holds at most one contact, and agent_states.dialler_held counts it;
//   3. hand-outs go to free agents logged in to the contact's running campaign, of contacts due,
//      free for them and inside their window in their zone; after a pass no free agent is left
//      while a contact they could take waits;
//   4. no contact is lost; Done/Aborted never change again; a repeated result changes nothing;
//      a retry, delay or appointment a result schedules lies inside the contact's window;
//   5. the history: every Result has a HandedOut of its attempt, at most one Result per attempt.
// Every run ends by posting the results due, logging everyone out and letting every hold run
// out: no contact may be left InProgress ("not stuck").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describeStores, type Harness } from './helper.ts';
import { addMember, createGroup, createUser } from './fixtures-groups.ts';
import { createCampaign, STANDARD_TIME_WINDOWS } from './fixtures-dialler.ts';
import { configure, insertContact, type DiallerSetup } from './fixtures-dialler-engine.ts';
import { session } from './model-distribution-system.ts';
import { propertyParameters, propertyRuns } from './fixtures-fast-check.ts';
import { SECOND, MINUTE, HOUR, Tally, type Model, type Real, advance, contactRows, expectStatus, letGo, pass, usableSlot, verify } from './model-dialler.ts';
import { agentRequest, commandsArb, result } from './model-dialler-commands.ts';

const RUNS = 20;
const MAX_COMMANDS = 40;
/** Shrinking replays whole runs: after this long, fast-check reports the smallest failure found. */
const TIME_BUDGET_MS = 60_000;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'];
const STANDARD = STANDARD_TIME_WINDOWS.map((w) => ({ weekday: w.Weekday, from: w.From, to: w.To }));

const setupArb = fc.record({
  campaigns: fc.array(fc.record({
    mode: fc.constantFrom('Preview', 'Preview', 'Progressive', 'External'),
    previewSeconds: fc.constantFrom(0, 10, 30, 120),
    aroundTheClock: fc.constantFrom(true, true, false),
  }), { minLength: 1, maxLength: 2 }),
  agents: fc.array(fc.record({ member: fc.constantFrom(true, true, true, false), logins: fc.tuple(fc.constantFrom(true, true, true, false), fc.constantFrom(true, true, false)) }), { minLength: 2, maxLength: 4 }),
  contacts: fc.array(fc.record({
    campaign: fc.nat({ max: 1 }),
    zone: fc.constantFrom(...ZONES),
    phones: fc.integer({ min: 1, max: 3 }),
    gap: fc.boolean(),
    start: fc.constantFrom('new', 'new', 'new', 'retry', 'bound'),
    dueMinutes: fc.integer({ min: -60, max: 180 }),
    agent: fc.nat({ max: 3 }),
    priority: fc.constantFrom(0, 0, 5),
  }), { minLength: 5, maxLength: 20 }),
  /** Where in the week the run starts: hours from wherever the last run left the clock. */
  shiftHours: fc.nat({ max: 7 * 24 }),
});
type Setup = typeof setupArb extends fc.Arbitrary<infer T> ? T : never;

let runSeq = 0;

async function setUp(h: Harness, s: Setup, tally: Tally, created: Real[]): Promise<{ model: Model; real: Real }> {
  h.clock.set(Math.ceil(h.clock.now() / SECOND) * SECOND + s.shiftHours * HOUR);
  const c = await h.newClient({ TimeZone: 'UTC' });
  const real: Real = { h, c, agents: [] };
  created.push(real);
  const group = await createGroup(c, { Name: `Outbound ${++runSeq}` });
  const model: Model = { tally, now: h.clock.now(), campaigns: [], agents: [], contacts: new Map(), leases: new Map(), step: 0 };
  for (const [i, spec] of s.campaigns.entries()) {
    const campaign = await createCampaign(c, `Campaign ${runSeq}-${i}`, { nMaxParallelLines: null, dtTo: null });
    await configure(h, campaign.ID, { mode: spec.mode, previewSeconds: spec.previewSeconds, groupId: group.ID, running: true, ...(spec.aroundTheClock ? { windows: [] } : {}) });
    const codes = await h.store.db.selectFrom('dialler_result_codes').select(['id', 'export_key']).where('campaign_id', '=', campaign.ID).execute();
    model.campaigns.push({
      id: campaign.ID, mode: spec.mode, previewSeconds: spec.previewSeconds, running: true,
      calendar: { windows: spec.aroundTheClock ? [] : STANDARD, restricted: [] }, codes: Object.fromEntries(codes.map((x) => [x.export_key, x.id])),
    });
  }
  for (const [i, spec] of s.agents.entries()) {
    const user = await createUser(c, { UID: `agent-${i}` });
    real.agents.push(await session(h, c, user.ID, user.UID));
    // Agent 0 is a member, so every run has someone who may work.
    const member = spec.member || i === 0;
    if (member) await addMember(c, group.ID, user.ID);
    model.agents.push({ userId: user.ID, member, logins: new Set() });
  }
  const setup = { client: c, groupId: group.ID, codes: {} } as Omit<DiallerSetup, 'campaignId'>;
  for (const [i, spec] of s.contacts.entries()) {
    const campaign = spec.campaign % model.campaigns.length;
    const phones = Array.from({ length: spec.phones }, (_, p) => (spec.gap && p === 1 && spec.phones === 3 ? null : `+4930${runSeq}${i}${p}1`));
    const bound = spec.start === 'bound' ? model.agents[spec.agent % model.agents.length].userId : null;
    const id = await insertContact(h, { ...setup, campaignId: model.campaigns[campaign].id }, {
      phones, zone: spec.zone, priority: spec.priority,
      ...(spec.start === 'new' ? {} : { dueRank: bound === null ? 3 : 2, nextTry: new Date(model.now + spec.dueMinutes * MINUTE), tries: 1 }),
      boundUserId: bound, lastUserId: spec.start === 'retry' ? model.agents[spec.agent % model.agents.length].userId : null,
    });
    model.contacts.set(id, {
      id, campaign, zone: spec.zone, state: 'Waiting', holder: null, kind: null, attemptId: null, started: false, phoneIndex: null, until: null,
      attempts: [], resulted: new Set(), path: [], closedRow: null,
    });
  }
  for (const [a, spec] of s.agents.entries()) {
    for (const [c, wanted] of spec.logins.entries()) {
      if (!wanted || c >= model.campaigns.length || !model.agents[a].member) continue;
      expectStatus(model, 'login', await agentRequest(model, real, a, `/agents/me/dialler/campaigns/${model.campaigns[c].id}/login`), 200, 'set-up');
      model.agents[a].logins.add(c);
    }
  }
  await verify(model, real, 'set-up');
  await pass(model, real, 'set-up: first pass');
  return { model, real };
}

const startedOf = (m: Model) => [...m.contacts.values()].filter((x) => typeof x.holder === 'number' && x.started);

/**
 * "Not stuck": every attempt under way gets its result, every agent leaves every campaign (which
 * gives back what they hold undialled), and every hold runs out: nothing is left InProgress.
 */
async function epilogue(m: Model, r: Real): Promise<void> {
  // A result may hand out the agent's next contact with it, started at once without a preview:
  // results until none is under way (NoAnswer: each due again only later, so this ends).
  for (let started = startedOf(m); started.length > 0; started = startedOf(m)) {
    for (const k of started) {
      await result(m, r, k, k.holder as number, { kind: 'cause', cause: 'NoAnswer', appointment: -1, snap: false }, `epilogue: result of contact ${k.id}`);
    }
  }
  for (const [a, agent] of m.agents.entries()) {
    for (const c of [...agent.logins]) {
      const where = `epilogue: agent ${a} leaves campaign ${c}`;
      expectStatus(m, 'logout', await agentRequest(m, r, a, `/agents/me/dialler/campaigns/${m.campaigns[c].id}/logout`), 200, where);
      for (const k of m.contacts.values()) if (k.holder === a && k.campaign === c) letGo(k, 'Waiting', 'Released');
      agent.logins.delete(c);
      await verify(m, r, where);
    }
  }
  const last = Math.max(m.now, ...[...m.contacts.values()].map((k) => k.until ?? 0));
  advance(m, r, last - m.now + SECOND);
  await pass(m, r, 'epilogue: every hold run out');
  const rows = await contactRows(r);
  const stuck = [...rows.values()].filter((row) => row.state === 'InProgress').map((row) => row.id);
  assert.deepEqual(stuck, [], 'epilogue: contacts stuck InProgress');
  m.tally.add('contacts closed at the end', [...rows.values()].filter((row) => row.state === 'Done' || row.state === 'Aborted').length);
  m.tally.add('contacts waiting at the end with a number', [...rows.values()].filter((row) => row.state === 'Waiting' && usableSlot(row) !== null).length);
}

/** Leaves nothing of the run for later passes: campaigns paused, nobody logged in, nothing held. */
async function tearDown(real: Real): Promise<void> {
  const db = real.h.store.db;
  await sql`UPDATE dialler_campaigns SET b_running = false WHERE client_id = ${real.c.id}`.execute(db);
  const users = real.agents.map((a) => a.userId);
  if (users.length > 0) {
    await db.deleteFrom('dialler_campaign_logins').where('user_id', 'in', users).execute();
    await db.updateTable('agent_states').set({ dialler_held: 0 }).where('user_id', 'in', users).execute();
  }
  await sql`UPDATE dialler_contacts SET state = 'Aborted', hold_kind = NULL, holder_user_id = NULL, lease_id = NULL, hold_until = NULL,
    attempt_id = NULL, attempt_phone_index = NULL, attempt_started_at = NULL WHERE client_id = ${real.c.id} AND state = 'InProgress'`.execute(db);
}

describeStores('dialler engine against a model (properties)', (h) => {
  it('keeps every contact with at most one holder, hands out only what may be dialled, repeats nothing, loses and strands nothing', async (t) => {
    const tally = new Tally();
    const parameters = propertyParameters(RUNS, { skipAllAfterTimeLimit: TIME_BUDGET_MS + propertyRuns(RUNS) * 5 * SECOND });
    await fc.assert(fc.asyncProperty(setupArb, commandsArb(MAX_COMMANDS), async (s, cmds) => {
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
    // On PGlite the engine keeps no heads (app.ts): results hand out nothing there.
    const withResults = h.store.kind === 'postgres' ? ['handed out with a result'] : [];
    for (const seen of ['handed out', ...withResults, 'result DONE 200', 'result repeated 200', 'claimed', 'start 200']) {
      assert.ok(tally.seen.has(seen), `the runs never got to "${seen}": ${tally}`);
    }
  });
});

describe('dialler properties: the model itself', () => {
  it('finds the number pickNumber would: the first usable slot from the one proposed, wrapping round', () => {
    const row = {
      next_phone_index: 2, phone_number1: '+491', phone_number2: null, phone_number3: '+493', phone_number4: null, phone_number5: null, phone_number6: null,
      ...Object.fromEntries([1, 2, 3, 4, 5, 6].flatMap((n) => [[`b_phone_number${n}_invalid`, false], [`n_tries_phone_number${n}`, n === 3 ? 5 : 0]])),
    } as unknown as Parameters<typeof usableSlot>[0];
    assert.equal(usableSlot(row), 0, 'slot 3 is used up: round to slot 1');
    assert.equal(usableSlot(row, 1), 0);
  });
});
