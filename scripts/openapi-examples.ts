// Writes src/http/openapi-examples.json: the OpenAPI document's examples, taken from real answers.
// It provisions a small contact center through the API (an embedded store in memory, a pinned
// clock) and keeps, per operationId, the body it sent and the answer it got (lists cut to two
// records, tokens replaced by stand-ins). Run it when a record changes shape: the document test
// (test/openapi-document.test.ts) fails while an example no longer fits its schema.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InjectOptions } from 'fastify';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { ensureAdminToken } from '../src/modules/clients/admin-token.ts';

const target = fileURLToPath(new URL('../src/http/openapi-examples.json', import.meta.url));
const ADMIN = 'sba_example_admin_token';
const CLIENT_TOKEN = 'sbc_3kq7Yp0VwZx2Lm9Rt5Ns8Hd4Fg6Jb1Ce';
const AGENT_TOKEN = 'sbs_Q2w8Er4Ty6Ui1Op3As5Df7Gh9Jk0Lz2Xc';

const store = await openStore({ dataDir: 'memory://' });
await ensureAdminToken(store.db, ADMIN);
// Monday 15 June 2026, 10:00 in Berlin: campaign windows are open.
const app = await build({ store, clock: fixedClock(Date.UTC(2026, 5, 15, 8, 0, 0)) });
await app.ready();

const examples: Record<string, { request?: unknown; response?: unknown }> = {};
const secrets = new Map<string, string>();
const scrub = (text: string) => [...secrets].reduce((t, [secret, standIn]) => t.replaceAll(secret, standIn), text)
  // Webhook message ids are random: one stand-in, so the file changes only when the API does.
  .replace(/msg_[0-9a-f]{32}/g, 'msg_5b0e6c2a9f3d4e71a8c4d2b6e0f19a37');

async function call(operationId: string | undefined, method: InjectOptions['method'], url: string, token: string, body?: unknown) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined && { payload: body as object }) });
  if (res.statusCode !== 200) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
  const answer = JSON.parse(res.body);
  if (operationId) {
    const shown = Array.isArray(answer.records) && answer.records.length > 2 && 'filter' in answer
      ? { ...answer, records: answer.records.slice(0, 2), count: 2 } : answer;
    examples[operationId] = { ...(body !== undefined && { request: body }), response: JSON.parse(scrub(JSON.stringify(shown))) };
  }
  return answer;
}

const created = await call('createClient', 'POST', '/rest/v1.0/clients/create', ADMIN, { Name: 'Nordlicht Energie', TimeZone: 'Europe/Berlin' });
const { ClientsID: id, Token: token } = created.records[0];
secrets.set(token, CLIENT_TOKEN);
examples.createClient.response = JSON.parse(scrub(JSON.stringify(created)));
await call(undefined, 'POST', '/rest/v1.0/clients/create', ADMIN, { Name: 'Hanse Logistik', TimeZone: 'Europe/Berlin' });
await call('listClients', 'GET', '/rest/v1.0/clients', ADMIN);
// Client accounts are stamped by the database's clock, not the app's: pin them like the rest.
for (const record of (examples.listClients.response as { records: Record<string, unknown>[] }).records) {
  record.dtCreated = record.dtLastModified = '2026-06-15T08:00:00.000';
}
const base = `/rest/v1.0/${id}`;
const client = (operationId: string | undefined, method: InjectOptions['method'], path: string, body?: unknown) => call(operationId, method, base + path, token, body);

for (const path of ['/acd/events/types', '/acd/events/status']) {
  await client(path.endsWith('types') ? 'listAcdEventTypes' : 'listAcdEventStatuses', 'GET', path);
}
const billing = (await client(undefined, 'POST', '/acd/groups/create', { Name: 'Billing', ServiceLevelSeconds: 120 })).records[0];
const desk = (await client('createAcdGroup', 'POST', '/acd/groups/create', {
  Name: 'Customer Service', ForeignSystemID: 'CS-01', DistributionAlgorithmID: 3, ServiceLevelSeconds: 60, OfferTimeoutSeconds: 45,
})).records[0];
await client('listAcdGroups', 'GET', '/acd/groups');
const anna = (await client('createUser', 'POST', '/users/create', {
  UID: 'anna.berger', FirstName: 'Anna', LastName: 'Berger', Email: 'anna.berger@nordlicht-energie.de',
})).records[0];
await client(undefined, 'POST', '/users/create', { UID: 'jonas.keller', FirstName: 'Jonas', LastName: 'Keller', Email: 'jonas.keller@nordlicht-energie.de' });
const supervisor = (await client(undefined, 'POST', '/users/create', {
  UID: 'petra.vogel', FirstName: 'Petra', LastName: 'Vogel', Email: 'petra.vogel@nordlicht-energie.de', Role: 'supervisor',
})).records[0];
await client(undefined, 'PUT', `/acd/groups/group/${desk.ID}/members/${anna.ID}`, { Skills: { 12: 80, 14: 60 } });
await client(undefined, 'PUT', `/acd/groups/group/${billing.ID}/members/${anna.ID}`, { Skills: { 12: 40 } });
await client('listUsers', 'GET', '/users');
await client('listAcdGroupMembers', 'GET', `/acd/groups/group/${desk.ID}/members`);

await client(undefined, 'PUT', `/users/user/${anna.ID}/password`, { Password: 'correct-horse-battery' });
const session = (await call(undefined, 'POST', `${base}/agents/login`, '', { UID: 'anna.berger', Password: 'correct-horse-battery' })).records[0];
secrets.set(session.Token, AGENT_TOKEN);
const agent = (operationId: string | undefined, method: InjectOptions['method'], path: string, body?: unknown) => call(operationId, method, base + path, session.Token, body);
await agent(undefined, 'POST', '/agents/me/acd/login');
await agent(undefined, 'POST', `/agents/me/groups/${desk.ID}/login`);

// Webhooks, before the changes they report.
const operations = new Set(Object.values((app.swagger() as { paths: Record<string, Record<string, { operationId?: string }>> }).paths)
  .flatMap((item) => Object.values(item).map((op) => op.operationId)));
const webhook = operations.has('createWebhook')
  ? (await client('createWebhook', 'POST', '/webhooks/create', {
    URL: 'https://crm.nordlicht-energie.de/hooks/switchboard', Kinds: ['event.*', 'agent.state'], Description: 'CRM case updates',
  })).records[0]
  : undefined;
if (webhook) {
  secrets.set(webhook.Secret, 'whsec_MfKQ9r77FNrc9ZH6bpeR9sJoMrgRnfE8');
  examples.createWebhook.response = JSON.parse(scrub(JSON.stringify(examples.createWebhook.response)));
}
const event = (await client('createAcdEvent', 'POST', '/acd/events/create', {
  AcdEventTypesID: 3, AcdGroupsID: desk.ID, Sender: '+4930901820', Receiver: '+498001234567', Subject: 'Callback: question about the June invoice',
  CrmURL: 'https://crm.nordlicht-energie.de/cases/48213', UserData: 'CASE-48213', Priority: 60, SkillsID1: 12, SkillsValue1: 50,
})).records[0];
await client(undefined, 'POST', '/acd/events/create', {
  AcdEventTypesID: 5, AcdGroupsID: billing.ID, Sender: 'm.schulz@example.org', Subject: 'Direct debit mandate', UserData: 'CASE-48214',
});
await client('listAcdEvents', 'GET', '/acd/events');
await app.distributor.runPass();
await agent('listMyAcdEvents', 'GET', '/agents/me/events');
await agent(undefined, 'POST', `/agents/me/events/${event.ID}/accept`, { Comment: 'Calling back now' });
await client('listAcdEventComments', 'GET', `/acd/events/event/${event.ID}/comments`);
await client('listAcdEventHistory', 'GET', `/acd/events/event/${event.ID}/history`);
await agent('listMyAcdEventComments', 'GET', `/agents/me/events/${event.ID}/comments`);
await agent('listMyAcdEventHistory', 'GET', `/agents/me/events/${event.ID}/history`);
await agent('getMyAgentState', 'GET', '/agents/me');
await client('listAgents', 'GET', '/agents');

// The web console: a supervisor signs in (a cookie, no token) and reads the wallboard with it.
await client(undefined, 'PUT', `/users/user/${supervisor.ID}/password`, { Password: 'correct-horse-battery' });
async function inConsole(method: InjectOptions['method'], path: string, headers: Record<string, string>, body?: unknown) {
  const res = await app.inject({ method, url: base + path, headers, ...(body !== undefined && { payload: body as object }) });
  if (res.statusCode !== 200) throw new Error(`${method} ${path} → ${res.statusCode} ${res.body}`);
  return { res, answer: res.json() };
}
const signIn = await inConsole('POST', '/console/session', {}, { UID: 'petra.vogel', Password: 'correct-horse-battery' });
const sessionCookie = /sb_session=([^;]+)/.exec(String(signIn.res.headers['set-cookie']))![1]!;
secrets.set(sessionCookie, 'sbw_Vb7Nm2Qx8Lp4Rt6Zk1Hs3Dg5Fj9Wc0Ye');
secrets.set(signIn.answer.records[0].CsrfToken, 'hT3kq9Zr2Lw8Xv5Nb1Pm7Jc4Fs6Gd0Ya2Ue8Ri3Oo');
const consoleHeaders = { cookie: `sb_session=${sessionCookie}` };
examples.signInToConsole = { request: { UID: 'petra.vogel', Password: 'correct-horse-battery' }, response: JSON.parse(scrub(JSON.stringify(signIn.answer))) };
examples.getConsoleSession = { response: JSON.parse(scrub(JSON.stringify((await inConsole('GET', '/console/session', consoleHeaders)).answer))) };
examples.getAcdGroupsWallboard = { response: (await inConsole('GET', '/acd/groups/wallboard', consoleHeaders)).answer };
examples.signOutOfConsole = { response: (await inConsole('DELETE', '/console/session',
  { ...consoleHeaders, 'x-csrf-token': signIn.answer.records[0].CsrfToken })).answer };
if (webhook) {
  await client('listWebhooks', 'GET', '/webhooks');
  const deliveries = await client('listWebhookDeliveries', 'GET', `/webhooks/webhook/${webhook.ID}/deliveries`);
  await client('listWebhookDeliveryAttempts', 'GET', `/webhooks/webhook/${webhook.ID}/deliveries/${deliveries.records[0].ID}/attempts`);
}

const campaign = (await client('createDiallerCampaign', 'POST', '/dialler/campaigns/create', {
  Name: 'Contract renewal 2026', LanguagesID: 2, Mode: 'Manual', bRunning: true, AcdGroupsID: desk.ID, UserData: 'RENEWAL-2026',
  TimeWindows: [1, 2, 3, 4, 5].map((Weekday) => ({ Weekday, From: '09:00', To: '18:00' })),
  RestrictedPeriods: [{ From: '2026-12-24', To: '2026-12-26', Name: 'Christmas' }],
  ResultCodes: [
    { ExportKey: 'RENEWED', DiallerResultCodesTypesID: 1, Content: { 1: 'Contract renewed', 2: 'Vertrag verlängert' } },
    { ExportKey: 'NO_INTEREST', DiallerResultCodesTypesID: 2, Content: { 1: 'No interest', 2: 'Kein Interesse' } },
    { ExportKey: 'CALL_LATER', DiallerResultCodesTypesID: 3, TimeOffset: 120, Content: { 1: 'Call again later', 2: 'Später anrufen' } },
  ],
  IncomingCallResultCode: 'CALL_LATER',
})).records[0];
await client(undefined, 'POST', '/dialler/campaigns/clone', { source: 'Contract renewal 2026', destination: 'Contract renewal 2027', userData: 'RENEWAL-2027' });
await client('listDiallerCampaigns', 'GET', '/dialler/campaigns');
await client('listDiallerCampaignResultCodes', 'GET', `/dialler/campaigns/campaign/${campaign.ID}/resultCodes?languagesID=1`);
await client('importDiallerContact', 'POST', '/dialler/contacts/import', {
  DiallerCampaignsID: campaign.ID, Name: 'Schulz', FirstName: 'Martina', Email: 'm.schulz@example.org', PhoneNumber1: '+49 30 9018 2211',
  PhoneNumber2: '0171 555 0134', UserData: 'CUST-100482', Priority: 10,
});
await client(undefined, 'POST', '/dialler/contacts/import', {
  DiallerCampaignsName: 'Contract renewal 2026', Name: 'Yilmaz', FirstName: 'Deniz', PhoneNumber1: '040 3344 5566', UserData: 'CUST-100517',
});
await client('listDiallerContacts', 'GET', `/dialler/contacts?diallerCampaignsID=${campaign.ID}`);
await agent(undefined, 'POST', `/agents/me/events/${event.ID}/done`, { Comment: 'Explained the invoice' });
await agent(undefined, 'POST', `/agents/me/dialler/campaigns/${campaign.ID}/login`);
await agent('listCallableDiallerContacts', 'GET', `/agents/me/dialler/campaigns/${campaign.ID}/callable`);
const callable = (await agent(undefined, 'GET', `/agents/me/dialler/campaigns/${campaign.ID}/callable`)).records[0].DiallerContactsIDs;
await agent(undefined, 'POST', `/agents/me/dialler/contacts/${callable[0]}/reserve`);
await agent('getMyDialler', 'GET', '/agents/me/dialler?LanguagesID=2');
await client('listDiallerContactHistory', 'GET', `/dialler/contacts/${callable[0]}/history`);
await client('createDoNotCallEntry', 'POST', '/dialler/doNotCall/create', { Number: '+49 30 1234 5678', Reason: 'Asked not to be called (phone, 2026-06-12)' });
await client(undefined, 'POST', '/dialler/doNotCall/create', { Number: '+49900', bPrefix: true, Reason: 'Premium-rate numbers' });
await client('listDoNotCallEntries', 'GET', '/dialler/doNotCall');

await app.close();
await store.close();
writeFileSync(target, `${JSON.stringify(examples, null, 2)}\n`);
console.log(`wrote ${Object.keys(examples).length} examples to ${target}`);
