// Issue 13, part 2: Idempotency-Key under concurrency and time. A key held by a running request
// answers 409 (a streamed import held open proves it on both stores); 100 identical requests at
// once, across two instances on PostgreSQL, have exactly one effect; a running key whose holder
// stopped renewing its lock is taken over, one that renews is not; keys expire after 24 h and are
// swept.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';
import { keyHash, requestHash } from '../src/modules/idempotency/fingerprint.ts';
import { idempotencyTiming, KEY_TTL_MS } from '../src/modules/idempotency/plugin.ts';
import { claimKey, deleteExpiredKeys } from '../src/modules/idempotency/repository.ts';
import { clientHandle, describeStores, type Harness, type TestClient } from './helper.ts';
import { callback, eventTenant } from './fixtures-events.ts';
import { createCampaign } from './fixtures-dialler.ts';

async function count(h: Harness, query: ReturnType<typeof sql<{ n: number }>>): Promise<number> {
  return (await query.execute(h.store.db)).rows[0]!.n;
}

const keysOf = (h: Harness, c: TestClient) => count(h, sql<{ n: number }>`SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = ${`client:${c.id}`}`);

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FILE = 'Name,PhoneNumber1\nAda,0301111\nBob,0302222\n';

/** A bulk import whose file arrives when `finish()` is called: the request holds its key until then. */
function heldImport(c: TestClient, url: string, key: string) {
  const body = new PassThrough();
  const answer = c.request('POST', url, body, { 'content-type': 'text/csv', 'content-length': String(FILE.length), 'idempotency-key': key });
  body.write(FILE.slice(0, 10));
  return { answer, finish: () => body.end(FILE.slice(10)) };
}

function importOf(c: TestClient, url: string, file: string, key: string): Promise<LightMyRequestResponse> {
  return c.request('POST', url, file, { 'content-type': 'text/csv', 'idempotency-key': key });
}

/** One effect out of many identical requests: one answer ran, the others replayed it or found it running. */
function assertOneRan(answers: LightMyRequestResponse[]): void {
  const ran = answers.filter((r) => r.statusCode === 200 && r.headers['idempotent-replayed'] === undefined);
  assert.equal(ran.length, 1, JSON.stringify(answers.map((r) => [r.statusCode, r.headers['idempotent-replayed']])));
  for (const r of answers) {
    if (r.statusCode === 200) assert.equal(r.body, ran[0]!.body);
    else assert.deepEqual([r.statusCode, r.headers['retry-after']], [409, '1'], r.body);
  }
}

describeStores('Idempotency-Key: races and time', (h) => {
  const eventsOf = (c: TestClient) => count(h, sql<{ n: number }>`SELECT count(*)::int AS n FROM acd_events WHERE client_id = ${c.id}`);

  it('a streamed import with a key: 409 while the first is still arriving, then its answer; another file with the key: 422', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Streamed');
    const url = `/dialler/contacts/import/bulk?diallerCampaignsID=${campaign.ID}`;
    const first = heldImport(c, url, 'file-1');
    await until('the first import to hold its key', async () => (await keysOf(h, c)) === 1);
    const meanwhile = await importOf(c, url, FILE, 'file-1');
    assert.deepEqual([meanwhile.statusCode, meanwhile.headers['retry-after']], [409, '1'], meanwhile.body);
    assert.ok(meanwhile.json().error.includes('Idempotency-Key'));
    first.finish();
    const done = await first.answer;
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().records[0].Imported, 2);

    const replay = await importOf(c, url, FILE, 'file-1');
    assert.deepEqual([replay.statusCode, replay.headers['idempotent-replayed'], replay.body], [200, 'true', done.body]);
    // The same length but other bytes (read to the end and hashed, never buffered), or another length: 422.
    assert.equal((await importOf(c, url, FILE.replace('Ada', 'Eve'), 'file-1')).statusCode, 422);
    assert.equal((await importOf(c, url, `${FILE}Cy,0303333\n`, 'file-1')).statusCode, 422);
    assert.equal((await importOf(c, `${url}&overwriteDuplicates=true`, FILE, 'file-1')).statusCode, 422);
    // Chunked, without a declared length: read up to the first file's length at most.
    const chunked = (file: string) => c.request('POST', url, Readable.from([file.slice(0, 7), file.slice(7)]),
      { 'content-type': 'text/csv', 'transfer-encoding': 'chunked', 'idempotency-key': 'file-1' });
    assert.equal((await chunked(FILE)).headers['idempotent-replayed'], 'true');
    assert.equal((await chunked(`${FILE}${'Cy,0303333\n'.repeat(1000)}`)).statusCode, 422);
    assert.equal((await c.get(`/dialler/contacts?diallerCampaignsID=${campaign.ID}`)).json().count, 2);
  });

  it('an import answered before its file was read to the end: the key replays nothing, since no later file can be shown to be that one', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Refused early');
    const url = `/dialler/contacts/import/bulk?diallerCampaignsID=${campaign.ID}`;
    // Over a real connection: a header the import refuses at once, and a file that goes on
    // arriving, so the answer goes out before the body has ended.
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as { port: number };
    const refused = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: `${c.base}${url}`,
        headers: { authorization: `Bearer ${c.token}`, 'content-type': 'text/csv', 'transfer-encoding': 'chunked', 'idempotency-key': 'early' },
      }, (res) => {
        resolve(res.statusCode!);
        res.resume();
        req.destroy();
      });
      req.on('error', () => undefined);
      req.write('NoSuchColumn,Name\nx,y\n');
      setTimeout(() => reject(new Error('no answer while the body was still arriving')), 5000).unref();
    });
    assert.equal(refused, 400);
    await until('the refusal to be kept', async () => (await count(h, sql<{ n: number }>`SELECT count(*)::int AS n FROM idempotency_keys
      WHERE scope = ${`client:${c.id}`} AND status IS NOT NULL`)) === 1);
    const { rows: [kept] } = await sql<{ body_hash: string | null }>`SELECT body_hash FROM idempotency_keys WHERE scope = ${`client:${c.id}`}`.execute(h.store.db);
    assert.equal(kept!.body_hash, null, 'the answer was kept before the body had all been read');
    for (const file of [FILE, 'NoSuchColumn,Name\nx,y\n']) {
      const again = await importOf(c, url, file, 'early');
      assert.equal(again.statusCode, 422, again.body);
      assert.equal(again.headers['idempotent-replayed'], undefined);
      assert.match(again.json().error, /^Idempotency-Key: .*read to its end/);
    }
    assert.equal((await c.get(`/dialler/contacts?diallerCampaignsID=${campaign.ID}`)).json().count, 0);
  });

  it('keeps renewing the lock of a request that runs longer than the lock: a retry meanwhile is 409, not a second run', async () => {
    const saved = { ...idempotencyTiming };
    idempotencyTiming.renewMs = 20;
    try {
      const c = await h.newClient();
      const campaign = await createCampaign(c, 'Long import');
      const url = `/dialler/contacts/import/bulk?diallerCampaignsID=${campaign.ID}`;
      const first = heldImport(c, url, 'long');
      await until('the first import to hold its key', async () => (await keysOf(h, c)) === 1);
      h.clock.advance(idempotencyTiming.lockMs * 3);
      const renewed = () => count(h, sql<{ n: number }>`SELECT count(*)::int AS n FROM idempotency_keys
        WHERE scope = ${`client:${c.id}`} AND locked_until > ${new Date(h.clock.now())}`);
      await until('the lock to be renewed', async () => (await renewed()) === 1);
      assert.equal((await importOf(c, url, FILE, 'long')).statusCode, 409);
      first.finish();
      assert.equal((await first.answer).statusCode, 200);
    } finally {
      Object.assign(idempotencyTiming, saved);
    }
  });

  it('takes over a running key whose holder stopped renewing its lock (its process died), and not before', async () => {
    const t = await eventTenant(h);
    const url = `${t.client.base}/acd/events/create`;
    const scope = `client:${t.client.id}`;
    const now = h.clock.now();
    // What an instance killed while answering this request leaves behind.
    const dead = {
      scope, keyHash: keyHash(scope, 'orphan'), claim: randomUUID(), bodyHash: null, bodyLength: null,
      requestHash: requestHash({ method: 'POST', url, headers: { 'content-type': 'application/json' } } as unknown as IncomingMessage),
    };
    assert.equal(await claimKey(h.store.db, dead, new Date(now), new Date(now + idempotencyTiming.lockMs), new Date(now + KEY_TTL_MS)), true);
    const send = () => t.client.request('POST', '/acd/events/create', callback(t.groupId), { 'idempotency-key': 'orphan' });
    assert.equal((await send()).statusCode, 409);
    h.clock.advance(idempotencyTiming.lockMs);
    const ran = await send();
    assert.deepEqual([ran.statusCode, ran.headers['idempotent-replayed']], [200, undefined], ran.body);
    assert.equal((await send()).headers['idempotent-replayed'], 'true');
    assert.equal(await eventsOf(t.client), 1);
  });

  it('frees a key after 24 h; the sweep deletes expired keys, and runs on the instance that runs the sweeps', async () => {
    const t = await eventTenant(h);
    const send = (Subject: string) => t.client.request('POST', '/acd/events/create', callback(t.groupId, { Subject }), { 'idempotency-key': 'daily' });
    assert.equal((await send('Monday')).statusCode, 200);
    h.clock.advance(KEY_TTL_MS - 1);
    assert.equal((await send('Tuesday')).statusCode, 422);
    h.clock.advance(1);
    const tuesday = await send('Tuesday');
    assert.deepEqual([tuesday.statusCode, tuesday.headers['idempotent-replayed']], [200, undefined]);
    assert.equal(await eventsOf(t.client), 2);

    assert.equal(await keysOf(h, t.client), 1);
    await deleteExpiredKeys(h.store.db, new Date(h.clock.now() + KEY_TTL_MS - 1));
    assert.equal(await keysOf(h, t.client), 1);
    assert.ok((await deleteExpiredKeys(h.store.db, new Date(h.clock.now() + KEY_TTL_MS))) >= 1);
    assert.equal(await keysOf(h, t.client), 0);

    // The timer: an instance that runs the background sweeps deletes the expired keys on its own.
    assert.equal((await send('Wednesday')).statusCode, 200);
    h.clock.advance(KEY_TTL_MS);
    const saved = { ...idempotencyTiming };
    idempotencyTiming.sweepMs = 20;
    const sweeper = await build({ store: h.store, clock: h.clock, distribute: true });
    try {
      await sweeper.ready();
      await until('the sweep', async () => (await keysOf(h, t.client)) === 0);
    } finally {
      Object.assign(idempotencyTiming, saved);
      await sweeper.close();
    }
  });

  it('100 identical requests at once (across two instances on PostgreSQL) create one event', async () => {
    const t = await eventTenant(h);
    let other: Awaited<ReturnType<typeof openStore>> | undefined;
    let second: FastifyInstance | undefined;
    try {
      let onSecond = t.client;
      if (h.kind === 'postgres') {
        const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${rows[0]!.db}`;
        other = await openStore({ databaseUrl: url.toString(), poolSize: 4, migrate: false });
        second = await build({ store: other, clock: h.clock });
        await second.ready();
        onSecond = clientHandle(second, t.client.id, t.client.token);
      }
      const body = callback(t.groupId);
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? onSecond : t.client).request('POST', '/acd/events/create', body, { 'idempotency-key': 'burst' })));
      assertOneRan(answers);
      assert.equal(await eventsOf(t.client), 1);
      // Once the first has answered, every instance replays it.
      for (const c of [t.client, onSecond]) assert.equal((await c.request('POST', '/acd/events/create', body, { 'idempotency-key': 'burst' })).headers['idempotent-replayed'], 'true');
    } finally {
      await second?.close();
      await other?.close();
    }
  });
});
