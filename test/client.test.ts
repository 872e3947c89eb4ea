// The typed client (src/client: openapi-fetch over the types generated from openapi.json) against
// the app on a real port: what an integrator's code does, checked by TypeScript at compile time
// and by these calls at run time.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createSwitchboardClient, type components, type SwitchboardClient } from '../src/client/index.ts';
import { ADMIN_TOKEN, describeStores, type TestClient } from './helper.ts';

describeStores('the typed client', (h) => {
  let baseUrl: string;
  let c: TestClient;
  let api: SwitchboardClient;

  before(async () => {
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    c = await h.newClient({ TimeZone: 'Europe/Berlin' });
    api = createSwitchboardClient({ baseUrl: `${baseUrl}/`, token: c.token });
  });

  it('creates and lists an ACD group and an ACD event', async () => {
    const ClientsID = c.id;
    const group = await api.POST('/rest/v1.0/{ClientsID}/acd/groups/create', {
      params: { path: { ClientsID } },
      body: { Name: 'Web callbacks', ServiceLevelSeconds: 90 },
    });
    assert.equal(group.response.status, 200, JSON.stringify(group.error));
    const created: components['schemas']['AcdGroup'] = group.data!.records[0];
    assert.equal(created.Name, 'Web callbacks');

    const event = await api.POST('/rest/v1.0/{ClientsID}/acd/events/create', {
      params: { path: { ClientsID } },
      body: { AcdEventTypesID: 3, AcdGroupsID: created.ID, Sender: '+4930901820', Subject: 'Please call back' },
    });
    assert.equal(event.response.status, 200, JSON.stringify(event.error));
    const eventId = event.data!.records[0].ID;

    const groups = await api.GET('/rest/v1.0/{ClientsID}/acd/groups', { params: { path: { ClientsID }, query: { orderBy: 'Name' } } });
    assert.deepEqual(groups.data!.records.map((g) => g.Name), ['Web callbacks']);
    const events = await api.GET('/rest/v1.0/{ClientsID}/acd/events', { params: { path: { ClientsID }, query: { AcdGroupsID: created.ID } } });
    assert.deepEqual(events.data!.records.map((e) => [e.ID, e.Subject, e.AcdEventTypesID]), [[eventId, 'Please call back', 3]]);
    assert.equal(events.data!.filter, `AcdGroupsID=${created.ID}`);
  });

  it('answers errors as the typed {status, error} body', async () => {
    const refused = await api.POST('/rest/v1.0/{ClientsID}/acd/groups/create', { params: { path: { ClientsID: c.id } }, body: { Name: '' } });
    assert.equal(refused.response.status, 400);
    assert.equal(refused.data, undefined);
    assert.equal(refused.error?.status, 400);
    assert.match(refused.error!.error, /Name/);
    const stranger = createSwitchboardClient({ baseUrl, token: 'not-a-token' });
    const denied = await stranger.GET('/rest/v1.0/{ClientsID}/acd/events', { params: { path: { ClientsID: c.id } } });
    assert.equal(denied.response.status, 401);
  });

  it('works with the admin token on the admin paths', async () => {
    const admin = createSwitchboardClient({ baseUrl, token: ADMIN_TOKEN });
    const clients = await admin.GET('/rest/v1.0/clients', { params: { query: { ID: c.id } } });
    assert.deepEqual(clients.data!.records.map((r) => r.ID), [c.id]);
  });
});
