// Spec §1: base URL, authentication, envelopes, return codes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';

describeStores('wire conventions', (h) => {
  it('answers 401 without a token, with a wrong token, and for an unknown ClientsID', async () => {
    const c = await h.newClient();
    const noToken = await h.app.inject({ method: 'GET', url: `${c.base}/acd/events/types` });
    assert.equal(noToken.statusCode, 401);
    assert.deepEqual(noToken.json(), { status: 401, error: 'Token missing or wrong, or wrong ClientsID' });
    const wrong = await h.app.inject({ method: 'GET', url: `${c.base}/acd/events/types`, headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const unknownClient = await h.app.inject({ method: 'GET', url: '/rest/v1.0/99999/acd/events/types', headers: { authorization: `Bearer ${c.token}` } });
    assert.equal(unknownClient.statusCode, 401);
    const notNumeric = await h.app.inject({ method: 'GET', url: '/rest/v1.0/abc/acd/events/types', headers: { authorization: `Bearer ${c.token}` } });
    assert.equal(notNumeric.statusCode, 401);
  });

  it("answers 401 for another client's token", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const res = await h.app.inject({ method: 'GET', url: `${a.base}/acd/events/types`, headers: { authorization: `Bearer ${b.token}` } });
    assert.equal(res.statusCode, 401);
  });

  it('a new token invalidates the previous one at once', async () => {
    const c = await h.newClient();
    assert.equal((await c.get('/acd/events/types')).statusCode, 200);
    const rotated = await h.admin('POST', `/rest/v1.0/clients/client/${c.id}/token`);
    assert.equal(rotated.statusCode, 200);
    const { records } = rotated.json();
    assert.equal(records[0].ClientsID, c.id);
    assert.notEqual(records[0].Token, c.token);
    assert.equal((await c.get('/acd/events/types')).statusCode, 401);
    const fresh = await h.app.inject({ method: 'GET', url: `${c.base}/acd/events/types`, headers: { authorization: `Bearer ${records[0].Token}` } });
    assert.equal(fresh.statusCode, 200);
  });

  it('stores tokens only as hashes', async () => {
    const c = await h.newClient();
    const row = await h.store.db.selectFrom('clients').select('token_hash').where('id', '=', c.id).executeTakeFirstOrThrow();
    assert.match(row.token_hash!, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(row).includes(c.token));
  });

  it('answers an unknown endpoint with 404 and an empty body', async () => {
    const c = await h.newClient();
    const res = await c.get('/acd/nothing-here');
    assert.equal(res.statusCode, 404);
    assert.equal(res.body, '');
    const outside = await h.app.inject({ method: 'GET', url: '/elsewhere' });
    assert.equal(outside.statusCode, 404);
    assert.equal(outside.body, '');
  });

  it('answers a non-JSON body with 415 and a JSON error', async () => {
    const c = await h.newClient();
    const res = await c.request('POST', '/acd/events/create', 'AcdEventTypesID=1', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().status, 415);
  });

  it('answers malformed JSON with 400', async () => {
    const c = await h.newClient();
    const res = await c.request('POST', '/acd/events/create', '{"AcdEventTypesID":', { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().status, 400);
  });

  it('admin endpoints need the admin token', async () => {
    const c = await h.newClient();
    const res = await h.app.inject({ method: 'GET', url: '/rest/v1.0/clients', headers: { authorization: `Bearer ${c.token}` } });
    assert.equal(res.statusCode, 401);
    const ok = await h.admin('GET', '/rest/v1.0/clients');
    assert.equal(ok.statusCode, 200);
    assert.ok(ok.json().records.some((r: { ID: number }) => r.ID === c.id));
  });

  it('creates clients with the admin token and rejects a duplicate name or a bad zone', async () => {
    const name = `Wire client ${Math.random()}`;
    const created = await h.admin('POST', '/rest/v1.0/clients/create', { Name: name, TimeZone: 'America/New_York' });
    assert.equal(created.statusCode, 200);
    assert.equal(created.json().count, 1);
    assert.equal((await h.admin('POST', '/rest/v1.0/clients/create', { Name: name })).statusCode, 409);
    const badZone = await h.admin('POST', '/rest/v1.0/clients/create', { Name: `${name} 2`, TimeZone: 'Mars/Base' });
    assert.equal(badZone.statusCode, 400);
    assert.match(badZone.json().error, /TimeZone/);
  });

  it('has liveness and readiness probes', async () => {
    assert.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
  });
});

describeStores('text the database cannot store', (h) => {
  it('refuses a NUL character in a body or query field with 400 naming it', async () => {
    const c = await h.newClient();
    const body = await c.post('/acd/groups/create', { Name: 'bad\u0000name', GroupType: 'Standalone' });
    assert.equal(body.statusCode, 400);
    assert.deepEqual(body.json().details, [{ field: 'Name', message: 'must not contain NUL characters' }]);
    const query = await c.get('/acd/events?Sender=a%00b');
    assert.equal(query.statusCode, 400);
    assert.match(query.json().error, /Sender/);
  });
});
