// Issue 11 item 13: the client filter of the supervisor's endpoints, tried where it is the only
// thing in the way. Another client's IDs are used with a target that is valid for the asking
// client (its own group), so that no later check (an unknown group, a non-member) answers 404 in
// the filter's place.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { act, eventOf, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

/** Everything a reassignment could change about an event, and what it leaves behind. */
async function footprint(h: Harness, c: TestClient, eventId: number) {
  const record = (await c.get(`/acd/events/event/${eventId}`)).json().records[0];
  const history = (await c.get(`/acd/events/event/${eventId}/history`)).json().records;
  const comments = (await c.get(`/acd/events/event/${eventId}/comments`)).json().records;
  return { row: await eventOf(h, eventId), record, history, comments };
}

describeStores('tenancy: the client filter of supervision', (h) => {
  it('answers 404 to a client reassigning another client\'s event into its own group, and changes nothing', async () => {
    const a = await h.newClient({ TimeZone: 'UTC' });
    const b = await h.newClient({ TimeZone: 'UTC' });
    const aGroup = await standaloneGroup(a);
    const bGroup = await standaloneGroup(b);
    const agent = await readyAgent(h, a, aGroup);
    const queued = await newEvent(a, aGroup);
    const held = await newEvent(a, aGroup);
    await pass(h);
    const inHand = (await eventOf(h, queued)).agent === agent.userId ? queued : held;
    assert.equal((await act(agent, inHand, 'accept')).statusCode, 200);
    // B's own group and B's own agent: every check after the event's lookup would pass for B.
    const bAgent = await readyAgent(h, b, bGroup);
    for (const id of [queued, held]) {
      const before = await footprint(h, a, id);
      for (const body of [{ AcdGroupsID: bGroup }, { AcdGroupsID: bGroup, UsersID: bAgent.userId, Comment: 'mine now' }, { UsersID: bAgent.userId }]) {
        const res = await b.post(`/acd/events/event/${id}/reassign`, body);
        assert.equal(res.statusCode, 404, `${JSON.stringify(body)}: ${res.body}`);
        assert.deepEqual(res.json(), { status: 404, error: 'ACD event not found' });
      }
      assert.deepEqual(await footprint(h, a, id), before, 'the event, its history and its comments are as they were');
    }
    await pass(h);
    assert.equal((await eventOf(h, inHand)).agent, agent.userId, 'A\'s agent still holds it');
    assert.equal((await b.get(`/acd/groups/group/${bGroup}/queue`)).json().records[0].Waiting, 0, 'nothing arrived in B\'s queue');
  });

  it('answers 404 to a client asking for the queue of another client\'s group, naming no figure', async () => {
    const a = await h.newClient({ TimeZone: 'UTC' });
    const b = await h.newClient({ TimeZone: 'UTC' });
    const aGroup = await standaloneGroup(a);
    await standaloneGroup(b);
    await readyAgent(h, a, aGroup);
    await newEvent(a, aGroup);
    await newEvent(a, aGroup);
    const own = await a.get(`/acd/groups/group/${aGroup}/queue`);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().records[0].AgentsLoggedIn, 1);
    const res = await b.get(`/acd/groups/group/${aGroup}/queue`);
    assert.equal(res.statusCode, 404, res.body);
    assert.deepEqual(Object.keys(res.json()).sort(), ['error', 'status']);
    assert.equal(res.json().status, 404);
  });
});
