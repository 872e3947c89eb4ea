// A transaction's BEGIN rides with its first statement (src/db/leading-begin.ts): one exchange
// with PostgreSQL fewer per transaction, and a transaction exactly as before — its first
// statement inside it, rolled back with it, its isolation level kept, its errors the caller's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { preparingClient, StatementRegistry } from '../src/db/prepared.ts';
import { freshPostgresDatabase, storeKinds } from './helper.ts';

if (storeKinds().includes('postgres')) {
  describe('BEGIN sent with the transaction\'s first statement [postgres]', () => {
    let database: { url: string; drop(): Promise<void> };
    let pool: pg.Pool;
    let db: Kysely<any>;
    /** Exchanges (ReadyForQuery answers) on the pool's one connection. */
    let exchanges = 0;
    const rows = async () => (await sql<{ n: number }>`SELECT n FROM led ORDER BY n`.execute(db)).rows.map((r) => r.n);

    before(async () => {
      database = await freshPostgresDatabase('sb_lead');
      pool = new pg.Pool({ connectionString: database.url, max: 1, Client: preparingClient(new StatementRegistry()) });
      pool.on('connect', (client) => (client as unknown as { connection: pg.Connection }).connection.on('readyForQuery', () => exchanges++));
      db = new Kysely({ dialect: new PostgresDialect({ pool }) });
      await sql`CREATE TABLE led (n integer PRIMARY KEY)`.execute(db);
      // The connection's first transaction parses its BEGIN; later ones can hold it back.
      await db.transaction().execute((trx) => sql`SELECT ${1}::int`.execute(trx));
    });
    after(async () => {
      await db.destroy();
      await database.drop();
    });

    it('a transaction of one statement is two exchanges, and it commits', async () => {
      exchanges = 0;
      await db.transaction().execute((trx) => trx.insertInto('led').values({ n: 1 }).execute());
      assert.equal(exchanges, 2, 'BEGIN with the insert, then COMMIT');
      assert.deepEqual(await rows(), [1]);
      exchanges = 0;
      await db.transaction().execute((trx) => sql`DELETE FROM led`.execute(trx)); // no parameters: unnamed, led all the same
      assert.equal(exchanges, 2);
      assert.deepEqual(await rows(), []);
    });

    it('the first statement is inside the transaction: a rollback undoes it', async () => {
      await assert.rejects(db.transaction().execute(async (trx) => {
        await trx.insertInto('led').values({ n: 2 }).execute();
        assert.equal((await sql<{ open: boolean }>`SELECT now() = statement_timestamp() AS open`.execute(trx)).rows[0]!.open, false,
          'the transaction began before this statement');
        throw new Error('changed my mind');
      }), /changed my mind/);
      assert.deepEqual(await rows(), []);
    });

    it('a transaction without statements sends nothing', async () => {
      exchanges = 0;
      assert.equal(await db.transaction().execute(async () => 'nothing'), 'nothing');
      await assert.rejects(db.transaction().execute(async () => {
        throw new Error('before any statement');
      }));
      assert.equal(exchanges, 0);
    });

    it('keeps the isolation level the transaction asked for', async () => {
      const serializable = () => db.transaction().setIsolationLevel('serializable')
        .execute(async (trx) => (await sql<{ transaction_isolation: string }>`SHOW transaction_isolation`.execute(trx)).rows[0]!.transaction_isolation);
      assert.equal(await serializable(), 'serializable', 'the first time, sent on its own to be parsed');
      exchanges = 0;
      assert.equal(await serializable(), 'serializable', 'then held back');
      assert.equal(exchanges, 2);
      const plain = await db.transaction()
        .execute(async (trx) => (await sql<{ transaction_isolation: string }>`SHOW transaction_isolation`.execute(trx)).rows[0]!.transaction_isolation);
      assert.equal(plain, 'read committed');
    });

    it('an error of the first statement is the caller\'s; the transaction rolls back and the connection goes on', async () => {
      await db.insertInto('led').values({ n: 3 }).execute();
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('led').values({ n: 3 }).execute();
          await trx.insertInto('led').values({ n: 4 }).execute();
        }),
        (error: { code?: string }) => error.code === '23505',
      );
      assert.deepEqual(await rows(), [3]);
      await db.transaction().execute((trx) => trx.insertInto('led').values({ n: 4 }).execute());
      assert.deepEqual(await rows(), [3, 4]);
      await sql`DELETE FROM led`.execute(db);
    });

    it('a session that lost its statements fails at most one transaction, then parses BEGIN again', async () => {
      await sql`DEALLOCATE ALL`.execute(db);
      await db.transaction().execute((trx) => trx.insertInto('led').values({ n: 5 }).execute()).catch(() => undefined);
      await db.transaction().execute((trx) => trx.insertInto('led').values({ n: 6 }).execute());
      exchanges = 0;
      await db.transaction().execute((trx) => trx.insertInto('led').values({ n: 7 }).execute());
      assert.equal(exchanges, 2, 'held back again');
      assert.ok((await rows()).includes(7));
      await sql`DELETE FROM led`.execute(db);
    });

    it('a COPY as the first statement runs after BEGIN, inside the transaction', async () => {
      const client = await pool.connect();
      try {
        await client.query('begin'); // as Kysely sends it: parsed on this connection, so held back
        await pipeline(Readable.from(['8\n9\n']), client.query(copyFrom('COPY led (n) FROM STDIN')));
        const inside = await client.query('SELECT count(*)::int AS n FROM led');
        assert.equal(inside.rows[0].n, 2);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      assert.deepEqual(await rows(), [], 'rolled back with the transaction');
    });
  });
}
