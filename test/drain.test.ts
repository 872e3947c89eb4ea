// A graceful stop answers the request in flight with `Connection: close` and closes that
// connection, instead of leaving it open for the client's next request to be reset on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { createClient } from '../src/modules/clients/service.ts';
import { slowCreate } from './faults/process-support.ts';

describe('graceful stop', () => {
  it('answers a request accepted before it with Connection: close', async () => {
    const running = await startServer(
      { ...loadConfig({}), port: 0, host: '127.0.0.1', dataDir: 'memory://', databaseUrl: undefined, logLevel: 'silent', shutdownGraceMs: 30_000 },
      { out: () => undefined },
    );
    const { ClientsID, Token } = await createClient(running.store.db, { Name: 'Drain' });
    const group = await running.store.db.insertInto('acd_groups').values({ client_id: ClientsID, name: 'G' }).returning('id').executeTakeFirstOrThrow();
    const url = running.url.replace('localhost', '127.0.0.1');
    const request = await slowCreate(url, `/rest/v1.0/${ClientsID}/acd/events/create`, Token, { AcdEventTypesID: 6, AcdGroupsID: group.id, Sender: '', Subject: 'In flight' });
    await new Promise((r) => setTimeout(r, 100)); // the server has read the headers
    const started = Date.now();
    const stopped = running.stop();
    const answer = await request.finish();
    await stopped;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.connection, 'close');
    assert.ok(answer.closedByServer);
    assert.ok(Date.now() - started < 10_000, 'no connection was left open until the 30 s grace');
  });
});
