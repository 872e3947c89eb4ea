// Operations: persistence across restarts, migrations, CLI, server start/stop, OpenAPI, limits,
// and what a failing store looks like from outside.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createClient } from '../src/modules/clients/service.ts';
import { startServer } from '../src/server.ts';
import { loadConfig } from '../src/config.ts';
import { sql } from 'kysely';
import { describeStores, freshPostgresDatabase, storeKinds } from './helper.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

describe('persistence across restarts', () => {
  for (const kind of storeKinds()) {
    it(`keeps every record when reopened [${kind}]`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sb-persist-'));
      const pgdb = kind === 'postgres' ? await freshPostgresDatabase() : undefined;
      const options = pgdb ? { databaseUrl: pgdb.url } : { dataDir: dir };
      try {
        const first = await openStore(options);
        const { ClientsID } = await createClient(first.db, { Name: 'Persistent', TimeZone: 'Europe/Vienna' });
        await first.close();
        const second = await openStore(options);
        const row = await second.db.selectFrom('clients').selectAll().where('id', '=', ClientsID).executeTakeFirst();
        assert.equal(row?.name, 'Persistent');
        assert.equal(row?.time_zone, 'Europe/Vienna');
        assert.deepEqual(await migrateToLatest(second.db), [], 'a second migration run applies nothing');
        await second.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await pgdb?.drop();
      }
    });
  }
});

describe('CLI', () => {
  it('creates a client and rotates its token on the embedded store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
    const env = { ...process.env, SWITCHBOARD_DATA_DIR: dir, DATABASE_URL: '' };
    try {
      const created = spawnSync(process.execPath, [CLI, 'clients', 'create', '--name', 'Cli client'], { env, encoding: 'utf8' });
      assert.equal(created.status, 0, created.stderr);
      const id = /ClientsID (\d+)/.exec(created.stdout)?.[1];
      const token = /Token (\S+)/.exec(created.stdout)?.[1];
      assert.ok(id && token);
      const rotated = spawnSync(process.execPath, [CLI, 'clients', 'token', id], { env, encoding: 'utf8' });
      assert.equal(rotated.status, 0, rotated.stderr);
      assert.notEqual(/Token (\S+)/.exec(rotated.stdout)?.[1], token);
      const missing = spawnSync(process.execPath, [CLI, 'clients', 'token', '999'], { env, encoding: 'utf8' });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /Client not found/);
      const migrate = spawnSync(process.execPath, [CLI, 'migrate'], { env, encoding: 'utf8' });
      assert.equal(migrate.status, 0, migrate.stderr);
      assert.match(migrate.stdout, /up to date/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves with the demo, prints working curls, offers the demo events to the demo agents, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-serve-'));
    const child = spawn(process.execPath, [CLI, 'serve', '--demo'], {
      env: { ...process.env, SWITCHBOARD_DATA_DIR: dir, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SWITCHBOARD_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (/curl .*agents\/me\/events\n[\s\S]*curl .*agents\/me\/events\n/.test(out)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
      });
      assert.match(out, /Admin token: +sba_/);
      const curl = /curl -s -H "Authorization: Bearer (\S+)" (\S+)/.exec(out);
      assert.ok(curl, out);
      const res = await fetch(curl[2], { headers: { authorization: `Bearer ${curl[1]}` } });
      assert.equal(res.status, 200);
      const body = await res.json() as { count: number; records: unknown[] };
      assert.ok(body.count >= 5);
      assert.equal(body.records.length, body.count);
      assert.match(curl[2], /\/rest\/v1\.0\/1\/acd\/events$/, 'the demo client is ClientsID 1');
      // The two demo agents are logged in: the running engine offers them the demo events.
      const inboxes = [...out.matchAll(/curl -s -H "Authorization: Bearer (\S+)" (\S+\/agents\/me\/events)/g)];
      assert.equal(inboxes.length, 2, out);
      for (const [, token, url] of inboxes) {
        let offers: { AcdEventStatusID: number }[] = [];
        for (let i = 0; i < 50 && offers.length === 0; i++) {
          const inbox = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
          assert.equal(inbox.status, 200);
          offers = ((await inbox.json()) as { records: { AcdEventStatusID: number }[] }).records;
          if (offers.length === 0) await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(offers.some((o) => o.AcdEventStatusID === 10), `an offer reached ${url}`);
      }
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeStores('HTTP operations', (h) => {
  it('serves the OpenAPI 3.1 document and Swagger UI', async () => {
    const doc = await h.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(doc.statusCode, 200);
    assert.equal(doc.json().openapi, '3.1.0');
    assert.ok(doc.json().paths['/rest/v1.0/{ClientsID}/acd/events/types']);
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(ui.statusCode, 200);
  });

  it('echoes a request id', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
  });
});

describe('graceful shutdown', () => {
  it('lets a list in flight finish, then closes the store', async () => {
    const running = await startServer(
      { ...loadConfig({}), port: 0, host: '127.0.0.1', dataDir: 'memory://', databaseUrl: undefined, logLevel: 'silent' },
      { out: () => undefined },
    );
    const { ClientsID, Token } = await createClient(running.store.db, { Name: 'Shutdown' });
    const group = await running.store.db.insertInto('acd_groups').values({ client_id: ClientsID, name: 'G' }).returning('id').executeTakeFirstOrThrow();
    await sql`
      INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, sender, subject, event_data)
      SELECT ${ClientsID}, 5, 1, ${group.id}, ${group.id}, 's' || i, repeat('subject ', 40) || i, '<eventData/>'
      FROM generate_series(1, 5000) AS i`.execute(running.store.db);
    const res = await fetch(`${running.url.replace('localhost', '127.0.0.1')}/rest/v1.0/${ClientsID}/acd/events`, { headers: { authorization: `Bearer ${Token}` } });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    const stopped = running.stop(); // SIGTERM does exactly this
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
    await stopped;
    assert.equal(JSON.parse(text).count, 5000, 'the answer in flight was completed');
    await assert.rejects(sql`SELECT 1`.execute(running.store.db), 'the store is closed');
  });
});

describe('logs', () => {
  it('writes JSON lines with the request id', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => { lines.push(line); } };
    const store = await openStore({ dataDir: 'memory://' });
    const app = await build({ store, logger: { level: 'info', stream } });
    try {
      // /health and /ready log at debug (test/metrics.test.ts); any API request logs at info.
      await app.inject({ method: 'GET', url: '/docs/json', headers: { 'x-request-id': 'trace-42' } });
      const entries = lines.map((line) => JSON.parse(line) as { reqId?: string; msg?: string; res?: { statusCode: number } });
      const done = entries.find((e) => e.reqId === 'trace-42' && e.msg === 'request completed');
      assert.ok(done, lines.join(''));
      assert.equal(done.res?.statusCode, 200);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('limits and failures', () => {
  it('answers a body over the limit with 413 JSON', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const app = await build({ store, bodyLimit: 1024 });
    try {
      const { ClientsID, Token } = await createClient(store.db, { Name: 'Limits' });
      const res = await app.inject({
        method: 'POST', url: `/rest/v1.0/${ClientsID}/acd/events/create`,
        headers: { authorization: `Bearer ${Token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ Subject: 'x'.repeat(5000) }),
      });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().status, 413);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('a failing store gives 500/503 bodies without stack traces or SQL', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    const app = await build({ store });
    // A fault inside the server whose message carries SQL and a stack.
    app.get('/fails', async () => {
      await sql`SELECT no_such_column FROM clients`.execute(store.db);
    });
    try {
      const { ClientsID, Token } = await createClient(store.db, { Name: 'Failing' });
      const fault = await app.inject({ method: 'GET', url: '/fails' });
      assert.equal(fault.statusCode, 500);
      assert.deepEqual(fault.json(), { status: 500, error: 'Internal server error' });
      await store.close();
      // A store that is gone is "try again later", not a fault of the request.
      const res = await app.inject({ method: 'GET', url: `/rest/v1.0/${ClientsID}/acd/events`, headers: { authorization: `Bearer ${Token}` } });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 503, error: 'Store not reachable' });
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503);
    } finally {
      await app.close();
    }
  });
});
