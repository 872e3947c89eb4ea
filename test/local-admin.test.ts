// The admin token a server hands its host's commands through the lock file: valid on the admin
// API of that server's store only, never for a client's data, and never stored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';
import { issueLocalAdminToken } from '../src/http/local-admin.ts';
import { createClient } from '../src/modules/clients/service.ts';

describe('process-local admin token', () => {
  it('reaches the admin API of its own store only', async () => {
    const stores = [await openStore({ dataDir: 'memory://' }), await openStore({ dataDir: 'memory://' })];
    const apps = await Promise.all(stores.map((store) => build({ store })));
    try {
      const token = issueLocalAdminToken(stores[0]!);
      const asAdmin = (i: number, t: string) => apps[i]!.inject({ method: 'POST', url: '/rest/v1.0/clients/create', payload: { Name: `Local ${i}` }, headers: { authorization: `Bearer ${t}` } });
      assert.equal((await asAdmin(0, token)).statusCode, 200);
      assert.equal((await asAdmin(1, token)).statusCode, 401, 'another store\'s server refuses it');
      assert.equal((await asAdmin(0, `${token}x`)).statusCode, 401);
      // It serves this host's commands only: from any other address it is no admin token.
      for (const remoteAddress of ['192.0.2.7', '::ffff:192.0.2.7', '2001:db8::1']) {
        const remote = await apps[0]!.inject({
          method: 'POST', url: '/rest/v1.0/clients/create', remoteAddress, payload: { Name: 'Remote' }, headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(remote.statusCode, 401, `from ${remoteAddress}`);
      }
      const { ClientsID } = await createClient(stores[0]!.db, { Name: 'Data' });
      const data = await apps[0]!.inject({ method: 'GET', url: `/rest/v1.0/${ClientsID}/acd/events`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(data.statusCode, 401, 'it is no client token');
      const settings = await stores[0]!.db.selectFrom('system_settings').select('value').execute();
      assert.equal(settings.length, 0, 'nothing about it is stored');
      console.log('checked: local admin token: 200 on its server\'s admin API, 401 elsewhere and on client data, not stored');
    } finally {
      for (const app of apps) await app.close();
      for (const store of stores) await store.close();
    }
  });
});
