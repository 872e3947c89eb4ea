// The web console's measurements (issue 14, Proof): how long an event created over the API takes
// to show as an offer on an agent's desk in a real browser, and 200 desks open on one instance
// without a lost update. One real server in this process (the engine running with the serve
// command's settings, listening on 127.0.0.1:0), Debian's chromium driven by playwright-core.
//
//   npm run bench:console                                          (embedded store, PGlite, in a temporary folder)
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:console
//                                                                  (PostgreSQL: a fresh database on that server, dropped after)
//   BENCH_EVENTS=100 BENCH_DESKS=200 BENCH_ROUNDS=3 npm run bench:console
//
// 1. Desk latency: one agent signed in to the console in chromium; BENCH_EVENTS events are created
//    over the API (client token) one after another, each in the agent's group so it is offered to
//    this agent. Latency: from just before the create request is sent (node) to the moment the
//    offer's list item enters the page's DOM (a MutationObserver's timestamp). Both are wall-clock
//    readings of this machine with sub-millisecond resolution (performance.timeOrigin + now() on
//    both sides); as a check that needs no shared clock, the same span is also timed in node alone
//    around page.waitForFunction (nodeWait*, which adds the CDP round trip). Between events the
//    desk accepts and finishes the offer with the requests its buttons send (session cookie and
//    CSRF token), and the next event is created once the page shows no offer and nothing in hand.
// 2. Open desks (bench/console-desks.ts): BENCH_DESKS agents signed in to the console, each live
//    stream open with its cookie; BENCH_ROUNDS rounds of one event per desk, created in a burst by
//    16 concurrent creators, so deskDelivery* (create sent → offer on the desk's stream) includes
//    the burst's queueing. Each desk's stream must bring its event's offer (10), and, after the
//    desk accepts and finishes it, the 20 and 99: updatesExpected = desks × rounds × 3.
//
// Ends with one JSON line: {"store", "eventToDeskP50Ms", "eventToDeskP95Ms", "eventToDeskMaxMs",
// "nodeWaitP50Ms", "nodeWaitP95Ms", "createAnswerP95Ms" (create sent → its answer), "onStreamP95Ms"
// (→ the offer's message in the page), "streamToRenderP95Ms" (that message → the list item, the
// page's clock alone), "engineP50Ms", "engineP95Ms", "engineMaxMs" (the engine's part
// of the desk latency: created → offered in each event's history, the server's clock), "events",
// "desks", "rounds", "updatesExpected", "updatesLost", "updatesDuplicated", "streamsDropped",
// "deskDeliveryP50Ms", "deskDeliveryP95Ms", "deskDeliveryMaxMs", "deskEngineP50Ms", "deskEngineP95Ms"
// (the engine's part of the desks' offers, as above), "rssBeforeDesksMb",
// "rssWithDesksMb" (this process: the server with its store, PGlite runs in it, and the desks'
// stream clients; chromium is closed by then), "loadAverage" (1-minute, at start and end: this
// machine is shared), "serverErrorsLogged", "seconds"}.
// Exits 1 when an update was lost or the desk latency's p95 is over 1 s.
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { chromium, type Page } from 'playwright-core';
import { build } from '../src/app.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { signedIn, Tenant, type World } from '../test/browser/harness.ts';
import { percentile } from './sim/audit.ts';
import { round, withFreshDatabase, withTempDir } from './support.ts';
import { measureDesks } from './console-desks.ts';

const setting = (name: string, fallback: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);
const EVENTS = setting('BENCH_EVENTS', 100);
const DESKS = setting('BENCH_DESKS', 200);
const ROUNDS = setting('BENCH_ROUNDS', 3);
/** Unmeasured events first: the page's first renders, the first statements' plans. */
const WARM_UP = 5;
const POSTGRES = Boolean(process.env.TEST_DATABASE_URL) || process.argv.includes('--postgres');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const started = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
/** This machine's wall clock in ms with sub-ms resolution, as the page reads it too. */
const wallNow = () => performance.timeOrigin + performance.now();

type Marks = { __offerSeen: Record<string, number>; __streamSeen: Record<string, number> };

/**
 * Records, in the page, when each offer's message arrives on the desk's EventSource (a subclass
 * that listens as well; installed before the console's script runs) and when its list item first
 * appears (aria-label "Event #ID"): the page's share of the latency, on the page's own clock.
 */
async function watchOffers(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const marks = window as unknown as Marks;
    marks.__streamSeen = {};
    const Native = window.EventSource;
    window.EventSource = class extends Native {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        this.addEventListener('event', (message: MessageEvent) => {
          const data = JSON.parse(message.data) as { AcdEventsID: number; ToAcdEventStatusID: number };
          if (data.ToAcdEventStatusID === 10) marks.__streamSeen[data.AcdEventsID] ??= performance.timeOrigin + performance.now();
        });
      }
    };
  });
  await page.reload();
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as Marks).__offerSeen = seen;
    const scan = () => {
      const now = performance.timeOrigin + performance.now();
      document.querySelectorAll('li.offer[aria-label]').forEach((li) => {
        const id = /#(\d+)$/.exec(li.getAttribute('aria-label') ?? '')?.[1];
        if (id && !(id in seen)) seen[id] = now;
      });
    };
    new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
    scan();
  });
}

async function measureDeskLatency(world: World, tenant: Tenant) {
  const group = await tenant.group({ OfferTimeoutSeconds: 120 });
  const agent = await tenant.user('agent', [group]);
  const { context, page } = await signedIn(tenant, agent.uid);
  // The session the page signed in with: the desk's requests carry its cookie and CSRF token.
  const session = await context.request.get(`${world.base}/rest/v1.0/${tenant.id}/console/session`);
  const csrf = (await session.json()).records[0].CsrfToken as string;
  const act = async (id: number, action: 'accept' | 'done') => {
    const answer = await context.request.post(`${world.base}/rest/v1.0/${tenant.id}/agents/me/events/${id}/${action}`, { data: {}, headers: { 'x-csrf-token': csrf } });
    if (!answer.ok()) throw new Error(`${action} #${id}: ${answer.status()} ${await answer.text()}`);
  };
  // Ready as an agent does it on the desk: ACD login, then the group.
  for (const path of ['/agents/me/acd/login', `/agents/me/groups/${group}/login`]) {
    const answer = await context.request.post(`${world.base}/rest/v1.0/${tenant.id}${path}`, { data: {}, headers: { 'x-csrf-token': csrf } });
    if (!answer.ok()) throw new Error(`${path}: ${answer.status()} ${await answer.text()}`);
  }
  await watchOffers(page);
  await page.getByRole('heading', { name: 'Offers' }).waitFor();
  await page.getByText('No offers.').waitFor();

  const observed: number[] = [];
  const waited: number[] = [];
  const measured: number[] = [];
  // The parts: create sent → its answer; → the offer's message in the page; that → the list item.
  const toAnswer: number[] = [];
  const toStream: number[] = [];
  const toRender: number[] = [];
  for (let i = 0; i < WARM_UP + EVENTS; i++) {
    const sent = wallNow();
    const id = await tenant.event(group, { Subject: `Desk latency ${i}` });
    const answered = wallNow();
    await page.waitForFunction((eventId) => (window as unknown as { __offerSeen: Record<string, number> }).__offerSeen[eventId] !== undefined, String(id), { timeout: 10_000 });
    const waitedFor = wallNow() - sent;
    const [streamed, appeared] = await page.evaluate((eventId) => {
      const marks = window as unknown as Marks;
      return [marks.__streamSeen[eventId], marks.__offerSeen[eventId]];
    }, String(id));
    if (i >= WARM_UP) {
      measured.push(id);
      observed.push(appeared - sent);
      toStream.push(streamed - sent);
      toRender.push(appeared - streamed);
      toAnswer.push(answered - sent);
      if (appeared - sent > 500) progress(`  slow: #${id} created ${new Date(sent).toISOString().slice(11, 23)}Z, ${Math.round(appeared - sent)} ms (create answered ${Math.round(answered - sent)}, on the stream ${Math.round(streamed - sent)}, rendered ${Math.round(appeared - streamed)} ms after)`);
      waited.push(waitedFor);
    }
    await act(id, 'accept');
    await act(id, 'done');
    await page.locator('li.offer').first().waitFor({ state: 'detached' });
    await page.getByText('Nothing in hand.').waitFor();
    if ((i + 1) % 25 === 0) progress(`desk latency: ${i + 1}/${WARM_UP + EVENTS} events (last ${Math.round(appeared - sent)} ms)`);
  }
  await context.close();
  // The engine's part, from each event's history on the server's clock (created → offered): what
  // is left of the latency is the create's answer, the stream's delivery and the page's reload.
  const engine: number[] = [];
  for (const id of measured) {
    const history = (await tenant.api('GET', `/acd/events/event/${id}/history`)).records as { FromAcdEventStatusID: number | null; ToAcdEventStatusID: number; dtCreated: string }[];
    const at = (status: number | null, to: boolean) => Date.parse(`${history.find((h) => (to ? h.ToAcdEventStatusID : h.FromAcdEventStatusID) === status)?.dtCreated}Z`);
    engine.push(at(10, true) - at(null, false));
  }
  return {
    eventToDeskP50Ms: round(percentile(observed, 50), 1),
    eventToDeskP95Ms: round(percentile(observed, 95), 1),
    eventToDeskMaxMs: round(Math.max(...observed), 1),
    nodeWaitP50Ms: round(percentile(waited, 50), 1),
    nodeWaitP95Ms: round(percentile(waited, 95), 1),
    createAnswerP95Ms: round(percentile(toAnswer, 95), 1),
    onStreamP95Ms: round(percentile(toStream, 95), 1),
    streamToRenderP95Ms: round(percentile(toRender, 95), 1),
    engineP50Ms: round(percentile(engine, 50), 1),
    engineP95Ms: round(percentile(engine, 95), 1),
    engineMaxMs: round(Math.max(...engine), 1),
  };
}

/** What the server logged at warn or above, by message: counted, not printed among the progress lines. */
const serverLog = new Map<string, number>();
const serverLogStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      let key = line.slice(0, 200);
      try {
        const entry = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string }; serialization?: { url?: string } };
        key = `${entry.level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.split('\n')[0]}` : ''}`;
      } catch {
        // Not JSON: counted by its text.
      }
      serverLog.set(key, (serverLog.get(key) ?? 0) + 1);
    }
    done();
  },
});

async function run(store: Store, kind: 'pglite' | 'postgres'): Promise<Record<string, unknown>> {
  // The serve command's settings (src/server.ts): the engine running with its default sweep.
  const app = await build({ store, distribute: true, logger: { level: 'warn', stream: serverLogStream } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const warm = fetch(`${base}/`).then((r) => r.text());
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  await warm;
  const world: World = { base, app, store, browser, close: async () => {} };
  const loadBefore = round(loadavg()[0], 2);
  progress(`${kind}: server on ${base}, chromium ${browser.version()}, load average ${loadBefore}`);
  try {
    const tenant = await Tenant.create(world);
    const desk = await measureDeskLatency(world, tenant);
    progress(`desk latency over ${EVENTS} events: p50 ${desk.eventToDeskP50Ms} ms, p95 ${desk.eventToDeskP95Ms} ms, max ${desk.eventToDeskMaxMs} ms; the engine's part p95 ${desk.engineP95Ms} ms, max ${desk.engineMaxMs} ms`);
    // The browser is done: what follows is the server's alone (and the streams' clients).
    await browser.close();
    const desks = await measureDesks(await Tenant.create(world), DESKS, ROUNDS, progress);
    const { setupSeconds, deliveryP50Ms, deliveryP95Ms, deliveryMaxMs, engineP50Ms, engineP95Ms, ...rest } = desks;
    progress(`${DESKS} desks: ${desks.updatesLost}/${desks.updatesExpected} updates lost, offer delivery p95 ${deliveryP95Ms} ms (setup ${setupSeconds} s)`);
    for (const [message, n] of serverLog) progress(`server logged x${n} ${message}`);
    return {
      store: kind, ...desk, events: EVENTS, ...rest,
      deskDeliveryP50Ms: deliveryP50Ms, deskDeliveryP95Ms: deliveryP95Ms, deskDeliveryMaxMs: deliveryMaxMs,
      deskEngineP50Ms: engineP50Ms, deskEngineP95Ms: engineP95Ms,
      loadAverage: [loadBefore, round(loadavg()[0], 2)],
      serverErrorsLogged: [...serverLog].filter(([m]) => m.startsWith('error')).reduce((n, [, c]) => n + c, 0),
      seconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    if (browser.isConnected()) await browser.close();
    await app.close();
  }
}

async function main(): Promise<Record<string, unknown>> {
  if (POSTGRES) {
    if (!process.env.DATABASE_URL && process.env.TEST_DATABASE_URL) process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
    return withFreshDatabase('sb_bench_console', async (url) => {
      const store = await openStore({ databaseUrl: url });
      try {
        return await run(store, 'postgres');
      } finally {
        await store.close();
      }
    });
  }
  return withTempDir('sb-bench-console', async (dir) => {
    const store = await openStore({ dataDir: dir });
    try {
      return await run(store, 'pglite');
    } finally {
      await store.close();
    }
  });
}

const result = await main();
console.log(JSON.stringify(result));
process.exitCode = result.updatesLost === 0 && (result.eventToDeskP95Ms as number) <= 1000 ? 0 : 1;
