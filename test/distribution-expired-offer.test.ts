// Issue 11 item 6: an agent acting on an event that is no longer theirs learns why (409: their
// offer expired, they gave it up, a supervisor moved it, it is finished), while an event that
// was never theirs, or is another client's, stays the 404 of no event at all.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { act, eventOf, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import { expireOffers } from '../src/distributor/sql/expire-offers.ts';

const EXPIRED = /ACD event \d+: your offer expired/;

describeStores('agent actions on an event no longer in their hands', (h) => {
  it('after the offer expired: 409 "offer expired" while it waits in the queue and once it is offered to someone else', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { OfferTimeoutSeconds: 10 });
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    await pass(h);
    assert.equal((await eventOf(h, id)).agent, a.userId);
    h.clock.advance(10_000);
    // Only the sweep, so that the event stays queued (a pass would offer it to `a` again).
    assert.equal((await expireOffers(h.store.db, new Date(h.clock.now()), 1000)).expired >= 1, true);
    assert.equal((await a.request('POST', '/agents/me/acd/logout')).statusCode, 200);
    assert.deepEqual(await eventOf(h, id).then((e) => [e.status, e.agent]), [4, null]);

    for (const action of ['accept', 'reject']) {
      const res = await act(a, id, action);
      assert.equal(res.statusCode, 409, `${action} while queued: ${res.body}`);
      assert.match(res.json().error, EXPIRED);
      assert.equal(res.json().status, 409);
    }

    const b = await readyAgent(h, c, group);
    await pass(h);
    const before = await eventOf(h, id);
    assert.deepEqual([before.status, before.agent], [10, b.userId]);
    for (const action of ['accept', 'reject', 'seen', 'done']) {
      const res = await act(a, id, action);
      assert.equal(res.statusCode, 409, `${action} while offered to b: ${res.body}`);
      assert.match(res.json().error, EXPIRED);
    }
    assert.deepEqual(await eventOf(h, id), before, 'the refused actions changed nothing');
    assert.equal((await act(b, id, 'accept')).statusCode, 200, 'the new holder accepts');
  });

  it('an event that was never theirs stays 404, in the same client and in another', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group, { UsersID: a.userId });
    await pass(h);
    const stranger = await readyAgent(h, c, await standaloneGroup(c));
    const other = await h.newClient({ TimeZone: 'UTC' });
    const foreign = await readyAgent(h, other, await standaloneGroup(other));
    for (const agent of [stranger, foreign]) {
      const res = await act(agent, id, 'accept');
      assert.deepEqual([res.statusCode, res.json()], [404, { status: 404, error: 'ACD event not found' }]);
    }
    assert.equal((await act(foreign, id, 'done')).statusCode, 404);
  });

  it('after a supervisor moved it: 409 with the reason; after finishing it: 409 naming the status', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const elsewhere = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(a, id, 'accept')).statusCode, 200);
    assert.equal((await c.post(`/acd/events/event/${id}/reassign`, { AcdGroupsID: elsewhere })).statusCode, 200);
    const done = await act(a, id, 'done');
    assert.equal(done.statusCode, 409, done.body);
    assert.equal(done.json().error, `ACD event ${id} is no longer in your hands: reassigned to ACD group ${elsewhere}`);
    const comment = await act(a, id, 'comment', { Comment: 'still mine?' });
    assert.equal(comment.statusCode, 409, comment.body);

    const next = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(a, next, 'accept')).statusCode, 200);
    assert.equal((await act(a, next, 'done')).statusCode, 200);
    const again = await act(a, next, 'done');
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error, `ACD event ${next} is in status 99; done needs status 20 or 30 or 40`);
  });
});
