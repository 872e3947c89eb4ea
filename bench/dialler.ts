// Benchmark of the dialler engine's hand-out on a big campaign: 1,000,000 contacts in one
// Progressive campaign, 10 % due now, 30 % retries coming due over the next 20 minutes (so a
// 10-minute run at 600/s does not run dry of due contacts), 30 % delays
// days ahead and 30 % in zones outside their window (eight zones in all), worked by N concurrent
// agents for BENCH_SECONDS; then the why-not-dialled answers on that campaign.
//
//   npm run bench:dialler                                   (embedded store, PGlite)
//   npm run bench:dialler -- --postgres                     (PostgreSQL: a fresh database on DATABASE_URL's
//   TEST_DATABASE_URL=postgres://… npm run bench:dialler     server, or TEST_DATABASE_URL's; default local)
//   BENCH_SECONDS=600 BENCH_AGENTS=32 BENCH_CONTACTS=1000000 npm run bench:dialler -- --postgres
//   BENCH_RATE=500 npm run bench:dialler -- --postgres   (each agent posts a result every AGENTS/RATE s
//                                                         on average: hand-outs at that rate, the wait at it)
//   npm run bench:dialler -- --postgres --autovacuum     (turns the server's autovacuum on for the run
//                                                         (ALTER SYSTEM, reloaded; reset after) where it is off)
//   npm run bench:dialler -- --cpu-priority              (this process's scheduling group ahead of the
//                                                         database's backends: support.ts withCpuPriority)
//   BENCH_POOL=4 npm run bench:dialler -- --postgres     (the store's pool of connections; default the
//                                                         server's, SWITCHBOARD_DB_POOL_SIZE's default)
//
// What is measured, in this process, on the store's own connections (no HTTP, no server), in the
// engine's shape: each agent posts their result on their own (postResult, as the result endpoint
// calls it), which hands out their next contact with it from the campaign's head (hopper.ts) when
// it can; the head is read again in the background when a result finds it old or short (as the
// result endpoint asks the engine to). An agent the result gave nothing is freed, and one batch
// at a time calls handOutToAgents for every agent freed meanwhile (as the engine's serve does:
// one transaction, the agents' locks, one probe, the candidates' locks with their do-not-call
// check, one statement for holds, counts, history rows and feed messages). The counts are folded
// every FOLD_MS as the engine does.
// handoutP95Ms is the p95, over hand-outs, of what the agent waited for the contact: with the
// result, the time choosing and locking it took inside the result's transaction (its writes ride
// on the result's one statement); from a batch, from becoming free (their result committed) to
// the contact handed to them (the batch under way, then theirs). turnaroundP95Ms: from posting
// the result to the next contact in hand, either way (the result's own time included);
// withResultShare: the share of hand-outs that came with a result. handoutsPerSec counts
// hand-outs whose result was posted, over the measured time (after a 5 s warm-up). Results: 60 %
// a no-contact cause (retry after 1-2 minutes), 25 % Done, 10 % Abort, 5 % a Delay of 1 minute,
// so the due share does not run dry over a long run.
// whyNotContactMs: p95 of contactWhyNot over 200 random contacts; whyNotCampaignMs: median of three
// campaignWhyNot over the whole campaign (the service functions behind GET …/whyNot).
// eventLoopDelayP95Ms: p95 of the interval between ticks of a 1 ms timer over the measured time
// (node:perf_hooks monitorEventLoopDelay; the 1 ms included): how long a reply waits for this process.
//
// Ends with one JSON line
// {"store","contacts","handoutP95Ms","handoutsPerSec","turnaroundP95Ms","withResultShare","whyNotContactMs","whyNotCampaignMs",…,
// "eventLoopDelayP95Ms","cpuPriority","poolSize"}.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../src/db/schema.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { POOL_DEFAULTS } from '../src/config.ts';
import { createClient } from '../src/modules/clients/service.ts';
import { createCampaign } from '../src/modules/campaigns/service.ts';
import { handOutToAgents, type HandedOut } from '../src/dialler/hand-out.ts';
import { refill } from '../src/dialler/hopper.ts';
import { FOLD_MS, HAND_OUT_BATCH } from '../src/dialler/engine.ts';
import { foldContactCounts } from '../src/dialler/sql/contact-counts.ts';
import { postResult, type ResultInput } from '../src/dialler/actions.ts';
import { campaignConfigs, forgetCampaignConfig } from '../src/dialler/sql/campaign-config.ts';
import { campaignWhyNot, contactWhyNot } from '../src/modules/dialler/why-not.ts';
import { cpuPerOperation, cpuSeconds, round, withAutovacuum, withCpuPriority, withFreshDatabase, withTempDir } from './support.ts';
import { ms, percentile, type Query } from './sim/audit.ts';
import { calendarOf, campaignCreateBody, configureCampaign, dailyWindows, insertContacts, WORLD_ZONES, zonesBy } from './dialler-support.ts';

function setting(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
}

const CONTACTS = setting('BENCH_CONTACTS', 1_000_000);
const AGENTS = setting('BENCH_AGENTS', 32);
/** PostgreSQL: the store's pool, as SWITCHBOARD_DB_POOL_SIZE sets the server's. */
const POOL_SIZE = setting('BENCH_POOL', POOL_DEFAULTS.size);
const SECONDS = setting('BENCH_SECONDS', 60);
/** Hand-outs per second the agents' results are paced at; unset: each result posted at once, as fast as it goes. */
const RATE = process.env.BENCH_RATE ? setting('BENCH_RATE', 500) : undefined;
const WARM_UP_SECONDS = 5;
const AUTOVACUUM = process.argv.includes('--autovacuum');
const CPU_PRIORITY = process.argv.includes('--cpu-priority');
const POSTGRES = process.argv.includes('--postgres') || process.env.BENCH_STORE === 'postgres' || Boolean(process.env.TEST_DATABASE_URL);
const WINDOW_FROM = '08:00';
const WINDOW_HOURS = 12;

const kyselyQuery = (db: Kysely<Database>): Query => async (text, params) => (await db.executeQuery(CompiledQuery.raw(text, params ?? []))).rows as Record<string, any>[];

interface Setup { clientId: number; campaignId: number; agentIds: number[]; contacts: number }

async function setUp(store: Store, now: number): Promise<Setup> {
  const db = store.db;
  const query = kyselyQuery(db);
  const { ClientsID: clientId } = await createClient(db, { Name: `Dialler bench ${process.pid}`, TimeZone: 'Europe/Berlin' });
  const group = await db.insertInto('acd_groups').values({ client_id: clientId, name: 'Outbound', group_type: 'Standalone' }).returning('id').executeTakeFirstOrThrow();
  await createCampaign(db, { id: clientId, timeZone: 'Europe/Berlin' }, now, campaignCreateBody('Bench campaign') as never);
  const [{ id: campaignId }] = await query('SELECT id FROM dialler_campaigns WHERE client_id = $1', [clientId]);
  const windows = dailyWindows(WINDOW_FROM, WINDOW_HOURS);
  await configureCampaign(query, campaignId, {
    mode: 'Progressive', groupId: group.id, previewSeconds: 0, windows,
    retryDelays: { Busy: 1, NoAnswer: 2, AnsweringMachine: 2, Other: 1 }, maxTries: 1000, maxTriesPerNumber: 1000, maxTriesPerDay: 1000,
  });
  forgetCampaignConfig(db, campaignId);
  // Four zones inside their window for the whole run (and an hour more), four outside it.
  const zones = zonesBy(calendarOf(windows), WORLD_ZONES, now, now + (SECONDS + 3600) * 1000);
  const open = spread(zones.open, 4);
  const closed = spread(zones.closed, 4);
  if (open.length === 0 || closed.length === 0) throw new Error(`no open or no closed zones: ${JSON.stringify(zones)}`);
  console.log(`zones inside their window: ${open.join(', ')}; outside: ${closed.join(', ')}`);
  const share = (p: number) => Math.round(CONTACTS * p);
  const started = performance.now();
  const contacts = await insertContacts(query, clientId, campaignId, [
    { count: share(0.1), zones: open, rank: 4, due: 'now' },
    { count: share(0.3), zones: open, rank: 3, due: { at: now, spreadMs: 20 * 60_000 } },
    { count: share(0.3), zones: [...open, ...closed], rank: 2, due: { at: now + 86_400_000, spreadMs: 6 * 86_400_000 } },
    { count: CONTACTS - share(0.1) - 2 * share(0.3), zones: closed, rank: 4, due: 'now' },
  ], now);
  console.log(`${contacts} contacts inserted in ${round((performance.now() - started) / 1000, 1)} s`);
  // Vacuumed as a campaign imported a while ago would be: the load starts in a steady state.
  await query('VACUUM (ANALYZE) dialler_contacts');
  const agentIds: number[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const [{ id }] = await query('INSERT INTO users (client_id, uid) VALUES ($1, $2) RETURNING id', [clientId, `agent${i + 1}`]);
    await query('INSERT INTO acd_group_members (group_id, user_id) VALUES ($1, $2)', [group.id, id]);
    await query('INSERT INTO agent_states (user_id, b_logged_in) VALUES ($1, true)', [id]);
    await query('INSERT INTO dialler_campaign_logins (campaign_id, user_id, created_at) VALUES ($1, $2, now())', [campaignId, id]);
    agentIds.push(id);
  }
  return { clientId, campaignId, agentIds, contacts };
}

/** Up to n of the zones, spread over the list (so over the globe). */
function spread(zones: string[], n: number): string[] {
  if (zones.length <= n) return zones;
  return Array.from({ length: n }, (_, i) => zones[Math.floor((i * zones.length) / n)]);
}

function resultFor(attemptId: string): ResultInput {
  const r = Math.random();
  if (r < 0.3) return { attemptId, cause: 'Busy' };
  if (r < 0.6) return { attemptId, cause: 'NoAnswer' };
  if (r < 0.85) return { attemptId, exportKey: 'DONE' };
  if (r < 0.95) return { attemptId, exportKey: 'NOTINTERESTED' };
  return { attemptId, exportKey: 'SOON' };
}

interface LoadResult {
  handOuts: number; seconds: number; latencies: number[]; empty: number; busy: number; errors: number; cpu?: { self: number; postgres: number };
  /** Hand-outs that came with the agent's result, and every hand-out's turnaround: from the result posted to the next contact in hand. */
  withResult: number; turnarounds: number[];
  /** The fewest hand-outs per second in a 10 s window of the measured time. */
  slowestWindow?: number | null;
  /** p95 of the event loop's delay over the measured time (ms): how long a reply waited for this process. */
  loopDelayP95?: number;
}

/**
 * The engine's shape: free agents wait in a queue, one batch at a time serves all of them (as the
 * engine's serve does), and each agent posts its result on its own (as the result endpoint would,
 * any number at once) and queues up again. The counts are folded every FOLD_MS, as the engine does.
 */
async function load(db: Kysely<Database>, s: Setup, postgres: boolean): Promise<LoadResult> {
  const measureFrom = performance.now() + WARM_UP_SECONDS * 1000;
  const end = measureFrom + SECONDS * 1000;
  const out: LoadResult = { handOuts: 0, seconds: SECONDS, latencies: [], empty: 0, busy: 0, errors: 0, withResult: 0, turnarounds: [] };
  // How long each agent's last result took (for the turnaround of a hand-out by the engine).
  const resultTook = new Map<number, number>();
  // Every 10 s, the hand-outs of the last 10 s: a sustained rate shows in every window.
  let reported = 0;
  const windows: number[] = [];
  const reporting = setInterval(() => {
    windows.push(Math.round((out.handOuts - reported) / 10));
    reported = out.handOuts;
    console.log(`  ${out.handOuts} hand-outs measured, ${windows.at(-1)}/s over the last 10 s`);
  }, 10_000);
  const free = [...s.agentIds];
  const waiting: (() => void)[] = [];
  // When each agent became free: their wait for the next contact runs from there.
  const freeSince = new Map(s.agentIds.map((id) => [id, performance.now()]));
  const freed = (agentId: number) => {
    freeSince.set(agentId, performance.now());
    free.push(agentId);
    waiting.shift()?.();
  };
  const resultsPosted: Promise<void>[] = [];
  // As the engine does on PostgreSQL only (app.ts: headsForResults).
  const keepHead = () => void (postgres && campaignConfigs(db, [s.campaignId]).then((configs) => refill(db, configs.get(s.campaignId)!, Date.now())));
  // With BENCH_RATE each agent's results are AGENTS / RATE s apart on average (spread), counted
  // from their previous result, not from the contact in hand: hand-outs then run at RATE whatever
  // a hand-out takes, as long as the machine keeps up (one late is posted at once, not caught up).
  const lastPost = new Map(s.agentIds.map((id) => [id, performance.now()]));
  const postFor = async (agentId: number, handed: HandedOut, measured: boolean): Promise<void> => {
    if (RATE !== undefined) {
      const at = Math.max(lastPost.get(agentId)! + ((AGENTS / RATE) * 1000) * (0.5 + Math.random()), performance.now());
      lastPost.set(agentId, at);
      await sleep(Math.max(0, at - performance.now()));
    }
    let next: HandedOut | null = null;
    let handOutMs = 0;
    const t0 = performance.now();
    try {
      const posted = await postResult(db, s.clientId, { kind: 'agent', userId: agentId }, handed.contactId, resultFor(handed.attemptId), Date.now());
      next = posted.next;
      handOutMs = posted.handOutMs ?? 0;
      // As the result endpoint asks the engine (keepHead): the campaign's head read again when old or short.
      if (posted.headOf !== null) keepHead();
      if (measured && performance.now() <= end) out.handOuts++;
    } catch (error) {
      out.errors++;
      if (out.errors <= 5) console.log(`result failed: ${(error as Error).message}`);
    }
    const t1 = performance.now();
    // The next contact came with the result: the agent was never free; the hand-out's time is what
    // choosing and locking it took inside the result's transaction, the turnaround (result posted
    // to next contact in hand) the result's own time.
    if (next !== null && t0 >= measureFrom && t1 <= end) {
      out.withResult++;
      out.latencies.push(handOutMs);
      out.turnarounds.push(t1 - t0);
    }
    if (next !== null && t1 < end) return postFor(agentId, next, t0 >= measureFrom);
    resultTook.set(agentId, t1 - t0);
    freed(agentId);
  };
  const worker = async () => {
    while (performance.now() < end) {
      // As the engine's serve: one batch at a time, of every agent freed meanwhile (up to HAND_OUT_BATCH).
      const agentIds = free.splice(0, HAND_OUT_BATCH);
      if (agentIds.length === 0) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const configs = [...(await campaignConfigs(db, [s.campaignId])).values()];
      const t0 = performance.now();
      const results = await handOutToAgents(db, agentIds.map((agentId) => ({ agentId, configs })), Date.now());
      const t1 = performance.now();
      keepHead();
      for (const [agentId, handed] of results) {
        if (handed === null || handed === 'busy') {
          if (handed === null) out.empty++;
          else out.busy++;
          setTimeout(() => freed(agentId), 20);
          continue;
        }
        // The agent waited from becoming free (for the batch under way, then for theirs).
        if (t0 >= measureFrom && t1 <= end) {
          out.latencies.push(t1 - freeSince.get(agentId)!);
          out.turnarounds.push(t1 - freeSince.get(agentId)! + (resultTook.get(agentId) ?? 0));
        }
        resultsPosted.push(postFor(agentId, handed, t0 >= measureFrom));
      }
    }
  };
  // CPU per hand-out (with its result) over the measured time: steadier than times on a busy machine.
  // On PostgreSQL only: PGlite's work is this process's, on the same thread as the timers.
  const cpu = !postgres ? Promise.resolve() : sleep(measureFrom - performance.now()).then(async () => {
    const before = await cpuSeconds(db, postgres);
    const handOutsBefore = out.handOuts;
    await sleep(end - performance.now());
    out.cpu = cpuPerOperation(before, await cpuSeconds(db, postgres), out.handOuts - handOutsBefore);
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const measuring = setTimeout(() => loopDelay.enable(), measureFrom - performance.now());
  const folding = setInterval(() => void foldContactCounts(db, Date.now()).catch((error: unknown) => console.log(`fold failed: ${(error as Error).message}`)), FOLD_MS);
  try {
    await Promise.all([worker()].concat(
      // Wakes the workers left waiting at the end.
      sleep(end - performance.now() + 50).then(() => waiting.splice(0).forEach((wake) => wake())),
    ));
    await Promise.all(resultsPosted);
    await cpu;
  } finally {
    clearInterval(folding);
    clearInterval(reporting);
    clearTimeout(measuring);
    loopDelay.disable();
  }
  out.loopDelayP95 = round(loopDelay.percentile(95) / 1e6, 1);
  // The windows wholly inside the measured time (the first starts in the warm-up).
  out.slowestWindow = windows.length > 2 ? Math.min(...windows.slice(1, -1)) : null;
  return out;
}

async function whyNot(db: Kysely<Database>, s: Setup): Promise<{ contact: number | null; campaign: number | null }> {
  const client = { id: s.clientId, timeZone: 'Europe/Berlin' };
  const { rows } = await sql<{ id: number }>`SELECT id FROM dialler_contacts WHERE campaign_id = ${s.campaignId}
    ORDER BY random() LIMIT 200`.execute(db);
  const perContact: number[] = [];
  for (const { id } of rows) {
    const t0 = performance.now();
    await contactWhyNot(db, client, id, undefined, Date.now());
    perContact.push(performance.now() - t0);
  }
  const perCampaign: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const answer = await campaignWhyNot(db, s.clientId, s.campaignId, Date.now());
    perCampaign.push(performance.now() - t0);
    if (i === 0) console.log(`why not, campaign: ${JSON.stringify(answer)}`);
  }
  console.log(`why not per contact: p50 ${ms(percentile(perContact, 50))} ms, p95 ${ms(percentile(perContact, 95))} ms (${perContact.length} contacts); ` +
    `per campaign: ${perCampaign.map((v) => ms(v)).join(', ')} ms`);
  return { contact: ms(percentile(perContact, 95)), campaign: ms(percentile(perCampaign, 50)) };
}

/** Autovacuum's runs on the campaign's busy tables during the load (PostgreSQL): proof it was on and working. */
async function autovacuumRuns(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int AS n FROM pg_stat_user_tables
    WHERE relname IN ('dialler_contacts', 'dialler_contact_history', 'push_messages', 'agent_states', 'dialler_contact_count_changes')`.execute(db);
  return rows[0]!.n;
}

async function run(store: Store, name: 'pglite' | 'postgres', cpuPriority: string | null): Promise<void> {
  const now = Date.now();
  const s = await setUp(store, now);
  const postgres = name === 'postgres';
  const autovacuum = postgres ? (await sql<{ autovacuum: string }>`SHOW autovacuum`.execute(store.db)).rows[0]!.autovacuum : null;
  const vacuumsBefore = postgres ? await autovacuumRuns(store.db) : 0;
  if (postgres) console.log(`autovacuum ${autovacuum}`);
  console.log(`${name}: ${AGENTS} agents, ${SECONDS} s measured after ${WARM_UP_SECONDS} s warm-up`);
  const r = await load(store.db, s, postgres);
  const vacuums = postgres ? (await autovacuumRuns(store.db)) - vacuumsBefore : null;
  const p = (q: number) => ms(percentile(r.latencies, q));
  const turn = (q: number) => ms(percentile(r.turnarounds, q));
  console.log(`hand-outs: ${r.handOuts} in ${r.seconds} s = ${round(r.handOuts / r.seconds, 1)}/s; hand-out p50 ${p(50)} ms, p95 ${p(95)} ms, ` +
    `p99 ${p(99)} ms, max ${p(100)} ms; ${r.withResult} with the result; turnaround p50 ${turn(50)} ms, p95 ${turn(95)} ms; ${r.empty} empty, ${r.busy} busy, ${r.errors} result errors; ` +
    `CPU per hand-out and its result: this process ${r.cpu?.self} ms, PostgreSQL backends ${r.cpu?.postgres} ms; event loop delay p95 ${r.loopDelayP95} ms`);
  const { rows: byState } = await sql<{ state: string; n: number }>`SELECT state, count(*)::int AS n FROM dialler_contacts
    WHERE campaign_id = ${s.campaignId} GROUP BY state ORDER BY state`.execute(store.db);
  console.log(`contacts by state: ${byState.map((b) => `${b.state} ${b.n}`).join(', ')}`);
  const { rows: [groups] } = await sql<{ folded: number; appended: number }>`SELECT
    (SELECT count(*)::int FROM dialler_contact_counts WHERE campaign_id = ${s.campaignId}) AS folded,
    (SELECT count(*)::int FROM dialler_contact_count_changes WHERE campaign_id = ${s.campaignId}) AS appended`.execute(store.db);
  console.log(`why-not count rows: ${groups!.folded} folded, ${groups!.appended} appended`);
  let why: { contact: number | null; campaign: number | null } = { contact: null, campaign: null };
  try {
    why = await whyNot(store.db, s);
  } catch (error) {
    console.log(`why not: not measured (${(error as Error).message})`);
  }
  console.log(JSON.stringify({
    store: name, contacts: s.contacts, ...(RATE === undefined ? {} : { paceHandoutsPerSec: RATE }), handoutP95Ms: p(95), handoutsPerSec: round(r.handOuts / r.seconds, 1),
    slowestWindowPerSec: r.slowestWindow ?? null, turnaroundP95Ms: turn(95), withResultShare: round(r.withResult / Math.max(r.latencies.length, 1), 3),
    whyNotContactMs: why.contact, whyNotCampaignMs: why.campaign, cpuMsPerHandout: r.cpu, eventLoopDelayP95Ms: r.loopDelayP95, seconds: SECONDS, cpuPriority,
    ...(postgres ? { poolSize: POOL_SIZE, autovacuum, autovacuumRunsDuringLoad: vacuums } : {}),
  }));
}

async function main(cpuPriority: string | null): Promise<void> {
  if (POSTGRES) {
    if (!process.env.DATABASE_URL && process.env.TEST_DATABASE_URL) process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
    const fresh = () => withFreshDatabase('sb_bench_dialler', async (url) => {
      const store = await openStore({ databaseUrl: url, poolSize: POOL_SIZE });
      try {
        await run(store, 'postgres', cpuPriority);
      } finally {
        await store.close();
      }
    });
    await (AUTOVACUUM ? withAutovacuum(fresh) : fresh());
  } else {
    await withTempDir('sb-bench-dialler', async (dir) => {
      const store = await openStore({ dataDir: dir });
      try {
        await run(store, 'pglite', cpuPriority);
      } finally {
        await store.close();
      }
    });
  }
}

await (CPU_PRIORITY ? withCpuPriority(main) : main(null));
