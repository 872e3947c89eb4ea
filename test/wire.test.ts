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
    assert.deepEqual(body.json().details, [{ field: 'Name', message: 'must not contain NUL characters or unpaired surrogates' }]);
    const surrogate = await c.post('/acd/groups/create', { Name: 'G\ud800x', GroupType: 'Standalone' });
    assert.equal(surrogate.statusCode, 400);
    assert.equal(surrogate.json().details[0].field, 'Name');
    const nested = await c.post('/dialler/campaigns/create', { Name: 'C', ResultCodes: [{ ExportKey: 'A', DiallerResultCodesTypesID: 1, Content: { '1': 'x\udc00' } }] });
    assert.equal(nested.statusCode, 400);
    assert.equal(nested.json().details[0].field, 'ResultCodes.0.Content.1');
    const query = await c.get('/acd/events?Sender=a%00b');
    assert.equal(query.statusCode, 400);
    assert.match(query.json().error, /Sender/);
  });
});

describeStores('content types', (h) => {
  it('answers text/plain and other non-JSON bodies with 415', async () => {
    const c = await h.newClient();
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await c.request('POST', '/acd/events/create', '{"AcdEventTypesID":3}', { 'content-type': type });
      assert.equal(res.statusCode, 415, type);
      assert.deepEqual(res.json(), { status: 415, error: 'Request body must be JSON (Content-Type: application/json)' });
    }
  });

  it('takes an empty JSON body as no body where a route needs none, and refuses it where one is needed', async () => {
    const c = await h.newClient();
    const rotated = await h.app.inject({ method: 'POST', url: `/rest/v1.0/clients/client/${c.id}/token`, headers: { authorization: 'Bearer sba_test_admin_token', 'content-type': 'application/json' } });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const fresh = rotated.json().records[0].Token;
    const group = await h.app.inject({ method: 'POST', url: `${c.base}/acd/groups/create`, payload: { Name: 'To delete' }, headers: { authorization: `Bearer ${fresh}` } });
    const deleted = await h.app.inject({ method: 'DELETE', url: `${c.base}/acd/groups/group/${group.json().records[0].ID}`, headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' } });
    assert.equal(deleted.statusCode, 200, deleted.body);
    const create = await h.app.inject({ method: 'POST', url: `${c.base}/acd/events/create`, headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' } });
    assert.equal(create.statusCode, 400);
    assert.equal(create.json().status, 400);
  });
});

describeStores('client time zones', (h) => {
  it('accepts IANA names both JavaScript and the store know, and refuses offsets and unknown names', async () => {
    for (const zone of ['US/Pacific-New', '+01:00', '-05:00', 'Mars/Base', 'Europe/Berlin; DROP', '', 'UTC+1']) {
      const res = await h.admin('POST', '/rest/v1.0/clients/create', { Name: `Zone ${Math.random()}`, TimeZone: zone });
      assert.equal(res.statusCode, 400, `${zone}: ${res.body}`);
      assert.match(res.json().error, /TimeZone/);
    }
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires']) {
      const res = await h.admin('POST', '/rest/v1.0/clients/create', { Name: `Zone ${Math.random()}`, TimeZone: zone });
      assert.equal(res.statusCode, 200, `${zone}: ${res.body}`);
    }
  });

  it("shows timestamps on the client's wall clock (Kolkata is UTC+05:30)", async () => {
    const c = await h.newClient({ TimeZone: 'Asia/Kolkata' });
    const res = await c.post('/acd/groups/create', { Name: 'Mumbai' });
    assert.equal(res.statusCode, 200, res.body);
    // The harness clock reads 2026-06-15T08:00:00Z.
    assert.equal(res.json().records[0].dtCreated, '2026-06-15T13:30:00.000');
  });
});

describeStores('numbers in paths and queries', (h) => {
  it('reads integers only in plain decimal', async () => {
    const c = await h.newClient();
    for (const query of ['limitStart=0x2', 'limitPageSize=1e1', 'limitStart=+1', 'limitStart=01']) {
      const res = await c.get(`/acd/events?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.match(res.json().error, /limit(Start|PageSize)/);
    }
    assert.equal((await c.get('/acd/events?limitStart=0&limitPageSize=-1')).statusCode, 200);
  });
});
