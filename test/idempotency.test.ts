// Issue 13, part 2 (spec §10): the Idempotency-Key header. The same request with the same key
// answers the first answer again and does nothing; another request with it is 422; keys belong to
// their caller (client, agent session, admin); the key is checked (400 naming the header); 4xx
// answers are kept, 5xx answers give the key back; the header is in the OpenAPI document.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { ADMIN_TOKEN, describeStores, type Harness, type TestClient } from './helper.ts';
import { callback, eventTenant } from './fixtures-events.ts';
import { login, newAgent, PASSWORD } from './fixtures-agents.ts';
import { createGroup } from './fixtures-groups.ts';

const keyed = (key: string) => ({ 'idempotency-key': key });

async function eventCount(h: Harness, c: TestClient): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM acd_events WHERE client_id = ${c.id}`.execute(h.store.db);
  return rows[0]!.n;
}

/** The answer as a caller sees it, less what belongs to the exchange. */
const answerOf = (res: LightMyRequestResponse) => ({ status: res.statusCode, type: res.headers['content-type'], body: res.body });

function assertError(res: LightMyRequestResponse, status: number, mentions: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.json().status, status);
  assert.ok(res.json().error.includes(mentions), res.body);
}

describeStores('Idempotency-Key', (h) => {
  it('answers a repeated create with the first answer, marked as replayed, and creates one event', async () => {
    const t = await eventTenant(h);
    const body = callback(t.groupId);
    const first = await t.client.request('POST', '/acd/events/create', body, keyed('create-1'));
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    for (let i = 0; i < 3; i++) {
      const again = await t.client.request('POST', '/acd/events/create', body, keyed('create-1'));
      assert.deepEqual(answerOf(again), answerOf(first));
      assert.equal(again.headers['idempotent-replayed'], 'true');
      // The exchange's own headers are the replay's, not the first request's.
      assert.notEqual(again.headers['x-request-id'], first.headers['x-request-id']);
      assert.ok(Number(again.headers['ratelimit-remaining']) < Number(first.headers['ratelimit-remaining']));
    }
    assert.equal(await eventCount(h, t.client), 1);
    // Without a key, or with another, the same body creates again.
    assert.equal((await t.client.post('/acd/events/create', body)).statusCode, 200);
    assert.equal((await t.client.request('POST', '/acd/events/create', body, keyed('create-2'))).statusCode, 200);
    assert.equal(await eventCount(h, t.client), 3);
  });

  it('answers 422 to the key with another body, path or query, and does nothing', async () => {
    const t = await eventTenant(h);
    assert.equal((await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed('k'))).statusCode, 200);
    const others: [string, unknown][] = [
      ['/acd/events/create', callback(t.groupId, { Subject: 'another subject' })],
      ['/acd/events/create?x=1', callback(t.groupId)],
      ['/acd/groups/create', { Name: 'Sales' }],
    ];
    for (const [path, body] of others) assertError(await t.client.request('POST', path, body, keyed('k')), 422, 'Idempotency-Key');
    assert.equal(await eventCount(h, t.client), 1);
    assert.equal((await t.client.get('/acd/groups?Name=Sales')).json().count, 0);
  });

  it('refuses a malformed key with 400 naming the header, before anything runs; a quoted key is the bare key', async () => {
    const t = await eventTenant(h);
    for (const bad of ['', 'x'.repeat(256), 'schlüssel', '"unterminated\\"', '"a"b"', '"bad\\escape"']) {
      const res = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed(bad));
      assertError(res, 400, 'Idempotency-Key');
      assert.equal(res.json().details[0].field, 'Idempotency-Key');
    }
    const twice = await h.app.inject({
      method: 'POST', url: `${t.client.base}/acd/events/create`, payload: callback(t.groupId),
      headers: { authorization: `Bearer ${t.client.token}`, 'idempotency-key': ['a', 'b'] },
    });
    assertError(twice, 400, 'Idempotency-Key');
    assert.equal(await eventCount(h, t.client), 0);

    const longest = 'x'.repeat(255);
    assert.equal((await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed(longest))).statusCode, 200);
    const quoted = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed(`"${longest}"`));
    assert.equal(quoted.headers['idempotent-replayed'], 'true');
    const escaped = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed('"say \\"hi\\""'));
    const bare = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed('say "hi"'));
    assert.deepEqual([escaped.statusCode, bare.headers['idempotent-replayed']], [200, 'true']);
    assert.equal(await eventCount(h, t.client), 2);
  });

  it("keeps keys apart per client: client B's request with client A's key runs", async () => {
    const a = await eventTenant(h);
    const b = await eventTenant(h);
    const onA = await a.client.request('POST', '/acd/groups/create', { Name: 'Shared key' }, keyed('same'));
    const onB = await b.client.request('POST', '/acd/groups/create', { Name: 'Shared key' }, keyed('same'));
    assert.deepEqual([onA.statusCode, onB.statusCode], [200, 200]);
    assert.equal(onB.headers['idempotent-replayed'], undefined);
    assert.notEqual(onA.json().records[0].ID, onB.json().records[0].ID);
  });

  it('keeps keys apart per agent session: another session of the same agent runs, the same session replays', async () => {
    const c = await h.newClient();
    const first = await newAgent(h, c);
    const again = await login(h, c, first.uid, PASSWORD);
    assert.equal(again.statusCode, 200, again.body);
    const second = { ...first, token: again.json().records[0].Token as string };
    const act = (agent: typeof first, path: string) => h.app.inject({
      method: 'POST', url: `${c.base}${path}`, headers: { authorization: `Bearer ${agent.token}`, 'idempotency-key': 'agent-key' },
    });
    const acdLogin = await act(first, '/agents/me/acd/login');
    assert.equal(acdLogin.statusCode, 200, acdLogin.body);
    assert.equal((await act(first, '/agents/me/acd/login')).headers['idempotent-replayed'], 'true');
    assertError(await act(first, '/agents/me/acd/logout'), 422, 'Idempotency-Key');
    // The other session's key of the same name is its own: the logout runs.
    const logout = await act(second, '/agents/me/acd/logout');
    assert.equal(logout.statusCode, 200, logout.body);
    assert.equal(logout.headers['idempotent-replayed'], undefined);
    assert.equal(logout.json().records[0].bLoggedIn, false);
    // And the client token's key of that name is the client's.
    const asClient = await c.request('POST', `${c.base}/agents/agent/${first.userId}/logout`, undefined, keyed('agent-key'));
    assert.equal(asClient.statusCode, 200, asClient.body);
    assert.equal(asClient.headers['idempotent-replayed'], undefined);
  });

  it('makes the admin provisioning safe to retry: one client account, the same token, and the token works', async () => {
    const admin = (path: string, payload?: unknown) => h.app.inject({
      method: 'POST', url: `/rest/v1.0${path}`, payload: payload as object,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': `admin-${path}` },
    });
    const name = `Provisioned ${Math.random()}`;
    const first = await admin('/clients/create', { Name: name });
    const again = await admin('/clients/create', { Name: name });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(answerOf(again), answerOf(first));
    assert.equal(again.headers['idempotent-replayed'], 'true');
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM clients WHERE name = ${name}`.execute(h.store.db);
    assert.equal(rows[0]!.n, 1);
    const { ClientsID } = first.json().records[0];
    const rotated = await admin(`/clients/client/${ClientsID}/token`);
    const rotatedAgain = await admin(`/clients/client/${ClientsID}/token`);
    assert.equal(rotatedAgain.json().records[0].Token, rotated.json().records[0].Token);
    const res = await h.app.inject({ method: 'GET', url: `/rest/v1.0/${ClientsID}/acd/groups`, headers: { authorization: `Bearer ${rotated.json().records[0].Token}` } });
    assert.equal(res.statusCode, 200);
    // Neither the key nor the token is readable in the table.
    const stored = await sql<{ row: string }>`SELECT row_to_json(k)::text AS row FROM idempotency_keys k WHERE scope = 'admin'`.execute(h.store.db);
    for (const { row } of stored.rows) {
      assert.ok(!row.includes(rotated.json().records[0].Token) && !row.includes('admin-/clients'), row);
    }
  });

  it('keeps a 4xx answer (the route decided) and replays it', async () => {
    const t = await eventTenant(h);
    const first = await t.client.request('POST', '/acd/events/create', callback(999999999), keyed('missing-group'));
    assert.equal(first.statusCode, 404, first.body);
    const again = await t.client.request('POST', '/acd/events/create', callback(999999999), keyed('missing-group'));
    assert.deepEqual(answerOf(again), answerOf(first));
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  it('gives the key back after a 5xx, so the retry runs', async () => {
    const t = await eventTenant(h);
    await sql`ALTER TABLE acd_events ADD CONSTRAINT idempotency_test_fault CHECK (false) NOT VALID`.execute(h.store.db);
    let failed: LightMyRequestResponse;
    try {
      failed = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed('flaky'));
    } finally {
      await sql`ALTER TABLE acd_events DROP CONSTRAINT idempotency_test_fault`.execute(h.store.db);
    }
    assert.equal(failed.statusCode, 500, failed.body);
    const retry = await t.client.request('POST', '/acd/events/create', callback(t.groupId), keyed('flaky'));
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal(retry.headers['idempotent-replayed'], undefined);
    assert.equal(await eventCount(h, t.client), 1);
  });

  it('covers PATCH; ignores the header on PUT, DELETE and on POSTs that change nothing', async () => {
    const c = await h.newClient();
    const group = await createGroup(c, { Name: 'Patched' });
    const patch = (Name: string) => c.request('PATCH', `/acd/groups/group/${group.ID}`, { Name }, keyed('patch'));
    assert.equal((await patch('First')).statusCode, 200);
    // Someone else changes the group; a late retry of the first PATCH must not undo that.
    assert.equal((await c.request('PATCH', `/acd/groups/group/${group.ID}`, { Name: 'Second' })).statusCode, 200);
    const retry = await patch('First');
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal((await c.get(`/acd/groups/group/${group.ID}`)).json().records[0].Name, 'Second');

    const check = (Numbers: string[]) => c.request('POST', '/dialler/doNotCall/check', { Numbers }, keyed('check'));
    assert.equal((await check(['0301234'])).statusCode, 200);
    const other = await check(['0305678']);
    assert.deepEqual([other.statusCode, other.headers['idempotent-replayed']], [200, undefined]);
    const removed = await c.request('DELETE', `/acd/groups/group/${group.ID}`, undefined, keyed('check'));
    assert.deepEqual([removed.statusCode, removed.headers['idempotent-replayed']], [200, undefined]);
  });

  it('documents the header and its 409 and 422 answers on the operations it covers', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, unknown> }>> };
    const create = doc.paths['/rest/v1.0/{ClientsID}/acd/events/create']!.post!;
    assert.ok(create.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'), JSON.stringify(create.parameters));
    assert.ok(create.responses['409'] && create.responses['422']);
    const list = doc.paths['/rest/v1.0/{ClientsID}/acd/events']!.get!;
    assert.ok(!list.parameters?.some((p) => p.name.toLowerCase() === 'idempotency-key'));
    const login = doc.paths['/rest/v1.0/{ClientsID}/agents/login']!.post!;
    assert.ok(!login.parameters?.some((p) => p.name.toLowerCase() === 'idempotency-key'));
  });
});
