// The supervisor view next to agent desks, each person in a browser context of their own: the
// wallboard follows the agents' work live, reassign reaches the agent, force logout, the event
// search with detail and history, campaigns with their progress and why-not counts.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { assertAccessible, signedIn, startWorld, Tenant, until, type World } from './harness.ts';

let world: World;
let tenant: Tenant;
let supervisor: { id: number; uid: string };

before(async () => {
  world = await startWorld();
  tenant = await Tenant.create(world);
  supervisor = await tenant.user('supervisor', [], 'chief');
});
after(async () => world?.close());

const tile = (page: Page, groupId: number) => page.locator(`article[data-group="${groupId}"]`);
const figure = async (page: Page, groupId: number, key: string) => (await tile(page, groupId).locator(`dd[data-k="${key}"]`).innerText()).trim();

it('agent and supervisor at once: accept → done shows on the wallboard live', async () => {
  const group = await tenant.group({ Name: 'Billing', OfferTimeoutSeconds: 60, ServiceLevelSeconds: 30 });
  const agent = await tenant.user('agent', [group]);
  await tenant.ready(agent.uid, [group]);
  const boss = await signedIn(tenant, supervisor.uid);
  const desk = await signedIn(tenant, agent.uid);
  await boss.page.getByRole('heading', { level: 1, name: /Supervisor/ }).waitFor();
  await tile(boss.page, group).waitFor();
  assert.equal(await figure(boss.page, group, 'InProgress'), '0');
  const id = await tenant.event(group, { Subject: 'Refund' });
  await until(async () => (await figure(boss.page, group, 'Offered')) === '1', 'Offered 1 on the wallboard', 3000);
  await desk.page.getByRole('button', { name: `Accept #${id}` }).click();
  await until(async () => (await figure(boss.page, group, 'InProgress')) === '1', 'In progress 1 on the wallboard', 3000);
  assert.equal(await figure(boss.page, group, 'Offered'), '0');
  assert.match(await figure(boss.page, group, 'ServiceLevelPercent'), /100 % within 30 s/);
  await desk.page.getByRole('region', { name: new RegExp(`Event #${id}`) }).getByRole('button', { name: 'Done' }).click();
  await until(async () => (await figure(boss.page, group, 'InProgress')) === '0', 'In progress back to 0', 3000);
  await desk.context.close();
  await boss.context.close();
});

it('reassign from the supervisor reaches the other agent\'s desk; force logout reaches the agent', async () => {
  const group = await tenant.group({ Name: 'Returns', OfferTimeoutSeconds: 60 });
  const first = await tenant.user('agent', [group]);
  const second = await tenant.user('agent', [group]);
  await tenant.ready(first.uid, [group]);
  const a = await signedIn(tenant, first.uid);
  const id = await tenant.event(group, { Subject: 'Move me' });
  await a.page.getByRole('button', { name: `Accept #${id}` }).click();
  await tenant.ready(second.uid, [group]);
  const b = await signedIn(tenant, second.uid);
  await b.page.getByText('No offers.').waitFor();

  const boss = await signedIn(tenant, supervisor.uid);
  await boss.page.getByRole('button', { name: 'Events' }).click();
  await boss.page.getByLabel('Subject').fill('Move me');
  await boss.page.getByRole('button', { name: 'Search' }).click();
  await boss.page.getByRole('status').filter({ hasText: '1 events' }).waitFor();
  await boss.page.getByRole('button', { name: `#${id} Open` }).click();
  const detail = boss.page.getByRole('region', { name: `Event #${id}: Move me` });
  await detail.getByRole('cell', { name: /New/ }).first().waitFor();
  await detail.getByLabel('Agent', { exact: true }).selectOption({ label: second.uid });
  await detail.getByLabel('Comment').fill('You know this customer');
  await detail.getByRole('button', { name: 'Reassign' }).click();
  // Gone from the first desk, offered on the second.
  await a.page.getByText('Nothing in hand.').waitFor({ timeout: 3000 });
  await b.page.getByRole('listitem', { name: `Event #${id}` }).waitFor({ timeout: 3000 });
  await assertAccessible(boss.page, 'the event search with detail');

  // The agents view works out the work in hand from the event list alone (AgentUsersID): no
  // request per event for its history.
  const asked: string[] = [];
  boss.page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  await boss.page.getByRole('button', { name: 'Agents' }).click();
  const row = boss.page.locator(`tr[data-agent="${second.uid}"]`);
  await row.getByText(`#${id} Offered Move me`).waitFor();
  await row.getByRole('cell', { name: 'Returns', exact: true }).waitFor();
  await assertAccessible(boss.page, 'the agents list');
  // Accepted on the second desk, it shows as in hand there, live.
  await b.page.getByRole('button', { name: `Accept #${id}` }).click();
  await row.getByText(`#${id} New Move me`).waitFor({ timeout: 3000 });
  assert.equal(await boss.page.locator(`tr[data-agent="${first.uid}"]`).getByText(`#${id}`).count(), 0);
  assert.deepEqual(asked.filter((p) => p.endsWith('/history')), []);
  await row.getByRole('button', { name: `Force logout ${second.uid}` }).click();
  await b.page.getByText('Logged out of the ACD').waitFor({ timeout: 3000 });
  await row.getByText('logged out').waitFor();
  for (const p of [a, b, boss]) await p.context.close();
});

it('the supervisor view passes axe on every section, in English and German; wallboard screenshot', async () => {
  // A client of its own, so the screenshot shows just this contact center.
  const tenant = await Tenant.create(world);
  const supervisor = await tenant.user('supervisor', [], 'chief');
  const support = await tenant.group({ Name: 'Support', ServiceLevelSeconds: 20, OfferTimeoutSeconds: 60 });
  const sales = await tenant.group({ Name: 'Sales', ServiceLevelSeconds: 60 });
  const agent = await tenant.user('agent', [support, sales]);
  await tenant.ready(agent.uid, [support]);
  for (let i = 0; i < 3; i++) await tenant.event(sales, { Subject: `Quote ${i}` });
  await tenant.event(support, { Subject: 'Password reset' });
  const campaign = (await tenant.api('POST', '/dialler/campaigns/create', {
    Name: 'Renewals', LanguagesID: 2,
    ResultCodes: [
      { ExportKey: 'SOLD', DiallerResultCodesTypesID: 1, Content: { 1: 'Sold', 2: 'Verkauft' } },
      { ExportKey: 'NOINT', DiallerResultCodesTypesID: 2, Content: { 1: 'Not interested', 2: 'Kein Interesse' } },
    ],
  })).records[0];
  for (let i = 0; i < 3; i++) await tenant.api('POST', '/dialler/contacts/import', { Name: `Contact ${i}`, DiallerCampaignsID: campaign.ID, PhoneNumber1: `4930555000${i}` });

  const boss = await signedIn(tenant, supervisor.uid);
  await tile(boss.page, support).waitFor();
  await until(async () => (await figure(boss.page, sales, 'Waiting')) === '3', 'three waiting in Sales');
  await assertAccessible(boss.page, 'the wallboard');
  await boss.page.screenshot({ path: 'docs/screenshots/wallboard.png', fullPage: true });
  await boss.page.getByRole('button', { name: 'Campaigns' }).click();
  const card = boss.page.getByRole('article', { name: 'Renewals' });
  await card.getByText('Total: 3').waitFor();
  await card.getByText('Waiting: 3').waitFor();
  await assertAccessible(boss.page, 'the campaigns');
  await boss.page.getByLabel('Language').selectOption('de');
  await boss.page.getByRole('button', { name: 'Wallboard' }).click();
  await tile(boss.page, sales).getByText('Wartend').waitFor();
  await assertAccessible(boss.page, 'the German wallboard');
  for (const name of ['Agenten', 'Ereignisse', 'Kampagnen']) {
    await boss.page.getByRole('button', { name }).click();
    await boss.page.getByRole('heading', { level: 2, name }).waitFor();
    await assertAccessible(boss.page, `the German ${name}`);
  }
  await boss.context.close();
});
