// Spec §6 [ours]: creating, changing and deleting ACD groups through the API.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { addMember, createGroup, createUser, insertEvent } from './fixtures-groups.ts';

describeStores('ACD groups: provisioning', (h) => {
  it('creates a group with every field and answers 200 with the single envelope', async () => {
    const c = await h.newClient();
    const res = await c.post('/acd/groups/create', {
      Name: 'Hotline', ForeignSystemID: 'CRM-7', DistributionAlgorithmID: 2, ServiceLevelSeconds: 45,
      QueueMusicID4Sec: -1, SupervisorAggregationSkill5ID: 5, QueueOffhookAnnouncementID: 12, bPositionAnnouncement3: true, TarifAnnouncementWavesID: 9,
      bCallRedirectionAfterNumberAnnouncement: true, bAvoidDuplicateEvents: true, OfferTimeoutSeconds: 15, GroupType: 'Agent',
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.count, 1);
    assert.equal(body.status, 200);
    const { ID, dtCreated, dtLastModified, ...rest } = body.records[0];
    assert.ok(Number.isInteger(ID) && ID > 0);
    assert.equal(dtCreated, '2026-06-15T10:00:00.000');
    assert.equal(dtLastModified, dtCreated);
    assert.deepEqual(rest, {
      Name: 'Hotline', ForeignSystemID: 'CRM-7', DistributionAlgorithmID: 2, ServiceLevelSeconds: 45, QueueMusicID4Sec: -1,
      SupervisorAggregationSkill5ID: 5, QueueOffhookAnnouncementID: 12, bPositionAnnouncement3: true, TarifAnnouncementWavesID: 9,
      bCallRedirectionAfterNumberAnnouncement: true, GroupType: 'Agent', PrimaryAgentGroupsID: null,
      bAvoidDuplicateEvents: true, OfferTimeoutSeconds: 15,
    });
    assert.deepEqual((await c.get(`/acd/groups/group/${ID}`)).json().records[0], body.records[0]);
  });

  it('rejects invalid create bodies with 400 naming the field, and stores nothing', async () => {
    const c = await h.newClient();
    const cases: [unknown, string][] = [
      [{}, 'Name'],
      [{ Name: '' }, 'Name'],
      [{ Name: '   ' }, 'Name'],
      [{ Name: ' Sales' }, 'Name'],
      [{ Name: 'x'.repeat(257) }, 'Name'],
      [{ Name: 42 }, 'Name'],
      [{ Name: 'Sa\u0000les' }, 'Name'],
      [{ Name: 'G', ForeignSystemID: 'F\u0000' }, 'ForeignSystemID'],
      [{ Name: 'G', Colour: 'red' }, 'Colour'],
      [{ Name: 'G', ID: 5 }, 'ID'],
      [{ Name: 'G', DistributionAlgorithmID: 0 }, 'DistributionAlgorithmID'],
      [{ Name: 'G', DistributionAlgorithmID: 4 }, 'DistributionAlgorithmID'],
      [{ Name: 'G', DistributionAlgorithmID: '2' }, 'DistributionAlgorithmID'],
      [{ Name: 'G', GroupType: 'Queue' }, 'GroupType'],
      [{ Name: 'G', OfferTimeoutSeconds: 0 }, 'OfferTimeoutSeconds'],
      [{ Name: 'G', ServiceLevelSeconds: -1 }, 'ServiceLevelSeconds'],
      [{ Name: 'G', QueueMusicID4Sec: 2147483648 }, 'QueueMusicID4Sec'],
      [{ Name: 'G', QueueMusicID4Sec: 1.5 }, 'QueueMusicID4Sec'],
      [{ Name: 'G', bAvoidDuplicateEvents: 'true' }, 'bAvoidDuplicateEvents'],
      [{ Name: 'G', bPositionAnnouncement3: null }, 'bPositionAnnouncement3'],
      [{ Name: 'G', PrimaryAgentGroupsID: 0 }, 'PrimaryAgentGroupsID'],
    ];
    for (const [body, fieldName] of cases) {
      const res = await c.post('/acd/groups/create', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().status, 400);
      assert.equal(res.json().details[0].field, fieldName, JSON.stringify(body));
    }
    assert.equal((await c.get('/acd/groups')).json().count, 0);
  });

  it('answers 409 for a second group with the same Name in the client, but not in another client', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    await createGroup(a, { Name: 'Sales' });
    const dup = await a.post('/acd/groups/create', { Name: 'Sales', GroupType: 'Agent' });
    assert.equal(dup.statusCode, 409);
    assert.deepEqual(dup.json(), { status: 409, error: 'ACD group "Sales" already exists' });
    assert.equal((await b.post('/acd/groups/create', { Name: 'Sales' })).statusCode, 200);
    assert.equal((await a.get('/acd/groups')).json().count, 1);
  });

  it('creates exactly one group when the same Name is created concurrently', async () => {
    const c = await h.newClient();
    const results = await Promise.all(Array.from({ length: 6 }, () => c.post('/acd/groups/create', { Name: 'Race' })));
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [200, 409, 409, 409, 409, 409]);
    assert.equal((await c.get('/acd/groups')).json().count, 1);
  });

  it('requires a Configuration group to name an Agent group of the client as primary', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const agents = await createGroup(a, { Name: 'Agents', GroupType: 'Agent' });
    const standalone = await createGroup(a, { Name: 'Standalone' });
    const foreignAgents = await createGroup(b, { Name: 'B agents', GroupType: 'Agent' });

    const missing = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType: 'Configuration' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().details[0].field, 'PrimaryAgentGroupsID');
    const nullPrimary = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: null });
    assert.equal(nullPrimary.statusCode, 400);
    const notAgent = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: standalone.ID });
    assert.equal(notAgent.statusCode, 400);
    assert.equal(notAgent.json().details[0].field, 'PrimaryAgentGroupsID');
    assert.match(notAgent.json().error, /not an Agent group/);
    const foreign = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: foreignAgents.ID });
    assert.equal(foreign.statusCode, 404);
    assert.deepEqual(foreign.json(), { status: 404, error: `ACD group ${foreignAgents.ID} not found` });
    const unknown = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: 999999 });
    assert.equal(unknown.statusCode, 404);
    for (const GroupType of ['Standalone', 'Agent', undefined]) {
      const res = await a.post('/acd/groups/create', { Name: 'Cfg', GroupType, PrimaryAgentGroupsID: agents.ID });
      assert.equal(res.statusCode, 400, String(GroupType));
      assert.equal(res.json().details[0].field, 'PrimaryAgentGroupsID');
    }
    assert.equal((await a.get('/acd/groups')).json().count, 2);

    const cfg = await createGroup(a, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    assert.equal(cfg.GroupType, 'Configuration');
    assert.equal(cfg.PrimaryAgentGroupsID, agents.ID);
  });

  it('changes only the given fields, clears nullable ones with null, and stamps dtLastModified', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    h.clock.set(Date.UTC(2026, 5, 15, 8, 0, 0));
    const g = await createGroup(c, { Name: 'Sales', ForeignSystemID: 'F1', QueueMusicID4Sec: 7 });
    h.clock.set(Date.UTC(2026, 5, 16, 9, 30, 0));
    const res = await c.request('PATCH', `/acd/groups/group/${g.ID}`, { ServiceLevelSeconds: 60, ForeignSystemID: null, bAvoidDuplicateEvents: true });
    assert.equal(res.statusCode, 200);
    const updated = res.json().records[0];
    assert.equal(res.json().count, 1);
    assert.equal(updated.ServiceLevelSeconds, 60);
    assert.equal(updated.ForeignSystemID, null);
    assert.equal(updated.bAvoidDuplicateEvents, true);
    assert.equal(updated.QueueMusicID4Sec, 7);
    assert.equal(updated.Name, 'Sales');
    assert.equal(updated.dtCreated, '2026-06-15T08:00:00.000');
    assert.equal(updated.dtLastModified, '2026-06-16T09:30:00.000');
    assert.deepEqual((await c.get(`/acd/groups/group/${g.ID}`)).json().records[0], updated);
  });

  it('rejects invalid updates with 400 and leaves the group unchanged', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const cases: [unknown, string][] = [
      [{}, 'body'],
      [{ Name: null }, 'Name'],
      [{ DistributionAlgorithmID: 9 }, 'DistributionAlgorithmID'],
      [{ OfferTimeoutSeconds: null }, 'OfferTimeoutSeconds'],
      [{ Colour: 'red' }, 'Colour'],
      [{ ID: 3 }, 'ID'],
    ];
    for (const [body, fieldName] of cases) {
      const res = await c.request('PATCH', `/acd/groups/group/${g.ID}`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().details[0].field, fieldName, JSON.stringify(body));
    }
    assert.deepEqual((await c.get(`/acd/groups/group/${g.ID}`)).json().records[0], g);
  });

  it('answers 409 when renaming onto another group of the client, and allows keeping the own name', async () => {
    const c = await h.newClient();
    await createGroup(c, { Name: 'Sales' });
    const g = await createGroup(c, { Name: 'Support' });
    const clash = await c.request('PATCH', `/acd/groups/group/${g.ID}`, { Name: 'Sales' });
    assert.equal(clash.statusCode, 409);
    assert.equal(clash.json().status, 409);
    const same = await c.request('PATCH', `/acd/groups/group/${g.ID}`, { Name: 'Support', ServiceLevelSeconds: 30 });
    assert.equal(same.statusCode, 200);
    const renamed = await c.request('PATCH', `/acd/groups/group/${g.ID}`, { Name: 'Support 2nd level' });
    assert.equal(renamed.json().records[0].Name, 'Support 2nd level');
  });

  it('answers 404 JSON when changing or deleting an unknown group or one of another client', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const g = await createGroup(a, { Name: 'Sales' });
    for (const c of [a, b]) {
      const id = c === a ? 999999 : g.ID;
      const patch = await c.request('PATCH', `/acd/groups/group/${id}`, { Name: 'Taken over' });
      assert.equal(patch.statusCode, 404);
      assert.deepEqual(patch.json(), { status: 404, error: `ACD group ${id} not found` });
      const del = await c.request('DELETE', `/acd/groups/group/${id}`);
      assert.equal(del.statusCode, 404);
      assert.equal(del.json().status, 404);
    }
    assert.deepEqual((await a.get(`/acd/groups/group/${g.ID}`)).json().records[0], g);
  });

  it('changes the group type only when nothing attached to the group forbids it', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const other = await createGroup(c, { Name: 'Other agents', GroupType: 'Agent' });
    const cfg = await createGroup(c, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });

    const leaveAgent = await c.request('PATCH', `/acd/groups/group/${agents.ID}`, { GroupType: 'Standalone' });
    assert.equal(leaveAgent.statusCode, 409);
    assert.match(leaveAgent.json().error, new RegExp(`configuration group\\(s\\) ${cfg.ID}`));

    const switched = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { PrimaryAgentGroupsID: other.ID });
    assert.equal(switched.json().records[0].PrimaryAgentGroupsID, other.ID);
    const selfPrimary = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { PrimaryAgentGroupsID: cfg.ID });
    assert.equal(selfPrimary.statusCode, 400);
    const clearPrimary = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { PrimaryAgentGroupsID: null });
    assert.equal(clearPrimary.statusCode, 400);
    assert.equal(clearPrimary.json().details[0].field, 'PrimaryAgentGroupsID');
    assert.equal((await c.request('PATCH', `/acd/groups/group/${agents.ID}`, { GroupType: 'Standalone' })).statusCode, 200);

    const toStandalone = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { GroupType: 'Standalone' });
    assert.equal(toStandalone.statusCode, 200);
    assert.equal(toStandalone.json().records[0].PrimaryAgentGroupsID, null);

    const noPrimary = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { GroupType: 'Configuration' });
    assert.equal(noPrimary.statusCode, 400);
    const back = await c.request('PATCH', `/acd/groups/group/${cfg.ID}`, { GroupType: 'Configuration', PrimaryAgentGroupsID: other.ID });
    assert.equal(back.statusCode, 200);
    assert.equal(back.json().records[0].GroupType, 'Configuration');
  });

  it('refuses to turn a group with members or queued open events into a Configuration group', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const withMember = await createGroup(c, { Name: 'Team' });
    const withQueue = await createGroup(c, { Name: 'Queue' });
    const user = await createUser(c, { UID: 'anna' });
    await addMember(c, withMember.ID, user.ID);
    await insertEvent(h, c.id, { status: 4, groupId: withQueue.ID });
    const members = await c.request('PATCH', `/acd/groups/group/${withMember.ID}`, { GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    assert.equal(members.statusCode, 409);
    assert.match(members.json().error, /member/);
    const queued = await c.request('PATCH', `/acd/groups/group/${withQueue.ID}`, { GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    assert.equal(queued.statusCode, 409);
    assert.match(queued.json().error, /open event/);
    assert.equal((await c.get(`/acd/groups/group/${withQueue.ID}`)).json().records[0].GroupType, 'Standalone');
  });

  it('deletes a group with its memberships and answers {status:200}', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const user = await createUser(c, { UID: 'anna' });
    await addMember(c, g.ID, user.ID, { 1: 50 });
    const res = await c.request('DELETE', `/acd/groups/group/${g.ID}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    assert.equal((await c.get(`/acd/groups/group/${g.ID}`)).statusCode, 404);
    assert.equal((await c.request('DELETE', `/acd/groups/group/${g.ID}`)).statusCode, 404);
    assert.deepEqual((await c.get(`/users/user/${user.ID}`)).json().records[0].AcdGroups, []);
    const rows = await h.store.db.selectFrom('acd_group_members').selectAll().where('group_id', '=', g.ID).execute();
    assert.equal(rows.length, 0);
  });

  it('refuses (409) to delete a group that open events still name, in any role', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const spare = await createGroup(c, { Name: 'Spare agents', GroupType: 'Agent' });
    const cfg = await createGroup(c, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: spare.ID });
    const standalone = await createGroup(c, { Name: 'Standalone' });
    await insertEvent(h, c.id, { status: 30, groupId: standalone.ID });
    await insertEvent(h, c.id, { status: 1, configurationGroupId: cfg.ID, agentGroupId: agents.ID });
    for (const g of [standalone, cfg, agents]) {
      const res = await c.request('DELETE', `/acd/groups/group/${g.ID}`);
      assert.equal(res.statusCode, 409, g.Name);
      assert.match(res.json().error, /open ACD event/);
      assert.equal((await c.get(`/acd/groups/group/${g.ID}`)).statusCode, 200);
    }
  });

  it('deletes a group whose events are all finished, keeping the events without the reference', async () => {
    const c = await h.newClient();
    const g = await createGroup(c, { Name: 'Sales' });
    const done = await insertEvent(h, c.id, { status: 99, groupId: g.ID });
    const failed = await insertEvent(h, c.id, { status: 100, groupId: g.ID });
    const chat = await insertEvent(h, c.id, { status: 98, groupId: g.ID });
    assert.equal((await c.request('DELETE', `/acd/groups/group/${g.ID}`)).statusCode, 200);
    const rows = await h.store.db.selectFrom('acd_events').select(['id', 'group_id', 'queue_group_id']).where('id', 'in', [done, failed, chat]).execute();
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.group_id, null);
      assert.equal(row.queue_group_id, null);
    }
  });

  it('clears only the roles the deleted group had, and leaves other groups\' events alone', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const cfg = await createGroup(c, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    const other = await createGroup(c, { Name: 'Other' });
    const paired = await insertEvent(h, c.id, { status: 99, configurationGroupId: cfg.ID, agentGroupId: agents.ID });
    const elsewhere = await insertEvent(h, c.id, { status: 4, groupId: other.ID });
    assert.equal((await c.request('DELETE', `/acd/groups/group/${cfg.ID}`)).statusCode, 200);
    const refs = async (id: number) => h.store.db.selectFrom('acd_events')
      .select(['group_id', 'configuration_group_id', 'agent_group_id', 'queue_group_id']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(await refs(paired), { group_id: null, configuration_group_id: null, agent_group_id: agents.ID, queue_group_id: agents.ID });
    assert.equal((await c.request('DELETE', `/acd/groups/group/${agents.ID}`)).statusCode, 200);
    assert.deepEqual(await refs(paired), { group_id: null, configuration_group_id: null, agent_group_id: null, queue_group_id: null });
    assert.deepEqual(await refs(elsewhere), { group_id: other.ID, configuration_group_id: null, agent_group_id: null, queue_group_id: other.ID });
  });

  it('refuses (409) to delete an Agent group that a Configuration group names as primary', async () => {
    const c = await h.newClient();
    const agents = await createGroup(c, { Name: 'Agents', GroupType: 'Agent' });
    const cfg = await createGroup(c, { Name: 'Cfg', GroupType: 'Configuration', PrimaryAgentGroupsID: agents.ID });
    const res = await c.request('DELETE', `/acd/groups/group/${agents.ID}`);
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error, new RegExp(`primary agent group of configuration group\\(s\\) ${cfg.ID}`));
    assert.equal((await c.request('DELETE', `/acd/groups/group/${cfg.ID}`)).statusCode, 200);
    assert.equal((await c.request('DELETE', `/acd/groups/group/${agents.ID}`)).statusCode, 200);
  });
});
