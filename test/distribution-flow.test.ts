// Issue 3, the engine: an event's life from create to done, through the agent's endpoints, with
// the engine driven one pass at a time on a pinned clock.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { act, eventOf, inbox, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

describeStores('distribution: an event from create to done', (h) => {
  it('queues a new event, offers it with a lease, and walks it through accept, seen, remind and done', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const id = await newEvent(c, group);
    assert.equal((await eventOf(h, id)).status, 1);

    const result = await pass(h);
    assert.equal(result.released, 1);
    assert.equal(result.offered, 1);
    const [offer] = await inbox(agent);
    assert.equal(offer.ID, id);
    assert.equal(offer.AcdEventStatusID, 10);
    assert.equal(offer.AgentUsersID, agent.userId);
    assert.equal(offer.dtOfferExpires, '2026-06-15T08:00:30.000', 'the group default offer timeout is 30 s');

    const accepted = await act(agent, id, 'accept');
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal(accepted.json().records[0].AcdEventStatusID, 20);
    assert.equal(accepted.json().records[0].dtReceived, '2026-06-15T08:00:00.000');
    assert.equal(accepted.json().records[0].dtOfferExpires, null);

    assert.equal((await act(agent, id, 'seen')).json().records[0].AcdEventStatusID, 30);
    const remind = await act(agent, id, 'remind', { dtRemind: '2026-06-15T09:00' });
    assert.equal(remind.statusCode, 200, remind.body);
    assert.equal(remind.json().records[0].AcdEventStatusID, 40);
    assert.equal(remind.json().records[0].dtRemind, '2026-06-15T09:00:00.000');

    h.clock.set(Date.UTC(2026, 5, 15, 8, 59, 59));
    assert.equal((await pass(h)).reminded, 0, 'not before dtRemind');
    h.clock.set(Date.UTC(2026, 5, 15, 9, 0, 0));
    assert.equal((await pass(h)).reminded, 1);
    assert.deepEqual(await eventOf(h, id).then((e) => [e.status, e.agent]), [20, agent.userId], 'back to the same agent as New');

    h.clock.set(Date.UTC(2026, 5, 15, 9, 10, 0));
    const done = await act(agent, id, 'done', { Comment: 'Called back, solved' });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().records[0].AcdEventStatusID, 99);
    assert.equal(done.json().records[0].LastAgentTime, 4200, 'seconds from accept to done');
    assert.deepEqual(await inbox(agent), []);

    const history = (await c.get(`/acd/events/event/${id}/history`)).json().records;
    assert.deepEqual(history.map((e: any) => e.UsersID), [null, null, ...Array(6).fill(agent.userId)]);
    assert.deepEqual(history.map((e: any) => [e.FromAcdEventStatusID, e.ToAcdEventStatusID, e.Actor]), [
      [null, 1, 'api'], [1, 4, 'distributor'], [4, 10, 'distributor'], [10, 20, `agent:${agent.userId}`],
      [20, 30, `agent:${agent.userId}`], [30, 40, `agent:${agent.userId}`], [40, 20, 'distributor'], [20, 99, `agent:${agent.userId}`],
    ]);
    const comments = (await c.get(`/acd/events/event/${id}/comments`)).json().records;
    assert.deepEqual(comments.map((x: any) => [x.Author, x.Text]), [[`agent:${agent.userId}`, 'Called back, solved']]);
    const me = (await agent.request('GET', '/agents/me')).json().records[0];
    assert.equal(me.LastAgentTime, '2026-06-15T09:10:00.000');
  });
});
