// Every change is announced after commit by the path that recorded it (src/db/changes.ts,
// migration 011): each must be heard exactly once — by this process at once, by another instance
// through one NOTIFY — hot paths and the paths that record inside a transaction alike (those are
// held by the store's driver until COMMIT, and dropped on ROLLBACK).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../src/db/store.ts';
import { describeStores, secondInstance } from './helper.ts';
import { act, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

const settle = () => new Promise((r) => setTimeout(r, 150));

describeStores('changes announced by the application', (h) => {
  it('are heard once each, here and on another instance, on every path', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const here: string[] = [];
    const there: string[] = [];
    const off = h.store.onChange((p) => p !== '' && here.push(p));
    let other: Store | undefined;
    try {
      other = await secondInstance(h, (p) => p !== '' && there.push(p));
      const heard = async (step: () => Promise<unknown>) => {
        here.length = 0;
        there.length = 0;
        await step();
        await settle();
        return { here: [...here].sort(), there: [...there].sort() };
      };
      const mine = `${c.id}:${agent.userId}`;
      const event = await newEvent(c, group);
      await settle(); // its creation's announcement

      // Queued and offered by one pass: neither gives a dispatcher more to do.
      let got = await heard(() => pass(h));
      assert.deepEqual(got.here, [`${c.id}::-`, `${mine}:-`].sort(), 'the pass announces the queueing and the offer once each');
      if (other) assert.deepEqual(got.there, got.here, 'another instance hears the same, once');

      got = await heard(async () => assert.equal((await act(agent, event, 'accept')).statusCode, 200));
      assert.deepEqual(got.here, [`${mine}:-`], 'an accept frees no place');
      if (other) assert.deepEqual(got.there, got.here);

      got = await heard(async () => assert.equal((await act(agent, event, 'done')).statusCode, 200));
      assert.deepEqual(got.here, [mine], 'a done frees a place: dispatchers wake');
      if (other) assert.deepEqual(got.there, got.here);

      // A path that records inside its own transaction: heard once it commits.
      const second = await newEvent(c, group);
      await pass(h);
      await act(agent, second, 'accept');
      await settle();
      got = await heard(async () => {
        const res = await act(agent, second, 'remind', { dtRemind: '2099-01-01T10:00' });
        assert.equal(res.statusCode, 200, res.body);
      });
      assert.deepEqual(got.here, [mine], 'a change recorded in a transaction is announced after its commit');
      if (other) assert.deepEqual(got.there, got.here);
    } finally {
      off();
      await other?.close();
    }
  });
});
