// Issue 3, agent work and supervision: forward, comment, reassign, the queue view, and the
// boundaries of the agent endpoints (validation, other agents' events, token kinds).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { act, eventOf, inbox, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import { addMember, createGroup } from './fixtures-groups.ts';
import { newAgent } from './fixtures-agents.ts';

describeStores('distribution: agent work and supervision', (h) => {
  it('forwards an event to another group, where it is distributed again', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const first = await standaloneGroup(c);
    const second = await standaloneGroup(c);
    const a = await readyAgent(h, c, first);
    const b = await readyAgent(h, c, second);
    const id = await newEvent(c, first);
    await pass(h);
    await act(a, id, 'accept');
    const res = await act(a, id, 'forward', { AcdGroupsID: second, Comment: 'Billing question' });
    assert.equal(res.statusCode, 200, res.body);
    const record = res.json().records[0];
    assert.deepEqual([record.AcdEventStatusID, record.AcdGroupsID, record.AgentUsersID, record.UsersID], [4, second, null, null]);
    await pass(h);
    assert.equal((await eventOf(h, id)).agent, b.userId);
    const history = (await c.get(`/acd/events/event/${id}/history`)).json().records;
    assert.equal(history.at(-2).Reason, `forwarded to ACD group ${second}`);
    const comments = (await c.get(`/acd/events/event/${id}/comments`)).json().records;
    assert.equal(comments[0].Text, 'Billing question');
  });

  it('forwards to one agent of a group; refuses non-members (409), configuration groups and empty targets (400)', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const colleague = await readyAgent(h, c, group);
    const outsider = await newAgent(h, c);
    const agentGroup = await createGroup(c, { Name: `Agents ${Math.random()}`, GroupType: 'Agent' });
    const configuration = await createGroup(c, { Name: `Config ${Math.random()}`, GroupType: 'Configuration', PrimaryAgentGroupsID: agentGroup.ID });
    const id = await newEvent(c, group, { UsersID: a.userId });
    await pass(h);
    await act(a, id, 'accept');
    assert.equal((await act(a, id, 'forward', {})).statusCode, 400);
    assert.equal((await act(a, id, 'forward', { UsersID: outsider.userId })).statusCode, 409);
    const config = await act(a, id, 'forward', { AcdGroupsID: configuration.ID });
    assert.equal(config.statusCode, 400);
    assert.match(config.json().error, /AcdGroupsID/);
    assert.equal((await act(a, id, 'forward', { AcdGroupsID: 999999 })).statusCode, 404);
    assert.equal((await eventOf(h, id)).status, 20, 'refused forwards change nothing');
    const ok = await act(a, id, 'forward', { UsersID: colleague.userId });
    assert.equal(ok.statusCode, 200, ok.body);
    await pass(h);
    assert.deepEqual(await eventOf(h, id).then((e) => [e.status, e.agent, e.user]), [10, colleague.userId, colleague.userId]);
  });

  it('answers 409 for an action the status does not allow, and 400 for a reminder in the past', async () => {
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    await pass(h);
    const early = await act(a, id, 'done');
    assert.equal(early.statusCode, 409);
    assert.match(early.json().error, /needs status 20 or 30 or 40/);
    await act(a, id, 'accept');
    assert.equal((await act(a, id, 'accept')).statusCode, 409);
    const past = await act(a, id, 'remind', { dtRemind: '2026-06-15T07:59' });
    assert.equal(past.statusCode, 400);
    assert.match(past.json().error, /dtRemind/);
    assert.equal((await act(a, id, 'remind', { dtRemind: '2026-02-30T10:00' })).statusCode, 400);
    assert.equal((await act(a, id, 'comment', {})).statusCode, 400);
    const note = await act(a, id, 'comment', { Comment: 'Customer unreachable' });
    assert.equal(note.statusCode, 200);
    assert.equal(note.json().records[0].AcdEventStatusID, 20);
  });

  it('keeps agent endpoints to agent tokens and event supervision to client tokens', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    await pass(h);
    assert.equal((await c.request('GET', `${c.base}/agents/me/events`)).statusCode, 403);
    assert.equal((await c.request('POST', `${c.base}/agents/me/events/${id}/accept`)).statusCode, 403);
    assert.equal((await a.request('POST', `/acd/events/event/${id}/reassign`, { AcdGroupsID: group })).statusCode, 403);
    assert.equal((await a.request('GET', `/acd/groups/group/${group}/queue`)).statusCode, 403);
    const other = await h.newClient();
    const foreign = await other.request('POST', `${c.base}/acd/events/event/${id}/reassign`, { AcdGroupsID: group });
    assert.equal(foreign.statusCode, 401);
    assert.equal((await other.request('POST', `${other.base}/acd/events/event/${id}/reassign`, { AcdGroupsID: group })).statusCode, 404);
    assert.equal((await inbox(a)).length, 1);
  });

  it('lets a supervisor reassign an event in any hands to another agent, and shows the queue', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const b = await newAgent(h, c);
    await addMember(c, group, b.userId);
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const held = await newEvent(c, group);
    const waiting = await newEvent(c, group);
    await pass(h);
    await act(a, held, 'accept');
    h.clock.set(Date.UTC(2026, 5, 15, 8, 1, 30));
    const queue = await c.get(`/acd/groups/group/${group}/queue`);
    assert.equal(queue.statusCode, 200, queue.body);
    assert.deepEqual(queue.json().records[0], {
      AcdGroupsID: group, Waiting: 1, Offered: 0, InHand: 1, OldestWaitingSeconds: 90, AgentsLoggedIn: 1,
    });
    assert.equal((await c.get('/acd/groups/group/999999/queue')).statusCode, 404);

    const res = await c.post(`/acd/events/event/${held}/reassign`, { UsersID: b.userId, Comment: 'Anna is off sick' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().records[0].AcdEventStatusID, res.json().records[0].UsersID], [4, b.userId]);
    assert.deepEqual(await inbox(a), [], 'the former holder no longer has it');
    const history = (await c.get(`/acd/events/event/${held}/history`)).json().records;
    assert.deepEqual([history.at(-1).FromAcdEventStatusID, history.at(-1).ToAcdEventStatusID, history.at(-1).Actor], [20, 4, 'api']);
    assert.equal((await eventOf(h, waiting)).status, 4);
    await pass(h);
    assert.equal((await eventOf(h, waiting)).agent, a.userId, 'a is free again');
    assert.equal((await eventOf(h, held)).status, 4, 'b is not logged in yet');
    const done = await newEvent(c, group, { UsersID: a.userId });
    await c.post(`/acd/events/event/${done}/reassign`, { AcdGroupsID: group });
    await h.store.db.updateTable('acd_events').set({ status_id: 99 }).where('id', '=', done).execute();
    assert.equal((await c.post(`/acd/events/event/${done}/reassign`, { AcdGroupsID: group })).statusCode, 409, 'a finished event stays finished');
  });

  it('turns an event whose reserved agent is deleted into Error with the reason; a supervisor brings it back', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const stays = await readyAgent(h, c, group);
    const leaves = await newAgent(h, c);
    await addMember(c, group, leaves.userId);
    const id = await newEvent(c, group, { UsersID: leaves.userId });
    await pass(h);
    assert.equal((await c.request('DELETE', `/users/user/${leaves.userId}`)).statusCode, 200);
    const failed = (await c.get(`/acd/events/event/${id}`)).json().records[0];
    assert.deepEqual([failed.AcdEventStatusID, failed.UsersID], [100, null]);
    const res = await c.post(`/acd/events/event/${id}/reassign`, { AcdGroupsID: group });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().records[0].AcdEventStatusID, res.json().records[0].ErrorReason], [4, null]);
    await pass(h);
    assert.equal((await eventOf(h, id)).agent, stays.userId);
  });
});
