// Issue 11 item 13: queue order where the rest of the suite cannot see it break. Events of equal
// Priority wait in dtCreated order, which is not always ID order (two instances' clocks, a create
// that waited for a lock), and an offer that comes back (reject, expiry, logouts) takes its old
// place again. The dispatcher reads the queue a page at a time: the order must hold across pages.
// One agent with room for one event makes the head of the queue visible: it is what they get.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Distributor } from '../src/distributor/distributor.ts';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { act, eventOf, logIn, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import type { TestAgent } from './fixtures-agents.ts';

/** The one event the agent was offered (asserting there is exactly one). */
async function offeredTo(h: Harness, agent: TestAgent, ids: number[]): Promise<number> {
  const offered = [];
  for (const id of ids) {
    const e = await eventOf(h, id);
    if (e.status === 10 && e.agent === agent.userId) offered.push(id);
  }
  assert.equal(offered.length, 1, `one offer, got ${JSON.stringify(offered)}`);
  return offered[0]!;
}

async function post(who: TestAgent | TestClient, path: string): Promise<void> {
  const res = 'userId' in who ? await who.request('POST', path) : await who.request('POST', `${who.base}${path}`);
  assert.equal(res.statusCode, 200, res.body);
}

describeStores('distribution: queue order the other suites do not pin', (h) => {
  it('returns an offer to its place ahead of later events of equal Priority, by dtCreated, not ID (reject, expiry, logouts)', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { OfferTimeoutSeconds: 10 });
    // Queue pages of 2: the head must be right in the read, not only in the sort of a page.
    const engine = new Distributor(h.store.db, h.clock, { batch: 2 });
    const start = h.clock.now();
    // The two later events get the lower IDs: created at start+5 s and +6 s, then the earliest
    // at `start` (as by an instance whose clock is behind). All of Priority 50.
    h.clock.set(start + 5000);
    const later1 = await newEvent(c, group);
    h.clock.set(start + 6000);
    const later2 = await newEvent(c, group, { Priority: 50 });
    h.clock.set(start);
    const first = await newEvent(c, group, { Priority: 50 });
    assert.ok(first > later1 && first > later2);
    h.clock.set(start + 7000);
    await pass(h); // queued; nobody logged in yet
    const a = await readyAgent(h, c, group);
    const all = [first, later1, later2];
    const head = async (why: string) => {
      await engine.runPass();
      assert.equal(await offeredTo(h, a, all), first, why);
      for (const id of [later1, later2]) assert.equal((await eventOf(h, id)).status, 4, `${why}: the later events wait`);
    };
    await head('the oldest dtCreated first');

    assert.equal((await act(a, first, 'reject')).statusCode, 200);
    await head('after a reject');

    h.clock.advance(10_000);
    const expiring = await engine.runPass();
    assert.equal(expiring.expired, 1);
    assert.equal(await offeredTo(h, a, all), first, 'after the offer expired (offered again in the same pass)');
    await head('after the offer expired, on the next pass');

    await post(a, `/agents/me/groups/${group}/logout`);
    assert.equal((await eventOf(h, first)).status, 4);
    await logIn(a, group);
    await head('after a group logout');

    await post(a, '/agents/me/acd/logout');
    await logIn(a, group);
    await head('after an ACD logout');

    await post(c, `/agents/agent/${a.userId}/logout`);
    await logIn(a, group);
    await head('after a supervisor\'s logout');

    // Done with it: the next in dtCreated order follows.
    assert.equal((await act(a, first, 'accept')).statusCode, 200);
    assert.equal((await act(a, first, 'done')).statusCode, 200);
    await engine.runPass();
    assert.equal(await offeredTo(h, a, [later1, later2]), later1);
  });

  it('keeps queue order across pages of the dispatcher\'s read: Priority first, then dtCreated', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const engine = new Distributor(h.store.db, h.clock, { batch: 2 });
    // Oldest: a low-Priority event the agent can take. Then a page of high-Priority events the
    // agent cannot take (a skill they lack), then two of middle Priority they can take.
    const low = await newEvent(c, group, { Priority: 10 });
    h.clock.advance(1000);
    const skilled = [];
    for (let i = 0; i < 3; i++) {
      skilled.push(await newEvent(c, group, { Priority: 100, SkillsID1: 7, SkillsValue1: 50 }));
      h.clock.advance(1000);
    }
    const middle1 = await newEvent(c, group, { Priority: 60 });
    h.clock.advance(1000);
    const middle2 = await newEvent(c, group, { Priority: 60 });
    h.clock.advance(1000);
    await pass(h); // queued; nobody logged in yet
    const a = await readyAgent(h, c, group, { 7: 10 });
    const open = [low, middle1, middle2];
    const expected = [middle1, middle2, low];
    for (const [i, next] of expected.entries()) {
      await engine.runPass();
      assert.equal(await offeredTo(h, a, open), next, `offer ${i + 1}: pages of 2 behind 3 events nobody can take`);
      for (const id of skilled) assert.equal((await eventOf(h, id)).status, 4);
      assert.equal((await act(a, next, 'accept')).statusCode, 200);
      assert.equal((await act(a, next, 'done')).statusCode, 200);
    }
    // Someone with the skill takes the high-Priority ones, oldest first, also a page at a time.
    const b = await readyAgent(h, c, group, { 7: 50 });
    const order = [];
    for (let i = 0; i < skilled.length; i++) {
      await engine.runPass();
      const id = await offeredTo(h, b, skilled);
      order.push(id);
      assert.equal((await act(b, id, 'accept')).statusCode, 200);
      assert.equal((await act(b, id, 'done')).statusCode, 200);
    }
    assert.deepEqual(order, skilled);
  });
});
