// CORS by SWITCHBOARD_CORS_ORIGINS: off by default; with origins, their preflights are allowed and
// others' are not; `*` allows any origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { build } from '../src/app.ts';
import { loadConfig, type CorsOrigins } from '../src/config.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { createClient } from '../src/modules/clients/service.ts';

const DESK = 'https://desk.nordlicht.example';

describe('CORS', () => {
  let store: Store;
  const apps: FastifyInstance[] = [];
  let client: { ClientsID: number; Token: string };

  before(async () => {
    store = await openStore({ dataDir: 'memory://' });
    client = await createClient(store.db, { Name: 'CORS client' });
  });
  after(async () => {
    for (const app of apps) await app.close();
    await store.close();
  });
  const appWith = async (cors?: CorsOrigins) => {
    const app = await build({ store, ...(cors !== undefined && { cors }) });
    await app.ready();
    apps.push(app);
    return app;
  };
  const preflight = (app: FastifyInstance, origin: string) => app.inject({
    method: 'OPTIONS', url: `/rest/v1.0/${client.ClientsID}/acd/events/create`,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
  });
  const get = (app: FastifyInstance, origin: string) => app.inject({
    method: 'GET', url: `/rest/v1.0/${client.ClientsID}/acd/events`, headers: { origin, authorization: `Bearer ${client.Token}` },
  });

  it('is off by default: no CORS headers, and a preflight is an endpoint that does not exist', async () => {
    const app = await appWith();
    const res = await preflight(app, DESK);
    assert.deepEqual([res.statusCode, res.body], [404, '']);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const answer = await get(app, DESK);
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  it('allows the configured origins\' preflights and calls, with the headers the API needs', async () => {
    const app = await appWith([DESK, 'http://localhost:5173']);
    const res = await preflight(app, DESK);
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], DESK);
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
    for (const header of ['Authorization', 'Content-Type', 'Idempotency-Key']) assert.match(String(res.headers['access-control-allow-headers']), new RegExp(header));
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    const answer = await get(app, DESK);
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['access-control-allow-origin'], DESK);
    assert.match(String(answer.headers['access-control-expose-headers']), /RateLimit-Remaining/);
  });

  it('refuses other origins: no Allow-Origin, so the browser blocks the call', async () => {
    const app = await appWith([DESK]);
    for (const origin of ['https://evil.example', 'https://desk.nordlicht.example.evil.example', 'http://desk.nordlicht.example']) {
      const res = await preflight(app, origin);
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal((await get(app, origin)).headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it('allows any origin with *', async () => {
    const app = await appWith('*');
    const res = await preflight(app, 'https://anywhere.example');
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  it('reads SWITCHBOARD_CORS_ORIGINS: unset is off, a list of origins, * alone, anything else refused naming the variable', () => {
    assert.equal(loadConfig({}).corsOrigins, false);
    assert.equal(loadConfig({ SWITCHBOARD_CORS_ORIGINS: '' }).corsOrigins, false);
    assert.deepEqual(loadConfig({ SWITCHBOARD_CORS_ORIGINS: `${DESK}, http://localhost:5173` }).corsOrigins, [DESK, 'http://localhost:5173']);
    assert.equal(loadConfig({ SWITCHBOARD_CORS_ORIGINS: '*' }).corsOrigins, '*');
    for (const bad of ['desk.example', 'https://desk.example/', 'https://desk.example/app', 'ftp://desk.example', `*,${DESK}`]) {
      assert.throws(() => loadConfig({ SWITCHBOARD_CORS_ORIGINS: bad }), /SWITCHBOARD_CORS_ORIGINS/, bad);
    }
  });
});
