// The reads the web console's agent desk and supervisor view need (spec §9): an agent's comments
// and history of the events they hold or held, group names in the agent record, the dialler
// preview (campaigns, the contact in hand with its history and result codes in a language), and
// listAcdEvents filtered by the agent holding each event.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { asClient, newAgent, PASSWORD, type TestAgent } from './fixtures-agents.ts';
import { act, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import { addMember, createGroup } from './fixtures-groups.ts';
import { createCampaign, STANDARD_RESULT_CODES } from './fixtures-dialler.ts';
import { diallerAgent, diallerSetup } from './fixtures-dialler-engine.ts';

const NOT_FOUND = { status: 404, error: 'ACD event not found' };

/** The agent's console cookie (spec §9): the rights of their agent token, no more. */
async function consoleCookie(h: Harness, c: TestClient, agent: TestAgent): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: `${c.base}/console/session`, payload: { UID: agent.uid, Password: PASSWORD } });
  assert.equal(res.statusCode, 200, res.body);
  return /^sb_session=([^;]*)/.exec(String(res.headers['set-cookie']))![1]!;
}

/** An event offered to `agent` and accepted by them with a comment. */
async function eventInHand(h: Harness, c: TestClient, group: number, agent: TestAgent): Promise<number> {
  const id = await newEvent(c, group);
  await pass(h);
  const accepted = await act(agent, id, 'accept', { Comment: 'On it' });
  assert.equal(accepted.statusCode, 200, accepted.body);
  return id;
}

describeStores('agent reads for the web console', (h) => {
  it("an agent reads the comments and history of the event in their hands, exactly as the client token's routes answer them", async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const id = await eventInHand(h, c, group, agent);
    for (const part of ['comments', 'history']) {
      const mine = await agent.request('GET', `/agents/me/events/${id}/${part}`);
      assert.equal(mine.statusCode, 200, mine.body);
      const theirs = await c.get(`/acd/events/event/${id}/${part}`);
      assert.deepEqual(mine.json(), theirs.json(), part);
    }
    const comments = (await agent.request('GET', `/agents/me/events/${id}/comments`)).json();
    assert.deepEqual(comments.records.map((r: { Text: string }) => r.Text), ['On it']);
    const history = (await agent.request('GET', `/agents/me/events/${id}/history`)).json();
    assert.deepEqual(history.records.map((r: { ToAcdEventStatusID: number }) => r.ToAcdEventStatusID), [1, 4, 10, 20]);
  });

  it('keeps reading an event the agent held before: finished, or an offer they turned down', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const done = await eventInHand(h, c, group, agent);
    assert.equal((await act(agent, done, 'done', { Comment: 'Answered' })).statusCode, 200);
    const after = (await agent.request('GET', `/agents/me/events/${done}/comments`)).json();
    assert.deepEqual(after.records.map((r: { Text: string }) => r.Text), ['On it', 'Answered']);
    const rejected = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(agent, rejected, 'reject')).statusCode, 200);
    const history = await agent.request('GET', `/agents/me/events/${rejected}/history`);
    assert.equal(history.statusCode, 200, history.body);
    assert.equal(history.json().records.at(-1).ToAcdEventStatusID, 4);
  });

  it("answers any other event with the same 404: another agent's, a queued one, an unknown one, another client's", async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const colleague = await newAgent(h, c);
    await addMember(c, group, colleague.userId);
    const held = await eventInHand(h, c, group, agent);
    const queued = await newEvent(c, await standaloneGroup(c));
    const other = await h.newClient();
    const foreign = await newEvent(other, await standaloneGroup(other));
    const cases: [TestAgent, number][] = [[colleague, held], [agent, queued], [agent, 987654], [agent, foreign]];
    for (const [who, id] of cases) {
      for (const part of ['comments', 'history']) {
        const res = await who.request('GET', `/agents/me/events/${id}/${part}`);
        assert.equal(res.statusCode, 404, `${id} ${part}: ${res.body}`);
        assert.deepEqual(res.json(), NOT_FOUND);
      }
    }
  });

  it('takes the list parameters; the client token is refused there (403), a malformed id is 400', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const id = await eventInHand(h, c, group, agent);
    const page = (await agent.request('GET', `/agents/me/events/${id}/history?orderBy=ID&ascending=false&limitPageSize=1`)).json();
    assert.equal(page.count, 1);
    assert.equal(page.records[0].ToAcdEventStatusID, 20);
    const filtered = (await agent.request('GET', `/agents/me/events/${id}/history?UsersID=${agent.userId}`)).json();
    assert.deepEqual(filtered.records.map((r: { ToAcdEventStatusID: number }) => r.ToAcdEventStatusID), [10, 20]);
    assert.equal((await agent.request('GET', `/agents/me/events/${id}/history?Nope=1`)).statusCode, 400);
    assert.equal((await agent.request('GET', '/agents/me/events/abc/comments')).statusCode, 400);
    assert.equal((await asClient(c)('GET', `/agents/me/events/${id}/comments`)).statusCode, 403);
  });

  it("the agent's console cookie reads them too", async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const id = await eventInHand(h, c, group, agent);
    const cookie = await consoleCookie(h, c, agent);
    const res = await h.app.inject({ method: 'GET', url: `${c.base}/agents/me/events/${id}/comments`, headers: { cookie: `sb_session=${cookie}` } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().records[0].Text, 'On it');
  });

  it('listAcdEvents shows who holds each event and filters by AgentUsersID', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const b = await readyAgent(h, c, group);
    const first = await newEvent(c, group);
    const second = await newEvent(c, group);
    const waiting = await newEvent(c, await standaloneGroup(c));
    await pass(h);
    const all = (await c.get('/acd/events')).json().records as { ID: number; AgentUsersID: number | null }[];
    const holders = new Map(all.map((e) => [e.ID, e.AgentUsersID]));
    assert.deepEqual(new Set([holders.get(first), holders.get(second)]), new Set([a.userId, b.userId]));
    assert.equal(holders.get(waiting), null);
    for (const agent of [a, b]) {
      const res = await c.get(`/acd/events?AgentUsersID=${agent.userId}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.filter, `AgentUsersID=${agent.userId}`);
      assert.deepEqual(body.records.map((e: { ID: number }) => e.ID), all.filter((e) => e.AgentUsersID === agent.userId).map((e) => e.ID));
      assert.equal(body.count, 1);
    }
    const record = all.find((e) => e.ID === first)!;
    assert.deepEqual(Object.keys(record).slice(-3), ['AgentUsersID', 'dtOfferExpires', 'ErrorReason']);
    assert.equal((await c.get('/acd/events?AgentUsersID=x')).statusCode, 400);
  });

  it("the agent record names each of the agent's groups, and follows a rename", async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const agent = await newAgent(h, c);
    const support = await createGroup(c, { Name: 'Support' });
    const billing = await createGroup(c, { Name: 'Billing' });
    await createGroup(c, { Name: 'Not mine' });
    await addMember(c, support.ID, agent.userId);
    await addMember(c, billing.ID, agent.userId);
    await agent.request('POST', `/agents/me/groups/${billing.ID}/login`);
    const me = (await agent.request('GET', '/agents/me')).json().records[0];
    assert.deepEqual(me.AcdGroups, [
      { AcdGroupsID: support.ID, Name: 'Support', bLoggedIn: false },
      { AcdGroupsID: billing.ID, Name: 'Billing', bLoggedIn: true },
    ]);
    assert.equal((await c.request('PATCH', `/acd/groups/group/${support.ID}`, { Name: 'Customer Support' })).statusCode, 200);
    const listed = (await asClient(c)('GET', '/agents')).json().records.find((r: { UsersID: number }) => r.UsersID === agent.userId);
    assert.equal(listed.AcdGroups[0].Name, 'Customer Support');
  });
});

describeStores('the agent\'s dialler preview', (h) => {
  const EXTRA_CODES = [...STANDARD_RESULT_CODES, { ExportKey: 'EN_ONLY', DiallerResultCodesTypesID: 2, Content: { 1: 'Wrong person' } }];

  async function previewInHand() {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 30, extra: { ResultCodes: EXTRA_CODES } });
    const imported = await s.client.post('/dialler/contacts/import', {
      DiallerCampaignsID: s.campaignId, Name: 'Schulz', FirstName: 'Martina', PhoneNumber1: '+49 30 9018 2211', PhoneNumber2: '0171 555 0134',
      UserData: 'CUST-100482', TimeZone: 'Europe/Berlin',
    });
    assert.equal(imported.statusCode, 200, imported.body);
    const contactId = imported.json().records[0].ID as number;
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    return { s, agent, contactId };
  }

  const mine = async (agent: TestAgent, query = '') => {
    const res = await agent.request('GET', `/agents/me/dialler${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json().records[0];
  };

  it('shows the contact in hand with its fields, its history and its campaign\'s result codes, as their own endpoints answer them', async () => {
    const { s, agent, contactId } = await previewInHand();
    const state = await mine(agent);
    assert.deepEqual(state.Campaigns, [s.campaignId]);
    assert.equal(state.LanguagesID, 1);
    const [held] = state.Contacts;
    assert.equal(held.DiallerContactsID, contactId);
    assert.equal(held.HoldKind, 'Preview');
    assert.equal(held.dtPreviewEnds, '2026-06-15T10:00:30.000');
    const contact = (await s.client.get(`/dialler/contacts/${contactId}`)).json().records[0];
    assert.deepEqual(held.Contact, contact);
    assert.deepEqual([held.Contact.Name, held.Contact.FirstName, held.Contact.PhoneNumber1, held.Contact.UserData, held.Contact.TimeZone],
      ['Schulz', 'Martina', '+493090182211', 'CUST-100482', 'Europe/Berlin']);
    assert.deepEqual(held.History, (await s.client.get(`/dialler/contacts/${contactId}/history`)).json().records);
    assert.deepEqual(held.History.map((r: { Change: string }) => r.Change), ['HandedOut']);
    const codes = (await s.client.get(`/dialler/campaigns/campaign/${s.campaignId}/resultCodes?languagesID=1`)).json().records;
    assert.deepEqual(held.ResultCodes, codes);
    assert.equal(held.ResultCodes.length, EXTRA_CODES.length);
  });

  it('gives result code texts in LanguagesID: German, English by default, the other language where one is missing; other values 400', async () => {
    const { agent } = await previewInHand();
    const texts = (state: { Contacts: { ResultCodes: { ExportKey: string; Content: string; DiallerResultCodesTypesContent: string }[] }[] }) =>
      Object.fromEntries(state.Contacts[0]!.ResultCodes.map((r) => [r.ExportKey, [r.Content, r.DiallerResultCodesTypesContent]]));
    const german = await mine(agent, '?LanguagesID=2');
    assert.equal(german.LanguagesID, 2);
    assert.deepEqual(texts(german).DONE, ['Abgeschlossen', 'Abschluss']);
    assert.deepEqual(texts(german).EN_ONLY, ['Wrong person', 'Abbruch']);
    const english = await mine(agent);
    assert.deepEqual(texts(english).DONE, ['Completed', 'Completion']);
    assert.deepEqual(texts(english).INCOMING, ['Rückruf erhalten', 'Completion']);
    assert.deepEqual(texts(await mine(agent, '?LanguagesID=1')), texts(english));
    for (const bad of ['0', '3', 'de']) assert.equal((await agent.request('GET', `/agents/me/dialler?LanguagesID=${bad}`)).statusCode, 400, bad);
  });

  it('lists every campaign the agent may log in to, logged in or not, and none of groups they are not in', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const agent = await diallerAgent(h, s);
    const second = await createCampaign(s.client, 'B second', { AcdGroupsID: s.groupId, Mode: 'Manual' });
    const elsewhere = await createGroup(s.client, { Name: 'Elsewhere' });
    await createCampaign(s.client, 'C not mine', { AcdGroupsID: elsewhere.ID });
    await createCampaign(s.client, 'D no group');
    const first = (await s.client.get(`/dialler/campaigns/${s.campaignId}`)).json().records[0];
    const state = await mine(agent);
    assert.deepEqual(state.Contacts, []);
    const expected = [
      { DiallerCampaignsID: s.campaignId, Name: first.Name, Mode: 'Manual', bRunning: true, bLoggedIn: true },
      { DiallerCampaignsID: second.ID, Name: 'B second', Mode: 'Manual', bRunning: second.bRunning, bLoggedIn: false },
    ].sort((x, y) => x.Name.localeCompare(y.Name));
    assert.deepEqual(state.AvailableCampaigns, expected);
    // Logging in to the second campaign answers the same view; logging out of the first keeps it listed.
    const login = await agent.request('POST', `/agents/me/dialler/campaigns/${second.ID}/login?LanguagesID=2`);
    assert.equal(login.statusCode, 200, login.body);
    assert.equal(login.json().records[0].LanguagesID, 2);
    assert.deepEqual(login.json().records[0].Campaigns, [s.campaignId, second.ID].sort((x, y) => x - y));
    const out = (await agent.request('POST', `/agents/me/dialler/campaigns/${s.campaignId}/logout`)).json().records[0];
    assert.deepEqual(out.Campaigns, [second.ID]);
    assert.deepEqual(out.AvailableCampaigns.map((x: { DiallerCampaignsID: number; bLoggedIn: boolean }) => [x.DiallerCampaignsID, x.bLoggedIn]),
      expected.map((x) => [x.DiallerCampaignsID, x.DiallerCampaignsID === second.ID]));
  });

  it('keeps listing a campaign the agent is still logged in to after leaving its group', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const agent = await diallerAgent(h, s);
    assert.equal((await s.client.request('DELETE', `/acd/groups/group/${s.groupId}/members/${agent.userId}`)).statusCode, 200);
    const state = await mine(agent);
    assert.deepEqual(state.AvailableCampaigns.map((x: { DiallerCampaignsID: number; bLoggedIn: boolean }) => [x.DiallerCampaignsID, x.bLoggedIn]),
      [[s.campaignId, true]]);
  });
});
