// Webhooks (spec §10): subscriptions, Standard Webhooks signatures checked with the third-party
// `standardwebhooks` package, the outbox written with the change, retries, 410, the log, replays.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { sql, type Kysely } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/app.ts';
import { insertEvent } from '../src/modules/events/repository.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { clientHandle, describeStores, type TestClient } from './helper.ts';
import { addGroup, addUser, callback } from './fixtures-events.ts';
import { AgentChange, changeValues, recordChanges } from '../src/db/changes.ts';
import { startReceiver, type Receiver } from './webhooks-receiver.ts';

const headersOf = (r: { headers: Record<string, unknown> }) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));

describeStores('webhooks', (h) => {
  let app: FastifyInstance;
  let receiver: Receiver;
  const clock = fixedClock(Date.UTC(2026, 5, 15, 8, 0, 0));
  const SCHEDULE = [1000, 2000, 3000];

  before(async () => {
    receiver = await startReceiver();
    app = await build({ store: h.store, clock, webhooks: { allowPrivate: true, schedule: SCHEDULE, timeoutMs: 1000, leaseMs: 5000, disableAfterMs: 60_000 } });
    await app.ready();
  });
  after(async () => {
    await receiver?.close();
    await app?.close();
  });

  async function tenant(): Promise<{ client: TestClient; groupId: number }> {
    const made = await h.newClient();
    const client = clientHandle(app, made.id, made.token);
    return { client, groupId: await addGroup(h.store.db, client.id) };
  }
  async function subscribe(client: TestClient, body: Record<string, unknown>) {
    const res = await client.post(`${client.base}/webhooks/create`, body);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().records[0] as { ID: number; Secret: string; Kinds: string[]; bEnabled: boolean };
  }
  const pending = async (subscriptionId: number, db: Kysely<any> = h.store.db) =>
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = ${subscriptionId} AND next_attempt_at IS NOT NULL`.execute(db)).rows[0]!.n;

  it('delivers a new event signed per Standard Webhooks, with the record as GET shows it', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}?t=sig`, Kinds: ['event.*'], Description: 'CRM' });
    assert.match(hook.Secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(hook.Kinds, ['event.*']);
    // The secret is shown once: never by a read.
    assert.equal('Secret' in (await client.get(`${client.base}/webhooks/webhook/${hook.ID}`)).json().records[0], false);
    const event = (await client.post('/acd/events/create', callback(groupId))).json().records[0];
    const before = receiver.received.length;
    assert.equal(await app.webhooks.runPass(), 1);
    const got = receiver.received.slice(before).filter((r) => r.headers['webhook-id']);
    assert.equal(got.length, 1);
    const payload = new Webhook(hook.Secret).verify(got[0]!.body, headersOf(got[0]!)) as { type: string; timestamp: string; data: Record<string, unknown> };
    assert.equal(payload.type, 'event.created');
    assert.equal(payload.timestamp, new Date(clock.now()).toISOString());
    const shown = (await client.get(`/acd/events/event/${event.ID}`)).json().records[0];
    assert.deepEqual(payload.data, shown);
    assert.match(String(got[0]!.headers['webhook-id']), /^msg_/);
    // A wrong secret does not verify.
    assert.throws(() => new Webhook(`whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`).verify(got[0]!.body, headersOf(got[0]!)));
    const log = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json();
    assert.equal(log.count, 1);
    assert.equal(log.records[0].State, 'Delivered');
    assert.equal(log.records[0].LastStatus, 200);
    assert.equal(log.records[0].Type, 'event.created');
  });

  it('writes the delivery in the statement of the change and loses it with a rolled-back change', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: receiver.url, Kinds: ['event.created'] });
    // A change recorded through the one way (recordChanges) inside a transaction that rolls back.
    await assert.rejects(h.store.db.transaction().execute(async (trx) => {
      const at = new Date(clock.now());
      await insertEvent(trx, {
        client_id: client.id, type_id: 3, status_id: 20, group_id: groupId, queue_group_id: groupId, sender: '49', subject: 's', event_data: '',
        created_at: at, modified_at: at, last_modified_at: at,
      } as never, 'test', 'Europe/Berlin');
      assert.equal(await pending(hook.ID, trx), 1, 'visible inside the transaction of the change');
      throw new Error('roll back');
    }), /roll back/);
    assert.equal(await pending(hook.ID), 0);
    await client.post('/acd/events/create', callback(groupId));
    assert.equal(await pending(hook.ID), 1);
    await app.webhooks.runPass();
  });

  it('delivers only the kinds subscribed, and nothing for a disabled endpoint or another client', async () => {
    const { client, groupId } = await tenant();
    const other = await tenant();
    const agentOnly = await subscribe(client, { URL: receiver.url, Kinds: ['agent.state'] });
    const created = await subscribe(client, { URL: receiver.url, Kinds: ['event.created'] });
    const off = await subscribe(client, { URL: receiver.url, Kinds: ['*'] });
    const res = await client.request('PATCH', `${client.base}/webhooks/webhook/${off.ID}`, { bEnabled: false, DisabledReason: 'maintenance' });
    assert.equal(res.json().records[0].DisabledReason, 'maintenance');
    await other.client.post('/acd/events/create', callback(other.groupId));
    await client.post('/acd/events/create', callback(groupId));
    assert.deepEqual([await pending(agentOnly.ID), await pending(created.ID), await pending(off.ID)], [0, 1, 0]);
    await app.webhooks.runPass();
  });

  it('delivers an agent\'s change as agent.state with the Agent record as GET shows it', async () => {
    const { client } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}/agents`, Kinds: ['agent.*'] });
    const userId = await addUser(h.store.db, client.id);
    const row = { client_id: client.id, user_id: userId, change: 'AcdLogin', group_id: null, capacity: null, actor: 'test', reason: null, created_at: new Date(clock.now()) };
    await sql`WITH ${recordChanges(AgentChange, changeValues(AgentChange, [row]))} SELECT 1`.execute(h.store.db);
    const before = receiver.received.length;
    await app.webhooks.runPass();
    const got = receiver.received.slice(before).filter((r) => String(r.headers['webhook-id']).startsWith('msg_'));
    assert.equal(got.length, 1);
    const payload = new Webhook(hook.Secret).verify(got[0]!.body, headersOf(got[0]!)) as { type: string; data: unknown };
    assert.equal(payload.type, 'agent.state');
    assert.deepEqual(payload.data, (await client.get(`${client.base}/agents/agent/${userId}`)).json().records[0]);
  });

  it('signs with both secrets during a rotation, and with the new one only after the overlap', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}?t=rotate`, Kinds: ['event.*'] });
    const rotated = (await client.post(`${client.base}/webhooks/webhook/${hook.ID}/rotate-secret`)).json().records[0];
    assert.notEqual(rotated.Secret, hook.Secret);
    assert.ok(rotated.dtPreviousSecretExpires);
    await client.post('/acd/events/create', callback(groupId));
    const before = receiver.received.length;
    await app.webhooks.runPass();
    const got = receiver.received.slice(before);
    assert.equal(got.length, 1);
    assert.equal(String(got[0]!.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [hook.Secret, rotated.Secret]) new Webhook(secret).verify(got[0]!.body, headersOf(got[0]!));
    clock.advance(24 * 3_600_000 + 1000);
    await client.post('/acd/events/create', callback(groupId));
    const later = receiver.received.length;
    await app.webhooks.runPass();
    const next = receiver.received[later]!;
    assert.equal(String(next.headers['webhook-signature']).split(' ').length, 1);
    new Webhook(rotated.Secret).verify(next.body, headersOf(next));
    assert.throws(() => new Webhook(hook.Secret).verify(next.body, headersOf(next)));
  });

  it('retries failures on the schedule, then gives up; 2xx after a failure delivers', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}/retry`, Kinds: ['event.created'] });
    receiver.answer = (r) => (r.body && r.headers['webhook-id'] && receiver.received.filter((x) => x.headers['webhook-id'] === r.headers['webhook-id']).length < 3 ? { status: 500, body: 'x'.repeat(5000) } : { status: 200 });
    try {
      await client.post('/acd/events/create', callback(groupId));
      assert.equal(await app.webhooks.runPass(), 1);
      // Not due before the first delay has passed.
      clock.advance(SCHEDULE[0]! - 1);
      assert.equal(await app.webhooks.runPass(), 0);
      clock.advance(1);
      assert.equal(await app.webhooks.runPass(), 1);
      clock.advance(SCHEDULE[1]!);
      assert.equal(await app.webhooks.runPass(), 1);
      const [delivery] = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records;
      assert.equal(delivery.State, 'Delivered');
      assert.equal(delivery.nAttempts, 3);
      const attempts = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries/${delivery.ID}/attempts`)).json().records;
      assert.deepEqual(attempts.map((a: { Status: number }) => a.Status), [500, 500, 200]);
      // The answer is kept as an excerpt of 1 KiB at most.
      assert.equal(attempts[0].ResponseExcerpt.length, 1024);
      assert.ok(attempts.every((a: { LatencyMs: number }) => Number.isInteger(a.LatencyMs)));

      receiver.answer = () => ({ status: 503 });
      await client.post('/acd/events/create', callback(groupId));
      for (const delay of [0, ...SCHEDULE]) {
        clock.advance(delay);
        assert.equal(await app.webhooks.runPass(), 1);
      }
      clock.advance(3_600_000);
      assert.equal(await app.webhooks.runPass(), 0);
      const failed = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries?State=Failed`)).json().records;
      assert.equal(failed.length, 1);
      assert.equal(failed[0].nAttempts, SCHEDULE.length + 1);
      assert.equal(failed[0].LastError, 'HTTP 503');
    } finally {
      receiver.answer = () => ({ status: 200 });
    }
  });

  it('disables an endpoint at once on 410, and one failing for longer than the limit', async () => {
    const { client, groupId } = await tenant();
    const gone = await subscribe(client, { URL: `${receiver.url}/gone`, Kinds: ['event.created'] });
    const failing = await subscribe(client, { URL: `${receiver.url}/failing`, Kinds: ['event.created'] });
    // Each endpoint is a receiver of its own.
    const server = await startReceiver('/x');
    server.answer = () => ({ status: 410 });
    const failServer = await startReceiver('/y');
    failServer.answer = () => ({ status: 500 });
    try {
      await client.request('PATCH', `${client.base}/webhooks/webhook/${gone.ID}`, { URL: server.url });
      await client.request('PATCH', `${client.base}/webhooks/webhook/${failing.ID}`, { URL: failServer.url });
      await client.post('/acd/events/create', callback(groupId));
      await app.webhooks.runPass();
      const g = (await client.get(`${client.base}/webhooks/webhook/${gone.ID}`)).json().records[0];
      assert.equal(g.bEnabled, false);
      assert.match(g.DisabledReason, /410/);
      let f = (await client.get(`${client.base}/webhooks/webhook/${failing.ID}`)).json().records[0];
      assert.equal(f.bEnabled, true);
      assert.ok(f.dtFailingSince);
      // Failing for longer than disableAfterMs (60 s here): disabled, with the reason.
      clock.advance(61_000);
      await client.post('/acd/events/create', callback(groupId));
      await app.webhooks.runPass();
      f = (await client.get(`${client.base}/webhooks/webhook/${failing.ID}`)).json().records[0];
      assert.equal(f.bEnabled, false);
      assert.match(f.DisabledReason, /No successful delivery since/);
      // Enabled again: the pending deliveries go out once the endpoint answers.
      failServer.answer = () => ({ status: 204 });
      const res = await client.request('PATCH', `${client.base}/webhooks/webhook/${failing.ID}`, { bEnabled: true });
      assert.equal(res.json().records[0].DisabledReason, null);
      clock.advance(10 * 3_600_000);
      await app.webhooks.runPass();
      const states = (await client.get(`${client.base}/webhooks/webhook/${failing.ID}/deliveries`)).json().records.map((d: { State: string }) => d.State);
      assert.deepEqual(states, ['Delivered', 'Delivered']);
    } finally {
      await server.close();
      await failServer.close();
    }
  });

  it('refuses private targets unless allowed, also when a name resolves to one at send time', async () => {
    const { client, groupId } = await tenant();
    app.webhooks.settings.allowPrivate = false;
    try {
      for (const URL of ['http://127.0.0.1:9/x', 'http://[::1]/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://localhost/x', 'http://[fd00::1]/x', 'http://0.0.0.0/']) {
        const res = await client.post(`${client.base}/webhooks/create`, { URL, Kinds: ['*'] });
        assert.equal(res.statusCode, 400, URL);
        assert.match(res.json().error, /^URL: /);
      }
      // A name that resolved to a public address when subscribing and to this host now (DNS
      // rebinding): the address is checked when connecting.
      const hook = await subscribe(client, { URL: 'http://hooks.example.com/x', Kinds: ['event.created'] });
      await sql`UPDATE webhook_subscriptions SET url = ${receiver.url.replace('127.0.0.1', 'localhost')} WHERE id = ${hook.ID}`.execute(h.store.db);
      await client.post('/acd/events/create', callback(groupId));
      app.webhooks.settings.allowPrivate = false;
      const before = receiver.received.length;
      await app.webhooks.runPass();
      assert.equal(receiver.received.length, before);
      const [d] = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records;
      assert.equal(d.State, 'Pending');
      assert.match(d.LastError, /^refused: localhost resolves to .*private address/);
    } finally {
      app.webhooks.settings.allowPrivate = true;
    }
  });

  it('follows no redirect: a 3xx is a failure', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}/moved`, Kinds: ['event.created'] });
    receiver.answer = (r) => (String(r.headers['webhook-id'] ?? '') ? { status: 307, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 });
    try {
      await client.post('/acd/events/create', callback(groupId));
      const before = receiver.received.length;
      await app.webhooks.runPass();
      assert.equal(receiver.received.length, before + 1, 'the redirect target was not asked');
      const [d] = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records;
      assert.equal(d.State, 'Pending');
      assert.equal(d.LastStatus, 307);
      assert.match(d.LastError, /redirect/);
    } finally {
      receiver.answer = () => ({ status: 200 });
    }
  });

  it('replays one delivery and a time range with the same webhook-id and body', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}/replay`, Kinds: ['event.created'] });
    for (let i = 0; i < 3; i++) await client.post('/acd/events/create', callback(groupId));
    const before = receiver.received.length;
    assert.equal(await app.webhooks.runPass(), 3);
    const first = receiver.received.slice(before);
    const log = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records;
    assert.equal((await client.post(`${client.base}/webhooks/webhook/${hook.ID}/deliveries/${log[0].ID}/replay`)).statusCode, 200);
    assert.equal(await app.webhooks.runPass(), 1);
    const again = receiver.received.at(-1)!;
    const original = first.find((r) => r.headers['webhook-id'] === again.headers['webhook-id'])!;
    assert.equal(again.body, original.body);
    new Webhook(hook.Secret).verify(again.body, headersOf(again));
    const range = await client.post(`${client.base}/webhooks/webhook/${hook.ID}/replay`, { From: '2020-01-01T00:00:00.000', To: '2099-01-01T00:00:00.000' });
    assert.equal(range.json().Replayed, 3);
    assert.equal(await app.webhooks.runPass(), 3);
    const none = await client.post(`${client.base}/webhooks/webhook/${hook.ID}/replay`, { From: '2020-01-01T00:00:00.000', To: '2099-01-01T00:00:00.000', bOnlyFailed: true });
    assert.equal(none.json().Replayed, 0);
    assert.equal((await client.post(`${client.base}/webhooks/webhook/${hook.ID}/deliveries/999999999/replay`)).statusCode, 404);
    const bad = await client.post(`${client.base}/webhooks/webhook/${hook.ID}/replay`, { From: '2026-01-02T00:00:00.000', To: '2026-01-01T00:00:00.000' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /^To: /);
    // Not a calendar date (found by the route fuzzer: it was a 500 from PostgreSQL's cast).
    const impossible = await client.post(`${client.base}/webhooks/webhook/${hook.ID}/replay`, { From: '0796-20-96T46:10:41.290', To: '2026-01-01T00:00:00.000' });
    assert.equal(impossible.statusCode, 400);
    assert.match(impossible.json().error, /^From: /);
    const noDay = await client.post(`${client.base}/webhooks/webhook/${hook.ID}/replay`, { From: '2026-01-01T00:00:00.000', To: '2026-02-30T00:00:00.000' });
    assert.equal(noDay.statusCode, 400);
    assert.match(noDay.json().error, /^To: .*not a calendar date/);
  });

  it('keeps finished deliveries in the log for the retention, pending ones until they finish', async () => {
    const { client, groupId } = await tenant();
    const hook = await subscribe(client, { URL: `${receiver.url}/prune`, Kinds: ['event.created'] });
    await client.post('/acd/events/create', callback(groupId));
    await app.webhooks.runPass();
    receiver.answer = () => ({ status: 500 });
    try {
      await client.post('/acd/events/create', callback(groupId));
      await app.webhooks.runPass();
    } finally {
      receiver.answer = () => ({ status: 200 });
    }
    clock.advance(app.webhooks.settings.retentionMs + 1000);
    assert.ok(await app.webhooks.prune() >= 1);
    const states = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records.map((d: { State: string }) => d.State);
    assert.deepEqual(states, ['Pending']);
  });

  it('answers bad input with 400 naming the field, other clients\' webhooks with 404, and deletes', async () => {
    const { client } = await tenant();
    const other = await tenant();
    const bad = [
      [{ URL: 'ftp://example.com/x', Kinds: ['*'] }, 'URL'],
      [{ URL: 'https://example.com/x', Kinds: ['event.nope'] }, 'Kinds'],
      [{ URL: 'https://example.com/x', Kinds: [] }, 'Kinds'],
      [{ URL: 'https://user:pw@example.com/x', Kinds: ['*'] }, 'URL'],
      [{ Kinds: ['*'] }, 'URL'],
    ] as const;
    for (const [body, field] of bad) {
      const res = await client.post(`${client.base}/webhooks/create`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.match(res.body, new RegExp(field));
    }
    const hook = await subscribe(client, { URL: 'https://example.com/hook', Kinds: ['contact.result', 'agent.*'] });
    assert.equal((await other.client.get(`${other.client.base}/webhooks/webhook/${hook.ID}`)).statusCode, 404);
    assert.equal((await other.client.request('DELETE', `${other.client.base}/webhooks/webhook/${hook.ID}`)).statusCode, 404);
    assert.equal((await client.request('PATCH', `${client.base}/webhooks/webhook/${hook.ID}`, { DisabledReason: 'x' })).statusCode, 400);
    const list = (await client.get(`${client.base}/webhooks`)).json();
    assert.equal(list.count, 1);
    assert.equal((await client.request('DELETE', `${client.base}/webhooks/webhook/${hook.ID}`)).statusCode, 200);
    assert.equal((await client.get(`${client.base}/webhooks/webhook/${hook.ID}`)).statusCode, 404);
  });

  it('seals secrets with the server key: stored sealed, signs with it; an instance without the key sends nothing', async () => {
    const sealedApp = await build({ store: h.store, clock, webhooks: { allowPrivate: true, secretKey: 'operator key text' } });
    const own = await startReceiver();
    try {
      const made = await h.newClient();
      const client = clientHandle(sealedApp, made.id, made.token);
      const groupId = await addGroup(h.store.db, client.id);
      const hook = (await client.post(`${client.base}/webhooks/create`, { URL: own.url, Kinds: ['event.created'] })).json().records[0];
      const { rows: [stored] } = await sql<{ secret: string }>`SELECT secret FROM webhook_subscriptions WHERE id = ${hook.ID}`.execute(h.store.db);
      assert.match(stored!.secret, /^sealed:v1:/);
      assert.ok(!stored!.secret.includes(hook.Secret.slice(6)));
      await client.post('/acd/events/create', callback(groupId));
      // Without the key (the suite's app has none): no request, the reason in the log, still pending.
      // (Deliveries other tests left pending may come due in the same passes: they go elsewhere.)
      assert.ok(await app.webhooks.runPass() >= 1);
      assert.equal(own.received.length, 0);
      const [d] = (await client.get(`${client.base}/webhooks/webhook/${hook.ID}/deliveries`)).json().records;
      assert.match(d.LastError, /SWITCHBOARD_WEBHOOKS_SECRET_KEY/);
      clock.advance(SCHEDULE[0]!);
      assert.ok(await sealedApp.webhooks.runPass() >= 1);
      assert.equal(own.received.length, 1);
      new Webhook(hook.Secret).verify(own.received[0]!.body, headersOf(own.received[0]!));
    } finally {
      await own.close();
      await sealedApp.close();
    }
  });
});
