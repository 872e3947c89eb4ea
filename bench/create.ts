// Benchmark of POST /acd/events/create against a floor: the same Fastify instance and store
// answering a route that only INSERTs the row a create stores, with none of the create's rules
// (validation, authentication, group lookup, duplicate check, history). The ratio create/floor
// tells what the rules cost, independent of how fast this machine is.
//
//   npm run bench:create            (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_SECONDS=5 npm run bench:create
//   BENCH_STORES=postgres npm run bench:create     (one store only, e.g. while profiling)
//
// Prints one line per measurement and ends with one JSON line of the summary.
import autocannon, { type Result } from 'autocannon';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Insertable, Selectable } from 'kysely';
import { build } from '../src/app.ts';
import { createSwitchboardClient } from '../src/client/index.ts';
import { authenticateClient } from '../src/http/auth.ts';
import type { AcdEventsTable } from '../src/db/schema.ts';
import { openStore, type Store, type StoreKind } from '../src/db/store.ts';
import { callbackRequest, round, setUpTenant, withFreshDatabase, withTempDir, type BenchTenant } from './support.ts';

const SECONDS = positive(process.env.BENCH_SECONDS, 10);
const WARMUP_SECONDS = 3;
const ROUNDS = 2;
/** PGlite is one session: more connections only lengthen its queue, for floor and create alike. */
const CONNECTIONS: Record<StoreKind, number> = {
  pglite: positive(process.env.BENCH_PGLITE_CONNECTIONS, 4),
  postgres: positive(process.env.BENCH_POSTGRES_CONNECTIONS, 16),
};
const TARGET_RATIO = 0.6;
const FLOOR_PATH = '/bench/floor';

interface Totals {
  requests: number;
  seconds: number;
  p99Ms: number;
}

interface StoreSummary {
  rps: number;
  floorRps: number;
  ratio: number;
  p99Ms: number;
  /** The same floor behind the client-token check every API route makes. */
  authFloorRps: number;
  authRatio: number;
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : fallback;
}

type StoredEvent = Omit<Selectable<AcdEventsTable>, 'id'>;

/**
 * The floor route. It inserts the very column values a create stored (learned from one real
 * create before the load starts), with this request's texts and the current time, so the row
 * written is the same width as the create's.
 */
function registerFloor(app: FastifyInstance, template: () => StoredEvent): void {
  const floor = async (request: FastifyRequest) => {
    const body = request.body as ReturnType<typeof callbackRequest>;
    const now = new Date(app.clock.now());
    const values: Insertable<AcdEventsTable> = {
      ...template(),
      sender: body.Sender,
      subject: body.Subject,
      body: body.Body,
      user_data: body.UserData,
      created_at: now,
      modified_at: now,
      last_modified_at: now,
    };
    const row = await app.store.db.insertInto('acd_events').values(values).returning('id').executeTakeFirstOrThrow();
    return { records: [{ ID: row.id }], count: 1, status: 200 };
  };
  app.post(FLOOR_PATH, { schema: { hide: true } }, floor);
  // The second floor pays for authentication too, as every route of the API does.
  app.post(`/rest/v1.0/:ClientsID${FLOOR_PATH}`, { schema: { hide: true }, onRequest: authenticateClient }, floor);
}

/** One real create over HTTP through the typed client (src/client); its stored row becomes the floor's template. */
async function learnStoredEvent(address: string, store: Store, tenant: BenchTenant): Promise<StoredEvent> {
  const api = createSwitchboardClient({ baseUrl: address, token: tenant.token });
  const { data, error, response } = await api.POST('/rest/v1.0/{ClientsID}/acd/events/create', {
    params: { path: { ClientsID: tenant.clientId } },
    body: callbackRequest(tenant.groupId),
  });
  if (!data) throw new Error(`create answered ${response.status}: ${JSON.stringify(error)}`);
  const id = data.records[0].ID;
  const row = await store.db.selectFrom('acd_events').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const { id: _id, ...rest } = row;
  return rest;
}

async function measure(label: string, url: string, tenant: BenchTenant, connections: number, seconds: number): Promise<Result> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(callbackRequest(tenant.groupId)),
    connections,
    duration: seconds,
    // The load generator gets its own thread, so it does not compete with the server's loop.
    workers: 1,
  });
  const rps = result.requests.total / result.duration;
  console.log(
    `  ${label.padEnd(22)} ${String(Math.round(rps)).padStart(6)} req/s   ` +
      `p50 ${result.latency.p50.toFixed(1).padStart(6)} ms   p99 ${result.latency.p99.toFixed(1).padStart(6)} ms   ` +
      `(${result.requests.total} requests in ${result.duration.toFixed(1)} s)`,
  );
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, non-2xx ${JSON.stringify(result.statusCodeStats)}`);
  }
  return result;
}

function add(totals: Totals, result: Result): void {
  totals.requests += result.requests.total;
  totals.seconds += result.duration;
  totals.p99Ms = Math.max(totals.p99Ms, result.latency.p99);
}

async function benchStore(kind: StoreKind, store: Store): Promise<StoreSummary> {
  const connections = CONNECTIONS[kind];
  console.log(`\n${kind}: ${connections} connections, ${SECONDS} s per measurement, ${ROUNDS} rounds`);
  const tenant = await setUpTenant(store.db, `Bench ${kind} ${process.pid}`);
  let template: StoredEvent | undefined;
  const app = await build({ store });
  registerFloor(app, () => template!);
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    template = await learnStoredEvent(address, store, tenant);
    const createUrl = `${address}/rest/v1.0/${tenant.clientId}/acd/events/create`;
    const floorUrl = `${address}${FLOOR_PATH}`;
    const authFloorUrl = `${address}/rest/v1.0/${tenant.clientId}${FLOOR_PATH}`;
    const urls = { floor: floorUrl, authFloor: authFloorUrl, create: createUrl };

    await measure('warm-up floor', floorUrl, tenant, connections, WARMUP_SECONDS);
    await measure('warm-up authFloor', authFloorUrl, tenant, connections, WARMUP_SECONDS);
    await measure('warm-up create', createUrl, tenant, connections, WARMUP_SECONDS);
    const totals = {
      floor: { requests: 0, seconds: 0, p99Ms: 0 } as Totals,
      authFloor: { requests: 0, seconds: 0, p99Ms: 0 } as Totals,
      create: { requests: 0, seconds: 0, p99Ms: 0 } as Totals,
    };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate the order, so drift in the machine's load weighs on every side.
      const order = round % 2 === 1 ? (['floor', 'authFloor', 'create'] as const) : (['create', 'authFloor', 'floor'] as const);
      for (const which of order) add(totals[which], await measure(`${which} #${round}`, urls[which], tenant, connections, SECONDS));
    }
    const { floor, authFloor, create } = totals;

    const rows = await store.db.selectFrom('acd_events').select((eb) => eb.fn.countAll<string>().as('n')).where('client_id', '=', tenant.clientId).executeTakeFirstOrThrow();
    console.log(`  ${rows.n} events stored for the bench client`);
    const rps = create.requests / create.seconds;
    const floorRps = floor.requests / floor.seconds;
    const authFloorRps = authFloor.requests / authFloor.seconds;
    return {
      rps: round(rps, 1), floorRps: round(floorRps, 1), ratio: round(rps / floorRps, 3), p99Ms: round(create.p99Ms, 2),
      authFloorRps: round(authFloorRps, 1), authRatio: round(rps / authFloorRps, 3),
    };
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const stores = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');
  const pglite = !stores.includes('pglite') ? undefined : await withTempDir('switchboard-bench', async (dir) => {
    const store = await openStore({ dataDir: dir });
    try {
      return await benchStore('pglite', store);
    } finally {
      await store.close();
    }
  });
  const postgres = !stores.includes('postgres') ? undefined : await withFreshDatabase('sb_bench_create', async (url) => {
    const store = await openStore({ databaseUrl: url });
    try {
      return await benchStore('postgres', store);
    } finally {
      await store.close();
    }
  });

  console.log('');
  for (const [kind, s] of Object.entries({ pglite, postgres })) {
    if (!s) continue;
    const verdict = s.ratio >= TARGET_RATIO ? 'meets' : 'MISSES';
    console.log(`${kind}: create ${s.rps} req/s vs floor ${s.floorRps} req/s = ${s.ratio}x (${verdict} the ${TARGET_RATIO}x target), create p99 ${s.p99Ms} ms`);
    console.log(`${kind}: create vs the authenticated floor ${s.authFloorRps} req/s = ${s.authRatio}x`);
  }
  console.log(`total ${round((Date.now() - started) / 1000, 1)} s`);
  console.log(JSON.stringify({ pglite, postgres }));
}

await main();
