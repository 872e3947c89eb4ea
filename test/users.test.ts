// Spec §4 and §6: reading and provisioning users (agents); a client sees and changes only its own.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addMember, createGroup, createUser, insertEvent } from './fixtures-groups.ts';

const USER_FIELDS = ['ID', 'UID', 'FirstName', 'LastName', 'Email', 'TelStatusID', 'ResellersID', 'Role', 'AcdGroups', 'dtCreated', 'dtLastModified'];

describeStores('users', (h) => {
  it('creates a user and answers 200 with the record: jtel fields, memberships, timestamps', async () => {
    const c = await h.newClient({ TimeZone: 'Asia/Tokyo' });
    h.clock.set(Date.UTC(2026, 2, 1, 23, 15, 0));
    const res = await c.post('/users/create', { UID: 'anna.berg', FirstName: 'Anna', LastName: 'Berg', Email: 'anna@example.com', TelStatusID: 2, ResellersID: 7 });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    const user = body.records[0];
    assert.deepEqual(Object.keys(user), USER_FIELDS);
    assert.deepEqual({ ...user, ID: 0 }, {
      ID: 0, UID: 'anna.berg', FirstName: 'Anna', LastName: 'Berg', Email: 'anna@example.com', TelStatusID: 2, ResellersID: 7, Role: 'agent',
      AcdGroups: [], dtCreated: '2026-03-02T08:15:00.000', dtLastModified: '2026-03-02T08:15:00.000',
    });
    assert.deepEqual((await c.get(`/users/user/${user.ID}`)).json(), body);
  });

  it('fills defaults: absent fields are null, TelStatusID 0', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'minimal' });
    assert.equal(user.FirstName, null);
    assert.equal(user.LastName, null);
    assert.equal(user.Email, null);
    assert.equal(user.ResellersID, null);
    assert.equal(user.TelStatusID, 0);
  });

  it('rejects invalid create bodies with 400 naming the field, and stores nothing', async () => {
    const c = await h.newClient();
    const cases: [unknown, string][] = [
      [{}, 'UID'],
      [{ UID: '' }, 'UID'],
      [{ UID: 'anna ' }, 'UID'],
      [{ UID: 'u'.repeat(257) }, 'UID'],
      [{ UID: 12 }, 'UID'],
      [{ UID: 'an\u0000na' }, 'UID'],
      [{ UID: 'anna', LastName: 'B\u0000' }, 'LastName'],
      [{ UID: 'anna', Email: 'not-an-address' }, 'Email'],
      [{ UID: 'anna', TelStatusID: -1 }, 'TelStatusID'],
      [{ UID: 'anna', TelStatusID: '1' }, 'TelStatusID'],
      [{ UID: 'anna', ResellersID: 0 }, 'ResellersID'],
      [{ UID: 'anna', FirstName: 'x'.repeat(257) }, 'FirstName'],
      [{ UID: 'anna', Password: 'secret' }, 'Password'],
      [{ UID: 'anna', AcdGroups: [] }, 'AcdGroups'],
    ];
    for (const [body, fieldName] of cases) {
      const res = await c.post('/users/create', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().details[0].field, fieldName, JSON.stringify(body));
    }
    assert.equal((await c.get('/users')).json().count, 0);
  });

  it('answers 409 for a second user with the same UID in the client, even concurrently', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    await createUser(a, { UID: 'anna' });
    const dup = await a.post('/users/create', { UID: 'anna', FirstName: 'Other' });
    assert.equal(dup.statusCode, 409);
    assert.deepEqual(dup.json(), { status: 409, error: 'User "anna" already exists' });
    assert.equal((await b.post('/users/create', { UID: 'anna' })).statusCode, 200);
    const race = await Promise.all(Array.from({ length: 5 }, () => a.post('/users/create', { UID: 'bob' })));
    assert.deepEqual(race.map((r) => r.statusCode).sort(), [200, 409, 409, 409, 409]);
    assert.equal((await a.get('/users')).json().count, 2);
  });

  it('lists the users of the client ordered by UID, with filters, ordering and paging', async () => {
    const c = await h.newClient();
    await createUser(c, { UID: 'carl', LastName: 'Adams', TelStatusID: 1 });
    await createUser(c, { UID: 'anna', LastName: 'Cole' });
    await createUser(c, { UID: 'bert', LastName: 'Baker', TelStatusID: 1 });
    const all = (await c.get('/users')).json();
    assert.deepEqual(Object.keys(all), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.deepEqual(all.records.map((u: { UID: string }) => u.UID), ['anna', 'bert', 'carl']);
    assert.equal(all.orderBy, 'UID');
    assert.deepEqual(Object.keys(all.records[0]), USER_FIELDS);
    const byName = (await c.get('/users?orderBy=LastName&ascending=false')).json();
    assert.deepEqual(byName.records.map((u: { UID: string }) => u.UID), ['anna', 'bert', 'carl']);
    const status = (await c.get('/users?TelStatusID=1')).json();
    assert.deepEqual(status.records.map((u: { UID: string }) => u.UID), ['bert', 'carl']);
    assert.equal(status.filter, 'TelStatusID=1');
    const page = (await c.get('/users?limitStart=2&limitPageSize=5')).json();
    assert.deepEqual(page.records.map((u: { UID: string }) => u.UID), ['carl']);
    const uid = (await c.get('/users?UID=bert')).json();
    assert.equal(uid.count, 1);
  });

  it('rejects filtering or ordering by the memberships, and unknown fields, with 400', async () => {
    const c = await h.newClient();
    for (const q of ['AcdGroups=1', 'orderBy=AcdGroups', 'orderBy=Password', 'Password=x', 'limitPageSize=0', 'limitStart=-1']) {
      const res = await c.get(`/users?${q}`);
      assert.equal(res.statusCode, 400, q);
      assert.equal(res.json().status, 400);
    }
  });

  it('answers an unknown user with 404 JSON and a malformed ID with 400', async () => {
    const c = await h.newClient();
    const res = await c.get('/users/user/424242');
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { status: 404, error: 'User 424242 not found' });
    assert.equal((await c.get('/users/user/anna')).statusCode, 400);
    assert.equal((await c.get('/users/user/0')).statusCode, 400);
  });

  it('changes only the given fields, clears with null, and stamps dtLastModified', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const u = await createUser(c, { UID: 'anna', FirstName: 'Anna', Email: 'anna@example.com' });
    h.clock.set(Date.UTC(2026, 5, 20, 12, 0, 0));
    const res = await c.request('PATCH', `/users/user/${u.ID}`, { Email: null, LastName: 'Berg', UID: 'anna.berg' });
    assert.equal(res.statusCode, 200);
    const updated = res.json().records[0];
    assert.equal(updated.UID, 'anna.berg');
    assert.equal(updated.FirstName, 'Anna');
    assert.equal(updated.LastName, 'Berg');
    assert.equal(updated.Email, null);
    assert.equal(updated.dtCreated, '2026-06-15T08:00:00.000');
    assert.equal(updated.dtLastModified, '2026-06-20T12:00:00.000');
  });

  it('rejects invalid updates (400), a taken UID (409) and unknown users (404)', async () => {
    const c = await h.newClient();
    await createUser(c, { UID: 'anna' });
    const u = await createUser(c, { UID: 'bert' });
    for (const [body, fieldName] of [[{}, 'body'], [{ UID: null }, 'UID'], [{ TelStatusID: null }, 'TelStatusID'], [{ Email: 'x@' }, 'Email'], [{ ID: 1 }, 'ID']] as const) {
      const res = await c.request('PATCH', `/users/user/${u.ID}`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().details[0].field, fieldName);
    }
    const clash = await c.request('PATCH', `/users/user/${u.ID}`, { UID: 'anna' });
    assert.equal(clash.statusCode, 409);
    assert.equal((await c.request('PATCH', `/users/user/${u.ID}`, { UID: 'bert', FirstName: 'Bert' })).statusCode, 200);
    const missing = await c.request('PATCH', '/users/user/999999', { FirstName: 'X' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'User 999999 not found');
    assert.equal((await c.get(`/users/user/${u.ID}`)).json().records[0].UID, 'bert');
  });

  it('deletes a user with their memberships and answers {status:200}', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    await addMember(c, g.ID, u.ID, { 3: 40 });
    const res = await c.request('DELETE', `/users/user/${u.ID}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    assert.equal((await c.get(`/users/user/${u.ID}`)).statusCode, 404);
    assert.equal((await c.get(`/acd/groups/group/${g.ID}/members`)).json().count, 0);
    const again = await c.request('DELETE', `/users/user/${u.ID}`);
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().status, 404);
  });

  it('deletes a user with open work: events reserved for them fail with a reason, events they held return to the queue', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const leaver = await createUser(c, { UID: 'leaver' });
    const reserved = await insertEvent(h, c.id, { status: 4, groupId: g.ID, userId: leaver.ID });
    const offered = await insertEvent(h, c.id, { status: 10, groupId: g.ID, offeredUserId: leaver.ID });
    const inHand = await insertEvent(h, c.id, { status: 30, groupId: g.ID, offeredUserId: leaver.ID });
    const res = await c.request('DELETE', `/users/user/${leaver.ID}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await c.get(`/users/user/${leaver.ID}`)).statusCode, 404);
    const rows = await h.store.db.selectFrom('acd_events').select(['id', 'status_id', 'agent_id', 'user_id', 'error_reason'])
      .where('id', 'in', [reserved, offered, inHand]).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.id, r.status_id, r.agent_id, r.user_id, r.error_reason]), [
      [reserved, 100, null, null, `Reserved agent ${leaver.ID} was deleted`],
      [offered, 4, null, null, null],
      [inHand, 4, null, null, null],
    ]);
    const history = (await c.get(`/acd/events/event/${inHand}/history`)).json().records;
    assert.deepEqual([history.at(-1).FromAcdEventStatusID, history.at(-1).ToAcdEventStatusID, history.at(-1).Reason], [30, 4, 'agent was deleted']);
  });

  it('deletes a user whose events are finished, keeping the events without the reference', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    const colleague = await createUser(c, { UID: 'ben' });
    const done = await insertEvent(h, c.id, { status: 99, groupId: g.ID, userId: u.ID, offeredUserId: u.ID });
    const theirs = await insertEvent(h, c.id, { status: 99, groupId: g.ID, userId: colleague.ID, offeredUserId: colleague.ID });
    assert.equal((await c.request('DELETE', `/users/user/${u.ID}`)).statusCode, 200);
    const refs = async (id: number) => h.store.db.selectFrom('acd_events').select(['user_id', 'agent_id']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(await refs(done), { user_id: null, agent_id: null });
    assert.deepEqual(await refs(theirs), { user_id: colleague.ID, agent_id: colleague.ID });
  });

  it("never shows or changes one client's users for another", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const secret = await createUser(a, { UID: 'secret', FirstName: 'Sec' });
    await createUser(b, { UID: 'visible' });
    const list = (await b.get('/users')).json();
    assert.deepEqual(list.records.map((u: { UID: string }) => u.UID), ['visible']);
    assert.equal((await b.get(`/users?ID=${secret.ID}`)).json().count, 0);
    assert.equal((await b.get(`/users/user/${secret.ID}`)).statusCode, 404);
    assert.equal((await b.request('PATCH', `/users/user/${secret.ID}`, { FirstName: 'Hacked' })).statusCode, 404);
    assert.equal((await b.request('DELETE', `/users/user/${secret.ID}`)).statusCode, 404);
    assert.deepEqual((await a.get(`/users/user/${secret.ID}`)).json().records[0], secret);
  });
});
