// Spec §1.2/§1.3 list parameters, exercised on GET /acd/events: paging, ordering, equality
// filters and their echo, the 400s naming the field, explicit nulls, and timestamps in the
// client's time zone.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores, type Harness } from './helper.ts';
import { callback, conformsTo, eventTenant, ticket, type EventTenant } from './fixtures-events.ts';
import { WorkItemRecord } from '../src/modules/work/records.ts';

const ENVELOPE_KEYS = ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status'];
// The list's record: jtel's AcdEvent followed by who holds the event (AgentUsersID…).
const assertEvent = conformsTo(WorkItemRecord.schema);

interface Listed {
  ID: number;
  [field: string]: unknown;
}

/** Five events a minute apart, with priorities and statuses to filter and order by. */
async function fiveEvents(h: Harness): Promise<{ t: EventTenant; ids: number[] }> {
  const t = await eventTenant(h);
  const start = h.clock.now();
  const ids: number[] = [];
  const priorities = [50, 10, 200, 10, 0];
  try {
    for (let i = 0; i < 5; i++) {
      h.clock.set(start + i * 60_000);
      const body = i === 3 ? ticket(t.groupId, { Priority: priorities[i], UsersID: t.userId }) : callback(t.groupId, { Priority: priorities[i], Sender: `4989100000${i}` });
      const res = await t.client.post('/acd/events/create', body);
      assert.equal(res.statusCode, 200, res.body);
      ids.push(res.json().records[0].ID);
    }
  } finally {
    h.clock.set(start);
  }
  // A status mix, as distribution would leave it.
  await h.store.db.updateTable('acd_events').set({ status_id: 20 }).where('id', 'in', [ids[1], ids[3]]).execute();
  return { t, ids };
}

function assertInvalidQuery(res: { statusCode: number; json(): any; body: string }, field: string, mention = field): void {
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json();
  assert.equal(body.status, 400);
  assert.ok(body.error.includes(mention), `error names ${mention}: ${body.error}`);
  assert.equal(body.details[0].field, field);
}

describeStores('list parameters on /acd/events', (h) => {
  it('answers the jtel envelope with defaults, count = records, ordered by dtCreated', async () => {
    const { t, ids } = await fiveEvents(h);
    const res = await t.client.get('/acd/events');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ENVELOPE_KEYS);
    assert.equal(body.filter, '');
    assert.equal(body.limitStart, 0);
    assert.equal(body.limitPageSize, -1);
    assert.equal(body.orderBy, 'dtCreated');
    assert.equal(body.ascending, true);
    assert.equal(body.status, 200);
    assert.equal(body.count, body.records.length);
    assert.deepEqual(body.records.map((r: Listed) => r.ID), ids);
    for (const record of body.records) assertEvent(record);
  });

  it('pages with limitStart and limitPageSize', async () => {
    const { t, ids } = await fiveEvents(h);
    const page = (await t.client.get('/acd/events?limitStart=1&limitPageSize=2')).json();
    assert.equal(page.limitStart, 1);
    assert.equal(page.limitPageSize, 2);
    assert.equal(page.count, 2);
    assert.deepEqual(page.records.map((r: Listed) => r.ID), ids.slice(1, 3));
    assert.deepEqual((await t.client.get('/acd/events?limitPageSize=1')).json().records.map((r: Listed) => r.ID), [ids[0]]);
    assert.equal((await t.client.get('/acd/events?limitStart=3&limitPageSize=-1')).json().count, 2);
    assert.equal((await t.client.get('/acd/events?limitPageSize=10000')).json().count, 5);
    const beyond = (await t.client.get('/acd/events?limitStart=50')).json();
    assert.deepEqual(beyond.records, []);
    assert.equal(beyond.count, 0);
  });

  it('rejects page sizes outside -1, 1..10000 and a negative start, naming the parameter', async () => {
    const t = await eventTenant(h);
    for (const size of ['0', '10001', '-2', 'abc', '1.5', '']) assertInvalidQuery(await t.client.get(`/acd/events?limitPageSize=${size}`), 'limitPageSize');
    for (const start of ['-1', 'x', '2147483648']) assertInvalidQuery(await t.client.get(`/acd/events?limitStart=${start}`), 'limitStart');
  });

  it('orders by any field, ascending or descending, with the id as tie-breaker', async () => {
    const { t, ids } = await fiveEvents(h);
    const order = async (query: string) => (await t.client.get(`/acd/events?${query}`)).json();
    const byPriority = await order('orderBy=Priority');
    assert.equal(byPriority.orderBy, 'Priority');
    assert.deepEqual(byPriority.records.map((r: Listed) => r.ID), [ids[4], ids[1], ids[3], ids[0], ids[2]]);
    const byPriorityDesc = await order('orderBy=Priority&ascending=false');
    assert.equal(byPriorityDesc.ascending, false);
    assert.deepEqual(byPriorityDesc.records.map((r: Listed) => r.ID), [ids[2], ids[0], ids[3], ids[1], ids[4]]);
    assert.deepEqual((await order('ascending=false')).records.map((r: Listed) => r.ID), [...ids].reverse());
    // Texts order as the database collates them; the ticket's empty Sender comes first.
    assert.deepEqual((await order('orderBy=Sender')).records.map((r: Listed) => r.ID), [ids[3], ids[0], ids[1], ids[2], ids[4]]);
    for (const field of Object.keys(WorkItemRecord.fields)) {
      for (const ascending of [true, false]) {
        const body = await order(`orderBy=${field}&ascending=${ascending}`);
        assert.equal(body.orderBy, field);
        assert.equal(body.ascending, ascending);
        assert.equal(body.count, 5, field);
      }
    }
  });

  it('rejects an unknown orderBy field with 400 naming it', async () => {
    const t = await eventTenant(h);
    const res = await t.client.get('/acd/events?orderBy=Nope');
    assertInvalidQuery(res, 'orderBy', 'Nope');
    assertInvalidQuery(await t.client.get('/acd/events?orderBy=priority'), 'orderBy', 'priority');
    assertInvalidQuery(await t.client.get('/acd/events?ascending=maybe'), 'ascending');
  });

  it('rejects orderBy naming an Object.prototype member like any unknown field', async () => {
    const t = await eventTenant(h);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assertInvalidQuery(await t.client.get(`/acd/events?orderBy=${name}`), 'orderBy', name);
      assertInvalidQuery(await t.client.get(`/acd/events/types?orderBy=${name}`), 'orderBy', name);
    }
  });

  it('filters by equality on record fields and echoes the filter', async () => {
    const { t, ids } = await fiveEvents(h);
    const list = async (query: string) => (await t.client.get(`/acd/events?${query}`)).json();
    const both = await list(`AcdEventStatusID=20&UsersID=${t.userId}`);
    assert.equal(both.filter, `AcdEventStatusID=20&UsersID=${t.userId}`);
    assert.deepEqual(both.records.map((r: Listed) => r.ID), [ids[3]]);
    assert.deepEqual((await list('AcdEventStatusID=1')).records.map((r: Listed) => r.ID), [ids[0], ids[2], ids[4]]);
    assert.deepEqual((await list('Sender=49891000002')).records.map((r: Listed) => r.ID), [ids[2]]);
    assert.deepEqual((await list('ForeignSystemNumber=123456')).records.map((r: Listed) => r.ID), [ids[3]]);
    assert.deepEqual((await list('dtCreated=2026-06-15T10:01:00.000')).records.map((r: Listed) => r.ID), [ids[1]]);
    assert.equal((await list('bCloseByForeignSystem=false')).count, 5);
    assert.equal((await list('bCloseByForeignSystem=true')).count, 0);
    const combined = await list('AcdEventStatusID=1&orderBy=Priority&ascending=false&limitPageSize=2');
    assert.equal(combined.filter, 'AcdEventStatusID=1');
    assert.deepEqual(combined.records.map((r: Listed) => r.ID), [ids[2], ids[0]]);
  });

  it('rejects an unknown filter field, and a filter value of the wrong type, naming it', async () => {
    const t = await eventTenant(h);
    const unknown = await t.client.get('/acd/events?Colour=red');
    assertInvalidQuery(unknown, 'Colour');
    assert.equal(unknown.json().details[0].message, 'unknown field');
    assertInvalidQuery(await t.client.get('/acd/events?UsersID=abc'), 'UsersID');
    assertInvalidQuery(await t.client.get('/acd/events?ID=99999999999'), 'ID');
    assertInvalidQuery(await t.client.get('/acd/events?bCloseByForeignSystem=0'), 'bCloseByForeignSystem');
    assertInvalidQuery(await t.client.get('/acd/events?Sender=a%00b'), 'Sender');
  });

  it('keeps absent values as explicit nulls in listed records', async () => {
    const { t } = await fiveEvents(h);
    const [record] = (await t.client.get('/acd/events?limitPageSize=1')).json().records;
    for (const field of ['AcdConfigurationGroupsID', 'AcdAgentGroupsID', 'UsersID', 'UserData2', 'ForeignSystemNumber', 'dtAppointment', 'SkillsID1', 'dtRemind']) {
      assert.ok(Object.hasOwn(record, field), field);
      assert.equal(record[field], null, field);
    }
    assert.deepEqual(Object.keys(record), Object.keys(WorkItemRecord.fields));
    for (const field of ['AgentUsersID', 'dtOfferExpires', 'ErrorReason']) assert.equal(record[field], null, field);
  });

  it("shows timestamps in the client's time zone, summer and winter", async () => {
    const ny = await eventTenant(h, { TimeZone: 'America/New_York' });
    const berlin = await eventTenant(h);
    const start = h.clock.now();
    try {
      for (const [ms, nyText, berlinText] of [
        [Date.UTC(2026, 5, 15, 8, 0, 0, 123), '2026-06-15T04:00:00.123', '2026-06-15T10:00:00.123'],
        [Date.UTC(2026, 0, 15, 8, 0, 0, 5), '2026-01-15T03:00:00.005', '2026-01-15T09:00:00.005'],
      ] as const) {
        h.clock.set(ms);
        const created = (await ny.client.post('/acd/events/create', callback(ny.groupId))).json().records[0];
        assert.equal(created.dtCreated, nyText);
        const listed = (await ny.client.get(`/acd/events?ID=${created.ID}`)).json().records[0];
        assert.equal(listed.dtCreated, nyText);
        assert.equal(listed.dtLastModified, nyText);
        assert.equal((await ny.client.get(`/acd/events?dtCreated=${nyText}`)).json().count, 1);
        const b = (await berlin.client.post('/acd/events/create', callback(berlin.groupId))).json().records[0];
        assert.equal(b.dtCreated, berlinText);
      }
    } finally {
      h.clock.set(start);
    }
  });

  it('streams a larger list whole', async () => {
    const t = await eventTenant(h);
    const now = new Date(h.clock.now());
    const rows = Array.from({ length: 2500 }, (_, i) => ({
      client_id: t.client.id, type_id: 5, status_id: 4, group_id: t.groupId, queue_group_id: t.groupId, sender: `s${i}`,
      subject: `bulk ${i}`, event_data: '<eventData/>', priority: 50, duplicate_key: null, created_at: now, modified_at: now, last_modified_at: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await h.store.db.insertInto('acd_events').values(rows.slice(i, i + 500)).execute();
    const body = (await t.client.get('/acd/events')).json();
    assert.equal(body.count, 2500);
    assert.equal(body.records.length, 2500);
    assert.equal(new Set(body.records.map((r: Listed) => r.ID)).size, 2500);
  });
});
