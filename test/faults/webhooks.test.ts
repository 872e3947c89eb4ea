// Webhook deliveries survive the SIGKILL of the instance sending them: the outbox row was written
// with the change, the dead instance's claim runs out, and another instance delivers it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshPostgresDatabase } from '../helper.ts';
import { startReceiver, type Receiver } from '../webhooks-receiver.ts';
import { ask, eventBody, provision, serve, serverEnv, stop, type Served } from './process-support.ts';

describe('webhooks across a SIGKILL (PostgreSQL, two processes)', () => {
  let database: { url: string; drop(): Promise<void> };
  let receiver: Receiver;
  const servers: Served[] = [];
  const adminToken = `sba_fault_${randomBytes(12).toString('hex')}`;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    database = await freshPostgresDatabase('sb_fault_webhooks');
    receiver = await startReceiver();
    // A short deadline gives a short lease (three deadlines): the dead claim comes due in 4.5 s.
    env = serverEnv({
      DATABASE_URL: database.url, SWITCHBOARD_ADMIN_TOKEN: adminToken,
      SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE: '1', SWITCHBOARD_WEBHOOKS_TIMEOUT_MS: '1500',
    });
  });
  after(async () => {
    for (const s of servers) await stop(s, 'SIGKILL');
    await receiver?.close();
    await database?.drop();
  });

  it('a delivery in flight when its instance is killed is still made, once at a time, by the other', async () => {
    const first = await serve(env);
    servers.push(first);
    const tenant = await provision(first.url, adminToken, 'Webhook faults');
    const hook = await ask(tenant.base, 'POST', '/webhooks/create', tenant.token, { URL: receiver.url, Kinds: ['event.created'] });
    assert.equal(hook.status, 200, JSON.stringify(hook.body));
    // The receiver holds every request open: the first instance is mid-delivery when it dies.
    receiver.answer = () => ({ status: 200, delayMs: 60_000 });
    const N = 10;
    for (let i = 0; i < N; i++) assert.equal((await ask(tenant.base, 'POST', '/acd/events/create', tenant.token, eventBody(tenant.groupId, i))).status, 200);
    const deadline = Date.now() + 15_000;
    while (receiver.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(receiver.received.length > 0, 'the first instance started sending');
    const inFlight = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));
    await stop(first, 'SIGKILL');
    receiver.answer = () => ({ status: 200 });
    const second = await serve(env);
    servers.push(second);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const until = Date.now() + 30_000;
      let delivered = 0;
      while (Date.now() < until) {
        delivered = (await client.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE state = 'Delivered'`)).rows[0].n;
        if (delivered === N) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(delivered, N, 'every delivery made');
      const ids = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));
      assert.equal(ids.size, N);
      for (const id of inFlight) assert.ok(receiver.received.filter((r) => r.headers['webhook-id'] === id).length >= 2, `${id} sent again`);
      assert.equal(receiver.maxConcurrentPerId(), 1, 'never two attempts of one delivery at once');
      console.log(`checked: ${inFlight.size} in flight at the kill, all ${N} delivered by the second instance`);
    } finally {
      await client.end();
    }
  });
});
