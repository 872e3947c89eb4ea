// Slow and dead webhook endpoints cannot delay the others (spec §10): a slow endpoint is throttled
// to a few sends in flight until it answers fast again, and an instance keeps a reserve of slots
// for endpoints with nothing in flight. Real HTTP receivers on their own ports.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/app.ts';
import { claimDue } from '../src/webhooks/sql.ts';
import { WebhookWorker } from '../src/webhooks/worker.ts';
import { clientHandle, describeStores, type TestClient } from './helper.ts';
import { addGroup, callback } from './fixtures-events.ts';
import { startReceiver, type Receiver } from './webhooks-receiver.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeStores('webhooks: slow and dead endpoints', (h) => {
  let app: FastifyInstance;
  const receivers: Receiver[] = [];

  before(async () => {
    app = await build({ store: h.store, webhooks: { allowPrivate: true } });
    await app.ready();
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await app?.close();
  });

  async function tenant(): Promise<{ client: TestClient; groupId: number }> {
    const made = await h.newClient();
    const client = clientHandle(app, made.id, made.token);
    return { client, groupId: await addGroup(h.store.db, client.id) };
  }
  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }
  async function subscribe(client: TestClient, url: string): Promise<number> {
    const res = await client.post(`${client.base}/webhooks/create`, { URL: url, Kinds: ['event.created'] });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().records[0].ID as number;
  }
  async function createEvents(client: TestClient, groupId: number, n: number) {
    for (let i = 0; i < n; i++) assert.equal((await client.post('/acd/events/create', callback(groupId))).statusCode, 200);
  }
  const slowSince = async (id: number) =>
    (await sql<{ slow_since: Date | null }>`SELECT slow_since FROM webhook_subscriptions WHERE id = ${id}`.execute(h.store.db)).rows[0]!.slow_since;

  it('six dead endpoints do not delay a healthy one: each of its deliveries arrives within a second', async () => {
    const { client, groupId } = await tenant();
    const dead: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await receiver();
      r.answer = () => ({ status: 200, delayMs: 60_000 });
      dead.push(await subscribe(client, r.url));
    }
    const healthy = await receiver();
    const healthyId = await subscribe(client, healthy.url);
    // Every event goes to all seven endpoints: 40 deliveries each, more than the dead can hold.
    await createEvents(client, groupId, 40);
    const timeoutMs = 2000;
    const worker = new WebhookWorker(h.store.db, app.clock, {
      allowPrivate: true, sweepMs: 20, timeoutMs, slowMs: 200, schedule: [100, 100, 100, 100, 100, 100],
    });
    worker.start();
    const delays: number[] = [];
    try {
      let until = Date.now() + 5000;
      while (healthy.received.length < 40 && Date.now() < until) await sleep(10);
      assert.equal(healthy.received.length, 40, 'the backlog went through while the dead ones hold their sends');
      // New deliveries, one at a time, for longer than two deadlines: past the dead endpoints'
      // timeouts and the retries that follow them.
      until = Date.now() + 2 * timeoutMs + 500;
      while (Date.now() < until) {
        const had: number = healthy.received.length;
        const started = Date.now();
        await createEvents(client, groupId, 1);
        while (healthy.received.length === had && Date.now() - started < 3 * timeoutMs) await sleep(5);
        delays.push(Date.now() - started);
        await sleep(50);
      }
      // The dead endpoints are still failing (timed out, retried), and are marked slow.
      const { rows } = await sql<{ delivered: number; timedOut: number }>`
        SELECT count(*) FILTER (WHERE state = 'Delivered')::int AS delivered, count(*) FILTER (WHERE last_error LIKE 'timeout%')::int AS "timedOut"
        FROM webhook_deliveries WHERE subscription_id = ANY(${dead}::int[])`.execute(h.store.db);
      assert.equal(rows[0]!.delivered, 0);
      assert.ok(rows[0]!.timedOut > 0, 'dead endpoints timed out');
      for (const id of dead) assert.ok(await slowSince(id), `dead endpoint ${id} is marked slow`);
      assert.equal(await slowSince(healthyId), null);
    } finally {
      await sql`UPDATE webhook_subscriptions SET enabled = false WHERE client_id = ${client.id}`.execute(h.store.db);
      await worker.stop();
    }
    const worst = Math.max(...delays);
    console.log(`healthy endpoint: ${delays.length} deliveries next to six dead ones, slowest ${worst} ms`);
    assert.ok(delays.length >= 10);
    assert.ok(worst < 1000, `every delivery of the healthy endpoint within a second, slowest ${worst} ms`);
  });

  it('throttles a slow endpoint to slowCap in flight, and gives it full concurrency once it answers fast', async () => {
    const { client, groupId } = await tenant();
    const r = await receiver();
    const id = await subscribe(client, r.url);
    const worker = new WebhookWorker(h.store.db, app.clock, { allowPrivate: true, timeoutMs: 2000, slowMs: 150, slowCap: 2 });
    r.answer = () => ({ status: 200, delayMs: 300 });
    await createEvents(client, groupId, 1);
    assert.equal(await worker.runPass(), 1);
    assert.ok(await slowSince(id), 'a slow answer marks the endpoint slow');
    await createEvents(client, groupId, 10);
    assert.equal(await worker.runPass(), 2, 'slow: two at a time');
    assert.equal(await worker.runPass(), 2, 'still slow: two at a time');
    r.answer = () => ({ status: 200 });
    assert.equal(await worker.runPass(), 2, 'the fast answers come in this pass');
    assert.equal(await slowSince(id), null, 'a fast answer lifts the throttle');
    const before = r.maxConcurrent();
    r.answer = () => ({ status: 200, delayMs: 50 });
    assert.equal(await worker.runPass(), 4, 'full concurrency again: the rest at once');
    assert.ok(r.maxConcurrent() >= Math.max(before, 3), `sent together, saw ${r.maxConcurrent()}`);
    await worker.stop();
  });

  it('claim rules: a send open past the slow threshold throttles at once; the reserve goes to idle endpoints only', async () => {
    const { client, groupId } = await tenant();
    const busy = await subscribe(client, 'http://127.0.0.1:9/busy');
    await createEvents(client, groupId, 6);
    const now = Date.now();
    const lease = new Date(now + 5000);
    const rules = { perEndpoint: 32, slowCap: 2, slowLeaseUntil: new Date(now), shared: 1 };
    const mine = (rows: { subscription_id: number }[], sid: number) => rows.filter((d) => d.subscription_id === sid).length;
    // Shared room for one: the endpoint (idle) takes it and, from the reserve, up to slowCap.
    assert.equal(mine(await claimDue(h.store.db, new Date(Date.now()), lease, 10, rules), busy), 2);
    // Now busy: nothing from the reserve, one more from the shared room.
    assert.equal(mine(await claimDue(h.store.db, new Date(Date.now()), lease, 10, rules), busy), 1);
    // A second endpoint, idle: the reserve serves it while the busy one gets nothing.
    const idle = await subscribe(client, 'http://127.0.0.1:9/idle');
    await createEvents(client, groupId, 3);
    const got = await claimDue(h.store.db, new Date(Date.now()), lease, 10, { ...rules, shared: 0 });
    assert.equal(mine(got, busy), 0);
    assert.equal(mine(got, idle), 2);
    // Its sends have been open past the threshold (their leases end by slowLeaseUntil): throttled
    // to slowCap, which it already holds, although it is not marked slow.
    assert.equal(mine(await claimDue(h.store.db, new Date(Date.now()), lease, 10, { ...rules, shared: 10, slowLeaseUntil: lease }), idle), 0);
    // Not open that long: full concurrency.
    assert.equal(mine(await claimDue(h.store.db, new Date(Date.now()), lease, 10, { ...rules, shared: 10 }), idle), 1);
    await sql`UPDATE webhook_subscriptions SET enabled = false WHERE client_id = ${client.id}`.execute(h.store.db);
  });
});
