// Benchmark of the distribution engine: how many events per second go the whole way through
// Switchboard — created, offered, accepted, done, all over HTTP with simulated agents that learn
// of their offers from their live stream — on the embedded store (PGlite) and on PostgreSQL, next
// to pg-boss moving the same number of jobs (send, fetch, complete) through the same PostgreSQL
// server. Also how soon an idle agent's offer follows a create, and how late events with an
// appointment join their queue.
//
//   npm run bench:distribution          (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_EVENTS=5000 BENCH_AGENTS=50 npm run bench:distribution
//   BENCH_ONLY=postgres npm run bench:distribution      (one part only: pglite, postgres, pgboss)
//   BENCH_ROUNDS=1 npm run bench:distribution           (the throughput phase in one round)
//   BENCH_PLAN_CACHE_MODE=force_custom_plan npm run bench:distribution   (see planCacheMode)
//   BENCH_HISTORY_EVENTS=200000 BENCH_ONLY=postgres npm run bench:distribution (a client with a past)
//   BENCH_AGENT_MODE=poll npm run bench:distribution    (agents poll their inbox instead of the stream)
//
// Agents (bench/distribution-support.ts, SimAgent): by default each holds its live stream open
// (GET /agents/me/stream, Server-Sent Events), accepts and finishes every offer the stream brings,
// and reads its inbox every 2-5 s besides as a safety net; BENCH_AGENT_MODE=poll makes them poll
// their inbox every 20-50 ms while idle instead (as a browser without push would).
//
// Each store gets a `switchboard serve` process of its own (engine running; PGlite in a temporary
// data folder, PostgreSQL in a fresh database) and the same work, in this order:
//   1. (PostgreSQL) 20 events with an appointment at the next whole minute at least 8 s away:
//      appointments have minute resolution (`hh:mm`), so the run waits for that minute (38 s on
//      average, at most 68 s), doing 2 and 3 meanwhile, and goes on with 4 only after it, so that
//      the release is measured on a lightly loaded server. The client's time zone is UTC so the
//      script can name the minute directly.
//   2. warm-up: 200 events through the agents.
//   3. offer latency with idle agents: 100 events created one at a time, 100 ms apart.
//   4. throughput: N events in BENCH_ROUNDS rounds (default 4); in each, N/rounds events are
//      created by 8 concurrent callers as fast as they are answered while the agents work them
//      off; assignments/s = N / the sum of the rounds' (first create sent → last done answered).
// pg-boss gets a fresh database on the same server, started and warmed up before ours, and the
// same N jobs in as many rounds, run between ours in ABBA order (theirs first in rounds 1 and 4,
// ours first in 2 and 3), so that both meet the same machine: on a shared machine whose speed
// drifts over minutes, running one after the other moved the ratio by ±15 %. In each round the
// jobs are sent by 8 concurrent callers and taken by as many workers as there are agents, each
// fetching one job at a time, completing it, and polling every 20-50 ms when it finds none (like
// the agents in poll mode); the workers run only during pg-boss's rounds. pg-boss's plain send /
// fetch / complete API, with its defaults (pool of 10 connections like Switchboard's).
//
// Offer latency is measured three ways. From the event's dtCreated (taken by the server as the
// create request is handled): the history's 4 → 10 timestamp (the start of the pass that made the
// offer, so slightly early), and the moment a LISTENing observer first reads the event as offered
// after the commit's notification (PostgreSQL only: what the JSON line reports). And as the agents
// see it, on the script's clock: from the moment the create's 200 answer arrived to the moment the
// offer message arrived on the agent's stream (poll mode: the agent's poll first showed it, late by
// up to one poll interval); printed also from dtCreated, for comparison. Appointment lateness:
// history 1 → 4 timestamp and observed commit, minus the appointment; the JSON line has the latter.
//
// Ends with one JSON line:
// {"pglite":{"assignmentsPerSec"},"postgres":{"assignmentsPerSec","pgBossPerSec","ratio"},"offerLatencyMsP95","appointmentLatenessMsMax"}
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { openStore } from '../src/db/store.ts';
import { round, withFreshDatabase, withTempDir } from './support.ts';
import { PgBossBench } from './sim/pgboss.ts';
import { setPlanCacheMode } from './sim/plan-cache.ts';
import {
  addStats, agentModeFromEnv, Api, auditHistory, CommitWatcher, createEvents, emptyAgentStats, ms, newAdminToken, percentile, pgQuery, provision,
  readEvents, readHistory, SimAgent, sleep, startServer, stopServer, type Query, type ServerProcess, type Tenant,
} from './distribution-support.ts';

function setting(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
}

const EVENTS = setting('BENCH_EVENTS', 3000);
const AGENTS = setting('BENCH_AGENTS', 30);
const CREATORS = setting('BENCH_CREATORS', 8);
const WARMUP = 200;
const LATENCY_EVENTS = 100;
const LATENCY_GAP_MS = 100;
const APPOINTMENTS = 20;
const APPOINTMENT_LEAD_MS = 8000;
const IDLE_MS: [number, number] = [20, 50];
const SAFETY_POLL_MS: [number, number] = [2000, 5000];
const AGENT_MODE = agentModeFromEnv();
const PHASE_TIMEOUT_MS = 600_000;
/** PostgreSQL only: finished events the client already has before the run (its history). */
const HISTORY_EVENTS = Number(process.env.BENCH_HISTORY_EVENTS ?? 0);
const TARGET = { ratio: 1.0, p95Ms: 100, latenessMs: 1000 };
/** The throughput phase's rounds; on PostgreSQL pg-boss's rounds alternate with ours. */
const ROUNDS = setting('BENCH_ROUNDS', 4);
const roundSize = (r: number) => Math.floor((EVENTS * (r + 1)) / ROUNDS) - Math.floor((EVENTS * r) / ROUNDS);

interface StoreFigures {
  assignmentsPerSec: number;
  seconds: number;
  offerLatency: {
    historyP95: number; observedP95: number | null; historyP50: number; observedP50: number | null;
    /** The agents': from the create's answer (script clock); and from dtCreated. */
    agentP50: number; agentP95: number; agentFromCreatedP50: number; agentFromCreatedP95: number; agentN: number;
  };
  lateness: { historyMax: number; observedMax: number | null; n: number } | null;
  doubleAssignments: number;
  notDone: number;
  agentErrors: string;
  agentActivity: string;
  serverLog: string[];
}

function mailBody(i: number, prefix: string) {
  return (groupId: number) => ({
    AcdEventTypesID: 5,
    AcdGroupsID: groupId,
    Sender: `customer${i}@example.com`,
    Subject: `${prefix} mail ${i}`,
    Body: 'Customer asks about the renewal of contract 4711-0815 before Friday.',
    UserData: `${prefix}-${i}`,
  });
}

/** Resolves when every id has been answered done by an agent; returns the moment of the last one. */
async function allDone(ids: number[], doneAt: Map<number, number>, what: string): Promise<number> {
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    let last = 0;
    let missing = 0;
    for (const id of ids) {
      const at = doneAt.get(id);
      if (at === undefined) missing++;
      else if (at > last) last = at;
    }
    if (missing === 0) return last;
    if (Date.now() > deadline) throw new Error(`${what}: ${missing} of ${ids.length} events not done after ${PHASE_TIMEOUT_MS / 1000} s`);
    await sleep(5);
  }
}

function utcParts(atMs: number): { date: string; time: string } {
  const iso = new Date(atMs).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}

/** BENCH_HISTORY_EVENTS: the client's past, finished events (99), written straight into the table. */
async function fillHistory(url: string, tenant: Tenant, groupId: number): Promise<void> {
  const started = Date.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, sender, subject, body, user_data, event_data,
        priority, received_at, created_at, modified_at, last_modified_at)
      SELECT $1, 5, 99, $2, $2, 'customer' || i || '@example.com', 'Old mail ' || i, 'Handled long ago.', 'old-' || i, '<eventData/>',
        50, t, t, t, t
      FROM generate_series(1, $3::int) AS i, LATERAL (SELECT now() - interval '30 days' + i * interval '1 second') AS s(t)`,
    [tenant.clientId, groupId, HISTORY_EVENTS]);
    await client.query('ANALYZE acd_events');
  } finally {
    await client.end();
  }
  console.log(`  ${HISTORY_EVENTS} finished events of the client's past written in ${round((Date.now() - started) / 1000, 1)} s`);
}

async function benchSwitchboard(
  kind: 'pglite' | 'postgres', env: Record<string, string>, openQuery: () => Promise<{ query: Query; close(): Promise<void> }>,
  databaseUrl?: string, alongside?: (round: number) => Promise<void>,
): Promise<StoreFigures> {
  const how = AGENT_MODE === 'push'
    ? `on their live stream (inbox read every ${SAFETY_POLL_MS[0] / 1000}-${SAFETY_POLL_MS[1] / 1000} s besides)`
    : `polling every ${IDLE_MS[0]}-${IDLE_MS[1]} ms when idle`;
  console.log(`\n${kind}: ${AGENTS} agents ${how}, ${CREATORS} creators, ${EVENTS} events`);
  const started = Date.now();
  const adminToken = newAdminToken();
  let server: ServerProcess | undefined = await startServer({ ...env, SWITCHBOARD_ADMIN_TOKEN: adminToken });
  const api = new Api(server.url);
  const agents: SimAgent[] = [];
  let watcher: CommitWatcher | undefined;
  try {
    const tenant: Tenant = await provision([api], adminToken, {
      name: `Bench distribution ${kind} ${process.pid}`, timeZone: 'UTC', groups: 1, agents: AGENTS, groupsOf: () => [0],
    });
    const groupId = tenant.groupIds[0];
    if (databaseUrl && HISTORY_EVENTS > 0) await fillHistory(databaseUrl, tenant, groupId);
    const doneAt = new Map<number, number>();
    // First sighting of each offer by an agent: on its stream (push) or in its inbox (poll).
    const offerSeenAt = new Map<number, number>();
    const seenVia = AGENT_MODE === 'push' ? 'stream' : 'poll';
    for (const [i, creds] of tenant.agents.entries()) {
      const agent = new SimAgent(creds, [api], tenant.base, i, {
        mode: AGENT_MODE,
        idleMs: IDLE_MS,
        safetyPollMs: SAFETY_POLL_MS,
        onTransportError: 'wait',
        onDone: (id) => doneAt.set(id, Date.now()),
        onOfferSeen: (id, at, via) => {
          if (via === seenVia && !offerSeenAt.has(id)) offerSeenAt.set(id, at);
        },
      });
      agents.push(agent);
      agent.start();
    }
    await Promise.all(agents.map((a) => a.ready));
    if (databaseUrl) watcher = await CommitWatcher.start(databaseUrl);
    console.log(`  server and ${AGENTS} agents ready in ${round((Date.now() - started) / 1000, 1)} s`);

    // 1. Appointments at the next whole minute far enough ahead (PostgreSQL only).
    let appointmentIds: number[] = [];
    let appointmentAt = 0;
    if (kind === 'postgres') {
      appointmentAt = Math.ceil((Date.now() + APPOINTMENT_LEAD_MS) / 60_000) * 60_000;
      const { date, time } = utcParts(appointmentAt);
      const made = await createEvents({
        apis: [api], tenant, count: APPOINTMENTS, concurrency: 4,
        body: (i) => ({ ...mailBody(i, 'appointment')(groupId), dtAppointmentDate: date, dtAppointmentTime: time }),
      });
      appointmentIds = made.ids;
      for (const id of appointmentIds) watcher?.watch(id, 4);
      console.log(`  ${APPOINTMENTS} events with appointment ${date} ${time} UTC (in ${round((appointmentAt - Date.now()) / 1000, 1)} s)`);
    }

    // 2. Warm-up.
    const warm = await createEvents({ apis: [api], tenant, count: WARMUP, concurrency: CREATORS, body: (i) => mailBody(i, 'warmup')(groupId) });
    await allDone(warm.ids, doneAt, 'warm-up');
    console.log(`  warm-up: ${WARMUP} events done`);

    // 3. Offer latency with idle agents: one create at a time.
    const latency = await createEvents({
      apis: [api], tenant, count: LATENCY_EVENTS, concurrency: 1, gapMs: LATENCY_GAP_MS,
      body: (i) => mailBody(i, 'latency')(groupId),
      onCreated: (_i, id) => watcher?.watch(id, 10),
    });
    await allDone(latency.ids, doneAt, 'latency');
    console.log(`  latency: ${LATENCY_EVENTS} events, ${LATENCY_GAP_MS} ms apart, done`);

    if (kind === 'postgres') {
      const wait = appointmentAt + 3000 - Date.now();
      if (wait > 0) {
        console.log(`  waiting ${round(wait / 1000, 1)} s for the appointments`);
        await sleep(wait);
      }
      await allDone(appointmentIds, doneAt, 'appointments');
    }

    // The observer has seen what it was there for (latency, appointments); during the throughput
    // phase it would only be one more LISTENing session for every notification to reach.
    const observedAt = watcher?.seenAt;
    await watcher?.stop();
    watcher = undefined;

    // 4. Throughput, in rounds; `alongside` runs the comparison's rounds in between (see main).
    let seconds = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const count = roundSize(r);
      const ours = async () => {
        const t0 = Date.now();
        const load = await createEvents({
          apis: [api], tenant, count, concurrency: CREATORS, body: (i) => mailBody(r * EVENTS + i, 'load')(groupId),
        });
        const createdBy = Date.now();
        const t1 = await allDone(load.ids, doneAt, 'throughput');
        seconds += (t1 - t0) / 1000;
        console.log(`  round ${r + 1}: ${count} events created in ${round((createdBy - t0) / 1000, 1)} s, all done after ` +
          `${round((t1 - t0) / 1000, 2)} s = ${round(count / ((t1 - t0) / 1000), 1)} assignments/s`);
      };
      // ABBA: the comparison goes first in rounds 1 and 4, second in 2 and 3, so a machine that
      // speeds up or slows down during the run favours neither.
      const theirsFirst = r % 4 === 0 || r % 4 === 3;
      // Our idle agents hold their safety polls while the comparison runs (their streams stay open).
      const theirs = async () => {
        for (const a of agents) a.holdSafetyPolls(true);
        try {
          await alongside!(r);
        } finally {
          for (const a of agents) a.holdSafetyPolls(false);
        }
      };
      if (alongside && theirsFirst) await theirs();
      await ours();
      if (alongside && !theirsFirst) await theirs();
    }
    const perSec = EVENTS / seconds;
    console.log(`  throughput: ${EVENTS} events in ${ROUNDS} rounds, ${round(seconds, 2)} s in all = ${round(perSec, 1)} assignments/s`);

    await Promise.all(agents.map((a) => a.stop()));
    const stats = agents.reduce((sum, a) => addStats(sum, a.stats), emptyAgentStats());
    const broken = agents.filter((a) => a.error !== undefined).map((a) => String(a.error));
    // PGlite belongs to one process: stop the server before reading its data folder.
    const serverLog = server.log.lines();
    if (kind === 'pglite') {
      await stopServer(server);
      server = undefined;
    }
    const { query, close } = await openQuery();
    let events, history;
    try {
      events = await readEvents(query, tenant.clientId);
      history = await readHistory(query, tenant.clientId);
    } finally {
      await close();
    }
    const audit = auditHistory(events, history);
    const createdMs = new Map(events.map((e) => [e.id, e.createdMs]));
    const since = (at: Map<number, number> | undefined, ids: number[], from: (id: number) => number) =>
      at ? ids.filter((id) => at.has(id)).map((id) => at.get(id)! - from(id)) : [];

    const historyLat = since(audit.offerLatencyMs, latency.ids, () => 0);
    const answeredAt = new Map(latency.ids.map((id, i) => [id, latency.answeredAt[i]]));
    const agentLat = since(offerSeenAt, latency.ids, (id) => answeredAt.get(id)!);
    const agentFromCreated = since(offerSeenAt, latency.ids, (id) => createdMs.get(id)!);
    const observedLat = since(observedAt, latency.ids, (id) => createdMs.get(id)!);
    const historyLate = since(audit.releaseLatenessMs, appointmentIds, () => 0);
    const observedLate = since(observedAt, appointmentIds, () => appointmentAt);
    const missed = observedAt ? latency.ids.length - observedLat.length + appointmentIds.length - observedLate.length : 0;
    if (missed > 0) console.log(`  observer missed ${missed} events (their figures come from the history alone)`);
    return {
      assignmentsPerSec: round(perSec, 1),
      seconds: round(seconds, 2),
      offerLatency: {
        historyP50: ms(percentile(historyLat, 50)), historyP95: ms(percentile(historyLat, 95)),
        agentP50: ms(percentile(agentLat, 50)), agentP95: ms(percentile(agentLat, 95)), agentN: agentLat.length,
        agentFromCreatedP50: ms(percentile(agentFromCreated, 50)), agentFromCreatedP95: ms(percentile(agentFromCreated, 95)),
        observedP50: observedAt ? ms(percentile(observedLat, 50)) : null, observedP95: observedAt ? ms(percentile(observedLat, 95)) : null,
      },
      lateness: appointmentIds.length === 0 ? null : {
        n: appointmentIds.length,
        historyMax: ms(Math.max(...historyLate)),
        observedMax: observedAt ? ms(Math.max(...observedLate)) : null,
      },
      doubleAssignments: audit.doubleAssigned.length,
      notDone: events.filter((e) => e.status !== 99).length,
      agentErrors: `${stats.acceptRefused} accepts refused, ${stats.doneRefused} done refused, ${stats.httpErrors} other non-2xx, ` +
        `${stats.transportErrors} transport errors${broken.length ? `, agents failed: ${broken.join('; ')}` : ''}`,
      agentActivity: `${stats.polls} inbox reads, ${stats.accepted} accepts, ${stats.done} done` + (AGENT_MODE === 'push'
        ? `; streams: ${stats.streamOpens} opened, ${stats.streamDrops} dropped, ${stats.streamMessages} messages, ${stats.streamOffers} offers; ` +
          `${stats.offersFoundByPoll} offers found by a safety poll before the stream brought them`
        : ''),
      serverLog,
    };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await watcher?.stop();
    if (server) await stopServer(server);
    api.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  // BENCH_ONLY=postgres (or pglite, pgboss, comma-separated): run only those parts, to look at one
  // closely; the parts left out are null in the JSON line.
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const runs = (part: string) => !only || only.includes(part);

  const openPGlite = async (dir: string) => {
    const store = await openStore({ dataDir: dir });
    const query: Query = async (text, params) => (await store.db.executeQuery(CompiledQuery.raw(text, params ?? []))).rows as Record<string, any>[];
    return { query, close: () => store.close() };
  };
  const openPostgres = async (url: string) => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // pool.end() resolves before its sockets are closed; the database drop may cut them.
    pool.on('error', () => undefined);
    return { query: pgQuery(pool), close: () => pool.end() };
  };
  const withPlanCacheMode = async (kind: 'pglite' | 'postgres', open: () => Promise<{ query: Query; close(): Promise<void> }>) => {
    if (!process.env.BENCH_PLAN_CACHE_MODE) return;
    const { query, close } = await open();
    try {
      await setPlanCacheMode(query, kind);
    } finally {
      await close();
    }
  };

  const pglite = !runs('pglite') ? null : await withTempDir('switchboard-bench-dist', async (dir) => {
    await withPlanCacheMode('pglite', () => openPGlite(dir));
    return benchSwitchboard('pglite', { SWITCHBOARD_DATA_DIR: dir }, () => openPGlite(dir));
  });

  // pg-boss, on a database of its own on the same server, runs its rounds between ours (ABBA).
  const pgBoss = !runs('pgboss') ? null : await withFreshDatabase('sb_bench_pgboss', async (bossUrl) => {
    const boss = new PgBossBench(bossUrl, {
      workers: AGENTS, senders: CREATORS, idleMs: IDLE_MS, warmup: WARMUP, timeoutMs: PHASE_TIMEOUT_MS, data: (i) => mailBody(i, 'job')(1),
    });
    await boss.start();
    try {
      let ours: StoreFigures | null = null;
      if (runs('postgres')) {
        ours = await withFreshDatabase('sb_bench_dist', async (url) => {
          await withPlanCacheMode('postgres', () => openPostgres(url));
          return benchSwitchboard('postgres', { DATABASE_URL: url }, () => openPostgres(url), url, (r) => boss.round(r, roundSize(r)));
        });
      } else {
        for (let r = 0; r < ROUNDS; r++) await boss.round(r, roundSize(r));
      }
      return { postgres: ours, perSec: boss.jobs / boss.seconds };
    } finally {
      await boss.stop();
    }
  });
  const postgres = pgBoss ? pgBoss.postgres : !runs('postgres') ? null : await withFreshDatabase('sb_bench_dist', async (url) => {
    await withPlanCacheMode('postgres', () => openPostgres(url));
    return benchSwitchboard('postgres', { DATABASE_URL: url }, () => openPostgres(url), url);
  });

  console.log('');
  for (const [kind, f] of Object.entries({ pglite, postgres })) {
    if (!f) continue;
    const l = f.offerLatency;
    console.log(`${kind}: ${f.assignmentsPerSec} assignments/s (${EVENTS} in ${f.seconds} s); ${f.doubleAssignments} double assignments, ${f.notDone} events not done`);
    console.log(`${kind}: offer latency with idle agents p50/p95: history ${l.historyP50}/${l.historyP95} ms, ` +
      `${l.observedP95 === null ? '' : `observed commit ${l.observedP50}/${l.observedP95} ms, `}` +
      `agents' ${AGENT_MODE === 'push' ? 'streams' : 'polls'} ${l.agentP50}/${l.agentP95} ms after the create's answer ` +
      `(${l.agentFromCreatedP50}/${l.agentFromCreatedP95} ms after dtCreated; ${l.agentN} of ${LATENCY_EVENTS} offers)`);
    if (f.lateness) console.log(`${kind}: appointment lateness (${f.lateness.n} events) max: history ${f.lateness.historyMax} ms, observed commit ${f.lateness.observedMax} ms`);
    console.log(`${kind}: agents saw ${f.agentErrors}`);
    console.log(`${kind}: agents did ${f.agentActivity}`);
    for (const line of f.serverLog.slice(0, 12)) console.log(`${kind}: server logged ${line}`);
  }
  const pgBossPerSec = pgBoss ? round(pgBoss.perSec, 1) : null;
  const ratio = postgres && pgBoss ? round(postgres.assignmentsPerSec / pgBoss.perSec, 3) : null;
  const offerLatencyMsP95 = postgres ? postgres.offerLatency.observedP95 ?? postgres.offerLatency.historyP95 : null;
  const appointmentLatenessMsMax = postgres?.lateness?.observedMax ?? postgres?.lateness?.historyMax ?? null;
  const verdict = (ok: boolean) => (ok ? 'meets' : 'MISSES');
  if (ratio !== null) console.log(`postgres vs pg-boss: ${postgres!.assignmentsPerSec} / ${pgBossPerSec} = ${ratio} (${verdict(ratio >= TARGET.ratio)} the ${TARGET.ratio} target)`);
  if (offerLatencyMsP95 !== null) {
    console.log(`offer latency p95 ${offerLatencyMsP95} ms (${verdict(offerLatencyMsP95 <= TARGET.p95Ms)} the ${TARGET.p95Ms} ms target); ` +
      `appointment lateness max ${appointmentLatenessMsMax} ms (${verdict(appointmentLatenessMsMax !== null && appointmentLatenessMsMax <= TARGET.latenessMs)} the ${TARGET.latenessMs} ms target)`);
  }
  console.log(`total ${round((Date.now() - started) / 1000, 1)} s`);
  console.log(JSON.stringify({
    pglite: pglite && { assignmentsPerSec: pglite.assignmentsPerSec },
    postgres: postgres && { assignmentsPerSec: postgres.assignmentsPerSec, pgBossPerSec, ratio },
    offerLatencyMsP95,
    appointmentLatenessMsMax,
  }));
}

await main();
