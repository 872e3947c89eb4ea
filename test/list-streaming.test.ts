// Lists stream batch by batch without holding anything between batches: a client that stops
// reading must not block anyone else (PGlite has one session, PostgreSQL a small pool), keyset
// batches must return exactly what one OFFSET/LIMIT query would, records are compact JSON, and
// the in-memory enumeration lists take the same list parameters as the database lists.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { sql } from 'kysely';
import { listBatchSize } from '../src/http/list.ts';
import { describeStores, type Harness } from './helper.ts';
import { addUser, callback, eventTenant } from './fixtures-events.ts';

interface Listed {
  ID: number;
  [field: string]: unknown;
}

/** `count` events of one client in one statement, with texts of a realistic width. */
async function bulkEvents(h: Harness, count: number) {
  const t = await eventTenant(h);
  await sql`
    INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, sender, subject, event_data,
      priority, created_at, modified_at, last_modified_at)
    SELECT ${t.client.id}, 5, 99, ${t.groupId}, ${t.groupId}, 'sender' || i, 'A subject of some length, number ' || i,
      '<eventData><body html="true">' || repeat('body text ', 30) || i || '</body></eventData>', 50, c, c, c
    FROM generate_series(1, ${count}::int) AS i, LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second') AS s(c)
  `.execute(h.store.db);
  return t;
}

function open(port: number, path: string, token: string): { req: ClientRequest; response: Promise<IncomingMessage> } {
  let req!: ClientRequest;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  return { req, response };
}

/** `promise`, or a failure naming `what` once `ms` have passed without it settling. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return text;
}

describeStores('list streaming', (h) => {
  it('keeps answering other clients while list readers have stopped reading', async () => {
    const reader = await bulkEvents(h, 30_000);
    const other = await eventTenant(h);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as { port: number };
    // More stalled readers than the PostgreSQL pool has connections (8 in the tests).
    const stalled = Array.from({ length: 10 }, () => open(port, `${reader.client.base}/acd/events`, reader.client.token));
    try {
      for (const { response } of stalled) {
        const res = await within(2000, response, 'a stalled reader');
        assert.equal(res.statusCode, 200);
        res.pause();
      }
      // Let the server run into the readers' full socket buffers.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const probe = open(port, `${other.client.base}/acd/events`, other.client.token);
      try {
        const res = await within(2000, probe.response, "another client's request");
        assert.equal(res.statusCode, 200);
        assert.equal(JSON.parse(await within(2000, readAll(res), "another client's answer")).count, 0);
      } finally {
        probe.req.destroy();
      }
    } finally {
      for (const { req } of stalled) req.destroy();
    }
  });

  it('answers records as compact JSON, lists, single records, creates and updates alike', async () => {
    const t = await eventTenant(h);
    const compact = (body: string) => assert.equal(body, JSON.stringify(JSON.parse(body)));
    const created = await t.client.post('/acd/events/create', callback(t.dedupGroupId));
    compact(created.body);
    const updated = await t.client.post('/acd/events/create', callback(t.dedupGroupId));
    assert.equal(updated.json().records[0].Result_, 'UPDATED');
    compact(updated.body);
    const id = created.json().records[0].ID;
    compact((await t.client.get(`/acd/events/event/${id}`)).body);
    const list = await t.client.get('/acd/events');
    compact(list.body);
    assert.ok(!list.body.includes('" : '));
    assert.equal(list.json().records[0].UsersID, null);
    compact((await t.client.get(`/acd/events/event/${id}/comments`)).body);
  });

  it('takes list parameters on the enumerations, with the database lists\' checks', async () => {
    const c = await h.newClient();
    const get = async (path: string) => (await c.get(path)).json();
    const ids = (body: { records: Listed[] }) => body.records.map((r) => r.ID);

    const all = await get('/acd/events/types');
    assert.deepEqual([all.filter, all.limitStart, all.limitPageSize, all.orderBy, all.ascending, all.count], ['', 0, -1, 'ID', true, 7]);
    const page = await get('/acd/events/types?limitPageSize=2');
    assert.deepEqual([page.limitPageSize, page.count, ids(page)], [2, 2, [1, 2]]);
    assert.deepEqual(ids(await get('/acd/events/types?limitStart=5')), [6, 7]);
    assert.deepEqual(ids(await get('/acd/events/status?limitStart=2&limitPageSize=3')), [2, 4, 10]);
    assert.deepEqual(ids(await get('/acd/events/status?ascending=false&limitPageSize=2')), [100, 99]);
    const byText = await get('/acd/events/types?orderBy=ShortText&ascending=false');
    assert.equal(byText.orderBy, 'ShortText');
    assert.deepEqual(ids(byText), [6, 1, 4, 2, 5, 7, 3]);
    const filtered = await get('/acd/events/status?ID=20');
    assert.equal(filtered.filter, 'ID=20');
    assert.deepEqual(filtered.records, [{ ShortText: 'AcdEventStatus.New', ID: 20 }]);
    assert.deepEqual(ids(await get('/acd/events/status?ShortText=AcdEventStatus.Done')), [99]);
    assert.equal((await get('/acd/events/types?ID=8')).count, 0);

    const bad = async (path: string, field: string, mention: string) => {
      const res = await c.get(path);
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(res.json().error.includes(mention), res.body);
      assert.equal(res.json().details[0].field, field);
    };
    await bad('/acd/events/types?orderBy=Nope', 'orderBy', 'Nope');
    await bad('/acd/events/status?Nope=1', 'Nope', 'Nope');
    await bad('/acd/events/types?limitPageSize=0', 'limitPageSize', 'limitPageSize');
    await bad('/acd/events/types?limitPageSize=10001', 'limitPageSize', 'limitPageSize');
    await bad('/acd/events/status?ID=x', 'ID', 'ID');
  });
});

// Keyset batches against the one-query truth, with batches of 3 rows: duplicates and NULLs in
// the order column, microseconds in timestamps, both directions, pages across batch ends.
describeStores('keyset batches', (h) => {
  const batchSizes = { ...listBatchSize };
  let clientId = 0;
  let get: (path: string) => Promise<{ records: Listed[]; count: number }>;
  before(async () => {
    const t = await eventTenant(h);
    const otherUser = await addUser(h.store.db, t.client.id, [t.groupId]);
    clientId = t.client.id;
    get = async (path) => (await t.client.get(path)).json();
    // Values repeat every few rows and are NULL for some; timestamps differ by microseconds.
    await sql`
      INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, user_id, sender, receiver, subject,
        event_data, priority, b_close_by_foreign_system, appointment_at, created_at, modified_at, last_modified_at)
      SELECT ${t.client.id}, 3, 4, ${t.groupId}, ${t.groupId},
        CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN ${t.userId}::int ELSE ${otherUser}::int END,
        's' || (i % 4), CASE WHEN i % 5 = 0 THEN NULL ELSE 'r' || (i % 3) END, 'subject ' || i, '<eventData/>',
        (i % 4) * 10, i % 2 = 0,
        CASE WHEN i % 4 = 1 THEN NULL ELSE timestamptz '2026-02-01 10:00:00+00' + (i % 6) * interval '1 microsecond' END,
        timestamptz '2026-02-01 10:00:00+00' + (i % 7) * interval '1 microsecond', now(), now()
      FROM generate_series(1, 31) AS i
    `.execute(h.store.db);
    Object.assign(listBatchSize, { singleSession: 3, pooled: 3 });
  });
  after(() => Object.assign(listBatchSize, batchSizes));

  const columns: Record<string, string> = {
    Priority: 'priority', UsersID: 'user_id', Receiver: 'receiver', dtAppointment: 'appointment_at',
    dtCreated: 'created_at', bCloseByForeignSystem: 'b_close_by_foreign_system', ID: 'id',
  };
  const pages: [number, number][] = [[0, -1], [0, 3], [0, 7], [2, -1], [3, 6], [13, 4], [29, 5], [40, -1]];

  it('returns exactly the rows of one OFFSET/LIMIT query, across batch boundaries', async () => {
    for (const [field, column] of Object.entries(columns)) {
      for (const ascending of [true, false]) {
        const dir = sql.raw(ascending ? 'ASC' : 'DESC');
        for (const [start, size] of pages) {
          const { rows } = await sql<{ id: number }>`
            SELECT id FROM acd_events WHERE client_id = ${clientId}
            ORDER BY ${sql.ref(column)} ${dir}, id ${dir} OFFSET ${start} ${size === -1 ? sql`` : sql`LIMIT ${size}`}
          `.execute(h.store.db);
          const body = await get(`/acd/events?orderBy=${field}&ascending=${ascending}&limitStart=${start}&limitPageSize=${size}`);
          const label = `${field} ${ascending ? 'asc' : 'desc'} ${start}/${size}`;
          assert.deepEqual(body.records.map((r) => r.ID), rows.map((r) => r.id), label);
          assert.equal(body.count, rows.length, label);
        }
      }
    }
  });

  it('keeps filters applied in every batch', async () => {
    const body = await get('/acd/events?orderBy=Receiver&Priority=10');
    assert.equal(body.count, 8);
    assert.ok(body.records.every((r) => r.Priority === 10));
    assert.equal(new Set(body.records.map((r) => r.ID)).size, 8);
  });
});
