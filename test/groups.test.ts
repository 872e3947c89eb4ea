// Spec §4: reading ACD groups — list, by ID, by name — and that a client sees only its own.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { createGroup } from './fixtures-groups.ts';

const GROUP_FIELDS = [
  'ID', 'Name', 'ForeignSystemID', 'DistributionAlgorithmID', 'ServiceLevelSeconds', 'QueueMusicID4Sec',
  'SupervisorAggregationSkill5ID', 'QueueOffhookAnnouncementID', 'bPositionAnnouncement3', 'TarifAnnouncementWavesID',
  'bCallRedirectionAfterNumberAnnouncement', 'GroupType', 'PrimaryAgentGroupsID', 'bAvoidDuplicateEvents',
  'OfferTimeoutSeconds', 'dtCreated', 'dtLastModified',
];

describeStores('ACD groups: reading', (h) => {
  it('answers a group with the jtel fields in order, defaults filled, timestamps in the client zone', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    h.clock.set(Date.UTC(2026, 0, 10, 12, 30, 15, 250));
    const created = await createGroup(c, { Name: 'Sales' });
    const res = await c.get(`/acd/groups/group/${created.ID}`);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    assert.equal(body.status, 200);
    const group = body.records[0];
    assert.deepEqual(Object.keys(group), GROUP_FIELDS);
    assert.deepEqual(group, {
      ID: created.ID, Name: 'Sales', ForeignSystemID: null, DistributionAlgorithmID: 1, ServiceLevelSeconds: 20,
      QueueMusicID4Sec: null, SupervisorAggregationSkill5ID: null, QueueOffhookAnnouncementID: null, bPositionAnnouncement3: false,
      TarifAnnouncementWavesID: null, bCallRedirectionAfterNumberAnnouncement: false, GroupType: 'Standalone',
      PrimaryAgentGroupsID: null, bAvoidDuplicateEvents: false, OfferTimeoutSeconds: 30,
      dtCreated: '2026-01-10T07:30:15.250', dtLastModified: '2026-01-10T07:30:15.250',
    });
  });

  it('lists the groups of the client ordered by Name by default, in the jtel envelope', async () => {
    const c = await h.newClient();
    for (const Name of ['Support', 'Billing', 'Sales']) await createGroup(c, { Name });
    const res = await c.get('/acd/groups');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.deepEqual(body.records.map((g: { Name: string }) => g.Name), ['Billing', 'Sales', 'Support']);
    assert.equal(body.count, 3);
    assert.equal(body.filter, '');
    assert.equal(body.limitStart, 0);
    assert.equal(body.limitPageSize, -1);
    assert.equal(body.orderBy, 'Name');
    assert.equal(body.ascending, true);
    assert.equal(body.status, 200);
    assert.deepEqual(Object.keys(body.records[0]), GROUP_FIELDS);
  });

  it('lists with filters, ordering and paging', async () => {
    const c = await h.newClient();
    const a = await createGroup(c, { Name: 'A agents', GroupType: 'Agent' });
    const b = await createGroup(c, { Name: 'B agents', GroupType: 'Agent', DistributionAlgorithmID: 3 });
    await createGroup(c, { Name: 'C standalone' });
    const agents = (await c.get('/acd/groups?GroupType=Agent&orderBy=ID&ascending=false')).json();
    assert.deepEqual(agents.records.map((g: { ID: number }) => g.ID), [b.ID, a.ID]);
    assert.equal(agents.filter, 'GroupType=Agent');
    assert.equal(agents.orderBy, 'ID');
    assert.equal(agents.ascending, false);
    const byAlgorithm = (await c.get('/acd/groups?DistributionAlgorithmID=3')).json();
    assert.deepEqual(byAlgorithm.records.map((g: { Name: string }) => g.Name), ['B agents']);
    const page = (await c.get('/acd/groups?limitStart=1&limitPageSize=1')).json();
    assert.deepEqual(page.records.map((g: { Name: string }) => g.Name), ['B agents']);
    assert.equal(page.count, 1);
    assert.equal(page.limitStart, 1);
    assert.equal(page.limitPageSize, 1);
  });

  it('rejects an unknown orderBy or filter field with 400 naming it', async () => {
    const c = await h.newClient();
    const order = await c.get('/acd/groups?orderBy=Colour');
    assert.equal(order.statusCode, 400);
    assert.match(order.json().error, /orderBy/);
    const filter = await c.get('/acd/groups?Colour=red');
    assert.equal(filter.statusCode, 400);
    assert.equal(filter.json().details[0].field, 'Colour');
    const badValue = await c.get('/acd/groups?DistributionAlgorithmID=two');
    assert.equal(badValue.statusCode, 400);
    assert.equal(badValue.json().details[0].field, 'DistributionAlgorithmID');
  });

  it('answers an unknown group ID with 404 JSON, a malformed ID with 400', async () => {
    const c = await h.newClient();
    const missing = await c.get('/acd/groups/group/987654');
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { status: 404, error: 'ACD group 987654 not found' });
    for (const bad of ['abc', '0', '-1', '99999999999']) {
      const res = await c.get(`/acd/groups/group/${bad}`);
      assert.equal(res.statusCode, 400, bad);
      assert.equal(res.json().details[0].field, 'AcdGroupsID');
    }
  });

  it('finds every group whose Name contains the text, case-insensitively, ordered by Name', async () => {
    const c = await h.newClient();
    await createGroup(c, { Name: 'Sales North' });
    await createGroup(c, { Name: 'After-SALES' });
    await createGroup(c, { Name: 'Support' });
    const res = await c.get('/acd/groups/group?name=sales');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.records.map((g: { Name: string }) => g.Name), ['After-SALES', 'Sales North']);
    assert.equal(body.count, 2);
    assert.equal(body.status, 200);
    assert.deepEqual(Object.keys(body.records[0]), GROUP_FIELDS);
    const one = (await c.get('/acd/groups/group?name=PPOR')).json();
    assert.deepEqual(one.records.map((g: { Name: string }) => g.Name), ['Support']);
  });

  it('treats %, _ and \\ in the searched name literally', async () => {
    const c = await h.newClient();
    await createGroup(c, { Name: 'Discount 50% team' });
    await createGroup(c, { Name: 'Discount 500 team' });
    await createGroup(c, { Name: 'first_line' });
    await createGroup(c, { Name: 'firstXline' });
    await createGroup(c, { Name: 'back\\office' });
    const names = async (q: string) => (await c.get(`/acd/groups/group?name=${encodeURIComponent(q)}`)).json().records?.map((g: { Name: string }) => g.Name);
    assert.deepEqual(await names('50%'), ['Discount 50% team']);
    assert.deepEqual(await names('t_l'), ['first_line']);
    assert.deepEqual(await names('k\\o'), ['back\\office']);
    const none = await c.get(`/acd/groups/group?name=${encodeURIComponent('%%')}`);
    assert.equal(none.statusCode, 404);
  });

  it('answers a name that matches nothing with 404 JSON, a missing or empty name with 400', async () => {
    const c = await h.newClient();
    await createGroup(c, { Name: 'Sales' });
    const none = await c.get('/acd/groups/group?name=billing');
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().status, 404);
    assert.match(none.json().error, /billing/);
    const missing = await c.get('/acd/groups/group');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().details[0].field, 'name');
    const empty = await c.get('/acd/groups/group?name=');
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().details[0].field, 'name');
    const nul = await c.get('/acd/groups/group?name=Sa%00les');
    assert.equal(nul.statusCode, 400);
    assert.equal(nul.json().details[0].field, 'name');
    const extra = await c.get('/acd/groups/group?name=Sales&colour=red');
    assert.equal(extra.statusCode, 400);
  });

  it("never shows one client's groups to another", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const secret = await createGroup(a, { Name: 'Secret team' });
    await createGroup(b, { Name: 'Open team' });
    const list = (await b.get('/acd/groups')).json();
    assert.deepEqual(list.records.map((g: { Name: string }) => g.Name), ['Open team']);
    const byId = await b.get(`/acd/groups/group/${secret.ID}`);
    assert.equal(byId.statusCode, 404);
    assert.equal(byId.json().status, 404);
    assert.equal((await b.get('/acd/groups/group?name=Secret')).statusCode, 404);
    assert.equal((await b.get(`/acd/groups?ID=${secret.ID}`)).json().count, 0);
    assert.equal((await b.get(`/acd/groups/group/${secret.ID}/members`)).statusCode, 404);
  });
});
