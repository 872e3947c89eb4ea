// Issue 3, agents: ACD and group logins, capacity, force logout, the supervisor's list, history.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addMember, createGroup, createUser } from './fixtures-groups.ts';
import { asClient, historyOf, newAgent } from './fixtures-agents.ts';

const AGENT_FIELDS = ['UsersID', 'UID', 'bLoggedIn', 'AcdGroups', 'Capacity', 'LastAgentTime', 'dtLastStateChange'];
const DEFAULT_CAPACITY = { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1 };

describeStores('agents: state', (h) => {
  it('starts logged out everywhere with capacity 1 per event type', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c, 'anna');
    const group = await createGroup(c, { Name: 'Support' });
    await addMember(c, group.ID, agent.userId);
    const res = await agent.request('GET', '/agents/me');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.deepEqual(Object.keys(body.records[0]), AGENT_FIELDS);
    assert.deepEqual(body.records[0], {
      UsersID: agent.userId, UID: 'anna', bLoggedIn: false, AcdGroups: [{ AcdGroupsID: group.ID, Name: 'Support', bLoggedIn: false }],
      Capacity: DEFAULT_CAPACITY, LastAgentTime: null, dtLastStateChange: null,
    });
  });

  it('logs in and out of the ACD; a repeat changes and records nothing', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const agent = await newAgent(h, c);
    h.clock.set(Date.UTC(2026, 3, 1, 9, 0, 0));
    const on = (await agent.request('POST', '/agents/me/acd/login')).json().records[0];
    assert.equal(on.bLoggedIn, true);
    assert.equal(on.dtLastStateChange, '2026-04-01T09:00:00.000');
    h.clock.set(Date.UTC(2026, 3, 1, 9, 5, 0));
    const again = (await agent.request('POST', '/agents/me/acd/login')).json().records[0];
    assert.equal(again.dtLastStateChange, '2026-04-01T09:00:00.000');
    const off = (await agent.request('POST', '/agents/me/acd/logout')).json().records[0];
    assert.equal(off.bLoggedIn, false);
    assert.equal(off.dtLastStateChange, '2026-04-01T09:05:00.000');
    const actor = `agent:${agent.userId}`;
    assert.deepEqual(await historyOf(h, agent.userId), [
      { change: 'AcdLogin', group_id: null, capacity: null, actor, reason: null },
      { change: 'AcdLogout', group_id: null, capacity: null, actor, reason: null },
    ]);
  });

  it('logs in to groups the agent is a member of, independently of the ACD login', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    const a = await createGroup(c, { Name: 'A' });
    const b = await createGroup(c, { Name: 'B' });
    await addMember(c, a.ID, agent.userId);
    await addMember(c, b.ID, agent.userId);
    const res = await agent.request('POST', `/agents/me/groups/${b.ID}/login`);
    assert.equal(res.statusCode, 200, res.body);
    const state = res.json().records[0];
    assert.equal(state.bLoggedIn, false, 'a group login is not an ACD login');
    assert.deepEqual(state.AcdGroups, [{ AcdGroupsID: a.ID, Name: 'A', bLoggedIn: false }, { AcdGroupsID: b.ID, Name: 'B', bLoggedIn: true }]);
    assert.notEqual(state.dtLastStateChange, null);
    // Logging out of the ACD keeps the group logins for the next ACD login.
    await agent.request('POST', '/agents/me/acd/login');
    const out = (await agent.request('POST', '/agents/me/acd/logout')).json().records[0];
    assert.deepEqual(out.AcdGroups, [{ AcdGroupsID: a.ID, Name: 'A', bLoggedIn: false }, { AcdGroupsID: b.ID, Name: 'B', bLoggedIn: true }]);
    const left = (await agent.request('POST', `/agents/me/groups/${b.ID}/logout`)).json().records[0];
    assert.deepEqual(left.AcdGroups, [{ AcdGroupsID: a.ID, Name: 'A', bLoggedIn: false }, { AcdGroupsID: b.ID, Name: 'B', bLoggedIn: false }]);
    assert.deepEqual((await historyOf(h, agent.userId)).map((r) => [r.change, r.group_id]), [
      ['GroupLogin', b.ID], ['AcdLogin', null], ['AcdLogout', null], ['GroupLogout', b.ID],
    ]);
  });

  it('refuses a group the agent is not a member of (409) and an unknown or foreign group (404)', async () => {
    const c = await h.newClient();
    const other = await h.newClient();
    const agent = await newAgent(h, c);
    const group = await createGroup(c, { Name: 'Sales' });
    const foreign = await createGroup(other, { Name: 'Sales' });
    for (const action of ['login', 'logout']) {
      const res = await agent.request('POST', `/agents/me/groups/${group.ID}/${action}`);
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json(), { status: 409, error: `User ${agent.userId} is not a member of ACD group ${group.ID}` });
    }
    for (const id of [999999, foreign.ID]) {
      const res = await agent.request('POST', `/agents/me/groups/${id}/login`);
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), { status: 404, error: `ACD group ${id} not found` });
    }
    assert.equal((await agent.request('POST', '/agents/me/groups/abc/login')).statusCode, 400);
    assert.deepEqual(await historyOf(h, agent.userId), []);
  });

  it('ending a membership ends the login to that group', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    const group = await createGroup(c, { Name: 'Billing' });
    await addMember(c, group.ID, agent.userId);
    await agent.request('POST', `/agents/me/groups/${group.ID}/login`);
    assert.equal((await c.request('DELETE', `/acd/groups/group/${group.ID}/members/${agent.userId}`)).statusCode, 200);
    await addMember(c, group.ID, agent.userId);
    const state = (await agent.request('GET', '/agents/me')).json().records[0];
    assert.deepEqual(state.AcdGroups, [{ AcdGroupsID: group.ID, Name: 'Billing', bLoggedIn: false }]);
  });

  it('concurrent logins of one agent record one change', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    const group = await createGroup(c, { Name: 'Race' });
    await addMember(c, group.ID, agent.userId);
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => agent.request('POST', '/agents/me/acd/login')),
      ...Array.from({ length: 8 }, () => agent.request('POST', `/agents/me/groups/${group.ID}/login`)),
    ]);
    assert.deepEqual(results.map((r) => r.statusCode), Array(16).fill(200));
    const history = await historyOf(h, agent.userId);
    assert.deepEqual(history.map((r) => r.change).sort(), ['AcdLogin', 'GroupLogin']);
  });
});

describeStores('agents: supervisor controls', (h) => {
  it('sets capacity per event type; types not named keep theirs', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'cap' });
    const client = asClient(c);
    const first = await client('PUT', `/agents/agent/${user.ID}/capacity`, { Capacity: { 5: 3, 7: 0 } });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json().records[0].Capacity, { ...DEFAULT_CAPACITY, 5: 3, 7: 0 });
    const second = await client('PUT', `/agents/agent/${user.ID}/capacity`, { Capacity: { 1: 100 } });
    assert.deepEqual(second.json().records[0].Capacity, { ...DEFAULT_CAPACITY, 1: 100, 5: 3, 7: 0 });
    assert.equal(second.json().records[0].dtLastStateChange, null, 'capacity is not a login state');
    const history = await historyOf(h, user.ID);
    assert.deepEqual(history.map((r) => [r.change, r.actor]), [['Capacity', 'api'], ['Capacity', 'api']]);
    assert.deepEqual(history[1].capacity, { ...DEFAULT_CAPACITY, 1: 100, 5: 3, 7: 0 });
  });

  it('rejects bad capacities with 400 naming the field, and changes nothing', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'bad-cap' });
    const client = asClient(c);
    const cases: [unknown, string][] = [
      [{ Capacity: { 8: 1 } }, 'Capacity.8'],
      [{ Capacity: { 0: 1 } }, 'Capacity.0'],
      [{ Capacity: { 3: 101 } }, 'Capacity.3'],
      [{ Capacity: { 3: -1 } }, 'Capacity.3'],
      [{ Capacity: { 3: 1.5 } }, 'Capacity.3'],
      [{ Capacity: { 3: '2' } }, 'Capacity.3'],
      [{ Capacity: {} }, 'Capacity'],
      [{ Capacity: null }, 'Capacity'],
      [{}, 'Capacity'],
      [{ Capacity: { 1: 1 }, Other: 1 }, 'Other'],
    ];
    for (const [body, field] of cases) {
      const res = await client('PUT', `/agents/agent/${user.ID}/capacity`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().details[0].field, field, JSON.stringify(body));
    }
    assert.deepEqual((await client('GET', `/agents/agent/${user.ID}`)).json().records[0].Capacity, DEFAULT_CAPACITY);
    assert.deepEqual(await historyOf(h, user.ID), []);
  });

  it('forces an agent out of the ACD and every group; the agent session stays', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    const a = await createGroup(c, { Name: 'A' });
    const b = await createGroup(c, { Name: 'B' });
    for (const g of [a, b]) {
      await addMember(c, g.ID, agent.userId);
      await agent.request('POST', `/agents/me/groups/${g.ID}/login`);
    }
    await agent.request('POST', '/agents/me/acd/login');
    const res = await asClient(c)('POST', `/agents/agent/${agent.userId}/logout`);
    assert.equal(res.statusCode, 200, res.body);
    const state = res.json().records[0];
    assert.equal(state.bLoggedIn, false);
    assert.deepEqual(state.AcdGroups, [{ AcdGroupsID: a.ID, Name: 'A', bLoggedIn: false }, { AcdGroupsID: b.ID, Name: 'B', bLoggedIn: false }]);
    const forced = (await historyOf(h, agent.userId)).slice(3);
    assert.deepEqual(forced.map((r) => [r.change, r.group_id, r.actor, r.reason]), [
      ['AcdLogout', null, 'api', 'forced'], ['GroupLogout', a.ID, 'api', 'forced'], ['GroupLogout', b.ID, 'api', 'forced'],
    ]);
    assert.equal((await agent.request('GET', '/agents/me')).statusCode, 200);
    // Forcing out an agent who is out already is a success that records nothing.
    assert.equal((await asClient(c)('POST', `/agents/agent/${agent.userId}/logout`)).statusCode, 200);
    assert.equal((await historyOf(h, agent.userId)).length, 6);
  });

  it('lists the agent state of every user with the list parameters', async () => {
    const c = await h.newClient();
    const client = asClient(c);
    const agents = [await newAgent(h, c, 'c-agent'), await newAgent(h, c, 'a-agent'), await newAgent(h, c, 'b-agent')];
    await agents[0].request('POST', '/agents/me/acd/login');
    await agents[2].request('POST', '/agents/me/acd/login');
    const all = (await client('GET', '/agents')).json();
    assert.deepEqual(Object.keys(all), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.deepEqual(all.records.map((r: { UID: string }) => r.UID), ['a-agent', 'b-agent', 'c-agent']);
    assert.equal(all.orderBy, 'UID');
    assert.deepEqual(Object.keys(all.records[0]), AGENT_FIELDS);
    const on = (await client('GET', '/agents?bLoggedIn=true&orderBy=UsersID&ascending=false')).json();
    assert.deepEqual(on.records.map((r: { UID: string }) => r.UID), ['b-agent', 'c-agent']);
    assert.equal(on.filter, 'bLoggedIn=true');
    const off = (await client('GET', '/agents?bLoggedIn=false')).json();
    assert.deepEqual(off.records.map((r: { UID: string }) => r.UID), ['a-agent']);
    const page = (await client('GET', '/agents?limitStart=1&limitPageSize=1')).json();
    assert.deepEqual(page.records.map((r: { UID: string }) => r.UID), ['b-agent']);
    for (const [query, field] of [['orderBy=Colour', 'orderBy'], ['orderBy=Capacity', 'orderBy'], ['Colour=red', 'Colour'], ['Capacity=1', 'Capacity']]) {
      const res = await client('GET', `/agents?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.json().details[0].field, field, query);
    }
  });

  it("keeps every client to its own agents", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const agentA = await newAgent(h, a, 'same-uid');
    await newAgent(h, b, 'same-uid');
    const groupB = await createGroup(b, { Name: 'B group' });
    const clientB = asClient(b);
    assert.deepEqual((await clientB('GET', '/agents')).json().records.map((r: { UsersID: number }) => r.UsersID).includes(agentA.userId), false);
    for (const [method, path, body] of [
      ['GET', `/agents/agent/${agentA.userId}`, undefined],
      ['PUT', `/agents/agent/${agentA.userId}/capacity`, { Capacity: { 1: 5 } }],
      ['POST', `/agents/agent/${agentA.userId}/logout`, undefined],
    ] as const) {
      const res = await clientB(method, path, body);
      assert.equal(res.statusCode, 404, `${method} ${path}`);
      assert.deepEqual(res.json(), { status: 404, error: `User ${agentA.userId} not found` });
    }
    assert.equal((await agentA.request('POST', `/agents/me/groups/${groupB.ID}/login`)).statusCode, 404);
    assert.deepEqual(await historyOf(h, agentA.userId), []);
  });
});
