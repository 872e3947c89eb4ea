// Issue 3, agents: passwords, login, agent session tokens and what they reach.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { createUser } from './fixtures-groups.ts';
import { asClient, login, newAgent, PASSWORD, setPassword, withToken } from './fixtures-agents.ts';
import { hashPassword, verifyPassword } from '../src/modules/agents/passwords.ts';

const LOGIN_FAILED = { status: 401, error: 'UID or password wrong' };
const HOUR = 3600_000;

it('hashes passwords as self-describing argon2id strings that verify with their own parameters', async () => {
  const stored = await hashPassword('s3cret-pass');
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(await hashPassword('s3cret-pass'), stored, 'a fresh salt every time');
  assert.equal(await verifyPassword('s3cret-pass', stored), true);
  assert.equal(await verifyPassword('s3cret-pasS', stored), false);
  const cheaper = await hashPassword('old password', { memory: 4096, passes: 3, parallelism: 1 });
  assert.equal(await verifyPassword('old password', cheaper), true);
  assert.equal(await verifyPassword('anything', null), false);
  assert.equal(await verifyPassword('anything', 'not a hash'), false);
  // Composed and decomposed accents are the same password.
  assert.equal(await verifyPassword('Jos\u0065\u0301 passwort', await hashPassword('Jos\u00e9 passwort')), true);
});

describeStores('agents: passwords and login', (h) => {
  it('stores only an argon2id hash of the password and answers {status:200}', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'anna' });
    const res = await setPassword(c, user.ID, 'eight ch');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    const row = await h.store.db.selectFrom('agent_credentials').selectAll().where('user_id', '=', user.ID).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!row.password_hash.includes('eight ch'));
    // The user record does not grow a password field.
    assert.ok(!('Password' in (await c.get(`/users/user/${user.ID}`)).json().records[0]));
  });

  it('checks the password body and the user', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'bert' });
    for (const body of [{ Password: 'seven c' }, { Password: 'x'.repeat(257) }, { Password: 12345678 }, {}, { Password: 'long enough', Extra: 1 }]) {
      const res = await c.request('PUT', `/users/user/${user.ID}/password`, body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.match(res.json().details[0].field, /Password|Extra/);
    }
    const unknown = await setPassword(c, 999999, 'long enough');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { status: 404, error: 'User 999999 not found' });
    const other = await h.newClient();
    assert.equal((await setPassword(other, user.ID, 'long enough')).statusCode, 404, "another client's user");
  });

  it('logs in without a token and answers the session token with its expiry 12 h later, in the client zone', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    h.clock.set(Date.UTC(2026, 0, 10, 12, 30, 15, 250));
    const user = await createUser(c, { UID: 'carla' });
    await setPassword(c, user.ID, PASSWORD);
    const res = await login(h, c, 'carla', PASSWORD);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    const session = body.records[0];
    assert.deepEqual(Object.keys(session), ['UsersID', 'Token', 'dtExpires']);
    assert.equal(session.UsersID, user.ID);
    assert.equal(session.dtExpires, '2026-01-10T19:30:15.250');
    assert.match(session.Token, /^sbs_[A-Za-z0-9_-]{43}$/);
    const stored = await h.store.db.selectFrom('agent_sessions').select('token_hash').where('user_id', '=', user.ID).execute();
    assert.equal(stored.length, 1);
    assert.match(stored[0].token_hash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(stored).includes(session.Token));
    const me = await withToken(h, c, session.Token)('GET', '/agents/me');
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().records[0].UsersID, user.ID);
  });

  it('fails every wrong login with the same 401, so UIDs cannot be told apart', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'dora' });
    await createUser(c, { UID: 'no-password' });
    await setPassword(c, user.ID, PASSWORD);
    const attempts = [
      await login(h, c, 'dora', 'wrong password'),
      await login(h, c, 'nobody', PASSWORD),
      await login(h, c, 'no-password', PASSWORD),
      await login(h, c, 'DORA', PASSWORD),
      await login(h, c, 'dora', PASSWORD, '/rest/v1.0/999999'),
    ];
    for (const res of attempts) {
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), LOGIN_FAILED);
    }
    // Another client's user with the same UID and password is not this client's agent.
    const other = await h.newClient();
    assert.deepEqual((await login(h, other, 'dora', PASSWORD)).json(), LOGIN_FAILED);
    const bad = await h.app.inject({ method: 'POST', url: `${c.base}/agents/login`, payload: { UID: 'dora' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().details[0].field, 'Password');
  });

  it('spends the argon2 work on unknown UIDs too, so timing does not tell them apart', async () => {
    const c = await h.newClient();
    const user = await createUser(c, { UID: 'timed' });
    await setPassword(c, user.ID, PASSWORD);
    const median = async (uid: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        assert.equal((await login(h, c, uid, 'wrong password')).statusCode, 401);
        times.push(performance.now() - start);
      }
      return times.sort((x, y) => x - y)[2];
    };
    const known = await median('timed');
    const unknown = await median('nobody-at-all');
    // Without the decoy hash an unknown UID answers in a fraction of the argon2 time.
    assert.ok(unknown > known * 0.5, `unknown UID ${unknown.toFixed(1)} ms vs wrong password ${known.toFixed(1)} ms`);
  });

  it('ends a session at logout, at once, and leaves the other sessions alone', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c, 'emil');
    const second = withToken(h, c, (await login(h, c, 'emil', PASSWORD)).json().records[0].Token);
    const out = await agent.request('POST', '/agents/me/logout');
    assert.equal(out.statusCode, 200);
    assert.deepEqual(out.json(), { status: 200 });
    const after = await agent.request('GET', '/agents/me');
    assert.equal(after.statusCode, 401);
    assert.deepEqual(after.json(), { status: 401, error: 'Token missing or wrong, or wrong ClientsID' });
    assert.equal((await second('GET', '/agents/me')).statusCode, 200);
  });

  it('expires a session 12 h after login', async () => {
    const c = await h.newClient();
    const start = Date.UTC(2026, 2, 1, 6, 0, 0);
    h.clock.set(start);
    const agent = await newAgent(h, c);
    h.clock.set(start + 12 * HOUR - 1);
    assert.equal((await agent.request('GET', '/agents/me')).statusCode, 200);
    h.clock.set(start + 12 * HOUR);
    assert.equal((await agent.request('GET', '/agents/me')).statusCode, 401);
    // A new login works, and clears the expired session away.
    assert.equal((await login(h, c, agent.uid, PASSWORD)).statusCode, 200);
    const rows = await h.store.db.selectFrom('agent_sessions').select('id').where('user_id', '=', agent.userId).execute();
    assert.equal(rows.length, 1);
  });

  it('a new password ends the sessions of the old one; deleting the user ends them too', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    assert.equal((await setPassword(c, agent.userId, 'a brand new one')).statusCode, 200);
    assert.equal((await agent.request('GET', '/agents/me')).statusCode, 401);
    assert.deepEqual((await login(h, c, agent.uid, PASSWORD)).json(), LOGIN_FAILED);
    const fresh = withToken(h, c, (await login(h, c, agent.uid, 'a brand new one')).json().records[0].Token);
    assert.equal((await fresh('GET', '/agents/me')).statusCode, 200);
    assert.equal((await c.request('DELETE', `/users/user/${agent.userId}`)).statusCode, 200);
    assert.equal((await fresh('GET', '/agents/me')).statusCode, 401);
  });
});

describeStores('agents: what an agent token reaches', (h) => {
  it('reaches /agents/me and below only; everything else is a 403 JSON error', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    assert.equal((await agent.request('GET', '/agents/me')).statusCode, 200);
    assert.equal((await agent.request('POST', '/agents/me/acd/login')).statusCode, 200);
    const forbidden = [
      ['GET', '/acd/events'],
      ['GET', '/acd/events/types'],
      ['POST', '/acd/events/create'],
      ['GET', '/users'],
      ['GET', '/agents'],
      ['GET', `/agents/agent/${agent.userId}`],
      ['POST', `/agents/agent/${agent.userId}/logout`],
      ['PUT', `/users/user/${agent.userId}/password`],
    ] as const;
    for (const [method, path] of forbidden) {
      const res = await agent.request(method, path, method === 'GET' ? undefined : {});
      assert.equal(res.statusCode, 403, `${method} ${path}`);
      assert.deepEqual(res.json(), { status: 403, error: 'An agent session token reaches only /agents/me and below; use the client token' });
    }
  });

  it("an agent token of client A is a 401 on client B's base URL", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const agent = await newAgent(h, a);
    const res = await withToken(h, b, agent.token)('GET', '/agents/me');
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { status: 401, error: 'Token missing or wrong, or wrong ClientsID' });
    assert.equal((await withToken(h, b, agent.token)('GET', '/acd/events')).statusCode, 401);
  });

  it('the client token keeps full access, but /agents/me needs an agent', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    const client = asClient(c);
    assert.equal((await c.get('/acd/events')).statusCode, 200);
    assert.equal((await client('GET', '/agents')).statusCode, 200);
    assert.equal((await client('GET', `/agents/agent/${agent.userId}`)).statusCode, 200);
    assert.equal((await client('PUT', `/agents/agent/${agent.userId}/capacity`, { Capacity: { 1: 2 } })).statusCode, 200);
    assert.equal((await client('POST', `/agents/agent/${agent.userId}/logout`)).statusCode, 200);
    const me = await client('GET', '/agents/me');
    assert.equal(me.statusCode, 403);
    assert.deepEqual(me.json(), { status: 403, error: 'This endpoint acts as the logged-in agent; send an agent session token' });
    assert.equal((await client('POST', '/agents/me/logout')).statusCode, 403);
  });

  it('keeps the 401s of the wire: no token, a wrong token, an unknown ClientsID', async () => {
    const c = await h.newClient();
    const agent = await newAgent(h, c);
    for (const headers of [{}, { authorization: 'Bearer sbs_nope' }, { authorization: agent.token }]) {
      const res = await h.app.inject({ method: 'GET', url: `${c.base}/agents/me`, headers });
      assert.equal(res.statusCode, 401);
    }
    const unknown = await h.app.inject({ method: 'GET', url: '/rest/v1.0/999999/agents/me', headers: { authorization: `Bearer ${agent.token}` } });
    assert.equal(unknown.statusCode, 401);
  });

  it('documents the login as the one route without a token', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.deepEqual(doc.paths['/rest/v1.0/{ClientsID}/agents/login'].post.security, []);
    for (const path of ['/agents', '/agents/me', '/agents/agent/{UsersID}/capacity', '/users/user/{UsersID}/password']) {
      assert.ok(doc.paths[`/rest/v1.0/{ClientsID}${path}`], path);
    }
  });
});
