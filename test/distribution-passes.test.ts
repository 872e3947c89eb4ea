// Passes woken by a change skip the lease and reminder sweeps unless the distributor's last look
// at the timers (plus the leases it granted itself) says one is due; timer and sweep passes
// always run them (src/distributor/distributor.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Distributor } from '../src/distributor/distributor.ts';
import { describeStores } from './helper.ts';
import { eventOf, newEvent, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

describeStores('distribution passes woken by a change', (h) => {
  it('expire a lease this process knows is due, and leave an unknown one to the sweep', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c, { OfferTimeoutSeconds: 30 });
    await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    // A distributor of its own, whose sweep never comes during the test.
    const d = new Distributor(h.store.db, h.clock, { sweepMs: 3_600_000 });
    d.start();
    const deadline = Date.now() + 5000;
    while ((await eventOf(h, id)).status !== 10) {
      if (Date.now() > deadline) assert.fail('not offered');
      await new Promise((r) => setTimeout(r, 10));
    }
    await d.stop(); // it has looked at the timers: the lease ends 30 s from now

    // Another instance's lease that ended without this one knowing: a woken pass leaves it.
    const other = await newEvent(c, group, { Priority: 1 });
    await h.store.db.updateTable('acd_events')
      .set({ status_id: 10, agent_id: (await eventOf(h, id)).agent, lease_until: new Date(h.clock.now() - 1000) })
      .where('id', '=', other).execute();
    assert.equal((await d.runPass({ full: false })).expired, 0);
    assert.equal((await eventOf(h, other)).status, 10);
    // The sweep's pass does not.
    assert.equal((await d.runPass()).expired, 1);
    assert.equal((await eventOf(h, other)).status, 4);

    // Once the known lease is due, a woken pass expires it.
    h.clock.set(h.clock.now() + 31_000);
    const woken = await d.runPass({ full: false });
    assert.equal(woken.expired, 1);
    // (Back in the queue, and offered again in the same pass: the agent is the only one.)
    const returned = await h.store.db.selectFrom('acd_event_history').select('id')
      .where('event_id', '=', id).where('from_status_id', '=', 10).where('to_status_id', '=', 4).execute();
    assert.equal(returned.length, 1);
  });
});
