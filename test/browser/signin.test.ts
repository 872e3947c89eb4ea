// The console's page and sign-in: served at / beside the API without touching it, sign-in
// failures, the remembered client, the session surviving a reload, sign-out, CSRF, German.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { assertAccessible, freshPage, PASSWORD, signedIn, startWorld, Tenant, type World } from './harness.ts';

let world: World;
let tenant: Tenant;
let agent: { id: number; uid: string };

before(async () => {
  world = await startWorld();
  tenant = await Tenant.create(world);
  const group = await tenant.group();
  agent = await tenant.user('agent', [group]);
});
after(async () => world?.close());

it('serves the page at / with a strict CSP, and its script (≤ 100 kB gzip) and style under /console', async () => {
  const page = await fetch(`${world.base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const html = await page.text();
  const js = /src="(\/console\/app\.[0-9a-f]+\.js)"/.exec(html)?.[1];
  const css = /href="(\/console\/app\.[0-9a-f]+\.css)"/.exec(html)?.[1];
  assert.ok(js && css, html);
  const script = await fetch(`${world.base}${js}`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /javascript/);
  const jsBytes = Buffer.from(await script.arrayBuffer());
  const cssBytes = Buffer.from(await (await fetch(`${world.base}${css}`)).arrayBuffer());
  const gz = gzipSync(jsBytes).length;
  console.log(`console bundle: ${jsBytes.length} B JS (${gz} B gzip), ${cssBytes.length} B CSS (${gzipSync(cssBytes).length} B gzip)`);
  assert.ok(gz <= 100 * 1024, `JS gzip ${gz} B`);
});

it('leaves the API\'s unknown-endpoint answers alone: an unknown asset or API path is 404 with an empty body', async () => {
  for (const path of ['/console/app.0000000000000000.js', '/console/nope', '/nope', `/rest/v1.0/${tenant.id}/nope`, '/rest/v1.0/nope']) {
    const res = await fetch(`${world.base}${path}`, { headers: { authorization: `Bearer ${tenant.token}` } });
    assert.equal(res.status, 404, path);
    assert.equal(await res.text(), '', path);
  }
  const api = await fetch(`${world.base}/rest/v1.0/${tenant.id}/acd/events/types`, { headers: { authorization: `Bearer ${tenant.token}` } });
  assert.equal(api.status, 200);
});

it('refuses a wrong password with an accessible error, and keeps the client number from ?client=', async () => {
  const { context, page } = await freshPage(world, { path: `/?client=${tenant.id}` });
  await assertAccessible(page, 'the sign-in page');
  assert.equal(await page.getByLabel('Client number').inputValue(), String(tenant.id));
  await page.getByLabel('User name (UID)').fill(agent.uid);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Sign-in failed' });
  await alert.waitFor();
  assert.equal(await page.getByLabel('User name (UID)').getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'the sign-in page with its error');
  // An unknown client fails the same way.
  await page.getByLabel('Client number').fill('999999');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await alert.waitFor();
  await context.close();
});

it('signs in by keyboard, remembers the client for next time, and keeps the session over a reload', async () => {
  const { context, page } = await freshPage(world, { path: `/?client=${tenant.id}` });
  await page.getByLabel('User name (UID)').focus();
  await page.keyboard.type(agent.uid);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /Agent desk/ }).waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'sb_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session?.sameSite, 'Strict');
  await page.goto(`${world.base}/`);
  await page.getByRole('heading', { level: 1, name: /Agent desk/ }).waitFor();
  // Signed out, the client number is still there from localStorage.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  assert.equal(await page.getByLabel('Client number').inputValue(), String(tenant.id));
  const after = await context.request.get(`${world.base}/rest/v1.0/${tenant.id}/console/session`);
  assert.equal(after.status(), 401);
  await context.close();
});

it('refuses a change without the CSRF token (403), accepts it with the token', async () => {
  const { context, page } = await signedIn(tenant, agent.uid);
  await page.getByRole('heading', { level: 1, name: /Agent desk/ }).waitFor();
  const answers = await page.evaluate(async (clientId) => {
    const url = `/rest/v1.0/${clientId}/agents/me/acd/login`;
    const bare = await fetch(url, { method: 'POST', credentials: 'same-origin' });
    const wrong = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': 'forged' } });
    const session = await (await fetch(`/rest/v1.0/${clientId}/console/session`)).json();
    const good = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': session.records[0].CsrfToken } });
    return [bare.status, wrong.status, good.status];
  }, tenant.id);
  assert.deepEqual(answers, [403, 403, 200]);
  await context.close();
});

it('speaks German by the browser\'s language, and switches language on request', async () => {
  const { context, page } = await freshPage(world, { locale: 'de-DE', path: `/?client=${tenant.id}` });
  await page.getByRole('heading', { name: 'An der Konsole anmelden' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  await page.getByLabel('Benutzername (UID)').fill(agent.uid);
  await page.getByLabel('Passwort').fill('falsch falsch');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('alert').filter({ hasText: 'Anmeldung fehlgeschlagen' }).waitFor();
  await assertAccessible(page, 'the German sign-in page');
  await page.getByLabel('Sprache').selectOption('en');
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await context.close();
});

it('goes back to the sign-in form when the session ends elsewhere', async () => {
  const { context, page } = await signedIn(tenant, agent.uid);
  await page.getByRole('heading', { level: 1, name: /Agent desk/ }).waitFor();
  // Signed out from another tab of the same browser: the cookie's session is gone on the server.
  const other = await context.newPage();
  await other.goto(`${world.base}/?client=${tenant.id}`);
  await other.getByRole('button', { name: 'Sign out' }).click();
  await other.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  await page.getByRole('button', { name: /ACD: Log/ }).click();
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  await context.close();
});
