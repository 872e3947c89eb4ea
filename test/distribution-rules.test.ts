// Issue 3, the engine's rules (spec §7): queue order, eligibility, the three distribution
// algorithms, leases, rejects and logouts returning offers, targeted events, capacity.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { act, eventOf, inbox, logIn, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import { addMember } from './fixtures-groups.ts';
import { newAgent } from './fixtures-agents.ts';

describeStores('distribution: rules', (h) => {
  it('offers in queue order: Priority descending, then age', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const low = await newEvent(c, group, { Priority: 10 });
    h.clock.advance(1000);
    const highOld = await newEvent(c, group, { Priority: 100 });
    h.clock.advance(1000);
    const highNew = await newEvent(c, group, { Priority: 100 });
    const agent = await readyAgent(h, c, group);
    const order: number[] = [];
    for (let i = 0; i < 3; i++) {
      await pass(h);
      const [offer] = await inbox(agent);
      order.push(offer!.ID);
      assert.equal((await act(agent, offer!.ID, 'accept')).statusCode, 200);
      assert.equal((await act(agent, offer!.ID, 'done')).statusCode, 200);
    }
    assert.deepEqual(order, [highOld, highNew, low]);
  });

  it('waits in Distribute until the appointment, then queues and offers it', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const id = await newEvent(c, group, { dtAppointmentDate: '2026-06-15', dtAppointmentTime: '08:30' });
    await pass(h);
    assert.equal((await eventOf(h, id)).status, 1);
    assert.deepEqual(await inbox(agent), []);
    h.clock.set(Date.UTC(2026, 5, 15, 8, 29, 59, 999));
    await pass(h);
    assert.equal((await eventOf(h, id)).status, 1, 'not a millisecond early');
    h.clock.set(Date.UTC(2026, 5, 15, 8, 30, 0));
    await pass(h);
    assert.deepEqual(await eventOf(h, id).then((e) => [e.status, e.agent]), [10, agent.userId]);
    const history = (await c.get(`/acd/events/event/${id}/history`)).json().records;
    assert.equal(history[1].Reason, 'appointment reached');
  });

  it('returns an offer nobody accepted within the group offer timeout to its original place', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { OfferTimeoutSeconds: 10 });
    const first = await newEvent(c, group, { Priority: 60 });
    const second = await newEvent(c, group);
    const a = await readyAgent(h, c, group);
    await pass(h);
    assert.equal((await eventOf(h, first)).agent, a.userId);
    h.clock.advance(9999);
    assert.equal((await pass(h)).expired, 0);
    h.clock.advance(1);
    const result = await pass(h);
    assert.equal(result.expired, 1);
    // Back in the queue ahead of `second`: the same agent is offered `first` again.
    assert.deepEqual(await eventOf(h, first).then((e) => [e.status, e.agent]), [10, a.userId]);
    assert.equal((await eventOf(h, second)).status, 4);
    const late = await act(a, first, 'accept');
    assert.equal(late.statusCode, 200, 'the renewed offer can be accepted');
    const history = (await c.get(`/acd/events/event/${first}/history`)).json().records;
    assert.ok(history.some((e: any) => e.FromAcdEventStatusID === 10 && e.ToAcdEventStatusID === 4 && e.Reason === 'offer not accepted in time'));
  });

  it('refuses to accept an offer whose lease ran out before any sweep (409), and nobody else\'s event (404)', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const b = await readyAgent(h, c, group, {});
    const id = await newEvent(c, group, { UsersID: a.userId });
    await pass(h);
    assert.equal((await act(b, id, 'accept')).statusCode, 404);
    assert.equal((await act(b, id, 'accept')).json().error, 'ACD event not found');
    h.clock.advance(30_000);
    const res = await act(a, id, 'accept');
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error, /offer expired/);
    assert.equal((await eventOf(h, id)).status, 10, 'the sweep, not the refused accept, returns it');
  });

  it('puts a rejected offer back in its place and offers it to someone else', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    const later = await newEvent(c, group);
    await pass(h);
    const offeredTo = (await eventOf(h, id)).agent;
    assert.equal(offeredTo, a.userId);
    const rejected = await act(a, id, 'reject');
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().records[0].AcdEventStatusID, 4);
    assert.equal(rejected.json().records[0].AgentUsersID, null);
    const b = await readyAgent(h, c, group);
    await pass(h);
    const holders = [(await eventOf(h, id)).agent, (await eventOf(h, later)).agent].sort();
    assert.deepEqual(holders, [a.userId, b.userId].sort(), 'the rejected event is offered again, before the later one is left waiting');
  });

  it('returns unaccepted offers when the agent logs out of the group or the ACD, and keeps accepted ones', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    await c.request('PUT', `${c.base}/agents/agent/${a.userId}/capacity`, { Capacity: { 5: 2 } });
    const kept = await newEvent(c, group);
    const offered = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(a, kept, 'accept')).statusCode, 200);
    assert.equal((await a.request('POST', `/agents/me/groups/${group}/logout`)).statusCode, 200);
    assert.deepEqual(await eventOf(h, offered).then((e) => [e.status, e.agent]), [4, null]);
    assert.deepEqual(await eventOf(h, kept).then((e) => [e.status, e.agent]), [20, a.userId]);
    await logIn(a, group);
    await pass(h);
    assert.equal((await eventOf(h, offered)).status, 10);
    assert.equal((await a.request('POST', '/agents/me/acd/logout')).statusCode, 200);
    assert.deepEqual(await eventOf(h, offered).then((e) => [e.status, e.agent]), [4, null]);
    await pass(h);
    assert.equal((await eventOf(h, offered)).status, 4, 'nobody logged in: it waits');
    const forced = await newAgent(h, c);
    await addMember(c, group, forced.userId);
    await logIn(forced, group);
    await pass(h);
    assert.equal((await eventOf(h, offered)).agent, forced.userId);
    const res = await c.request('POST', `${c.base}/agents/agent/${forced.userId}/logout`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await eventOf(h, offered).then((e) => [e.status, e.agent]), [4, null]);
  });

  it('returns on a group logout only the offers of that group', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const left = await standaloneGroup(c);
    const kept = await standaloneGroup(c);
    const a = await readyAgent(h, c, left);
    await addMember(c, kept, a.userId);
    await logIn(a, kept);
    await c.request('PUT', `${c.base}/agents/agent/${a.userId}/capacity`, { Capacity: { 5: 2 } });
    const fromLeft = await newEvent(c, left);
    const fromKept = await newEvent(c, kept);
    await pass(h);
    assert.equal((await a.request('POST', `/agents/me/groups/${left}/logout`)).statusCode, 200);
    assert.deepEqual(await eventOf(h, fromLeft).then((e) => [e.status, e.agent]), [4, null]);
    assert.deepEqual(await eventOf(h, fromKept).then((e) => [e.status, e.agent]), [10, a.userId]);
  });

  it('offers an event with UsersID to that agent only, and it waits for them', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const other = await readyAgent(h, c, group);
    const target = await newAgent(h, c);
    await addMember(c, group, target.userId);
    const id = await newEvent(c, group, { UsersID: target.userId });
    const open = await newEvent(c, group, { Priority: 0 });
    await pass(h);
    assert.equal((await eventOf(h, id)).status, 4, 'the target is not logged in');
    assert.equal((await eventOf(h, open)).agent, other.userId, 'a targeted event does not hold up the queue behind it');
    await logIn(target, group);
    await pass(h);
    assert.equal((await eventOf(h, id)).agent, target.userId);
  });

  it('offers only to agents holding every required skill at or above its minimum', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const weak = await readyAgent(h, c, group, { 7: 40, 8: 90 });
    const id = await newEvent(c, group, { SkillsID1: 7, SkillsValue1: 50, SkillsID2: 8, SkillsValue2: 90 });
    await pass(h);
    assert.equal((await eventOf(h, id)).status, 4);
    const strong = await readyAgent(h, c, group, { 7: 50, 8: 95 });
    await pass(h);
    assert.equal((await eventOf(h, id)).agent, strong.userId);
    assert.notEqual(weak.userId, strong.userId);
    const record = (await c.get(`/acd/events/event/${id}`)).json().records[0];
    assert.deepEqual([record.SkillsID1, record.SkillsValue1, record.SkillsID2, record.SkillsValue2, record.SkillsID3], [7, 50, 8, 90, null]);
  });

  it('rejects skill fields that do not make sense (400 naming the field)', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const base = { AcdEventTypesID: 5, AcdGroupsID: group, Sender: 'a@example.com', Subject: 'x' };
    for (const [extra, field] of [
      [{ SkillsValue2: 10 }, 'SkillsValue2'],
      [{ SkillsID1: 3, SkillsID3: 3 }, 'SkillsID3'],
      [{ SkillsID1: 3, SkillsValue1: 101 }, 'SkillsValue1'],
    ] as const) {
      const res = await c.post('/acd/events/create', { ...base, ...extra });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error, new RegExp(field));
    }
  });

  it('holds each agent to their capacity per event type; Remind frees the place', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const mails = [await newEvent(c, group), await newEvent(c, group)];
    const callback = await newEvent(c, group, { AcdEventTypesID: 3, Sender: '+49301234567' });
    await pass(h);
    assert.equal((await inbox(a)).length, 2, 'one mail and one callback');
    assert.equal((await eventOf(h, mails[1]!)).status, 4);
    assert.equal((await eventOf(h, callback)).agent, a.userId);
    assert.equal((await act(a, mails[0]!, 'accept')).statusCode, 200);
    assert.equal((await act(a, mails[0]!, 'remind', { dtRemind: '2026-12-31T10:00' })).statusCode, 200);
    await pass(h);
    assert.equal((await eventOf(h, mails[1]!)).agent, a.userId, 'a set-aside event does not count');
  });

  for (const [algorithm, name] of [[1, 'longest idle'], [2, 'round robin'], [3, 'highest skill']] as const) {
    it(`picks among eligible agents by DistributionAlgorithmID ${algorithm} (${name})`, async () => {
      const c = await h.newClient({ TimeZone: 'UTC' });
      const group = await standaloneGroup(c, { DistributionAlgorithmID: algorithm });
      const agents = [];
      for (const skill of [60, 90, 75]) agents.push(await readyAgent(h, c, group, { 1: skill }));
      const [a, b, d] = agents as [typeof agents[0], typeof agents[0], typeof agents[0]];
      await c.request('PUT', `${c.base}/agents/agent/${a.userId}/capacity`, { Capacity: { 5: 3 } });
      await c.request('PUT', `${c.base}/agents/agent/${b.userId}/capacity`, { Capacity: { 5: 3 } });
      await c.request('PUT', `${c.base}/agents/agent/${d.userId}/capacity`, { Capacity: { 5: 3 } });
      // a finished work most recently, d longest ago, b never: longest idle is b, then d, then a.
      const finish = async (agent: typeof a) => {
        const id = await newEvent(c, group, { UsersID: agent.userId });
        await pass(h);
        await act(agent, id, 'accept');
        h.clock.advance(1000);
        await act(agent, id, 'done');
      };
      await finish(d);
      await finish(a);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await newEvent(c, group, { SkillsID1: 1, SkillsValue1: 0 }));
      h.clock.advance(1000);
      await pass(h);
      const holders = [];
      for (const id of ids) holders.push((await eventOf(h, id)).agent);
      const expected = {
        1: [b.userId, d.userId, a.userId],
        // Round robin goes on after the last agent offered in the group (a, in finish(a)).
        2: [b.userId, d.userId, a.userId],
        3: [b.userId, b.userId, b.userId],
      }[algorithm];
      if (algorithm === 2) {
        const ring = [a.userId, b.userId, d.userId].sort((x, y) => x - y);
        const after = ring.indexOf(a.userId);
        assert.deepEqual(holders, [1, 2, 3].map((k) => ring[(after + k) % 3]));
      } else {
        assert.deepEqual(holders, expected);
      }
    });
  }
});
