// Database faults against a real `switchboard serve` process on a fresh PostgreSQL database: its
// backends terminated (idle, and under create load) and the database made unreachable through a
// proxy and brought back. The process must live through all of it, answer 503 `{status, error}`
// promptly while the database is away, and recover by itself: LISTEN back, the engine serving,
// what another instance created meanwhile distributed, nothing acknowledged lost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rotateClientToken } from '../../src/modules/clients/service.ts';
import { clientHandle } from '../helper.ts';
import { ask, eventBody, serve as serveProcess, serverEnv, stop as stopServer, type Served } from './process-support.ts';
import { TcpProxy } from './tcp-proxy.ts';
import {
  assertUnavailable, finish, freshDatabase, isOffered, otherInstance, sleep, tenant, terminateServerBackends, waitFor,
  type Database, type OtherInstance, type Tenant,
} from './database-fixtures.ts';

const ADMIN = 'sba_fault_admin_token_0123456789';

function assertAlive(server: Served, when: string): void {
  assert.equal(server.exit(), null, `the server process ended ${when}: ${JSON.stringify(server.exit())}\n${server.err.slice(-2000)}`);
}

const ready = async (server: Served) => (await ask(server.url, 'GET', '/ready', undefined, undefined, 5000)).status === 200;

/** Events another instance creates in the staffed group are offered by the server's engine: its LISTEN works. */
async function offersWithin(db: Database, t: Tenant, rounds: number, boundMs: number, log: (line: string) => void): Promise<void> {
  // The first may have to wait for the listening connection to come back (a second after a loss).
  const first = await t.client.post('/acd/events/create', eventBody(t.staffed, `warmup${Date.now()}`));
  assert.equal(first.statusCode, 200, first.body);
  await waitFor('the first event offered', () => isOffered(db, first.json().records[0].ID), 15_000);
  await finish(db, t, first.json().records[0].ID);
  const latencies: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const res = await t.client.post('/acd/events/create', eventBody(t.staffed, `round${i}-${Date.now()}`));
    assert.equal(res.statusCode, 200, res.body);
    const id = res.json().records[0].ID;
    latencies.push(Math.round(await waitFor(`event ${id} offered`, () => isOffered(db, id), 10_000, 5)));
    await finish(db, t, id);
    // A create right after a done can lose its wake-up to the engine's pass (issue 11, item 7,
    // another test's subject): apart, each create's own notification is what must wake it.
    await sleep(200);
  }
  log(`events created by the other instance offered by the server after ${latencies.join(', ')} ms (bound ${boundMs} ms; the backup sweep alone takes up to 2000)`);
  assert.ok(latencies.every((ms) => ms < boundMs), `each offered within ${boundMs} ms: the notification was heard, not the sweep`);
}

describe('database faults: PostgreSQL connections lost', () => {
  let db: Database;
  let other: OtherInstance;
  let t: Tenant;
  let server: Served | undefined;
  let proxy: TcpProxy | undefined;
  const started: Served[] = [];
  const serve = async (env: Record<string, string>) => {
    server = await serveProcess(serverEnv({ LOG_LEVEL: 'fatal', SWITCHBOARD_ADMIN_TOKEN: ADMIN, ...env }));
    started.push(server);
    return server;
  };

  before(async () => {
    db = await freshDatabase();
    other = await otherInstance(db.url);
    t = await tenant(other, 3);
  });

  after(async () => {
    // Every process started, also one a failed case left running.
    for (const each of started) await stopServer(each, 'SIGTERM', 10_000);
    await proxy?.close();
    await other?.close();
    await db?.drop();
  });

  it('backends terminated again and again while idle: the process lives, recovers, and hears other instances again', async (c) => {
    server = await serve({ DATABASE_URL: db.serverUrl });
    await waitFor('/ready', () => ready(server!), 10_000);
    const warm = await ask(server.url, 'GET', `${t.client.base}/acd/events`, t.client.token);
    assert.equal(warm.status, 200, JSON.stringify(warm.body));
    await sleep(500);

    // A storm of terminations: every connection the server opens (pool, engine, LISTEN) dies
    // within milliseconds, whatever it is doing, for longer than a few engine sweeps.
    let killed = 0;
    let rounds = 0;
    const until = Date.now() + 6000;
    const revoked = t.client.token;
    let rotated = false;
    while (Date.now() < until) {
      killed += await terminateServerBackends(db);
      rounds++;
      // Another instance revokes the client token while this one cannot hear it.
      if (!rotated && rounds === 20) {
        t.client = clientHandle(other.app, t.client.id, (await rotateClientToken(other.store.db, t.client.id)).Token);
        rotated = true;
      }
      await sleep(25);
    }
    c.diagnostic(`terminated ${killed} backends of the server in ${rounds} rounds over 6 s`);
    assert.ok(killed >= 3, 'the server had backends to lose');
    assertAlive(server, 'after its backends were terminated');

    const readyMs = await waitFor('/ready back to 200', () => ready(server!), 15_000);
    c.diagnostic(`/ready back to 200 ${Math.round(readyMs)} ms after the last termination`);

    // The revocation it could not hear is honoured: the cache forgot everything when LISTEN dropped.
    const old = await ask(server.url, 'GET', `${t.client.base}/acd/events`, revoked);
    assert.equal(old.status, 401, `the revoked token is refused: ${old.status}`);
    const created = await ask(server.url, 'POST', `${t.client.base}/acd/events/create`, t.client.token, eventBody(t.unstaffed, `idle${Date.now()}`));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const { rows } = await db.admin.query('SELECT id FROM acd_events WHERE id = $1', [created.body.records[0].ID]);
    assert.equal(rows.length, 1, 'the create is in the database');
    c.diagnostic('revoked token refused, new token accepted, a create stored');

    await offersWithin(db, t, 5, 500, (line) => c.diagnostic(line));
    assertAlive(server, 'at the end');
    await stopServer(server, 'SIGTERM', 10_000);
  });

  it('backends terminated repeatedly under create load: every acknowledged create stored and equal, failures 503', async (c) => {
    server = await serve({ DATABASE_URL: db.serverUrl });
    await waitFor('/ready', () => ready(server!), 10_000);
    const base = server.url;
    const acknowledged: { body: Record<string, unknown>; record: Record<string, unknown> }[] = [];
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const times: number[] = [];
    let stop = false;
    let seq = 0;
    const worker = async () => {
      while (!stop) {
        const body = eventBody(t.unstaffed, `load${process.pid}-${++seq}`);
        const answer = await ask(base, 'POST', `${t.client.base}/acd/events/create`, t.client.token, body, 10_000);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        times.push(answer.ms);
        if (answer.status === 200) acknowledged.push({ body, record: answer.body.records[0] });
        else if (answer.status !== 503 || answer.body?.status !== 503 || typeof answer.body?.error !== 'string') failures.push(`${answer.status} ${JSON.stringify(answer.body)} after ${Math.round(answer.ms)} ms`);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    let killed = 0;
    let rounds = 0;
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      await sleep(150 + Math.random() * 350);
      killed += await terminateServerBackends(db);
      rounds++;
    }
    stop = true;
    await Promise.all(workers);
    times.sort((x, y) => x - y);
    c.diagnostic(`${rounds} rounds of termination, ${killed} backends; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}, ` +
      `median ${Math.round(times[times.length >> 1]!)} ms, slowest ${Math.round(times[times.length - 1]!)} ms`);
    assertAlive(server, 'under load with its backends terminated');
    assert.deepEqual(failures, [], 'every failure is a 503 {status, error}, none a 500 or no answer');
    assert.ok(acknowledged.length > 0, 'creates succeeded between the terminations');

    const senders = acknowledged.map((a) => a.body.Sender as string);
    const { rows } = await db.admin.query<{ id: number; sender: string; n: number }>(
      `SELECT min(e.id)::int AS id, e.sender, count(*)::int AS n FROM acd_events e WHERE e.sender = ANY($1) GROUP BY e.sender`, [senders],
    );
    assert.equal(rows.length, acknowledged.length, 'every acknowledged create is in the database');
    assert.ok(rows.every((r) => r.n === 1), 'none of them twice');
    await waitFor('/ready', () => ready(server!), 15_000);
    for (const { body, record } of acknowledged) {
      const read = await ask(base, 'GET', `${t.client.base}/acd/events/event/${record.ID}`, t.client.token);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      const stored = read.body.records[0];
      for (const field of [...Object.keys(body), 'ID', 'dtCreated']) assert.deepEqual(stored[field], record[field], `event ${record.ID} ${field}`);
    }
    c.diagnostic(`all ${acknowledged.length} acknowledged creates stored once, equal to what was answered`);
    assertAlive(server, 'at the end');
    await stopServer(server, 'SIGTERM', 10_000);
  });

  it('the database unreachable and back: 503 within 5 s, /ready 503, then recovery without a restart', async (c) => {
    const target = new URL(db.serverUrl);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    server = await serve({ DATABASE_URL: proxy.urlFor(db.serverUrl), SWITCHBOARD_DB_CONNECT_TIMEOUT_MS: '2000' });
    await waitFor('/ready', () => ready(server!), 10_000);
    const token = t.client.token;
    const api = (method: string, path: string, body?: unknown) => ask(server!.url, method, `${t.client.base}${path}`, token, body, 15_000);
    assert.equal((await api('GET', '/acd/events')).status, 200);

    const whileDown = async (how: string) => {
      const answers = [
        ['/ready', await ask(server!.url, 'GET', '/ready', undefined, undefined, 15_000)],
        ['a list', await api('GET', '/acd/events')],
        ['a create', await api('POST', '/acd/events/create', eventBody(t.unstaffed, `down${Date.now()}`))],
        ['an event', await api('GET', '/acd/events/event/1')],
      ] as const;
      assertAlive(server!, `with the database ${how}`);
      for (const [what, answer] of answers) {
        assertUnavailable(answer, `${what} (${how})`);
        assert.ok(answer.ms < 5000, `${what} (${how}) answered within 5 s, took ${Math.round(answer.ms)} ms`);
      }
      c.diagnostic(`${how}: ${answers.map(([what, a]) => `${what} 503 in ${Math.round(a.ms)} ms`).join(', ')}`);
    };

    // Refused: the server went away (every connection reset, new ones refused).
    await proxy.refuse();
    await whileDown('connections reset and refused');
    // Meanwhile another instance, which still reaches the database, takes calls in.
    const meanwhile: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.client.post('/acd/events/create', eventBody(t.staffed, `meanwhile${i}-${Date.now()}`));
      assert.equal(res.statusCode, 200, res.body);
      meanwhile.push(res.json().records[0].ID);
    }
    // Swallowed: connections are accepted and never answered (a network that drops packets).
    await proxy.blackhole();
    await whileDown('connections swallowed');
    await sleep(1000);
    assertAlive(server, 'while the database was unreachable');

    await proxy.restore();
    const readyMs = await waitFor('/ready back to 200', () => ready(server!), 20_000);
    c.diagnostic(`/ready back to 200 ${Math.round(readyMs)} ms after the database came back`);
    const offeredMs = await waitFor('the events created meanwhile offered', async () => {
      for (const id of meanwhile) if (!(await isOffered(db, id))) return false;
      return true;
    }, 15_000);
    c.diagnostic(`the ${meanwhile.length} events another instance created during the outage offered ${Math.round(offeredMs + readyMs)} ms after it ended`);
    for (const id of meanwhile) await finish(db, t, id);
    const created = await api('POST', '/acd/events/create', eventBody(t.unstaffed, `after${Date.now()}`));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await offersWithin(db, t, 3, 500, (line) => c.diagnostic(line));
    assertAlive(server, 'at the end');
  });
});
