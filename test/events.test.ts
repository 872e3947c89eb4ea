// Spec §3.1/§3.3: creating, reading and listing ACD events, the record's shape, EventData, the
// history and comments extension, and tenant isolation.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addGroup, addUser, callback, conformsTo, eventTenant, ticket } from './fixtures-events.ts';
import { CommentRecord, CreatedEventSchema, EventRecord, HistoryRecord } from '../src/modules/events/records.ts';
import { WorkItemRecord } from '../src/modules/work/records.ts';

const RECORD_KEYS = [
  'ID', 'AcdEventTypesID', 'AcdEventStatusID', 'AcdGroupsID', 'AcdConfigurationGroupsID', 'AcdAgentGroupsID', 'UsersID',
  'Sender', 'Receiver', 'Subject', 'CrmURL', 'UserData', 'UserData2', 'UserData3', 'ForeignSystemNumber', 'EventData',
  'Priority', 'dtAppointment', 'SkillsID1', 'SkillsID2', 'SkillsID3', 'SkillsValue1', 'SkillsValue2', 'SkillsValue3',
  'ChatConnectorsID', 'AcdWorkFlowConnectorsID', 'AcdInboxesID', 'WorkFlowMonitorPointsID', 'AcdReplyingTypesID',
  'LastAgentTime', 'bCloseByForeignSystem', 'dtReceived', 'dtRemind', 'dtCreated', 'dtModified', 'dtLastModified',
];

const assertEvent = conformsTo(EventRecord.schema);
const assertCreated = conformsTo(CreatedEventSchema);
const assertComment = conformsTo(CommentRecord.schema);
const assertHistory = conformsTo(HistoryRecord.schema);
const assertListed = conformsTo(WorkItemRecord.schema);

describeStores('ACD events', (h) => {
  it("creates jtel's callback example: status 1, Result_ CREATED, every field in jtel's order", async () => {
    const t = await eventTenant(h);
    const res = await t.client.post('/acd/events/create', callback(t.groupId));
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    assert.equal(body.status, 200);
    const e = body.records[0];
    assert.deepEqual(Object.keys(e), [...RECORD_KEYS, 'Result_']);
    assertCreated(e);
    assert.equal(e.Result_, 'CREATED');
    assert.equal(e.AcdEventTypesID, 3);
    assert.equal(e.AcdEventStatusID, 1, 'jtel answers a new event in Distribute');
    assert.equal(e.AcdGroupsID, t.groupId);
    assert.equal(e.AcdConfigurationGroupsID, null);
    assert.equal(e.AcdAgentGroupsID, null);
    assert.equal(e.UsersID, null);
    assert.equal(e.Sender, '49199123456789');
    assert.equal(e.Receiver, '4919900112233');
    assert.equal(e.CrmURL, '');
    assert.equal(e.UserData, '987654');
    assert.equal(e.ForeignSystemNumber, null, 'only tickets carry a foreign system number');
    assert.equal(e.Priority, 50);
    assert.equal(e.dtAppointment, null);
    assert.equal(e.LastAgentTime, 0);
    assert.equal(e.bCloseByForeignSystem, false);
    // The pinned clock reads 08:00Z, which is 10:00 in Berlin (the default zone) in June.
    assert.equal(e.dtCreated, '2026-06-15T10:00:00.000');
    assert.equal(e.dtModified, '2026-06-15T10:00:00.000');
    assert.equal(e.dtLastModified, '2026-06-15T10:00:00.000');
    assert.equal(
      e.EventData,
      '<eventData><urls><url><urlPath></urlPath><displayName>987654</displayName></url></urls><body html="true">' +
        'This is an automatically generated callback request via the REST API.\r\nCongratulations!\r\n</body></eventData>',
    );
    const row = await h.store.db.selectFrom('acd_events').selectAll().where('id', '=', e.ID).executeTakeFirstOrThrow();
    assert.equal(row.client_id, t.client.id);
    assert.equal(row.queue_group_id, t.groupId);
    assert.equal(row.duplicate_key, `3|g${t.groupId}|49199123456789`);
    assert.equal(row.body, callback(0).Body);
  });

  it("creates jtel's ticket example: ForeignSystemNumber is the UserData, EventData as in jtel's answer", async () => {
    const t = await eventTenant(h);
    const e = (await t.client.post('/acd/events/create', ticket(t.groupId))).json().records[0];
    assert.equal(e.AcdEventTypesID, 6);
    assert.equal(e.Sender, '');
    assert.equal(e.Receiver, '');
    assert.equal(e.UserData, '123456');
    assert.equal(e.ForeignSystemNumber, '123456');
    assert.equal(e.EventData, '<eventData><urls><url><urlPath></urlPath><displayName>123456</displayName></url></urls><body html="true"></body></eventData>');
  });

  it('escapes the XML of EventData and keeps absent parts as empty elements', async () => {
    const t = await eventTenant(h);
    const e = (await t.client.post('/acd/events/create', {
      AcdEventTypesID: 5,
      AcdGroupsID: t.groupId,
      Sender: 'anna@example.com',
      Subject: 'Mail',
      Body: '<script>alert("x")</script> & \'quoted\' </body></eventData>',
      CrmURL: 'https://crm.example.com/case?id=1&view=<full>',
      UserData: 'a<b>&"c"',
    })).json().records[0];
    assert.equal(
      e.EventData,
      '<eventData><urls><url><urlPath>https://crm.example.com/case?id=1&amp;view=&lt;full&gt;</urlPath>' +
        '<displayName>a&lt;b&gt;&amp;&quot;c&quot;</displayName></url></urls><body html="true">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quoted&apos; &lt;/body&gt;&lt;/eventData&gt;</body></eventData>',
    );
    // The fields themselves keep the text as given.
    assert.equal(e.UserData, 'a<b>&"c"');
    const bare = (await t.client.post('/acd/events/create', { AcdEventTypesID: 5, AcdGroupsID: t.groupId, Sender: '', Subject: 'x' })).json().records[0];
    assert.equal(bare.EventData, '<eventData><urls><url><urlPath></urlPath><displayName></displayName></url></urls><body html="true"></body></eventData>');
    // Absent texts are null in the record, not missing.
    assert.equal(bare.Receiver, null);
    assert.equal(bare.CrmURL, null);
    assert.equal(bare.UserData, null);
  });

  it('accepts explicit nulls where jtel sends them and treats them as absent', async () => {
    const t = await eventTenant(h);
    const res = await t.client.post('/acd/events/create', {
      AcdEventTypesID: 3, AcdGroupsID: t.groupId, AcdConfigurationGroupsID: null, AcdAgentGroupsID: null, UsersID: null,
      Sender: '+49891234567', Receiver: null, Subject: 'Call me', Body: null, CrmURL: null, UserData: null, Priority: null,
      dtAppointmentDate: null, dtAppointmentTime: null,
    });
    assert.equal(res.statusCode, 200, res.body);
    const e = res.json().records[0];
    assert.equal(e.Priority, 50);
    assert.equal(e.Receiver, null);
    assert.equal(e.dtAppointment, null);
    assert.equal(e.Sender, '49891234567', 'the leading + is dropped');
  });

  it('takes Priority 0..200 as given', async () => {
    const t = await eventTenant(h);
    for (const p of [0, 1, 200]) {
      const e = (await t.client.post('/acd/events/create', callback(t.groupId, { Priority: p }))).json().records[0];
      assert.equal(e.Priority, p);
    }
  });

  it('creates in the configuration/agent pair form, queued in the agent group, for a member agent', async () => {
    const t = await eventTenant(h);
    const res = await t.client.post('/acd/events/create', callback(0, {
      AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId, UsersID: t.userId,
    }));
    assert.equal(res.statusCode, 200, res.body);
    const e = res.json().records[0];
    assert.equal(e.AcdGroupsID, null);
    assert.equal(e.AcdConfigurationGroupsID, t.configurationGroupId);
    assert.equal(e.AcdAgentGroupsID, t.agentGroupId);
    assert.equal(e.UsersID, t.userId);
    const row = await h.store.db.selectFrom('acd_events').select(['queue_group_id', 'duplicate_key']).where('id', '=', e.ID).executeTakeFirstOrThrow();
    assert.equal(row.queue_group_id, t.agentGroupId);
    assert.equal(row.duplicate_key, `3|c${t.configurationGroupId}a${t.agentGroupId}|49199123456789`);
  });

  it('delivers to a member agent of a standalone group', async () => {
    const t = await eventTenant(h);
    const e = (await t.client.post('/acd/events/create', callback(t.groupId, { UsersID: t.userId }))).json().records[0];
    assert.equal(e.UsersID, t.userId);
  });

  it('gets one event in the single envelope, without Result_', async () => {
    const t = await eventTenant(h);
    const created = (await t.client.post('/acd/events/create', ticket(t.groupId))).json().records[0];
    const res = await t.client.get(`/acd/events/event/${created.ID}`);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    const { Result_: _r, ...expected } = created;
    assert.deepEqual(body.records[0], expected);
    assert.deepEqual(Object.keys(body.records[0]), RECORD_KEYS);
    assertEvent(body.records[0]);
  });

  it('answers an unknown event with 404 JSON, and a malformed id with 400', async () => {
    const t = await eventTenant(h);
    const res = await t.client.get('/acd/events/event/987654');
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { status: 404, error: 'ACD event not found' });
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
      const r = await t.client.get(`/acd/events/event/${bad}`);
      assert.equal(r.statusCode, 400, bad);
      assert.match(r.json().error, /AcdEventsID/);
    }
  });

  it('writes a history entry for every created event; comments and history are readable', async () => {
    const t = await eventTenant(h);
    const e = (await t.client.post('/acd/events/create', callback(t.groupId, { dtAppointmentTime: '18:00' }))).json().records[0];
    assert.equal(e.AcdEventStatusID, 1);
    const history = await t.client.get(`/acd/events/event/${e.ID}/history`);
    assert.equal(history.statusCode, 200);
    const hb = history.json();
    assert.equal(hb.count, 1);
    assert.equal(hb.orderBy, 'ID');
    const entry = hb.records[0];
    assert.deepEqual(Object.keys(entry), ['ID', 'AcdEventsID', 'FromAcdEventStatusID', 'ToAcdEventStatusID', 'UsersID', 'Actor', 'Reason', 'dtCreated']);
    assert.deepEqual({ ...entry, ID: 0 }, {
      ID: 0, AcdEventsID: e.ID, FromAcdEventStatusID: null, ToAcdEventStatusID: 1, UsersID: null, Actor: 'api', Reason: 'created', dtCreated: '2026-06-15T10:00:00.000',
    });
    assertHistory(entry);
    const comments = await t.client.get(`/acd/events/event/${e.ID}/comments`);
    assert.equal(comments.statusCode, 200);
    assert.deepEqual(comments.json().records, []);
    assert.equal(comments.json().count, 0);
  });

  it('answers comments and history of an unknown event with 404 JSON', async () => {
    const t = await eventTenant(h);
    for (const part of ['comments', 'history']) {
      const res = await t.client.get(`/acd/events/event/424242/${part}`);
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { status: 404, error: 'ACD event not found' });
    }
  });

  it('comment records match their schema', async () => {
    const t = await eventTenant(h);
    const first = (await t.client.post('/acd/events/create', callback(t.dedupGroupId))).json().records[0];
    await t.client.post('/acd/events/create', callback(t.dedupGroupId));
    const records = (await t.client.get(`/acd/events/event/${first.ID}/comments`)).json().records;
    assert.equal(records.length, 1);
    assert.deepEqual(Object.keys(records[0]), ['ID', 'AcdEventsID', 'Author', 'Text', 'dtCreated']);
    assertComment(records[0]);
  });

  it('keeps tenants apart: another client can neither list, get, nor read the history of an event', async () => {
    const a = await eventTenant(h);
    const b = await eventTenant(h);
    const e = (await a.client.post('/acd/events/create', callback(a.groupId))).json().records[0];
    await b.client.post('/acd/events/create', callback(b.groupId));
    const listB = (await b.client.get('/acd/events')).json();
    assert.equal(listB.count, 1);
    assert.ok(listB.records.every((r: { ID: number }) => r.ID !== e.ID));
    assert.equal((await b.client.get(`/acd/events?ID=${e.ID}`)).json().count, 0);
    const getB = await b.client.get(`/acd/events/event/${e.ID}`);
    assert.equal(getB.statusCode, 404);
    assert.deepEqual(getB.json(), { status: 404, error: 'ACD event not found' });
    assert.equal((await b.client.get(`/acd/events/event/${e.ID}/history`)).statusCode, 404);
    assert.equal((await b.client.get(`/acd/events/event/${e.ID}/comments`)).statusCode, 404);
    assert.equal((await a.client.get(`/acd/events/event/${e.ID}`)).statusCode, 200);
  });

  it("keeps tenants apart: another client's group or user cannot be named", async () => {
    const a = await eventTenant(h);
    const b = await eventTenant(h);
    const intoA = await b.client.post('/acd/events/create', callback(a.groupId));
    assert.equal(intoA.statusCode, 404);
    assert.deepEqual(intoA.json(), { status: 404, error: `ACD group ${a.groupId} not found` });
    const userOfA = await b.client.post('/acd/events/create', callback(b.groupId, { UsersID: a.userId }));
    assert.equal(userOfA.statusCode, 404);
    assert.deepEqual(userOfA.json(), { status: 404, error: `User ${a.userId} not found` });
    // Even when A's user is (wrongly) a member of B's group, it stays A's user.
    await h.store.db.insertInto('acd_group_members').values({ group_id: b.groupId, user_id: a.userId }).execute();
    assert.equal((await b.client.post('/acd/events/create', callback(b.groupId, { UsersID: a.userId }))).statusCode, 404);
  });

  it('every record of list, get and create matches the record schema', async () => {
    const t = await eventTenant(h, { TimeZone: 'America/New_York' });
    const extraGroup = await addGroup(h.store.db, t.client.id);
    const extraUser = await addUser(h.store.db, t.client.id, [extraGroup]);
    const bodies = [
      callback(t.groupId),
      callback(extraGroup, { UsersID: extraUser, dtAppointmentDate: '2030-01-01', dtAppointmentTime: '08:15', Priority: 200 }),
      ticket(t.groupId),
      { AcdEventTypesID: 7, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId, Sender: 'chat-1', Subject: 'Chat' },
    ];
    for (const body of bodies) {
      const res = await t.client.post('/acd/events/create', body);
      assert.equal(res.statusCode, 200, res.body);
      const record = res.json().records[0];
      assertCreated(record);
      assertEvent((await t.client.get(`/acd/events/event/${record.ID}`)).json().records[0]);
    }
    const list = (await t.client.get('/acd/events')).json();
    assert.equal(list.count, bodies.length);
    // The list adds who holds each event (AgentUsersID, dtOfferExpires, ErrorReason) after jtel's fields.
    for (const record of list.records) {
      assertListed(record);
      assert.deepEqual(Object.keys(record), [...RECORD_KEYS, 'AgentUsersID', 'dtOfferExpires', 'ErrorReason']);
    }
  });
});
