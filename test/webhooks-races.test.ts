// Webhook delivery by many instances: each delivery claimed by one at a time (FOR UPDATE SKIP
// LOCKED and a lease), the per-endpoint bound held across instances, a dead claim taken over.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/app.ts';
import type { Store } from '../src/db/store.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { claimDue, recordOutcome, type ClaimRules } from '../src/webhooks/sql.ts';
import { replay } from '../src/modules/webhooks/repository.ts';
import { WebhookWorker } from '../src/webhooks/worker.ts';
import { clientHandle, describeStores, secondInstance } from './helper.ts';
import { addGroup, callback } from './fixtures-events.ts';
import { startReceiver, type Receiver } from './webhooks-receiver.ts';

describeStores('webhook delivery by two instances', (h) => {
  let app: FastifyInstance;
  let receiver: Receiver;
  let other: Store | undefined;

  before(async () => {
    receiver = await startReceiver();
    app = await build({ store: h.store, webhooks: { allowPrivate: true } });
    await app.ready();
    other = await secondInstance(h, () => {});
  });
  after(async () => {
    await receiver?.close();
    await app?.close();
    await other?.close();
  });

  const rules = (now: number): ClaimRules => ({ perEndpoint: 4, slowCap: 2, slowLeaseUntil: new Date(now), shared: 10 });

  async function tenant() {
    const made = await h.newClient();
    const client = clientHandle(app, made.id, made.token);
    return { client, groupId: await addGroup(h.store.db, client.id) };
  }

  it('sends every delivery exactly once, never one twice at a time, at most perEndpoint at once', async () => {
    const { client, groupId } = await tenant();
    const res = await client.post(`${client.base}/webhooks/create`, { URL: receiver.url, Kinds: ['event.created'] });
    assert.equal(res.statusCode, 200, res.body);
    const N = 60;
    for (let i = 0; i < N; i++) assert.equal((await client.post('/acd/events/create', callback(groupId))).statusCode, 200);
    receiver.answer = () => ({ status: 200, delayMs: 5 + Math.floor(Math.random() * 20) });
    const settings = { allowPrivate: true, sweepMs: 20, perEndpoint: 4 };
    const workers = [new WebhookWorker(h.store.db, app.clock, settings), new WebhookWorker((other ?? h.store).db, app.clock, settings)];
    for (const w of workers) w.start();
    try {
      const deadline = Date.now() + 30_000;
      while (receiver.received.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
    assert.equal(ids.length, N);
    assert.equal(new Set(ids).size, N, 'no delivery sent twice');
    assert.equal(receiver.maxConcurrentPerId(), 1);
    assert.ok(receiver.maxConcurrent() <= 4, `at most 4 at once for one endpoint, saw ${receiver.maxConcurrent()}`);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE client_id = ${client.id} AND state = 'Delivered' AND attempts = 1`.execute(h.store.db);
    assert.equal(rows[0]!.n, N);
  });

  it('takes over a claim whose instance died once its lease ran out; the dead claim records nothing', async () => {
    const { client, groupId } = await tenant();
    const res = await client.post(`${client.base}/webhooks/create`, { URL: `${receiver.url}/lease`, Kinds: ['event.created'] });
    assert.equal(res.statusCode, 200, res.body);
    await client.post('/acd/events/create', callback(groupId));
    receiver.answer = () => ({ status: 200 });
    const clock = fixedClock(Date.now());
    const worker = new WebhookWorker(h.store.db, clock, { allowPrivate: true, leaseMs: 5000 });
    // An instance claims and dies before sending or recording anything.
    const [dead] = await claimDue(h.store.db, new Date(clock.now()), new Date(clock.now() + 5000), 10, rules(clock.now()));
    assert.ok(dead);
    assert.equal(await worker.runPass(), 0, 'leased: nobody else takes it');
    clock.advance(5001);
    const before = receiver.received.length;
    assert.equal(await worker.runPass(), 1);
    assert.equal(receiver.received.length, before + 1);
    const now = new Date(clock.now());
    const late = await recordOutcome(h.store.db, {
      delivery: { ...dead, body: '{}' }, startedAt: now, status: 500, error: 'late', latencyMs: 1, excerpt: null, state: 'Pending',
      nextAt: now, retryStep: 1, endpoint: 'failure', now, disableBefore: now,
    });
    assert.equal(late, false);
    const { rows } = await sql<{ state: string; attempts: number }>`SELECT state, attempts FROM webhook_deliveries WHERE id = ${dead.id}::bigint`.execute(h.store.db);
    assert.deepEqual(rows[0], { state: 'Delivered', attempts: 2 });
  });

  it('a late outcome of a claim whose lease ran out does not overwrite a replay made meanwhile', async () => {
    const { client, groupId } = await tenant();
    const res = await client.post(`${client.base}/webhooks/create`, { URL: `${receiver.url}/replay-fence`, Kinds: ['event.created'] });
    assert.equal(res.statusCode, 200, res.body);
    const hookId = res.json().records[0].ID as number;
    await client.post('/acd/events/create', callback(groupId));
    receiver.answer = () => ({ status: 200 });
    const clock = fixedClock(Date.now() + 1000);
    // An instance claims, then stalls past its lease; the client replays the delivery meanwhile.
    const dead = (await claimDue(h.store.db, new Date(clock.now()), new Date(clock.now() + 5000), 10, rules(clock.now())))
      .find((d) => d.subscription_id === hookId);
    assert.ok(dead);
    clock.advance(5001);
    const replayedAt = new Date(clock.now());
    assert.deepEqual(await replay(h.store.db, client.id, hookId, replayedAt, { id: Number(dead.id) }), { replayed: 1, busy: 0 });
    // The stalled attempt's outcome (a final failure) comes in late: fenced, the replay stands.
    const late = await recordOutcome(h.store.db, {
      delivery: { ...dead, body: '{}' }, startedAt: replayedAt, status: 500, error: 'late', latencyMs: 1, excerpt: null, state: 'Failed',
      nextAt: null, retryStep: 3, endpoint: 'failure', now: replayedAt, disableBefore: replayedAt,
    });
    assert.equal(late, false);
    const row = async () => (await sql<{ state: string; attempts: number; retry_step: number; next_attempt_at: Date | null; failing_since: Date | null }>`
      SELECT d.state, d.attempts, d.retry_step, d.next_attempt_at, s.failing_since FROM webhook_deliveries d
      JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = ${dead.id}::bigint`.execute(h.store.db)).rows[0]!;
    assert.deepEqual(await row(), { state: 'Pending', attempts: 1, retry_step: 0, next_attempt_at: replayedAt, failing_since: null });
    // The replay is sent (attempt 2) and recorded.
    const worker = new WebhookWorker(h.store.db, clock, { allowPrivate: true });
    assert.equal(await worker.runPass(), 1);
    assert.deepEqual({ ...(await row()), next_attempt_at: null }, { state: 'Delivered', attempts: 2, retry_step: 0, next_attempt_at: null, failing_since: null });
    await worker.stop();
  });
});
