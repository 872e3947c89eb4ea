// Losing the PostgreSQL connection: which errors mean "the database is away" (a 503, not a 500),
// and the store's connections living through a loss — a client checked out in a transaction, the
// COPY list path, connecting to a server that never answers, and a listening connection that
// went silent — without an uncaught error that would end the process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { copyBatch, CopyOutQuery } from '../src/db/copy-out.ts';
import { isConnectionLoss } from '../src/db/errors.ts';
import { isReachable, openStore, type Store } from '../src/db/store.ts';
import { toWire } from '../src/http/error-handler.ts';
import { freshPostgresDatabase, storeKinds } from './helper.ts';
import { TcpProxy } from './faults/tcp-proxy.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

/** `promise`, or a rejection saying it was still pending after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('isConnectionLoss', () => {
  it('recognises what pg, pg-pool, Kysely and the socket say about a lost or refused connection', () => {
    const lost = [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('connect ETIMEDOUT', 'ETIMEDOUT'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('terminating connection because of crash of another server process', '57P02'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')]),
      new Error('wrapped', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
    ];
    for (const error of lost) assert.equal(isConnectionLoss(error), true, error.message);
  });

  it('leaves the statement’s own errors and anything else alone', () => {
    const others = [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('relation "x" does not exist', '42P01'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('deadlock detected', '40P01'),
      new Error('Internal'),
      new TypeError('x is undefined'),
      null,
      'ECONNRESET',
    ];
    for (const error of others) assert.equal(isConnectionLoss(error), false, String((error as Error | null)?.message ?? error));
  });

  it('answers 503 {status, error} for a lost connection, 500 for anything else unknown', () => {
    const lost = toWire(withCode('terminating connection due to administrator command', '57P01'));
    assert.deepEqual({ status: lost.status, body: lost.body }, { status: 503, body: { status: 503, error: 'Store not reachable' } });
    assert.equal(toWire(withCode('deadlock detected', '40P01')).status, 500);
  });
});

describe('CopyOutQuery', () => {
  it('settles as soon as pg hands it an error (no ReadyForQuery follows one)', async () => {
    const copy = new CopyOutQuery('COPY (SELECT 1) TO STDOUT', () => undefined, () => 'finished');
    copy.handleError(new Error('Connection terminated unexpectedly'));
    await assert.rejects(within(copy.done, 500), /Connection terminated unexpectedly/);
  });
});

// Connections and a pool exist only on PostgreSQL.
if (storeKinds().includes('postgres')) describe('PostgreSQL connections lost while in use', () => {
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let admin: pg.Client;
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);

  before(async () => {
    database = await freshPostgresDatabase('sb_loss');
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    // A pg 'error' event nobody listens to would land here (and end a server process).
    process.on('uncaughtException', record);
  });

  after(async () => {
    process.off('uncaughtException', record);
    await admin.end();
    await database.drop();
  });

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('a client checked out in a transaction loses its backend: the transaction fails as a connection loss, nothing uncaught', async () => {
    const store = await openStore({ databaseUrl: database.url, migrate: false });
    try {
      const failed = store.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        await terminate(rows[0]!.pid);
        await sleep(200); // the server's goodbye arrives while the client is idle in the transaction
        await sql`SELECT 1`.execute(trx);
      });
      await assert.rejects(failed, (error) => isConnectionLoss(error));
      assert.deepEqual(uncaught, []);
      assert.equal(await isReachable(store), true, 'the next statement gets a fresh connection');
    } finally {
      await store.close();
    }
  });

  it('a COPY list batch whose backend is terminated fails at once instead of waiting forever', async () => {
    const store = await openStore({ databaseUrl: database.url, migrate: false });
    try {
      const query = CompiledQuery.raw('SELECT x::text, x FROM generate_series(1, 3) x, pg_sleep(2) s', []);
      const copying = copyBatch(store.db, query);
      // Its failure may arrive before terminate() answers: handled from the start, judged below.
      const outcome = within(copying, 5000).then(() => undefined, (error: unknown) => error);
      const started = performance.now();
      let pid: number | undefined;
      while (pid === undefined && performance.now() - started < 1500) {
        const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (SELECT x::text%'`);
        pid = rows[0]?.pid;
        if (pid === undefined) await sleep(10);
      }
      assert.ok(pid, 'the COPY runs');
      await terminate(pid);
      const error = await outcome;
      assert.ok(isConnectionLoss(error), `the COPY failed as a connection loss: ${String(error)}`);
      assert.deepEqual(uncaught, []);
    } finally {
      await store.close();
    }
  });

  describe('behind a proxy that stops answering', () => {
    let proxy: TcpProxy;
    let store: Store;
    before(async () => {
      const target = new URL(database.url);
      proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
      store = await openStore({ databaseUrl: proxy.urlFor(database.url), migrate: false, connectTimeoutMs: 500 });
    });
    after(async () => {
      await proxy.close();
      await store.close();
    });

    it('a listening connection gone silent is noticed by its heartbeat, and comes back', async () => {
      store.onCredentialsChange(() => undefined);
      const up = performance.now();
      while (!store.notificationsLive()) {
        assert.ok(performance.now() - up < 3000, 'listening');
        await sleep(10);
      }
      proxy.freeze();
      const frozen = performance.now();
      while (store.notificationsLive()) {
        assert.ok(performance.now() - frozen < 3000, 'a silent connection is not trusted for long');
        await sleep(20);
      }
      const noticedMs = performance.now() - frozen;
      await proxy.restore();
      const restored = performance.now();
      while (!store.notificationsLive()) {
        assert.ok(performance.now() - restored < 5000, 'listening again');
        await sleep(20);
      }
      console.log(`silent LISTEN connection noticed after ${Math.round(noticedMs)} ms (connect timeout 500 ms), back ${Math.round(performance.now() - restored)} ms after the route`);
    });

    it('connecting to a server that never answers fails within the connect timeout, and /ready says so', async () => {
      await proxy.blackhole();
      const started = performance.now();
      await assert.rejects(within(sql`SELECT 1`.execute(store.db), 5000), (error) => isConnectionLoss(error));
      const ms = performance.now() - started;
      assert.ok(ms < 2000, `failed after ${Math.round(ms)} ms`);
      assert.equal(await within(isReachable(store), 10_000), false);
      await proxy.restore();
      assert.equal(await isReachable(store), true);
      assert.deepEqual(uncaught, []);
    });
  });
});
