// Spec §4/§6 [ours]: users as members of ACD groups, with skill values, provisioned through
// PUT/DELETE on /acd/groups/group/{id}/members/{UsersID}.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addMember, createGroup, createUser, insertEvent } from './fixtures-groups.ts';

describeStores('ACD group memberships', (h) => {
  it('PUT makes the user a member with skills; the user record and the member list show it', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    const res = await c.request('PUT', `/acd/groups/group/${g.ID}/members/${u.ID}`, { Skills: { 12: 80, 3: 0 } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.count, 1);
    assert.equal(body.status, 200);
    assert.deepEqual(body.records[0], { AcdGroupsID: g.ID, UsersID: u.ID, Skills: { 12: 80, 3: 0 }, dtCreated: '2026-06-15T10:00:00.000' });
    const user = (await c.get(`/users/user/${u.ID}`)).json().records[0];
    assert.deepEqual(user.AcdGroups, [{ AcdGroupsID: g.ID, Skills: { 12: 80, 3: 0 } }]);
    const members = (await c.get(`/acd/groups/group/${g.ID}/members`)).json();
    assert.equal(members.count, 1);
    assert.equal(members.orderBy, 'UsersID');
    assert.deepEqual(members.records[0], body.records[0]);
    const row = await h.store.db.selectFrom('acd_group_members').select('skills').where('group_id', '=', g.ID).executeTakeFirstOrThrow();
    assert.deepEqual(row.skills, { 12: 80, 3: 0 });
  });

  it('PUT again replaces the whole skill set and keeps the membership creation time', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    await addMember(c, g.ID, u.ID, { 1: 10, 2: 20 });
    h.clock.set(Date.UTC(2026, 6, 1, 8, 0, 0));
    const res = await c.request('PUT', `/acd/groups/group/${g.ID}/members/${u.ID}`, { Skills: { 2: 90 } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().records[0].Skills, { 2: 90 });
    assert.equal(res.json().records[0].dtCreated, '2026-06-15T10:00:00.000');
    const cleared = await c.request('PUT', `/acd/groups/group/${g.ID}/members/${u.ID}`, {});
    assert.deepEqual(cleared.json().records[0].Skills, {});
    const rows = await h.store.db.selectFrom('acd_group_members').selectAll().where('user_id', '=', u.ID).execute();
    assert.equal(rows.length, 1);
  });

  it('lists every membership of a user ordered by group, and the members of a group with list parameters', async () => {
    const c = await h.newClient();
    const g1 = await createGroup(c, { Name: 'One' });
    const g2 = await createGroup(c, { Name: 'Two', GroupType: 'Agent' });
    const anna = await createUser(c, { UID: 'anna' });
    const bert = await createUser(c, { UID: 'bert' });
    await addMember(c, g2.ID, anna.ID, { 5: 50 });
    await addMember(c, g1.ID, anna.ID);
    await addMember(c, g2.ID, bert.ID, { 5: 70 });
    const user = (await c.get(`/users/user/${anna.ID}`)).json().records[0];
    assert.deepEqual(user.AcdGroups, [{ AcdGroupsID: g1.ID, Skills: {} }, { AcdGroupsID: g2.ID, Skills: { 5: 50 } }]);
    const list = (await c.get('/users')).json().records;
    assert.deepEqual(list.map((u: { AcdGroups: unknown[] }) => u.AcdGroups.length), [2, 1]);
    const desc = (await c.get(`/acd/groups/group/${g2.ID}/members?ascending=false`)).json();
    assert.deepEqual(desc.records.map((m: { UsersID: number }) => m.UsersID), [bert.ID, anna.ID]);
    const one = (await c.get(`/acd/groups/group/${g2.ID}/members?UsersID=${anna.ID}`)).json();
    assert.equal(one.count, 1);
    assert.equal((await c.get(`/acd/groups/group/${g2.ID}/members?orderBy=Skills`)).statusCode, 400);
  });

  it('rejects invalid skill maps and bodies with 400 naming the field, and stores nothing', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [String(i + 1), 1]));
    const cases: [unknown, string][] = [
      [{ Skills: { 12: 101 } }, 'Skills.12'],
      [{ Skills: { 12: -1 } }, 'Skills.12'],
      [{ Skills: { 12: 50.5 } }, 'Skills.12'],
      [{ Skills: { 12: '80' } }, 'Skills.12'],
      [{ Skills: { 12: null } }, 'Skills.12'],
      [{ Skills: { abc: 10 } }, 'Skills.abc'],
      [{ Skills: { 0: 10 } }, 'Skills.0'],
      [{ Skills: { '007': 10 } }, 'Skills.007'],
      [{ Skills: { 99999999999: 10 } }, 'Skills.99999999999'],
      [{ Skills: [80] }, 'Skills'],
      [{ Skills: many }, 'Skills'],
      [{ Skills: {}, Level: 3 }, 'Level'],
    ];
    for (const [body, fieldName] of cases) {
      const res = await c.request('PUT', `/acd/groups/group/${g.ID}/members/${u.ID}`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().details[0].field, fieldName, JSON.stringify(body));
    }
    assert.equal((await h.store.db.selectFrom('acd_group_members').selectAll().where('group_id', '=', g.ID).execute()).length, 0);
  });

  it('answers 404 JSON for an unknown group or user, 400 for malformed IDs', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const u = await createUser(c, { UID: 'anna' });
    const noGroup = await c.request('PUT', `/acd/groups/group/999999/members/${u.ID}`, { Skills: {} });
    assert.equal(noGroup.statusCode, 404);
    assert.deepEqual(noGroup.json(), { status: 404, error: 'ACD group 999999 not found' });
    const noUser = await c.request('PUT', `/acd/groups/group/${g.ID}/members/999999`, { Skills: {} });
    assert.equal(noUser.statusCode, 404);
    assert.deepEqual(noUser.json(), { status: 404, error: 'User 999999 not found' });
    assert.equal((await c.request('PUT', `/acd/groups/group/${g.ID}/members/x`, {})).statusCode, 400);
    assert.equal((await c.request('DELETE', `/acd/groups/group/999999/members/${u.ID}`)).statusCode, 404);
    assert.equal((await c.request('DELETE', `/acd/groups/group/${g.ID}/members/999999`)).json().error, 'User 999999 not found');
    assert.equal((await c.get('/acd/groups/group/999999/members')).statusCode, 404);
  });

  it('refuses (409) members in a Configuration group: its agents sit in the agent group', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const cfg = await createGroup(c, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    const u = await createUser(c, { UID: 'anna' });
    const res = await c.request('PUT', `/acd/groups/group/${cfg.ID}/members/${u.ID}`, { Skills: { 1: 50 } });
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error, /Configuration group/);
    assert.deepEqual((await c.get(`/users/user/${u.ID}`)).json().records[0].AcdGroups, []);
    await addMember(c, agents.ID, u.ID, { 1: 50 });
  });

  it('DELETE ends a membership; not a member answers 404 JSON', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const other = await createGroup(c, { Name: 'Support' });
    const u = await createUser(c, { UID: 'anna' });
    await addMember(c, g.ID, u.ID, { 1: 50 });
    await addMember(c, other.ID, u.ID);
    const res = await c.request('DELETE', `/acd/groups/group/${g.ID}/members/${u.ID}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    assert.deepEqual((await c.get(`/users/user/${u.ID}`)).json().records[0].AcdGroups, [{ AcdGroupsID: other.ID, Skills: {} }]);
    const again = await c.request('DELETE', `/acd/groups/group/${g.ID}/members/${u.ID}`);
    assert.equal(again.statusCode, 404);
    assert.deepEqual(again.json(), { status: 404, error: `User ${u.ID} is not a member of ACD group ${g.ID}` });
  });

  it('ends a membership with open work: events of the group reserved for the agent fail, others are untouched', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const elsewhere = await createGroup(c, { Name: 'Support' });
    const u = await createUser(c, { UID: 'anna' });
    await addMember(c, g.ID, u.ID);
    await addMember(c, elsewhere.ID, u.ID);
    const here = await insertEvent(h, c.id, { status: 30, groupId: g.ID, userId: u.ID, offeredUserId: u.ID });
    const there = await insertEvent(h, c.id, { status: 30, groupId: elsewhere.ID, userId: u.ID, offeredUserId: u.ID });
    const res = await c.request('DELETE', `/acd/groups/group/${g.ID}/members/${u.ID}`);
    assert.equal(res.statusCode, 200, res.body);
    const rows = await h.store.db.selectFrom('acd_events').select(['id', 'status_id', 'agent_id', 'error_reason'])
      .where('id', 'in', [here, there]).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.status_id, r.agent_id, r.error_reason]), [
      [100, null, `Reserved agent ${u.ID} left ACD group ${g.ID}`],
      [30, u.ID, null],
    ]);
  });

  it("keeps memberships inside the client: no joining another client's group or user, no reading or ending them", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const ga = await createGroup(a, { Name: 'A group' });
    const ua = await createUser(a, { UID: 'anna' });
    const gb = await createGroup(b, { Name: 'B group' });
    const ub = await createUser(b, { UID: 'bert' });
    await addMember(a, ga.ID, ua.ID, { 1: 10 });

    assert.equal((await b.request('PUT', `/acd/groups/group/${gb.ID}/members/${ua.ID}`, {})).statusCode, 404);
    assert.equal((await b.request('PUT', `/acd/groups/group/${ga.ID}/members/${ub.ID}`, {})).statusCode, 404);
    assert.equal((await b.request('PUT', `/acd/groups/group/${ga.ID}/members/${ua.ID}`, { Skills: { 1: 99 } })).statusCode, 404);
    assert.equal((await a.request('PUT', `/acd/groups/group/${ga.ID}/members/${ub.ID}`, {})).statusCode, 404);
    assert.equal((await b.request('DELETE', `/acd/groups/group/${ga.ID}/members/${ua.ID}`)).statusCode, 404);
    assert.equal((await b.get(`/acd/groups/group/${ga.ID}/members`)).statusCode, 404);

    assert.deepEqual((await a.get(`/users/user/${ua.ID}`)).json().records[0].AcdGroups, [{ AcdGroupsID: ga.ID, Skills: { 1: 10 } }]);
    assert.deepEqual((await b.get(`/users/user/${ub.ID}`)).json().records[0].AcdGroups, []);
    const rows = await h.store.db.selectFrom('acd_group_members').selectAll().where('group_id', 'in', [ga.ID, gb.ID]).execute();
    assert.equal(rows.length, 1);
  });
});

describeStores('membership JSON on the wire', (h) => {
  it('prints users with their groups and skills in compact JSON', async () => {
    const c = await h.newClient();
    const group = (await c.post('/acd/groups/create', { Name: 'Compact' })).json().records[0];
    const user = (await c.post('/users/create', { UID: 'compact.agent' })).json().records[0];
    assert.equal((await c.request('PUT', `/acd/groups/group/${group.ID}/members/${user.ID}`, { Skills: { '12': 80, '3': 5 } })).statusCode, 200);
    const body = (await c.get(`/users/user/${user.ID}`)).body;
    assert.ok(body.includes(`"AcdGroups":[{"AcdGroupsID":${group.ID},"Skills":{"12":80,"3":5}}]`), body);
    assert.ok(!/" : |": |, "/.test(body), body);
    assert.deepEqual((await c.get(`/users/user/${user.ID}`)).json().records[0].AcdGroups, [{ AcdGroupsID: group.ID, Skills: { '12': 80, '3': 5 } }]);
  });
});
