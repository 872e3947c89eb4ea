// Issue 14, the server side of the web console: user roles, sign-in with a cookie session, CSRF on
// every change, what an agent's and a supervisor's cookie reach, and how a session ends.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { build } from '../src/app.ts';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { createUser } from './fixtures-groups.ts';
import { historyOf, login, PASSWORD, setPassword } from './fixtures-agents.ts';
import { newEvent, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const CSRF_ERROR = /X-CSRF-Token/;

interface Browser {
  userId: number;
  cookie: string;
  csrf: string;
  signIn: LightMyRequestResponse;
  /** A request as the console makes it: the cookie, and the CSRF token unless `csrf` says otherwise. */
  request(method: InjectOptions['method'], path: string, body?: unknown, csrf?: string | null): Promise<LightMyRequestResponse>;
}

function signIn(h: Harness, c: TestClient, UID: string, Password: string, base = c.base, headers: Record<string, string> = {}) {
  return h.app.inject({ method: 'POST', url: `${base}/console/session`, payload: { UID, Password }, headers });
}

function cookieOf(res: LightMyRequestResponse): string {
  const match = /^sb_session=([^;]*)/.exec(String(res.headers['set-cookie']));
  assert.ok(match, `no session cookie in ${String(res.headers['set-cookie'])}`);
  return match[1]!;
}

function browser(h: Harness, c: TestClient, userId: number, res: LightMyRequestResponse): Browser {
  const cookie = cookieOf(res);
  const csrf = res.json().records[0].CsrfToken as string;
  return {
    userId, cookie, csrf, signIn: res,
    request(method, path, body, token = csrf) {
      const headers: Record<string, string> = { cookie: `theme=dark; sb_session=${cookie}` };
      if (token !== null) headers['x-csrf-token'] = token;
      return h.app.inject({ method, url: `${c.base}${path}`, payload: body as InjectOptions['payload'], headers });
    },
  };
}

/** A user with a password and the given role, signed in to the console. */
async function signedIn(h: Harness, c: TestClient, Role: 'agent' | 'supervisor', uid = `${Role}-${Math.random().toString(36).slice(2, 10)}`): Promise<Browser> {
  const user = await createUser(c, { UID: uid, FirstName: 'Petra', LastName: 'Vogel', Role });
  assert.equal((await setPassword(c, user.ID, PASSWORD)).statusCode, 200);
  const res = await signIn(h, c, uid, PASSWORD);
  assert.equal(res.statusCode, 200, res.body);
  return browser(h, c, user.ID, res);
}

describeStores('console sessions', (h) => {
  let c: TestClient;
  before(async () => {
    c = await h.newClient({ TimeZone: 'Europe/Berlin' });
  });

  it('gives users a Role: agent by default, supervisor on create or PATCH, nothing else', async () => {
    const plain = await createUser(c, { UID: 'role-default' });
    assert.equal(plain.Role, 'agent');
    const boss = await createUser(c, { UID: 'role-boss', Role: 'supervisor' });
    assert.equal(boss.Role, 'supervisor');
    const patched = await c.request('PATCH', `/users/user/${plain.ID}`, { Role: 'supervisor' });
    assert.equal(patched.json().records[0].Role, 'supervisor');
    assert.equal((await c.get(`/users/user/${plain.ID}`)).json().records[0].Role, 'supervisor');
    const wrong = await c.request('PATCH', `/users/user/${plain.ID}`, { Role: 'admin' });
    assert.equal(wrong.statusCode, 400, wrong.body);
    assert.equal((await c.post('/users/create', { UID: 'role-wrong', Role: 'root' })).statusCode, 400);
  });

  it('signs in with UID and password: the session record and an HttpOnly, SameSite=Strict cookie for the whole site, not Secure over plain HTTP', async () => {
    const b = await signedIn(h, c, 'supervisor', 'petra.vogel');
    const res = b.signIn;
    const record = res.json().records[0];
    assert.deepEqual(Object.keys(record).sort(), ['ClientsID', 'CsrfToken', 'Name', 'Role', 'TimeZone', 'UID', 'UsersID', 'dtExpires']);
    assert.deepEqual([record.UsersID, record.UID, record.Name, record.Role, record.ClientsID, record.TimeZone],
      [b.userId, 'petra.vogel', 'Petra Vogel', 'supervisor', c.id, 'Europe/Berlin']);
    assert.equal(record.dtExpires, '2026-06-15T22:00:00.000', '12 h from 10:00 Berlin');
    assert.equal(res.json().count, 1);
    const cookie = String(res.headers['set-cookie']);
    const attributes = cookie.split(';').map((a) => a.trim());
    assert.ok(attributes.includes('HttpOnly') && attributes.includes('SameSite=Strict') && attributes.includes('Path=/'), cookie);
    assert.ok(!attributes.includes('Secure'), cookie);
    assert.ok(attributes.includes('Max-Age=43200'), cookie);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(b.cookie, /^sbw_[A-Za-z0-9_-]{43}$/);
    assert.ok(b.csrf.length >= 40 && b.csrf !== b.cookie);
  });

  it('marks the cookie Secure when the request came over TLS (behind a trusted proxy)', async () => {
    const user = await createUser(c, { UID: 'tls-user' });
    await setPassword(c, user.ID, PASSWORD);
    const behindProxy = await build({ store: h.store, clock: h.clock, trustProxy: true });
    try {
      const res = await behindProxy.inject({
        method: 'POST', url: `${c.base}/console/session`, payload: { UID: 'tls-user', Password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(String(res.headers['set-cookie']).split(';').map((a) => a.trim()).includes('Secure'), String(res.headers['set-cookie']));
    } finally {
      await behindProxy.close();
    }
  });

  it('answers every failed sign-in with the agent login\'s one 401, and sets no cookie', async () => {
    const user = await createUser(c, { UID: 'no-password-yet' });
    await signedIn(h, c, 'agent', 'has-password');
    const reference = await login(h, c, 'has-password', 'wrong password');
    assert.equal(reference.statusCode, 401);
    const attempts = [
      await signIn(h, c, 'nobody-here', PASSWORD),
      await signIn(h, c, 'has-password', 'wrong password'),
      await signIn(h, c, 'no-password-yet', PASSWORD),
      await signIn(h, c, 'has-password', PASSWORD, '/rest/v1.0/2147480000'),
    ];
    for (const res of attempts) {
      assert.equal(res.statusCode, 401, res.body);
      assert.deepEqual(res.json(), reference.json());
      assert.equal(res.headers['set-cookie'], undefined);
    }
    assert.ok(user.ID > 0);
  });

  it('shares the agent login\'s throttle per UID: past it even the right password gets 429', async () => {
    await signedIn(h, c, 'agent', 'throttled-user');
    for (let i = 0; i < 10; i++) assert.equal((await login(h, c, 'throttled-user', `wrong ${i}`)).statusCode, 401);
    const res = await signIn(h, c, 'throttled-user', PASSWORD);
    assert.equal(res.statusCode, 429, res.body);
  });

  it('answers the session again with its CsrfToken for the cookie; without a live cookie 401', async () => {
    const b = await signedIn(h, c, 'agent');
    const res = await b.request('GET', '/console/session', undefined, null);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().records[0], b.signIn.json().records[0]);
    assert.equal((await h.app.inject({ method: 'GET', url: `${c.base}/console/session` })).statusCode, 401);
    const forged = await h.app.inject({ method: 'GET', url: `${c.base}/console/session`, headers: { cookie: `sb_session=sbw_${'A'.repeat(43)}` } });
    assert.equal(forged.statusCode, 401);
    // The client token is not a console session.
    assert.equal((await c.request('GET', `${c.base}/console/session`)).statusCode, 401);
  });

  it('stores the session and CSRF tokens only as hashes, and the cookie is no bearer token', async () => {
    const b = await signedIn(h, c, 'agent');
    const rows = await h.store.db.selectFrom('agent_sessions').selectAll().where('user_id', '=', b.userId).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, sha256(b.cookie));
    assert.equal(rows[0]!.csrf_hash, sha256(b.csrf));
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(b.cookie) && !text.includes(b.csrf));
    const bearer = await h.app.inject({ method: 'GET', url: `${c.base}/agents/me`, headers: { authorization: `Bearer ${b.cookie}` } });
    assert.equal(bearer.statusCode, 401);
    // An Authorization header wins over the cookie: a wrong token is a 401 even with a good cookie.
    const both = await h.app.inject({ method: 'GET', url: `${c.base}/agents/me`, headers: { authorization: 'Bearer nope', cookie: `sb_session=${b.cookie}` } });
    assert.equal(both.statusCode, 401);
  });

  it('refuses a change without the right X-CSRF-Token (403, nothing changed) and makes it with it', async () => {
    const b = await signedIn(h, c, 'agent');
    for (const token of [null, 'wrong', '', b.cookie]) {
      const res = await b.request('POST', '/agents/me/acd/login', undefined, token);
      assert.equal(res.statusCode, 403, res.body);
      assert.match(res.json().error, CSRF_ERROR);
    }
    assert.equal((await b.request('GET', '/agents/me', undefined, null)).json().records[0].bLoggedIn, false);
    assert.deepEqual(await historyOf(h, b.userId), []);
    const ok = await b.request('POST', '/agents/me/acd/login');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().records[0].bLoggedIn, true);
    assert.deepEqual((await historyOf(h, b.userId)).map((r) => [r.change, r.actor]), [['AcdLogin', `agent:${b.userId}`]]);
  });

  it('gives an agent\'s cookie an agent token\'s rights: /agents/me… only', async () => {
    const group = await standaloneGroup(c);
    const b = await signedIn(h, c, 'agent');
    await c.request('PUT', `/acd/groups/group/${group}/members/${b.userId}`, { Skills: {} });
    assert.equal((await b.request('POST', `/agents/me/groups/${group}/login`)).statusCode, 200);
    assert.equal((await b.request('GET', '/agents/me/events', undefined, null)).statusCode, 200);
    for (const path of ['/users', '/acd/events', '/agents', '/acd/groups/wallboard', '/supervisor/stream']) {
      const res = await b.request('GET', path, undefined, null);
      assert.equal(res.statusCode, 403, `${path}: ${res.body}`);
    }
    const create = await b.request('POST', '/users/create', { UID: 'made-by-agent' });
    assert.equal(create.statusCode, 403);
    assert.equal((await c.get('/users?UID=made-by-agent')).json().count, 0);
  });

  it('gives a supervisor\'s cookie every read, reassign and force logout, and no provisioning', async () => {
    const group = await standaloneGroup(c);
    const other = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const s = await signedIn(h, c, 'supervisor');
    for (const path of ['/users', '/acd/groups', '/acd/events', '/agents', `/acd/groups/group/${group}/queue`, '/acd/groups/wallboard', '/dialler/campaigns', '/acd/events/types']) {
      const res = await s.request('GET', path, undefined, null);
      assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
    }
    for (const path of ['/webhooks', '/agents/me', '/agents/me/events']) assert.equal((await s.request('GET', path, undefined, null)).statusCode, 403, path);

    const event = await newEvent(c, group);
    assert.equal((await s.request('POST', `/acd/events/event/${event}/reassign`, { AcdGroupsID: other }, null)).statusCode, 403, 'CSRF');
    const moved = await s.request('POST', `/acd/events/event/${event}/reassign`, { AcdGroupsID: other });
    assert.equal(moved.statusCode, 200, moved.body);
    const history = await h.store.db.selectFrom('acd_event_history').select('actor').where('event_id', '=', event).orderBy('id').execute();
    assert.equal(history.at(-1)!.actor, `supervisor:${s.userId}`);

    const out = await s.request('POST', `/agents/agent/${agent.userId}/logout`);
    assert.equal(out.statusCode, 200, out.body);
    assert.equal(out.json().records[0].bLoggedIn, false);
    assert.ok((await historyOf(h, agent.userId)).some((r) => r.change === 'AcdLogout' && r.actor === `supervisor:${s.userId}` && r.reason === 'forced'));

    const refused: [InjectOptions['method'], string, unknown][] = [
      ['POST', '/users/create', { UID: 'made-by-supervisor' }],
      ['PATCH', `/users/user/${agent.userId}`, { Role: 'supervisor' }],
      ['DELETE', `/users/user/${agent.userId}`, undefined],
      ['PUT', `/users/user/${agent.userId}/password`, { Password: 'a new password' }],
      ['POST', '/acd/groups/create', { Name: 'made-by-supervisor' }],
      ['PATCH', `/acd/groups/group/${group}`, { ServiceLevelSeconds: 1 }],
      ['POST', '/webhooks/create', { URL: 'https://example.com/hook', Kinds: ['event.*'] }],
      ['PUT', `/agents/agent/${agent.userId}/capacity`, { Capacity: { 1: 3 } }],
      ['POST', '/acd/events/create', { AcdEventTypesID: 5, AcdGroupsID: group, Sender: 'x@example.com', Subject: 'x' }],
      ['POST', '/agents/me/acd/login', undefined],
    ];
    for (const [method, path, body] of refused) {
      const res = await s.request(method, path, body);
      assert.equal(res.statusCode, 403, `${method} ${path}: ${res.body}`);
      assert.match(res.json().error, /supervisor/i, `${method} ${path}: ${res.body}`);
    }
    assert.equal((await c.get('/users?UID=made-by-supervisor')).json().count, 0);
    assert.equal((await c.get('/acd/groups?Name=made-by-supervisor')).json().count, 0);
    assert.equal((await c.get(`/users/user/${agent.userId}`)).json().records[0].Role, 'agent');
    assert.equal((await c.get(`${c.base}/webhooks`)).json().count, 0);
  });

  it('reaches only its own client: another ClientsID with the cookie is 401', async () => {
    const other = await h.newClient();
    const s = await signedIn(h, c, 'supervisor');
    for (const path of ['/users', '/console/session']) {
      const res = await h.app.inject({ method: 'GET', url: `${other.base}${path}`, headers: { cookie: `sb_session=${s.cookie}` } });
      assert.equal(res.statusCode, 401, path);
    }
  });

  it('signs out with the CSRF token: the session ends and the cookie is cleared', async () => {
    const b = await signedIn(h, c, 'supervisor');
    const refused = await b.request('DELETE', '/console/session', undefined, null);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error, CSRF_ERROR);
    assert.equal((await b.request('GET', '/console/session', undefined, null)).statusCode, 200, 'still signed in');
    const out = await b.request('DELETE', '/console/session');
    assert.equal(out.statusCode, 200, out.body);
    const cleared = String(out.headers['set-cookie']);
    assert.match(cleared, /^sb_session=;/);
    assert.ok(cleared.includes('Max-Age=0') && cleared.includes('HttpOnly'), cleared);
    assert.equal((await b.request('GET', '/console/session', undefined, null)).statusCode, 401);
    assert.equal((await b.request('GET', '/users', undefined, null)).statusCode, 401);
  });

  it('ends the console sessions of a user who gets a new password or is deleted; a new role holds at once', async () => {
    const a = await signedIn(h, c, 'agent');
    assert.equal((await setPassword(c, a.userId, 'another password')).statusCode, 200);
    assert.equal((await a.request('GET', '/agents/me', undefined, null)).statusCode, 401);

    const d = await signedIn(h, c, 'agent');
    assert.equal((await c.request('DELETE', `/users/user/${d.userId}`)).statusCode, 200);
    assert.equal((await d.request('GET', '/console/session', undefined, null)).statusCode, 401);

    const s = await signedIn(h, c, 'supervisor');
    assert.equal((await s.request('GET', '/users', undefined, null)).statusCode, 200);
    await c.request('PATCH', `/users/user/${s.userId}`, { Role: 'agent' });
    assert.equal((await s.request('GET', '/users', undefined, null)).statusCode, 403);
    assert.equal((await s.request('GET', '/console/session', undefined, null)).json().records[0].Role, 'agent');
  });

  it('ends console sessions that have expired (12 h)', async () => {
    const b = await signedIn(h, c, 'agent');
    const start = h.clock.now();
    try {
      h.clock.set(start + 12 * 3600_000 - 1000);
      assert.equal((await b.request('GET', '/console/session', undefined, null)).statusCode, 200);
      h.clock.set(start + 12 * 3600_000 + 1000);
      assert.equal((await b.request('GET', '/console/session', undefined, null)).statusCode, 401);
    } finally {
      h.clock.set(start);
    }
  });

  describeStreams(h, () => c);
});

/** The live streams with the cookie alone, as a browser's EventSource opens them. */
function describeStreams(h: Harness, client: () => TestClient): void {
  let origin = '';
  before(async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  });
  /** Opens the stream with the cookie; answers the status, the content type and the first message's event name. */
  function open(path: string, cookie: string, onOpen: () => Promise<unknown>): Promise<{ status: number; type: string | undefined; first?: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${origin}${client().base}${path}`, { headers: { cookie: `sb_session=${cookie}`, accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve({ status: res.statusCode!, type: res.headers['content-type'] });
          return;
        }
        let buffer = '';
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error(`no message on ${path}: ${buffer}`));
        }, 5000);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          const event = /^event: (\S+)$/m.exec(buffer);
          if (!event) return;
          clearTimeout(timer);
          req.destroy();
          resolve({ status: 200, type: res.headers['content-type'], first: event[1] });
        });
        onOpen().catch(reject);
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
    });
  }

  it('opens the agent\'s stream and the client stream with the cookie alone', async () => {
    const c = client();
    const a = await signedIn(h, c, 'agent');
    const s = await signedIn(h, c, 'supervisor');
    const mine = await open('/agents/me/stream', a.cookie, () => a.request('POST', '/agents/me/acd/login'));
    assert.deepEqual(mine, { status: 200, type: 'text/event-stream; charset=utf-8', first: 'agent' });
    const all = await open('/supervisor/stream', s.cookie, () => a.request('POST', '/agents/me/acd/logout'));
    assert.deepEqual(all, { status: 200, type: 'text/event-stream; charset=utf-8', first: 'agent' });
    assert.equal((await open('/supervisor/stream', a.cookie, async () => undefined)).status, 403);
    assert.equal((await open('/agents/me/stream', s.cookie, async () => undefined)).status, 403);
  });
}
