// Benchmark of the engine at hosted scale (issue 11 item 10): does a pass cost more when the
// database holds many tenants that have nothing for it? Two setups on PostgreSQL, each in a fresh
// database, in one run, doing the same busy work:
//   - "one client": one client with BENCH_BUSY groups, one agent logged in to each;
//   - "10,000 clients": BENCH_BUSY busy clients with one such group and agent each, among
//     BENCH_CLIENTS clients of BENCH_GROUPS groups in all, inserted in bulk with SQL: most with
//     nothing at all, one in ten with an agent logged in to a group but no events, one in ten
//     with an event waiting in a group nobody is logged in to (a night's backlog).
// The busy work: each busy agent, for BENCH_SECONDS, creates an event in its group (client token,
// over HTTP), waits for the offer, accepts, finishes, and pauses 20-50 ms. Then, with nothing
// happening, BENCH_PASSES passes of each kind (full: the sweep's, every group with waiting
// events; woken: a busy client's change's, that client's groups) one after the other, timed. The engine runs in this process (the app's wiring: woken by every change that
// may give it work), so its passes can be timed and their CPU counted.
//
// Figures per setup: create → offered p95 (history rows: the offer's minus the create's time,
// both from the server's clock), the pass duration under load (p50, from Distributor's onPass),
// and per idle pass the wall time and this process's CPU time (the pass's SQL runs in PostgreSQL:
// on an idle machine its wall time is mostly the server's CPU). Target: every figure of the
// 10,000-client setup within 1.5× of the one-client setup's.
//
//   npm run bench:tenants                 (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_CLIENTS=1000 BENCH_SECONDS=5 npm run bench:tenants
//
// Ends with one JSON line:
// {"oneClient":{…},"manyClients":{…},"ratios":{…},"clients","groupsPerClient"}
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { build } from '../src/app.ts';
import { mayDistribute } from '../src/db/changes.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { systemClock } from '../src/domain/clock.ts';
import { ensureAdminToken } from '../src/modules/clients/admin-token.ts';
import { Distributor } from '../src/distributor/distributor.ts';
import { round, withFreshDatabase } from './support.ts';
import { Api, expectRecord } from './sim/api.ts';
import { percentile } from './sim/audit.ts';
import { provision, type Tenant } from './sim/provision.ts';
import { newAdminToken } from './sim/servers.ts';

const env = (name: string, fallback: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);
const CLIENTS = env('BENCH_CLIENTS', 10_000);
const GROUPS = env('BENCH_GROUPS', 10);
const BUSY = env('BENCH_BUSY', 3);
const SECONDS = env('BENCH_SECONDS', 15);
const PASSES = env('BENCH_PASSES', 200);

interface Figures {
  offerP95Ms: number;
  offers: number;
  passP50Ms: number;
  passes: number;
  idleFullPassMs: number;
  idleWokenPassMs: number;
  idleFullPassCpuMs: number;
  idleWokenPassCpuMs: number;
}

/** Idle tenants in bulk: clients, their groups, some agents logged in, some backlog. */
async function addIdleTenants(store: Store, clients: number): Promise<void> {
  const started = performance.now();
  await sql`INSERT INTO clients (name, time_zone) SELECT 'Idle tenant ' || n, 'Europe/Berlin' FROM generate_series(1, ${clients}::int) n`.execute(store.db);
  await sql`INSERT INTO acd_groups (client_id, name)
    SELECT c.id, 'Queue ' || g FROM clients c CROSS JOIN generate_series(1, ${GROUPS}::int) g WHERE c.name LIKE 'Idle tenant %'`.execute(store.db);
  // One in ten: an agent logged in to the first group, nothing to do.
  await sql`WITH u AS (
      INSERT INTO users (client_id, uid) SELECT id, 'agent' FROM clients WHERE name LIKE 'Idle tenant %' AND id % 10 = 1 RETURNING id, client_id
    ), s AS (
      INSERT INTO agent_states (user_id, b_logged_in, last_state_change_at) SELECT id, true, now() FROM u
    ), m AS (
      INSERT INTO acd_group_members (group_id, user_id)
      SELECT (SELECT min(g.id) FROM acd_groups g WHERE g.client_id = u.client_id), u.id FROM u RETURNING group_id, user_id
    )
    INSERT INTO agent_group_logins (group_id, user_id, created_at) SELECT group_id, user_id, now() FROM m`.execute(store.db);
  // One in ten others: an event waiting in the second group, nobody logged in there.
  await sql`INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, subject, event_data)
    SELECT c.id, 5, 4, g.id, g.id, 'Backlog', '' FROM clients c
    JOIN acd_groups g ON g.client_id = c.id AND g.name = 'Queue 2'
    WHERE c.name LIKE 'Idle tenant %' AND c.id % 10 = 2`.execute(store.db);
  await sql`ANALYZE`.execute(store.db);
  console.log(`  ${clients} idle clients × ${GROUPS} groups inserted in ${Math.round(performance.now() - started)} ms`);
}

async function measure(label: string, url: string, idleClients: number): Promise<Figures> {
  console.log(`\n${label}`);
  const store = await openStore({ databaseUrl: url });
  const adminToken = newAdminToken();
  await ensureAdminToken(store.db, adminToken);
  const app = await build({ store });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const passMs: number[] = [];
  const engine = new Distributor(store.db, systemClock, { onPass: (durationMs) => passMs.push(durationMs) });
  const unsubscribe = store.onChange((payload) => {
    if (mayDistribute(payload)) engine.wake(payload);
  });
  try {
    if (idleClients > 0) await addIdleTenants(store, idleClients);
    const api = new Api(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    // The busy side: BUSY (group, agent) pairs, in one client or one client each.
    const tenants: Tenant[] = [];
    const perTenant = idleClients > 0 ? 1 : BUSY;
    for (let t = 0; t < BUSY / perTenant; t++) {
      tenants.push(await provision([api], adminToken, {
        name: `Busy tenant ${t}`, timeZone: 'UTC', groups: perTenant, agents: perTenant, groupsOf: (i) => [i],
      }));
    }
    engine.start();
    const offers = new Map<string, () => void>();
    const unheard = store.onChange((payload) => offers.get(payload)?.());
    const ids: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    await Promise.all(tenants.flatMap((tenant) => tenant.agents.map(async (agent, i) => {
      const offerPayload = `${tenant.clientId}:${agent.userId}:-`;
      while (performance.now() < until) {
        const offered = new Promise<void>((resolve) => offers.set(offerPayload, resolve));
        const created = await expectRecord(api.call('POST', `${tenant.base}/acd/events/create`, tenant.token, {
          AcdEventTypesID: 5, AcdGroupsID: tenant.groupIds[i], Sender: `caller${ids.length}@example.com`, Subject: 'Callback',
        }), 'create');
        ids.push(created.ID);
        await offered;
        for (const action of ['accept', 'done']) {
          await expectRecord(api.call('POST', `${tenant.base}/agents/me/events/${created.ID}/${action}`, agent.token), action);
        }
        await sleep(20 + Math.random() * 30);
      }
    })));
    unheard();
    const { rows } = await sql<{ ms: number }>`
      SELECT extract(epoch FROM (o.created_at - e.created_at)) * 1000 AS ms
      FROM acd_events e JOIN acd_event_history o ON o.event_id = e.id AND o.to_status_id = 10
      WHERE e.id = ANY(${ids}::int[])`.execute(store.db);
    const underLoad = [...passMs];
    await engine.stop();
    // Idle passes, one after the other: what every sweep (full) and every change (woken) costs.
    // A woken pass as a busy client's change makes one: it looks at that client's groups.
    const timed = async (full: boolean) => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < PASSES; i++) await engine.runPass({ full, clientIds: [tenants[0]!.clientId] });
      const used = process.cpuUsage(cpu);
      return { ms: (performance.now() - started) / PASSES, cpuMs: (used.user + used.system) / 1000 / PASSES };
    };
    await timed(true);
    const full = await timed(true);
    const woken = await timed(false);
    const figures: Figures = {
      offerP95Ms: round(percentile(rows.map((r) => Number(r.ms)), 95), 1),
      offers: rows.length,
      passP50Ms: round(percentile(underLoad, 50), 2),
      passes: underLoad.length,
      idleFullPassMs: round(full.ms, 2),
      idleWokenPassMs: round(woken.ms, 2),
      idleFullPassCpuMs: round(full.cpuMs, 3),
      idleWokenPassCpuMs: round(woken.cpuMs, 3),
    };
    console.log(`  ${figures.offers} offers, create → offered p95 ${figures.offerP95Ms} ms; ${figures.passes} passes under load, p50 ${figures.passP50Ms} ms`);
    console.log(`  idle pass: full ${figures.idleFullPassMs} ms (CPU here ${figures.idleFullPassCpuMs} ms), woken ${figures.idleWokenPassMs} ms (CPU here ${figures.idleWokenPassCpuMs} ms)`);
    return figures;
  } finally {
    unsubscribe();
    await engine.stop();
    await app.close();
    await store.close();
  }
}

console.log(`tenants: ${BUSY} busy agents for ${SECONDS} s, alone in one client vs. among ${CLIENTS} clients × ${GROUPS} groups`);
const oneClient = await withFreshDatabase('sb_bench_tenants_one', (url) => measure('one client', url, 0));
const manyClients = await withFreshDatabase('sb_bench_tenants_many', (url) => measure(`${CLIENTS} clients`, url, CLIENTS - BUSY));
const ratio = (key: keyof Figures) => round(manyClients[key] / oneClient[key], 2);
const ratios = {
  offerP95: ratio('offerP95Ms'),
  passP50: ratio('passP50Ms'),
  idleFullPass: ratio('idleFullPassMs'),
  idleWokenPass: ratio('idleWokenPassMs'),
  idleFullPassCpu: ratio('idleFullPassCpuMs'),
  idleWokenPassCpu: ratio('idleWokenPassCpuMs'),
};
console.log(`\nratios (${CLIENTS} clients / one client; target ≤ 1.5): ${JSON.stringify(ratios)}`);
console.log(JSON.stringify({ oneClient, manyClients, ratios, clients: CLIENTS, groupsPerClient: GROUPS }));
