// Browser tests of the web console (spec §9): one real server (PGlite in memory, real clock, the
// engine running) and one Debian chromium per test file, a browser context per person.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { build } from '../../src/app.ts';
import { openStore, type Store } from '../../src/db/store.ts';
import { createClient } from '../../src/modules/clients/service.ts';

export const PASSWORD = 'correct horse battery';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface World {
  base: string;
  app: FastifyInstance;
  store: Store;
  browser: Browser;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const store = await openStore({ dataDir: 'memory://' });
  const app = await build({ store, distribute: true, distributorSweepMs: 250 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // The console's bundle is built on the first request: start that while chromium starts.
  const warm = fetch(`${base}/`).then((r) => r.text());
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  await warm;
  return {
    base, app, store, browser,
    async close() {
      await browser.close();
      await app.close();
      await store.close();
    },
  };
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;

/** A client account, provisioned over the API with its client token (what an integrator does). */
export class Tenant {
  readonly id: number;
  readonly token: string;
  readonly world: World;
  readonly timeZone: string;
  constructor(world: World, id: number, token: string, timeZone: string) {
    this.world = world;
    this.id = id;
    this.token = token;
    this.timeZone = timeZone;
  }

  static async create(world: World, TimeZone = 'Europe/Berlin'): Promise<Tenant> {
    const { ClientsID, Token } = await createClient(world.store.db, { Name: unique('Browser client'), TimeZone });
    return new Tenant(world, ClientsID, Token, TimeZone);
  }

  async api(method: string, path: string, body?: unknown, token = this.token): Promise<any> {
    const response = await fetch(`${this.world.base}/rest/v1.0/${this.id}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json().catch(() => undefined);
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  async group(fields: Record<string, unknown> = {}): Promise<number> {
    return (await this.api('POST', '/acd/groups/create', { Name: unique('Queue'), ...fields })).records[0].ID;
  }

  /** A user with a password and a role, member of `groups`. */
  async user(role: 'agent' | 'supervisor', groups: number[] = [], uid = unique(role)): Promise<{ id: number; uid: string }> {
    const id = (await this.api('POST', '/users/create', { UID: uid, FirstName: uid, Role: role })).records[0].ID;
    await this.api('PUT', `/users/user/${id}/password`, { Password: PASSWORD });
    for (const g of groups) await this.api('PUT', `/acd/groups/group/${g}/members/${id}`, { Skills: {} });
    return { id, uid };
  }

  /** An agent session token of the agent API (what an agent's softphone integration holds). */
  async agentToken(uid: string): Promise<string> {
    const login = await fetch(`${this.world.base}/rest/v1.0/${this.id}/agents/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ UID: uid, Password: PASSWORD }),
    });
    return (await login.json()).records[0].Token;
  }

  /** Logs the agent in to the ACD and the groups through the agent API (its own token); returns the token. */
  async ready(uid: string, groups: number[]): Promise<string> {
    const token = await this.agentToken(uid);
    await this.api('POST', '/agents/me/acd/login', undefined, token);
    for (const g of groups) await this.api('POST', `/agents/me/groups/${g}/login`, undefined, token);
    return token;
  }

  async event(groupId: number, fields: Record<string, unknown> = {}): Promise<number> {
    const n = ++seq;
    return (await this.api('POST', '/acd/events/create', {
      AcdEventTypesID: 5, AcdGroupsID: groupId, Sender: `customer${n}@example.com`, Subject: `Mail ${n}`, ...fields,
    })).records[0].ID;
  }

  async eventRecord(id: number): Promise<Record<string, any>> {
    return (await this.api('GET', `/acd/events/event/${id}`)).records[0];
  }
}

/** A browser context signed in as `uid` (through the console's sign-in endpoint), on the console. */
export async function signedIn(tenant: Tenant, uid: string, options: { locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await tenant.world.browser.newContext({ locale: options.locale ?? 'en-US', viewport: { width: 1280, height: 900 } });
  const answer = await context.request.post(`${tenant.world.base}/rest/v1.0/${tenant.id}/console/session`, { data: { UID: uid, Password: PASSWORD } });
  assert.equal(answer.status(), 200, await answer.text());
  const page = await context.newPage();
  watchForScript(page);
  await page.goto(`${tenant.world.base}/?client=${tenant.id}`);
  return { context, page };
}

export async function freshPage(world: World, options: { locale?: string; path?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await world.browser.newContext({ locale: options.locale ?? 'en-US' });
  const page = await context.newPage();
  watchForScript(page);
  await page.goto(`${world.base}${options.path ?? '/'}`);
  return { context, page };
}

/** Dialogs never open on the console: any that does fails the test that caused it. */
export const dialogs: string[] = [];
function watchForScript(page: Page): void {
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}

/** axe: no serious or critical violation on what the page shows now. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${what}`);
}

export async function until<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
