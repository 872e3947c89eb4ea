// Spec §3.2 duplicates: with bAvoidDuplicateEvents, a repeated request for an open event of the
// same client, type, target group and key updates that event instead — exactly once, also under
// concurrent identical creates.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addGroup, callback, eventTenant, ticket } from './fixtures-events.ts';

describeStores('ACD event duplicates', (h) => {
  const commentsOf = (eventId: number) =>
    h.store.db.selectFrom('acd_event_comments').selectAll().where('event_id', '=', eventId).orderBy('id').execute();
  const eventsOfClient = (clientId: number) =>
    h.store.db.selectFrom('acd_events').selectAll().where('client_id', '=', clientId).orderBy('id').execute();

  it('returns the open event updated, with a comment recording the repeated request', async () => {
    const t = await eventTenant(h);
    const first = (await t.client.post('/acd/events/create', callback(t.dedupGroupId))).json().records[0];
    assert.equal(first.Result_, 'CREATED');
    const start = h.clock.now();
    try {
      h.clock.advance(90_000);
      const res = await t.client.post('/acd/events/create', callback(t.dedupGroupId, { Subject: 'Second call', Body: 'Still waiting <urgent>', UserData: 'other' }));
      assert.equal(res.statusCode, 200);
      const second = res.json().records[0];
      assert.equal(second.Result_, 'UPDATED');
      assert.equal(second.ID, first.ID);
      // The event keeps its own data; only the modification times move.
      assert.equal(second.Subject, first.Subject);
      assert.equal(second.UserData, first.UserData);
      assert.equal(second.dtCreated, '2026-06-15T10:00:00.000');
      assert.equal(second.dtModified, '2026-06-15T10:01:30.000');
      assert.equal(second.dtLastModified, '2026-06-15T10:01:30.000');
    } finally {
      h.clock.set(start);
    }
    const comments = await commentsOf(first.ID);
    assert.equal(comments.length, 1);
    assert.equal(comments[0].author, 'api');
    assert.equal(comments[0].text, 'Repeated create request at 2026-06-15T10:01:30.000\nSubject: Second call\nBody: Still waiting <urgent>');
    const listed = (await t.client.get(`/acd/events/event/${first.ID}/comments`)).json().records;
    assert.equal(listed[0].Text, comments[0].text);
    assert.equal(listed[0].dtCreated, '2026-06-15T10:01:30.000');
    assert.equal((await eventsOfClient(t.client.id)).length, 1);
    // No status change, so no new history entry.
    assert.equal((await t.client.get(`/acd/events/event/${first.ID}/history`)).json().count, 1);
    // Result_ belongs to the create answer only.
    assert.equal((await t.client.get(`/acd/events/event/${first.ID}`)).json().records[0].Result_, undefined);
  });

  it('keys on Sender for types 1-5 and 7, after E.164 normalisation', async () => {
    const t = await eventTenant(h);
    const post = async (body: Record<string, unknown>) => (await t.client.post('/acd/events/create', body)).json().records[0];
    for (const type of [1, 2, 3, 4, 5, 7]) {
      const sender = type === 1 || type === 3 ? '4989123456' : `sender-${type}`;
      const base = { AcdEventTypesID: type, AcdGroupsID: t.dedupGroupId, Sender: sender, Subject: `type ${type}`, UserData: 'a' };
      const first = await post(base);
      assert.equal(first.Result_, 'CREATED', `type ${type}`);
      const again = await post({ ...base, Subject: 'other subject', UserData: 'b' });
      assert.equal(again.Result_, 'UPDATED', `type ${type}`);
      assert.equal(again.ID, first.ID);
      assert.equal((await post({ ...base, Sender: type === 1 || type === 3 ? '4989123457' : `x-${type}` })).Result_, 'CREATED', `type ${type}, other sender`);
    }
    const plus = await post(callback(t.dedupGroupId, { Sender: '+49199123456789' }));
    const bare = await post(callback(t.dedupGroupId, { Sender: '49199123456789' }));
    assert.equal(plus.Result_, 'CREATED');
    assert.equal(bare.Result_, 'UPDATED');
    assert.equal(bare.ID, plus.ID);
  });

  it('keys tickets (type 6) on UserData, not Sender', async () => {
    const t = await eventTenant(h);
    const post = async (body: Record<string, unknown>) => (await t.client.post('/acd/events/create', body)).json().records[0];
    const first = await post(ticket(t.dedupGroupId, { Sender: 'system-a' }));
    const sameTicket = await post(ticket(t.dedupGroupId, { Sender: 'system-b', Subject: 'Ticket 123456 changed' }));
    assert.equal(sameTicket.Result_, 'UPDATED');
    assert.equal(sameTicket.ID, first.ID);
    assert.equal((await post(ticket(t.dedupGroupId, { Sender: 'system-a', UserData: '654321' }))).Result_, 'CREATED');
  });

  it('never merges across types, target groups or clients', async () => {
    const t = await eventTenant(h);
    const otherDedup = await addGroup(h.store.db, t.client.id, { avoidDuplicates: true });
    const post = async (tenant: typeof t, body: Record<string, unknown>) => (await tenant.client.post('/acd/events/create', body)).json().records[0];
    assert.equal((await post(t, callback(t.dedupGroupId))).Result_, 'CREATED');
    assert.equal((await post(t, callback(t.dedupGroupId, { AcdEventTypesID: 1 }))).Result_, 'CREATED', 'other type');
    assert.equal((await post(t, callback(otherDedup))).Result_, 'CREATED', 'other group');
    const b = await eventTenant(h);
    assert.equal((await post(b, callback(b.dedupGroupId))).Result_, 'CREATED', 'other client');
    assert.equal((await post(t, callback(t.dedupGroupId))).Result_, 'UPDATED');
  });

  it("merges in the pair form by the configuration group's setting, per configuration + agent pair", async () => {
    const t = await eventTenant(h);
    const db = h.store.db;
    const pair = { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId };
    // The agent group's flag does not decide: the configuration group holds the settings.
    await db.updateTable('acd_groups').set({ b_avoid_duplicate_events: true }).where('id', '=', t.agentGroupId).execute();
    assert.equal((await t.client.post('/acd/events/create', callback(0, pair))).json().records[0].Result_, 'CREATED');
    assert.equal((await t.client.post('/acd/events/create', callback(0, pair))).json().records[0].Result_, 'CREATED');
    await db.updateTable('acd_groups').set({ b_avoid_duplicate_events: true }).where('id', '=', t.configurationGroupId).execute();
    const again = (await t.client.post('/acd/events/create', callback(0, pair))).json().records[0];
    assert.equal(again.Result_, 'UPDATED');
    // Another configuration group in front of the same agent group is another target.
    const otherConfiguration = await addGroup(db, t.client.id, { type: 'Configuration', primaryAgentGroupId: t.agentGroupId, avoidDuplicates: true });
    const other = (await t.client.post('/acd/events/create', callback(0, { ...pair, AcdConfigurationGroupsID: otherConfiguration }))).json().records[0];
    assert.equal(other.Result_, 'CREATED');
    assert.notEqual(other.ID, again.ID);
  });

  it('creates a new event once the earlier one is closed (status 98 and above)', async () => {
    const t = await eventTenant(h);
    for (const closed of [98, 99, 100]) {
      const first = (await t.client.post('/acd/events/create', callback(t.dedupGroupId))).json().records[0];
      assert.equal(first.Result_, 'CREATED', `after ${closed}`);
      await h.store.db.updateTable('acd_events').set({ status_id: closed }).where('id', '=', first.ID).execute();
    }
    const open = (await t.client.post('/acd/events/create', callback(t.dedupGroupId))).json().records[0];
    for (const status of [1, 10, 20, 30, 40]) {
      await h.store.db.updateTable('acd_events').set({ status_id: status }).where('id', '=', open.ID).execute();
      const again = (await t.client.post('/acd/events/create', callback(t.dedupGroupId))).json().records[0];
      assert.equal(again.Result_, 'UPDATED', `open status ${status}`);
      assert.equal(again.ID, open.ID);
      assert.equal(again.AcdEventStatusID, status, 'the update leaves the status alone');
    }
  });

  it('without bAvoidDuplicateEvents every request is a new event, and the key is still stored', async () => {
    const t = await eventTenant(h);
    const a = (await t.client.post('/acd/events/create', callback(t.groupId))).json().records[0];
    const b = (await t.client.post('/acd/events/create', callback(t.groupId))).json().records[0];
    assert.equal(a.Result_, 'CREATED');
    assert.equal(b.Result_, 'CREATED');
    assert.notEqual(a.ID, b.ID);
    const rows = await eventsOfClient(t.client.id);
    assert.deepEqual(rows.map((r) => r.duplicate_key), [`3|g${t.groupId}|49199123456789`, `3|g${t.groupId}|49199123456789`]);
    // Switching the rule on later finds the events stored before.
    await h.store.db.updateTable('acd_groups').set({ b_avoid_duplicate_events: true }).where('id', '=', t.groupId).execute();
    const c = (await t.client.post('/acd/events/create', callback(t.groupId))).json().records[0];
    assert.equal(c.Result_, 'UPDATED');
    assert.equal(c.ID, a.ID, 'the oldest open event takes the comment');
  });

  it('never merges events without a key (empty Sender, ticket without UserData)', async () => {
    const t = await eventTenant(h);
    const post = async (body: Record<string, unknown>) => (await t.client.post('/acd/events/create', body)).json().records[0];
    const mail = { AcdEventTypesID: 5, AcdGroupsID: t.dedupGroupId, Sender: '', Subject: 'anonymous' };
    assert.equal((await post(mail)).Result_, 'CREATED');
    assert.equal((await post(mail)).Result_, 'CREATED');
    assert.equal((await post(ticket(t.dedupGroupId, { UserData: null }))).Result_, 'CREATED');
    assert.equal((await post(ticket(t.dedupGroupId, { UserData: '' }))).Result_, 'CREATED');
    const keys = (await eventsOfClient(t.client.id)).map((r) => r.duplicate_key);
    assert.deepEqual(keys, [null, null, null, null]);
  });

  it('20 concurrent identical creates give exactly one event, one CREATED and 19 UPDATED', async () => {
    const t = await eventTenant(h);
    const body = JSON.stringify(callback(t.dedupGroupId));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.app.inject({
          method: 'POST',
          url: `${t.client.base}/acd/events/create`,
          payload: body,
          headers: { authorization: `Bearer ${t.client.token}`, 'content-type': 'application/json' },
        }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.statusCode), Array(20).fill(200));
    const records = answers.map((a) => a.json().records[0]);
    assert.equal(records.filter((r) => r.Result_ === 'CREATED').length, 1);
    assert.equal(records.filter((r) => r.Result_ === 'UPDATED').length, 19);
    assert.equal(new Set(records.map((r) => r.ID)).size, 1);
    const rows = await eventsOfClient(t.client.id);
    assert.equal(rows.length, 1);
    assert.equal((await commentsOf(rows[0].id)).length, 19);
    const history = await h.store.db.selectFrom('acd_event_history').select('id').where('event_id', '=', rows[0].id).execute();
    assert.equal(history.length, 1);
  });
});
