// The store's notifications beyond the triggers: announcements made by the application (an
// event's creation, src/db/store.ts) and statements built once per shape (src/db/shaped-statement.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { encodeNotice } from '../src/db/changes.ts';
import { ShapedStatement } from '../src/db/shaped-statement.ts';
import { joinPayloads, type Store } from '../src/db/store.ts';
import { describeStores, secondInstance } from './helper.ts';

describeStores('statements built once per shape', (h) => {
  const sum = new ShapedStatement<number[]>({
    shape: (xs) => String(xs.length),
    values: (xs) => [xs.length, ...xs],
    // value(0) twice: one value may stand in several places.
    build: (xs, value) => sql`SELECT ${value(0)}::int AS n, ${value(0)}::int + ${sql.join(xs.map((_, i) => sql`${value(i + 1)}::int`), sql` + `)} AS total`,
  });

  it('puts each call’s values in place, for any shape, and reuses the text', async () => {
    for (const xs of [[1], [1, 2, 3], [10, 20, 30], [5]]) {
      const query = sum.compile(h.store.db, xs);
      const { rows } = await h.store.db.executeQuery<{ n: number; total: number }>(query);
      assert.deepEqual(rows[0], { n: xs.length, total: xs.length + xs.reduce((a, b) => a + b, 0) });
    }
    assert.equal(sum.compile(h.store.db, [1, 2, 3]).sql, sum.compile(h.store.db, [7, 8, 9]).sql);
  });

  it('refuses a statement with a value not written as value(i)', () => {
    const inlined = new ShapedStatement<number>({ shape: () => 'x', values: (n) => [n], build: (n) => sql`SELECT ${n}::int` });
    assert.throws(() => inlined.compile(h.store.db, 3), /value\(i\)/);
  });
});

describeStores('announcements', (h) => {
  it('reach this process at once and another instance once each, many per NOTIFY', async () => {
    const heard: string[] = [];
    const off = h.store.onChange((p) => p !== '' && heard.push(p));
    let other: Store | undefined;
    const there: string[] = [];
    // A bare listener counts what PostgreSQL delivers: many announcements in one notification.
    let raw: pg.Client | undefined;
    const notifications: string[] = [];
    try {
      other = await secondInstance(h, (p) => p !== '' && there.push(p));
      if (other) {
        const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${rows[0]!.db}`;
        raw = new pg.Client({ connectionString: url.toString() });
        await raw.connect();
        raw.on('notification', (m) => notifications.push(m.payload ?? ''));
        await raw.query('LISTEN switchboard');
      }
      const notices = Array.from({ length: 40 }, (_, i) => ({ clientId: Number(`9${i}`), agentId: null, distribute: true }));
      const payloads = notices.map(encodeNotice);
      for (const notice of notices) h.store.announce(notice);
      assert.deepEqual(heard, payloads, 'this process hears every announcement as it is made');
      if (other) {
        const deadline = Date.now() + 2000;
        // Two connections hear the same NOTIFY independently: wait for both, not for the first.
        const rawLines = () => notifications.flatMap((n) => n.split('\n')).length;
        while ((there.length < payloads.length || rawLines() < payloads.length) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.deepEqual([...there].sort(), [...payloads].sort(), 'the other instance hears each one');
        assert.ok(notifications.length >= 1 && notifications.length <= 3, `40 announcements in ${notifications.length} notifications`);
        assert.deepEqual(notifications.flatMap((n) => n.split('\n')).sort(), [...payloads].sort());
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(heard.length, payloads.length, 'and this process does not hear its own NOTIFY again');
    } finally {
      off();
      await raw?.end();
      await other?.close();
    }
  });

  it('go out one per line, each notification under the size limit', () => {
    assert.deepEqual(joinPayloads(['1:2', '1:', '3:4:-']), ['1:2\n1:\n3:4:-']);
    assert.deepEqual(joinPayloads(['']), [''], 'an empty payload ("look") is kept');
    assert.deepEqual(joinPayloads([]), []);
    const many = Array.from({ length: 1000 }, (_, i) => `${1000 + i}:${i}:-`);
    const texts = joinPayloads(many, 100);
    assert.ok(texts.every((t) => Buffer.byteLength(t) <= 100), 'each under the limit');
    assert.deepEqual(texts.flatMap((t) => t.split('\n')), many, 'all of them, in order');
    assert.deepEqual(joinPayloads(['é'.repeat(30), 'ü'.repeat(30)], 100), ['é'.repeat(30), 'ü'.repeat(30)], 'bytes, not characters');
  });
});
