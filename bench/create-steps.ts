// Where POST /acd/events/create spends its time: a ladder of routes on the same app and store,
// each adding one part of the create to the floor's plain INSERT, measured alternately with
// autocannon. Two what-if rows follow: the create's hot path as a single statement (group check,
// insert, history, JSON in one round trip), sent unnamed as Kysely does, and as named (prepared)
// statements, token check included. Diagnostic only; run it when bench:create misses its target.
//
//   npx node bench/create-steps.ts            (BENCH_SECONDS, BENCH_STORES=pglite,postgres)
import autocannon from 'autocannon';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PGlite, parse as pgliteResults, protocol } from '@electric-sql/pglite';
import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import pg from 'pg';
import { build } from '../src/app.ts';
import type { AcdEventsTable, Database } from '../src/db/schema.ts';
import { openStore, type Store, type StoreKind } from '../src/db/store.ts';
import { authenticateClient } from '../src/http/auth.ts';
import { jsonProjection } from '../src/http/records.ts';
import { EventRecord } from '../src/modules/events/records.ts';
import { findTargetFacts, insertEvent, type NewEvent } from '../src/modules/events/repository.ts';
import { CreateEventBody } from '../src/modules/events/schemas.ts';
import { eventDataXml } from '../src/domain/event-data.ts';
import { bearerToken, tokenMatches } from '../src/domain/tokens.ts';
import { callbackRequest, round, setUpTenant, withFreshDatabase, withTempDir, type BenchTenant } from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS: Record<StoreKind, number> = { pglite: 4, postgres: 16 };
const STORES = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',') as StoreKind[];

type Body = ReturnType<typeof callbackRequest>;

function eventValues(request: FastifyRequest, now: number, clientId: number): NewEvent {
  const body = request.body as Body;
  const at = new Date(now);
  const values: Insertable<AcdEventsTable> & { created_at: Date; status_id: number } = {
    client_id: clientId, type_id: body.AcdEventTypesID, status_id: 4, group_id: body.AcdGroupsID,
    queue_group_id: body.AcdGroupsID, sender: body.Sender.replace(/^\+/, ''), subject: body.Subject, body: body.Body,
    user_data: body.UserData, event_data: eventDataXml({ body: body.Body, crmUrl: null, userData: body.UserData }),
    priority: 50, created_at: at, modified_at: at, last_modified_at: at,
  };
  return values;
}

async function plainInsert(db: Kysely<Database>, values: NewEvent): Promise<number> {
  return (await db.insertInto('acd_events').values(values).returning('id').executeTakeFirstOrThrow()).id;
}

/**
 * What-if: the create's hot path as one statement, text built once per time zone. The group
 * check rides in the INSERT … SELECT (no row: the real create would fall back to its precise
 * checks), the history row and the JSON projection in the same round trip.
 */
const oneStatementTexts = new Map<string, string>();
function oneStatement(db: Kysely<Database>, timeZone: string): string {
  let text = oneStatementTexts.get(timeZone);
  if (text === undefined) {
    const literal = `'${timeZone.replace(/'/g, "''")}'`;
    const projection = jsonProjection(EventRecord, timeZone).compile(db).sql.replace(/\$\d+/g, literal);
    text = `WITH g AS (
        SELECT id FROM acd_groups
        WHERE id = $1 AND client_id = $2 AND group_type = 'Standalone' AND NOT b_avoid_duplicate_events),
      ins AS (
        INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, sender, subject, body,
          user_data, event_data, priority, created_at, modified_at, last_modified_at)
        SELECT $2, $3, $4, g.id, g.id, $5, $6, $7, $8, $9, $10, $11, $11, $11 FROM g
        RETURNING *),
      hist AS (
        INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, actor, reason, created_at)
        SELECT id, NULL, status_id, 'api', 'created', created_at FROM ins)
      SELECT ${projection} AS j FROM ins e`;
    oneStatementTexts.set(timeZone, text);
  }
  return text;
}

type Run = (name: string, text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** Statements as Kysely sends them: unnamed, so parsed and planned on every call. */
const unnamed = (db: Kysely<Database>): Run => async (_name, text, values) =>
  (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, values))).rows;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Named statements: parsed and planned once per connection, then only bound and executed.
 * PostgreSQL: pg's `{ name, text, values }` on a pool of the store's size. PGlite: Parse once,
 * then Bind/Execute through execProtocol, inside the store's session turn.
 */
function named(store: Store, url: string | undefined): { run: Run; close(): Promise<void> } {
  if (store.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    return { run: async (name, text, values) => (await pool.query({ name, text, values })).rows, close: () => pool.end() };
  }
  const parsed = new Set<string>();
  const wire = protocol.serialize;
  const asText = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));
  const run: Run = (name, text, values) =>
    store.db.getExecutor().provideConnection(async (connection) => {
      const pglite = (connection as unknown as { pglite: PGlite }).pglite;
      if (!parsed.has(name)) {
        await pglite.execProtocol(concat([wire.parse({ name, text, types: [] }), wire.sync()]));
        parsed.add(name);
      }
      const bind = wire.bind({ statement: name, values: values.map(asText) });
      const { messages } = await pglite.execProtocol(concat([bind, wire.describe({ type: 'P' }), wire.execute({}), wire.sync()]));
      return (pgliteResults as any).parseResults(messages, {}, {})[0].rows;
    });
  return { run, close: async () => undefined };
}

async function createInOneStatement(run: Run, db: Kysely<Database>, v: NewEvent, timeZone: string): Promise<string> {
  const params = [v.group_id, v.client_id, v.type_id, v.status_id, v.sender, v.subject, v.body, v.user_data, v.event_data, v.priority, v.created_at];
  const rows = await run(`bench_create_${timeZone.replace(/\W/g, '_')}`, oneStatement(db, timeZone), params);
  if (rows.length !== 1) throw new Error('group check failed');
  return rows[0].j as string;
}

/** Each step is the previous one plus one part of the create. */
function registerSteps(app: FastifyInstance, tenant: BenchTenant, prepared: Run): Record<string, string> {
  const db = app.store.db;
  const ok = (reply: FastifyReply, id: number) => reply.send({ records: [{ ID: id }], count: 1, status: 200 });
  app.post('/bench/floor', async (request, reply) => ok(reply, await plainInsert(db, eventValues(request, app.clock.now(), tenant.clientId))));
  void app.register(async (scoped) => {
    scoped.addHook('onRequest', authenticateClient);
    scoped.post('/bench/auth', async (request, reply) => ok(reply, await plainInsert(db, eventValues(request, app.clock.now(), request.client.id))));
    scoped.post('/bench/validated', { schema: { body: CreateEventBody } }, async (request, reply) =>
      ok(reply, await plainInsert(db, eventValues(request, app.clock.now(), request.client.id))));
    scoped.post('/bench/facts', { schema: { body: CreateEventBody } }, async (request, reply) => {
      const body = request.body as Body;
      await findTargetFacts(db, request.client.id, [body.AcdGroupsID], null, body.AcdGroupsID);
      return ok(reply, await plainInsert(db, eventValues(request, app.clock.now(), request.client.id)));
    });
    scoped.post('/bench/projection', { schema: { body: CreateEventBody } }, async (request, reply) => {
      const body = request.body as Body;
      await findTargetFacts(db, request.client.id, [body.AcdGroupsID], null, body.AcdGroupsID);
      const row = await db
        .with('ins', (q) => q.insertInto('acd_events').values(eventValues(request, app.clock.now(), request.client.id)).returningAll())
        .selectFrom('ins as e')
        .select(jsonProjection(EventRecord, request.client.timeZone).as('j'))
        .executeTakeFirstOrThrow();
      return reply.type('application/json; charset=utf-8').send(`{"records":[${row.j}],"count":1,"status":200}`);
    });
    scoped.post('/bench/history', { schema: { body: CreateEventBody } }, async (request, reply) => {
      const body = request.body as Body;
      await findTargetFacts(db, request.client.id, [body.AcdGroupsID], null, body.AcdGroupsID);
      const json = await insertEvent(db, eventValues(request, app.clock.now(), request.client.id), 'api', request.client.timeZone);
      return reply.type('application/json; charset=utf-8').send(`{"records":[${json}],"count":1,"status":200}`);
    });
    scoped.post('/bench/one-statement', { schema: { body: CreateEventBody } }, async (request, reply) => {
      const json = await createInOneStatement(unnamed(db), db, eventValues(request, app.clock.now(), request.client.id), request.client.timeZone);
      return reply.type('application/json; charset=utf-8').send(`{"records":[${json}],"count":1,"status":200}`);
    });
  }, { prefix: '/rest/v1.0/:ClientsID' });
  // The same with named statements, the token check included (done here, as the hook would).
  app.post('/bench/prepared/:ClientsID', { schema: { body: CreateEventBody } }, async (request, reply) => {
    const clientId = Number((request.params as { ClientsID: string }).ClientsID);
    const [client] = await prepared('bench_auth', 'SELECT token_hash, time_zone FROM clients WHERE id = $1', [clientId]);
    const token = bearerToken(request.headers.authorization);
    if (!client || !token || !tokenMatches(token, client.token_hash as string)) return reply.code(401).send({ status: 401, error: 'Unauthorized' });
    const json = await createInOneStatement(prepared, db, eventValues(request, app.clock.now(), clientId), client.time_zone as string);
    return reply.type('application/json; charset=utf-8').send(`{"records":[${json}],"count":1,"status":200}`);
  });
  const scoped = (name: string) => `/rest/v1.0/${tenant.clientId}/bench/${name}`;
  return {
    'floor (INSERT)': '/bench/floor',
    '+ token auth': scoped('auth'),
    '+ body schema': scoped('validated'),
    '+ group query': scoped('facts'),
    '+ JSON projection': scoped('projection'),
    '+ history (CTE)': scoped('history'),
    'create': `/rest/v1.0/${tenant.clientId}/acd/events/create`,
    'what-if: 1 statement': scoped('one-statement'),
    'what-if: 1 stmt named': `/bench/prepared/${tenant.clientId}`,
  };
}

async function rps(url: string, tenant: BenchTenant, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({
    url, method: 'POST', connections, duration: seconds, workers: 1,
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(callbackRequest(tenant.groupId)),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${JSON.stringify(result.statusCodeStats)}, ${result.errors} errors`);
  return result.requests.total / result.duration;
}

async function ladder(kind: StoreKind, store: Store, url?: string): Promise<void> {
  const tenant = await setUpTenant(store.db, `Bench steps ${kind}`);
  const app = await build({ store });
  const prepared = named(store, url);
  const steps = registerSteps(app, tenant, prepared.run);
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const names = Object.keys(steps);
    for (const name of names) await rps(address + steps[name], tenant, CONNECTIONS[kind], 1);
    const totals = new Map<string, number[]>(names.map((n) => [n, []]));
    for (const order of [names, [...names].reverse()]) {
      for (const name of order) totals.get(name)!.push(await rps(address + steps[name], tenant, CONNECTIONS[kind], SECONDS));
    }
    console.log(`\n${kind} (${CONNECTIONS[kind]} connections, ${SECONDS} s × 2 each)`);
    const floor = avg(totals.get(names[0])!);
    for (const name of names) {
      const r = avg(totals.get(name)!);
      console.log(`  ${name.padEnd(24)} ${String(Math.round(r)).padStart(6)} req/s   ${round(r / floor, 2).toFixed(2)}× floor   ${(1000 / r).toFixed(3)} ms/req`);
    }
  } finally {
    await app.close();
    await prepared.close();
  }
}

const avg = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

if (STORES.includes('pglite')) {
  await withTempDir('switchboard-steps', async (dir) => {
    const store = await openStore({ dataDir: dir });
    try {
      await ladder('pglite', store);
    } finally {
      await store.close();
    }
  });
}
if (STORES.includes('postgres')) {
  await withFreshDatabase('sb_bench_steps', async (url) => {
    const store = await openStore({ databaseUrl: url });
    try {
      await ladder('postgres', store, url);
    } finally {
      await store.close();
    }
  });
}
