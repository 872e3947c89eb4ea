// Configuration from the environment, and the PostgreSQL pool settings reaching the pool: a
// connection outlives a quiet spell by default, and goes once its idle time is up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/db/store.ts';
import { freshPostgresDatabase, storeKinds } from './helper.ts';

describe('loadConfig', () => {
  it('has a default for everything but the database and the admin token', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.dataDir, './data');
    assert.equal(c.adminToken, undefined);
    assert.equal(c.bodyLimit, 2 * 1024 * 1024);
    assert.equal(c.shutdownGraceMs, 10_000);
    assert.equal(c.databasePoolSize, 10);
    assert.equal(c.databasePoolIdleMs, 300_000);
  });

  it('reads the pool settings', () => {
    const c = loadConfig({ SWITCHBOARD_DB_POOL_SIZE: '25', SWITCHBOARD_DB_POOL_IDLE_MS: '0' });
    assert.equal(c.databasePoolSize, 25);
    assert.equal(c.databasePoolIdleMs, 0);
  });

  it('names the variable and the value it refuses', () => {
    assert.throws(() => loadConfig({ SWITCHBOARD_DB_POOL_SIZE: '0' }), /SWITCHBOARD_DB_POOL_SIZE must be at least 1/);
    assert.throws(() => loadConfig({ SWITCHBOARD_DB_POOL_SIZE: 'ten' }), /SWITCHBOARD_DB_POOL_SIZE must be a non-negative integer, got "ten"/);
    assert.throws(() => loadConfig({ SWITCHBOARD_DB_POOL_IDLE_MS: '-1' }), /SWITCHBOARD_DB_POOL_IDLE_MS must be a non-negative integer, got "-1"/);
    assert.throws(() => loadConfig({ PORT: '80.5' }), /PORT must be a non-negative integer, got "80.5"/);
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must be a postgres:\/\/ URL/);
  });
});

// PGlite has no pool: only where the suites run on PostgreSQL too.
if (storeKinds().includes('postgres')) describe('PostgreSQL pool idle time', () => {
  /** Backends connected to the store's database after one query and `waitMs` of quiet. */
  async function backendsAfterQuiet(poolIdleMs: number | undefined, waitMs: number): Promise<number> {
    const pgdb = await freshPostgresDatabase('sb_pool');
    const store = await openStore({ databaseUrl: pgdb.url, poolIdleMs });
    const observer = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await observer.connect();
    try {
      await sql`SELECT 1`.execute(store.db);
      await new Promise((r) => setTimeout(r, waitMs));
      const name = new URL(pgdb.url).pathname.slice(1);
      const { rows } = await observer.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      return rows[0].n;
    } finally {
      await observer.end();
      await store.close();
      await pgdb.drop();
    }
  }

  it('keeps an idle connection by default and closes it once a short idle time is up', async () => {
    assert.equal(await backendsAfterQuiet(undefined, 400), 1);
    assert.equal(await backendsAfterQuiet(100, 400), 0);
  });
});
