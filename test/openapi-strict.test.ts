// The document is as strict as the server: for each rule the services check (time windows,
// NUL-free passwords, skill keys, field combinations, orderBy, reassign's destination), a body
// the document refuses is the body the server answers 400, and one it accepts is not refused.
// Also: the security the document states is the one the server enforces, a QUERY or a word where
// an id may stand is an endpoint that does not exist (empty 404).
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { ADMIN_TOKEN, describeStores, type TestClient } from './helper.ts';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

describeStores('the document refuses what the server refuses', (h) => {
  let doc: Json;
  let ajv: Ajv;
  let c: TestClient;
  let agentToken: string;
  let userId: number;
  let standalone: number, agentGroup: number, configuration: number;
  let campaign: number;
  let seq = 0;
  const unique = (what: string) => `${what} ${++seq}`;

  const operation = (operationId: string): { path: string; method: string; op: Json } => {
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS) if (item[method]?.operationId === operationId) return { path, method, op: item[method] };
    }
    throw new Error(`no operation ${operationId}`);
  };
  const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
  /** The document's verdict on a JSON body of the operation. */
  const documentAccepts = (operationId: string, body: unknown): boolean => {
    const { path, method } = operation(operationId);
    const validate = ajv.getSchema(`openapi#/paths/${escape(path)}/${method}/requestBody/content/application~1json/schema`)!;
    return validate(body) as boolean;
  };

  /** Document and server agree: both refuse the body (the server with 400), or neither does. */
  async function agree(operationId: string, path: string, body: unknown, accepted: boolean): Promise<void> {
    const where = `${operationId} ${JSON.stringify(body)}`;
    assert.equal(documentAccepts(operationId, body), accepted, `document: ${where}`);
    const res = await c.request(operation(operationId).method.toUpperCase() as 'POST', path, body);
    if (accepted) assert.notEqual(res.statusCode, 400, `server refused: ${where} → ${res.body}`);
    else assert.equal(res.statusCode, 400, `server: ${where} → ${res.statusCode} ${res.body}`);
  }

  before(async () => {
    doc = h.app.swagger() as Json;
    ajv = new Ajv({ strict: false, validateFormats: false });
    ajv.addSchema({ ...doc, $id: 'openapi' });
    c = await h.newClient({ TimeZone: 'Europe/Berlin' });
    const group = async (body: Json) => (await c.post('/acd/groups/create', body)).json().records[0].ID as number;
    standalone = await group({ Name: 'Strict standalone' });
    agentGroup = await group({ Name: 'Strict agents', GroupType: 'Agent' });
    configuration = await group({ Name: 'Strict configuration', GroupType: 'Configuration', PrimaryAgentGroupsID: agentGroup });
    userId = (await c.post('/users/create', { UID: 'strict.agent' })).json().records[0].ID;
    await c.request('PUT', `/users/user/${userId}/password`, { Password: 'strict-password' });
    agentToken = (await c.post(`${c.base}/agents/login`, { UID: 'strict.agent', Password: 'strict-password' })).json().records[0].Token;
    campaign = (await c.post('/dialler/campaigns/create', { Name: 'Strict campaign' })).json().records[0].ID;
  });

  it('time windows are HH:mm, From 00:00..23:59 and To 00:01..24:00', async () => {
    const windows = (From: string, To: string) => ({ Name: unique('Windows'), TimeWindows: [{ Weekday: 1, From, To }] });
    for (const [from, to] of [['8:00', '12:00'], ['24:00', '24:00'], ['08:00', '24:01'], ['00:00', '00:00'], ['08:60', '09:00'], ['0800', '1200']]) {
      await agree('createDiallerCampaign', '/dialler/campaigns/create', windows(from, to), false);
    }
    await agree('createDiallerCampaign', '/dialler/campaigns/create', windows('00:00', '24:00'), true);
    await agree('createDiallerCampaign', '/dialler/campaigns/create', windows('08:30', '17:45'), true);
  });

  it('passwords are NUL-free like every other string', async () => {
    await agree('setUserPassword', `/users/user/${userId}/password`, { Password: 'secret\u0000password' }, false);
    await agree('setUserPassword', `/users/user/${userId}/password`, { Password: 'strict-password' }, true);
    assert.equal(documentAccepts('loginAgent', { UID: 'strict.agent', Password: 'a\u0000b' }), false);
    assert.equal((await c.post(`${c.base}/agents/login`, { UID: 'strict.agent', Password: 'a\u0000b' })).statusCode, 400);
  });

  it('skill maps are keyed by SkillsIDs (1..2147483647, canonical decimal)', async () => {
    const path = `/acd/groups/group/${standalone}/members/${userId}`;
    for (const key of ['007', '0', 'x', '-1', '2147483648', '1.5', ' 1']) await agree('setAcdGroupMember', path, { Skills: { [key]: 50 } }, false);
    for (const key of ['12', '2147483647']) await agree('setAcdGroupMember', path, { Skills: { [key]: 50 } }, true);
  });

  it('an event goes to a Standalone group, or to a Configuration group with an Agent group', async () => {
    const event = (target: Json) => ({ AcdEventTypesID: 5, Sender: 'a@b.example', Subject: 'Strict', ...target });
    for (const target of [
      {}, { AcdGroupsID: null }, { AcdGroupsID: standalone, AcdConfigurationGroupsID: configuration, AcdAgentGroupsID: agentGroup },
      { AcdGroupsID: standalone, AcdAgentGroupsID: agentGroup }, { AcdConfigurationGroupsID: configuration },
      { AcdAgentGroupsID: agentGroup }, { AcdConfigurationGroupsID: configuration, AcdAgentGroupsID: null },
    ]) await agree('createAcdEvent', '/acd/events/create', event(target), false);
    for (const target of [
      { AcdGroupsID: standalone }, { AcdGroupsID: standalone, AcdConfigurationGroupsID: null },
      { AcdConfigurationGroupsID: configuration, AcdAgentGroupsID: agentGroup }, { AcdGroupsID: null, AcdConfigurationGroupsID: configuration, AcdAgentGroupsID: agentGroup },
    ]) await agree('createAcdEvent', '/acd/events/create', event(target), true);
  });

  it('only a Configuration group names a primary agent group, and it must', async () => {
    for (const body of [
      { GroupType: 'Configuration' }, { GroupType: 'Configuration', PrimaryAgentGroupsID: null },
      { GroupType: 'Agent', PrimaryAgentGroupsID: agentGroup }, { GroupType: 'Standalone', PrimaryAgentGroupsID: agentGroup }, { PrimaryAgentGroupsID: agentGroup },
    ]) await agree('createAcdGroup', '/acd/groups/create', { Name: unique('Group'), ...body }, false);
    for (const body of [{}, { GroupType: 'Agent' }, { GroupType: 'Standalone', PrimaryAgentGroupsID: null }, { GroupType: 'Configuration', PrimaryAgentGroupsID: agentGroup }]) {
      await agree('createAcdGroup', '/acd/groups/create', { Name: unique('Group'), ...body }, true);
    }
    await agree('updateAcdGroup', `/acd/groups/group/${standalone}`, { GroupType: 'Agent', PrimaryAgentGroupsID: agentGroup }, false);
    await agree('updateAcdGroup', `/acd/groups/group/${standalone}`, { ForeignSystemID: 'strict' }, true);
  });

  it('a contact names its campaign and has at least one phone number', async () => {
    const contact = (fields: Json) => ({ Name: 'Strict', ...fields });
    for (const fields of [
      { DiallerCampaignsID: campaign }, { DiallerCampaignsID: campaign, PhoneNumber1: null, PhoneNumber2: ' - ' },
      { DiallerCampaignsID: campaign, PhoneNumber1: 'call me' }, { DiallerCampaignsID: campaign, PhoneNumber1: '12' }, { PhoneNumber1: '030 1234567' },
      { DiallerCampaignsID: campaign, PhoneNumber1: '+0301234567' },
    ]) await agree('importDiallerContact', '/dialler/contacts/import', contact(fields), false);
    for (const fields of [
      { DiallerCampaignsID: campaign, PhoneNumber3: '030 1234-567' }, { DiallerCampaignsName: 'Strict campaign', PhoneNumber1: '+49 (30) 1234567' },
    ]) await agree('importDiallerContact', '/dialler/contacts/import', contact(fields), true);
  });

  it('orderBy is one of the record\'s fields, and empty means the default order', async () => {
    const { op } = operation('listAcdEvents');
    const orderBy = (op.parameters as Json[]).find((p) => p.name === 'orderBy')!.schema;
    const listed = (await c.get('/acd/events?orderBy=')).json();
    assert.equal(listed.orderBy, 'dtCreated');
    assert.ok(orderBy.enum.includes('') && orderBy.enum.includes('dtCreated') && orderBy.enum.includes('Priority'));
    for (const field of orderBy.enum as string[]) {
      const res = await c.get(`/acd/events?orderBy=${field}&limitPageSize=1`);
      assert.equal(res.statusCode, 200, `orderBy=${field}: ${res.body}`);
    }
    assert.ok(!orderBy.enum.includes('Nope'));
    assert.equal((await c.get('/acd/events?orderBy=Nope')).statusCode, 400);
    // Every list has its own enum.
    const groups = (operation('listAcdGroups').op.parameters as Json[]).find((p) => p.name === 'orderBy')!.schema;
    assert.ok(groups.enum.includes('Name') && groups.enum.includes('dtCreated') && !groups.enum.includes('Priority'));
  });

  it('reassign names where the event goes: {} is refused by both', async () => {
    const id = (await c.post('/acd/events/create', { AcdEventTypesID: 5, AcdGroupsID: standalone, Sender: 'a@b.example', Subject: 'Move me' })).json().records[0].ID;
    const path = `/acd/events/event/${id}/reassign`;
    for (const body of [{}, { Comment: 'somewhere' }, { AcdGroupsID: null, UsersID: null }]) await agree('reassignAcdEvent', path, body, false);
    await agree('reassignAcdEvent', path, { AcdGroupsID: agentGroup, Comment: 'to the agents' }, true);
  });

  it('a QUERY request is answered like any method no route serves: an empty 404', async () => {
    for (const path of ['/acd/events', '/no/such/endpoint']) {
      for (const headers of [{}, { 'content-type': 'application/json' }, { 'content-type': 'text/plain' }]) {
        const res = await h.app.inject({ method: 'QUERY', url: `${c.base}${path}`, headers: { authorization: `Bearer ${c.token}`, ...headers }, payload: headers['content-type'] ? '{}' : undefined });
        assert.deepEqual([res.statusCode, res.body], [404, ''], `${path} ${JSON.stringify(headers)}`);
      }
    }
  });

  it('a word where an id may stand names an endpoint that does not exist (empty 404); a malformed id is still 400', async () => {
    for (const path of ['/dialler/campaigns/create', '/dialler/campaigns/clone', '/dialler/contacts/import', '/dialler/doNotCall/check', '/dialler/doNotCall/create']) {
      const res = await c.get(path);
      assert.deepEqual([res.statusCode, res.body], [404, ''], path);
    }
    for (const path of ['/dialler/campaigns/abc', '/dialler/campaigns/0x10', '/dialler/contacts/1.5']) assert.equal((await c.get(path)).statusCode, 400, path);
    assert.equal((await c.post('/dialler/campaigns/create', { Name: 'Still created' })).statusCode, 200);
  });

  it('enforces the security the document states, on every operation', async () => {
    let checked = 0;
    // A fresh session: setting the password above ended the first one.
    agentToken = (await c.post(`${c.base}/agents/login`, { UID: 'strict.agent', Password: 'strict-password' })).json().records[0].Token;
    // Console cookies (src/http/auth.ts): the agent's, and a supervisor's.
    const supervisorId = (await c.post('/users/create', { UID: 'strict.supervisor', Role: 'supervisor' })).json().records[0].ID;
    await c.request('PUT', `/users/user/${supervisorId}/password`, { Password: 'strict-password' });
    const cookieOf = async (UID: string) => {
      const res = await h.app.inject({ method: 'POST', url: `${c.base}/console/session`, payload: { UID, Password: 'strict-password' } });
      return `sb_session=${/sb_session=([^;]+)/.exec(String(res.headers['set-cookie']))![1]}`;
    };
    const cookies = { agent: await cookieOf('strict.agent'), supervisor: await cookieOf('strict.supervisor') };
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        const scheme = op.security.length ? Object.keys(op.security[0])[0] : undefined;
        // The admin's operations on a client that does not exist: rotating a real one's token would lock it out.
        const clientsId = template.startsWith('/rest/v1.0/clients') ? '2147483647' : String(c.id);
        const url = template.replace('{ClientsID}', clientsId).replace(/\{[^}]+\}/g, '1');
        const send = (token?: string) => h.app.inject({ method: method.toUpperCase() as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
        const where = `${method} ${template}`;
        if (scheme === undefined) {
          assert.notEqual((await send()).statusCode, 401, where);
          continue;
        }
        assert.equal((await send()).statusCode, 401, where);
        if (scheme === 'adminToken') {
          assert.equal((await send(c.token)).statusCode, 401, where);
          assert.notEqual((await send(ADMIN_TOKEN)).statusCode, 401, where);
        } else if (scheme === 'clientToken') {
          assert.equal((await send(agentToken)).statusCode, 403, where);
          assert.equal((await send(ADMIN_TOKEN)).statusCode, 401, where);
        } else if (scheme === 'consoleSession') {
          // The console's own session routes: the cookie only, never a token.
          assert.equal((await send(c.token)).statusCode, 401, where);
          assert.equal((await send(agentToken)).statusCode, 401, where);
        } else {
          assert.equal(scheme, 'agentSession', where);
          assert.equal((await send(c.token)).statusCode, 403, where);
        }
        // Where the document offers the cookie, it authenticates: a read passes (HEAD: a stream's
        // answer ends), a change without X-CSRF-Token is refused as such and changes nothing.
        if ((op.security as Json[]).some((s) => 'consoleSession' in s)) {
          const cookie = scheme === 'clientToken' ? cookies.supervisor : cookies.agent;
          const read = method === 'get';
          const res = await h.app.inject({ method: read ? 'HEAD' : method.toUpperCase() as 'POST', url, headers: { cookie } });
          if (read) assert.ok(![401, 403].includes(res.statusCode), `${where} with the cookie: ${res.statusCode}`);
          else assert.deepEqual([res.statusCode, /X-CSRF-Token/.test(res.json().error)], [403, true], `${where} with the cookie: ${res.body}`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 80, `only ${checked} operations`);
  });
});
