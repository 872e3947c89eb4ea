// Benchmark of the engine's wake-up: one agent, and round after round an event is created, the
// agent's live stream brings its offer, the agent accepts and finishes it, and the next event is
// created the moment the done is answered (issue 11 item 7: in this pattern an event now and then
// waited for the backup sweep, ~2 s, because a wake heard while the engine read its timers after
// a pass was dropped). Offer latency: from sending the create to the offer message arriving on the
// agent's stream, on the script's clock. Each store gets a `switchboard serve` of its own (engine
// running; PGlite in a temporary data folder, PostgreSQL in a fresh database).
//
//   npm run bench:wakeup                  (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_ROUNDS=1000 npm run bench:wakeup
//   BENCH_ONLY=postgres npm run bench:wakeup
//   BENCH_GAP_MS=150 npm run bench:wakeup (a pause between the done and the next create)
//
// Also the engine's part alone, from each event's history (created → offered, the server's clock):
// the stream's delivery (src/modules/push/hub.ts) is not the engine's.
//
// Ends with one JSON line:
// {"pglite":{"p50","p95","p99","max","over100","engineP99","engineMax"},"postgres":{…},"rounds"}
import { setTimeout as sleep } from 'node:timers/promises';
import { round, withFreshDatabase, withTempDir } from './support.ts';
import { Api, expectRecord } from './sim/api.ts';
import { provision } from './sim/provision.ts';
import { newAdminToken, startServer, stopServer } from './sim/servers.ts';
import { SseConnection } from './sim/sse.ts';
import { percentile } from './sim/audit.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS) > 0 ? Number(process.env.BENCH_ROUNDS) : 300;
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 0);
const ONLY = process.env.BENCH_ONLY;
/** Rounds before the measured ones: first statements are planned, connections opened. */
const WARM_UP = 20;
/** An offer later than this was not woken for: the round gives up (counted in `max`). */
const GIVE_UP_MS = 10_000;

interface Figures {
  /** Create sent → offer on the agent's stream (the script's clock). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Rounds whose offer came more than 100 ms after the create was sent. */
  over100: number;
  /** The engine's part, from the event's history (the server's clock): created → offered. */
  engineP99: number;
  engineMax: number;
}

async function measure(kind: 'pglite' | 'postgres', env: Record<string, string>): Promise<Figures> {
  const adminToken = newAdminToken();
  const server = await startServer({ ...env, SWITCHBOARD_ADMIN_TOKEN: adminToken });
  const api = new Api(server.url);
  let stream: SseConnection | undefined;
  try {
    const tenant = await provision([api], adminToken, {
      name: `Bench wake-up ${kind} ${process.pid}`, timeZone: 'UTC', groups: 1, agents: 1, groupsOf: () => [0],
    });
    const [agent] = tenant.agents;
    const groupId = tenant.groupIds[0];
    // Offers by event id, as they arrive: one may arrive before its create's answer.
    const offeredAt = new Map<number, number>();
    interface Waiting { id: number; resolve(at: number): void }
    const waiting: { offer: Waiting | null } = { offer: null };
    await new Promise<void>((opened, failed) => {
      stream = new SseConnection(`${server.url}${tenant.base}/agents/me/stream`, agent!.token, undefined, {
        onOpen: opened,
        onMessage: (message) => {
          if (message.event !== 'event') return;
          const data = JSON.parse(message.data);
          if (data.ToAcdEventStatusID !== 10) return;
          const at = performance.now();
          offeredAt.set(data.AcdEventsID, at);
          if (waiting.offer?.id === data.AcdEventsID) waiting.offer?.resolve(at);
        },
        onEnd: (outcome) => failed(new Error(`stream ended: ${JSON.stringify(outcome)}`)),
      });
    });
    const latencies: number[] = [];
    const measured: number[] = [];
    for (let i = 0; i < WARM_UP + ROUNDS; i++) {
      const sent = performance.now();
      const created = await expectRecord(api.call('POST', `${tenant.base}/acd/events/create`, tenant.token, {
        AcdEventTypesID: 5, AcdGroupsID: groupId, Sender: `caller${i}@example.com`, Subject: `Wake-up ${i}`,
      }), 'create');
      const id: number = created.ID;
      const at = offeredAt.get(id) ?? await new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(performance.now()), GIVE_UP_MS);
        waiting.offer = { id, resolve: (t) => { clearTimeout(timer); resolve(t); } };
      });
      waiting.offer = null;
      offeredAt.delete(id);
      if (i >= WARM_UP) {
        latencies.push(at - sent);
        measured.push(id);
      }
      for (const action of ['accept', 'done']) {
        await expectRecord(api.call('POST', `${tenant.base}/agents/me/events/${id}/${action}`, agent!.token), action);
      }
      if (GAP_MS > 0) await sleep(GAP_MS);
    }
    // The stream adds its own delivery; the history says when the engine made each offer.
    const engine: number[] = [];
    for (const id of measured) {
      const history = (await api.call('GET', `${tenant.base}/acd/events/event/${id}/history`, tenant.token)).body.records as Record<string, any>[];
      const time = (r: Record<string, any> | undefined) => Date.parse(`${r?.dtCreated}Z`);
      engine.push(time(history.find((r) => r.ToAcdEventStatusID === 10)) - time(history.find((r) => r.FromAcdEventStatusID === null)));
    }
    const figures: Figures = {
      p50: round(percentile(latencies, 50), 1),
      p95: round(percentile(latencies, 95), 1),
      p99: round(percentile(latencies, 99), 1),
      max: round(Math.max(...latencies), 1),
      over100: latencies.filter((l) => l > 100).length,
      engineP99: round(percentile(engine, 99), 1),
      engineMax: round(Math.max(...engine), 1),
    };
    console.log(`${kind}: ${ROUNDS} rounds, offer latency p50 ${figures.p50} ms, p95 ${figures.p95} ms, p99 ${figures.p99} ms, max ${figures.max} ms; ${figures.over100} over 100 ms; the engine's part (history): p99 ${figures.engineP99} ms, max ${figures.engineMax} ms`);
    if (server.log.errors > 0) console.log(server.log.lines().join('\n'));
    return figures;
  } finally {
    stream?.close();
    await stopServer(server);
  }
}

const result: Record<string, unknown> = {};
console.log(`wake-up: create → offered → accept → done, ${ROUNDS} rounds${GAP_MS > 0 ? `, ${GAP_MS} ms between done and the next create` : ', the next create at once'}`);
if (!ONLY || ONLY === 'pglite') {
  result.pglite = await withTempDir('sb-bench-wakeup', (dir) => measure('pglite', { SWITCHBOARD_DATA_DIR: dir }));
}
if (!ONLY || ONLY === 'postgres') {
  result.postgres = await withFreshDatabase('sb_bench_wakeup', (url) => measure('postgres', { DATABASE_URL: url }));
}
result.rounds = ROUNDS;
console.log(JSON.stringify(result));
