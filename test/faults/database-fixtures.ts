// Fixtures of the database fault tests: a fresh PostgreSQL database, a second instance in this
// process (no engine: whatever it creates only the server under test can distribute), a tenant
// with agents ready, and the faults.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { build } from '../../src/app.ts';
import { openStore, type Store } from '../../src/db/store.ts';
import { createClient } from '../../src/modules/clients/service.ts';
import { Status } from '../../src/domain/event-flow.ts';
import { clientHandle, freshPostgresDatabase, type Harness, type TestClient } from '../helper.ts';
import { readyAgent, standaloneGroup } from '../fixtures-distribution.ts';
import type { TestAgent } from '../fixtures-agents.ts';
import type { Reply } from './process-support.ts';

/** The application name the server under test connects with: its backends, and only they, are terminated. */
export const SERVER_APP = 'sb_fault_server';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Database {
  /** Direct URL (the other instance, the checks). */
  url: string;
  /** The URL the server under test gets: direct, named SERVER_APP. */
  serverUrl: string;
  admin: pg.Client;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<Database> {
  const fresh = await freshPostgresDatabase('sb_fault');
  const admin = new pg.Client({ connectionString: fresh.url });
  await admin.connect();
  const serverUrl = new URL(fresh.url);
  serverUrl.searchParams.set('application_name', SERVER_APP);
  return {
    url: fresh.url,
    serverUrl: serverUrl.toString(),
    admin,
    async drop() {
      await admin.end();
      await fresh.drop();
    },
  };
}

/** Terminates the backends of the server under test; answers how many there were. */
export async function terminateServerBackends(db: Database): Promise<number> {
  const { rows } = await db.admin.query<{ n: number }>(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
    [SERVER_APP],
  );
  return rows[0]!.n;
}

export interface OtherInstance {
  app: FastifyInstance;
  store: Store;
  harness: Harness;
  close(): Promise<void>;
}

/** An instance without the engine on the database (it also migrates it). */
export async function otherInstance(url: string): Promise<OtherInstance> {
  const store = await openStore({ databaseUrl: url, poolSize: 4 });
  const app = await build({ store });
  await app.ready();
  // The fixtures use only the app and the store.
  const harness = { kind: 'postgres', app, store } as unknown as Harness;
  return { app, store, harness, async close() { await app.close(); await store.close(); } };
}

export interface Tenant {
  client: TestClient;
  /** A group with the agents logged in. */
  staffed: number;
  /** A group nobody works: its events stay queued. */
  unstaffed: number;
  agents: TestAgent[];
}

export async function tenant(other: OtherInstance, agents: number): Promise<Tenant> {
  const { ClientsID, Token } = await createClient(other.store.db, { Name: `Fault client ${process.pid} ${Math.random()}` });
  const client = clientHandle(other.app, ClientsID, Token);
  const staffed = await standaloneGroup(client);
  const unstaffed = await standaloneGroup(client);
  const ready: TestAgent[] = [];
  for (let i = 0; i < agents; i++) ready.push(await readyAgent(other.harness, client, staffed));
  return { client, staffed, unstaffed, agents: ready };
}

/** An unavailable answer in the wire format. */
export function assertUnavailable(answer: Reply, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${answer.status} ${JSON.stringify(answer.body)} after ${Math.round(answer.ms)} ms`);
  assert.equal(answer.body?.status, 503, `${what}: body ${JSON.stringify(answer.body)}`);
  assert.equal(typeof answer.body?.error, 'string', `${what}: body ${JSON.stringify(answer.body)}`);
}

/** Polls `check` until it answers true; how long that took, or a failure after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
  return performance.now() - started;
}

/** Whether the event is offered to one of the agents (the engine got to it). */
export async function isOffered(db: Database, eventId: number): Promise<boolean> {
  const { rows } = await db.admin.query('SELECT status_id, agent_id FROM acd_events WHERE id = $1', [eventId]);
  return rows[0]?.status_id === Status.TransportAgent && rows[0]?.agent_id !== null;
}

/** The agent holding the event takes it and finishes it, so that their place is free again. */
export async function finish(db: Database, t: Tenant, eventId: number): Promise<void> {
  const { rows } = await db.admin.query('SELECT agent_id FROM acd_events WHERE id = $1', [eventId]);
  const agent = t.agents.find((a) => a.userId === rows[0]?.agent_id);
  assert.ok(agent, `event ${eventId} is held by one of the agents`);
  for (const action of ['accept', 'done']) {
    const res = await agent.request('POST', `/agents/me/events/${eventId}/${action}`);
    assert.equal(res.statusCode, 200, res.body);
  }
}
