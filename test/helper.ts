// Test harness: every storage/API suite runs once per store (PGlite always, PostgreSQL when
// TEST_DATABASE_URL is set), each on a fresh app with a pinned clock. Tests isolate themselves by
// creating their own client account (tenant), which is also how production isolates data.
import { after, before, describe } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { build } from '../src/app.ts';
import { openStore, type Store, type StoreKind } from '../src/db/store.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { ensureAdminToken } from '../src/modules/clients/admin-token.ts';
import { createClient } from '../src/modules/clients/service.ts';

export const ADMIN_TOKEN = 'sba_test_admin_token';

export function storeKinds(): StoreKind[] {
  const url = process.env.TEST_DATABASE_URL;
  if (!url && process.env.SWITCHBOARD_REQUIRE_POSTGRES === '1') {
    throw new Error('SWITCHBOARD_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set: the PostgreSQL suites would be skipped');
  }
  return url ? ['pglite', 'postgres'] : ['pglite'];
}

/** Creates an empty database on the TEST_DATABASE_URL server; returns its URL and a dropper. */
export async function freshPostgresDatabase(prefix = 'sb_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `${prefix}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function openTestStore(kind: StoreKind): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (kind === 'pglite') {
    const store = await openStore({ dataDir: 'memory://' });
    return { store, dispose: () => store.close() };
  }
  const database = await freshPostgresDatabase();
  const store = await openStore({ databaseUrl: database.url, poolSize: 8 });
  return {
    store,
    async dispose() {
      await store.close();
      await database.drop();
    },
  };
}

export interface TestClient {
  id: number;
  token: string;
  base: string;
  request(method: InjectOptions['method'], path: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  get(path: string): Promise<LightMyRequestResponse>;
  post(path: string, body?: unknown): Promise<LightMyRequestResponse>;
}

export interface Harness {
  kind: StoreKind;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly clock: ReturnType<typeof fixedClock>;
  newClient(input?: { TimeZone?: string; Name?: string }): Promise<TestClient>;
  admin(method: InjectOptions['method'], path: string, body?: unknown): Promise<LightMyRequestResponse>;
}

let clientSeq = 0;

/** `describe` once per store; `body` receives a harness whose app lives for the suite. */
export function describeStores(title: string, body: (h: Harness) => void): void {
  for (const kind of storeKinds()) {
    describe(`${title} [${kind}]`, () => {
      let app: FastifyInstance | undefined;
      let store: Store | undefined;
      let dispose: (() => Promise<void>) | undefined;
      const clock = fixedClock(Date.UTC(2026, 5, 15, 8, 0, 0)); // 10:00 in Berlin, summer time
      const harness: Harness = {
        kind,
        get app() { return app!; },
        get store() { return store!; },
        clock,
        async newClient(input = {}) {
          const { ClientsID, Token } = await createClient(store!.db, { Name: input.Name ?? `Test client ${process.pid}-${++clientSeq}-${Math.random()}`, TimeZone: input.TimeZone });
          return clientHandle(app!, ClientsID, Token);
        },
        admin(method, path, payload) {
          return app!.inject({ method, url: path, payload: payload as InjectOptions['payload'], headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        },
      };
      before(async () => {
        const opened = await openTestStore(kind);
        store = opened.store;
        dispose = opened.dispose;
        await ensureAdminToken(store.db, ADMIN_TOKEN);
        app = await build({ store, clock });
        await app.ready();
      });
      after(async () => {
        await app?.close();
        await dispose?.();
      });
      body(harness);
    });
  }
}

export function clientHandle(app: FastifyInstance, id: number, token: string): TestClient {
  const base = `/rest/v1.0/${id}`;
  const request: TestClient['request'] = (method, path, payload, headers = {}) =>
    app.inject({
      method,
      url: path.startsWith('/') && !path.startsWith('/acd') && !path.startsWith('/dialler') && !path.startsWith('/users') ? path : base + path,
      payload: payload as InjectOptions['payload'],
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  return {
    id, token, base, request,
    get: (path) => request('GET', path),
    post: (path, payload) => request('POST', path, payload ?? {}),
  };
}

/** Records the SQL of every statement run on `db` that contains `marker`, until `restore()`. */
export function recordStatements(db: object, marker: string): { statements: string[]; restore(): void } {
  const target = db as { executeQuery(q: { sql: string }): Promise<unknown> };
  const execute = target.executeQuery.bind(target);
  const statements: string[] = [];
  target.executeQuery = (q) => {
    if (q.sql.includes(marker)) statements.push(q.sql);
    return execute(q);
  };
  return { statements, restore: () => { target.executeQuery = execute; } };
}

/**
 * PostgreSQL: a second store on the harness's database (another instance, as far as
 * notifications go), hearing changes through `onChange`; resolves once both listen. PGlite has
 * no second instance: undefined.
 */
export async function secondInstance(h: Harness, onChange: (payload: string) => void): Promise<Store | undefined> {
  if (h.kind !== 'postgres') return undefined;
  const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${rows[0]!.db}`;
  const other = await openStore({ databaseUrl: url.toString(), poolSize: 1, migrate: false });
  other.onChange(onChange);
  const deadline = Date.now() + 2000;
  while (!other.notificationsLive() || !h.store.notificationsLive()) {
    if (Date.now() > deadline) {
      await other.close();
      throw new Error('listeners not up');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return other;
}
