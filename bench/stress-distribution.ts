// Stress test of the distribution engine with several instances on one PostgreSQL: three
// `switchboard serve` processes, 100 simulated agents spread over them, 10,000 events created over
// HTTP, and one instance killed with SIGKILL mid-run and started again. Afterwards the database
// must show every event done, none lost, and none ever in two agents' hands.
//
//   npm run stress:distribution        (DATABASE_URL names the PostgreSQL server; default local)
//   STRESS_EVENTS=2000 npm run stress:distribution
//   BENCH_AGENT_MODE=poll npm run stress:distribution    (agents poll instead of following their stream)
//
// Agents hold their live stream open (GET /agents/me/stream, Server-Sent Events) and read their
// inbox every 2-5 s besides (BENCH_AGENT_MODE=poll: they poll it every 20-50 ms while idle
// instead), accept every offer and finish it at once; each holds at most one event (default
// capacity 1). The agents of the killed instance either move on to another instance at once or
// keep retrying theirs until it is back, and reconnect their stream there with Last-Event-ID;
// offers to the latter run out after the groups' OfferTimeoutSeconds (5 s) and go to others.
//
// Ends with one JSON line {"events","doubleAssignments","stuck","lost","offerLatencyMs"}; exits
// non-zero if any of the three counters is not 0. offerLatencyMs runs from an event's dtCreated to
// its first 4 → 10 history row, which the distributor stamps with the moment its pass started: under
// load that is a little early (even before dtCreated, when the pass began before the create and
// reached the event later). The latency the agents see (from the create's answer to the offer
// message on their stream, or to their poll showing it) is printed beside it.
//
// What counts (from the database, after the run):
//   doubleAssignments: events accepted (10 → 20) more than once, finished by two agents, or whose
//     history shows two holders at once or a transition from a status the event had already left;
//   stuck: events of the client not Done (99) at the end;
//   lost: creates acknowledged with 200 whose ID is not in the database (or never acknowledged).
import pg from 'pg';
import { round, withFreshDatabase } from './support.ts';
import {
  addStats, agentModeFromEnv, Api, auditHistory, createEvents, emptyAgentStats, ms, newAdminToken, percentile, pgQuery, provision,
  readEvents, readHistory, ServerLog, SimAgent, sleep, startServer, stopServer, type CreateResult, type ServerProcess,
} from './distribution-support.ts';

function setting(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
}

const EVENTS = setting('STRESS_EVENTS', 10_000);
const AGENTS = setting('STRESS_AGENTS', 100);
const SERVERS = 3;
const GROUPS = 4;
const OFFER_TIMEOUT_SECONDS = 5;
const CREATORS = setting('STRESS_CREATORS', 12);
/** The kill comes once this share of the creates is acknowledged. */
const KILL_AT = 0.3;
const DOWN_SECONDS = setting('STRESS_DOWN_SECONDS', 7);
/** From the first create to the last event done, at most. */
const TIMEOUT_SECONDS = setting('STRESS_TIMEOUT_SECONDS', 150);
const VICTIM = 1;
const AGENT_MODE = agentModeFromEnv();

async function main(): Promise<number> {
  const started = Date.now();
  const elapsed = () => `${round((Date.now() - started) / 1000, 1)} s`;
  const adminToken = newAdminToken();

  return withFreshDatabase('sb_stress_dist', async (url) => {
    const servers: ServerProcess[] = [];
    const apis: Api[] = [];
    const logs = Array.from({ length: SERVERS }, () => new ServerLog());
    const env = { DATABASE_URL: url, SWITCHBOARD_ADMIN_TOKEN: adminToken };
    const db = new pg.Pool({ connectionString: url, max: 2 });
    // pool.end() resolves before its sockets are closed; the database drop right after may cut
    // them, which must not crash the run.
    db.on('error', () => undefined);
    const agents: SimAgent[] = [];
    try {
      // The first instance migrates the empty database; the other two start on the migrated one.
      servers[0] = await startServer(env, { log: logs[0] });
      const rest = await Promise.all([1, 2].map((i) => startServer(env, { log: logs[i] })));
      servers.push(...rest);
      for (const s of servers) apis.push(new Api(s.url));
      console.log(`${SERVERS} instances on ${servers.map((s) => s.port).join(', ')} (${elapsed()})`);

      const tenant = await provision(apis, adminToken, {
        name: `Stress ${process.pid}`,
        timeZone: 'UTC',
        groups: GROUPS,
        agents: AGENTS,
        // Every agent works two groups, so dispatchers of different groups compete for the same agents.
        groupsOf: (i) => [i % GROUPS, (i + 1) % GROUPS],
        groupFields: { OfferTimeoutSeconds: OFFER_TIMEOUT_SECONDS },
        concurrency: 6,
      });
      console.log(`client ${tenant.clientId}: ${GROUPS} groups (offer timeout ${OFFER_TIMEOUT_SECONDS} s), ${AGENTS} agents logged in (${elapsed()}); ` +
        `agents ${AGENT_MODE === 'push' ? 'on their live stream' : 'polling'}`);

      // First sighting of each offer by an agent: on its stream (push) or in its inbox (poll).
      const offerSeenAt = new Map<number, number>();
      const seenVia = AGENT_MODE === 'push' ? 'stream' : 'poll';
      // Push mode: the moments a safety poll showed an offer before the stream had brought it.
      const pollFirstAt: number[] = [];
      for (const [i, creds] of tenant.agents.entries()) {
        const agent = new SimAgent(creds, apis, tenant.base, i % SERVERS, {
          mode: AGENT_MODE,
          idleMs: [20, 50],
          safetyPollMs: [2000, 5000],
          onTransportError: i % 2 === 0 ? 'failover' : 'wait',
          onOfferSeen: (id, at, via) => {
            if (via === seenVia && !offerSeenAt.has(id)) offerSeenAt.set(id, at);
            if (via !== seenVia && !offerSeenAt.has(id)) pollFirstAt.push(at);
          },
        });
        agents.push(agent);
        agent.start();
      }
      await Promise.all(agents.map((a) => a.ready));

      /** The first unexpected failure of a background task (sampler, kill, creators): ends the run. */
      let failure: unknown;
      // An agent must never hold two events at once (capacity 1): sampled from the table.
      let capacityViolations = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          try {
            const rows = await db.query(`SELECT agent_id FROM acd_events WHERE client_id = $1 AND status_id IN (10, 20, 30)
              GROUP BY agent_id HAVING count(*) > 1`, [tenant.clientId]);
            capacityViolations = Math.max(capacityViolations, rows.rowCount ?? 0);
          } catch (error) {
            failure ??= error;
          }
          await sleep(1000);
        }
      })();

      // The kill: once KILL_AT of the creates are acknowledged, SIGKILL one instance and start it
      // again on the same port DOWN_SECONDS later.
      let acknowledged = 0;
      let killed: Promise<void> | undefined;
      let killedAt = 0;
      let restartedAt = 0;
      const kill = async () => {
        const victim = servers[VICTIM];
        killedAt = Date.now();
        victim.child.kill('SIGKILL');
        await victim.exited;
        console.log(`SIGKILL instance ${VICTIM} (port ${victim.port}) at ${acknowledged} creates (${elapsed()})`);
        await sleep(DOWN_SECONDS * 1000);
        servers[VICTIM] = await startServer(env, { port: victim.port, log: logs[VICTIM] });
        restartedAt = Date.now();
        console.log(`instance ${VICTIM} back on port ${servers[VICTIM].port} after ${round((restartedAt - killedAt) / 1000, 1)} s (${elapsed()})`);
      };

      const loadStarted = Date.now();
      const deadline = loadStarted + TIMEOUT_SECONDS * 1000;
      let created: CreateResult | undefined;
      const creating = createEvents({
        apis,
        tenant,
        count: EVENTS,
        concurrency: CREATORS,
        body: (i) => ({
          AcdEventTypesID: 5,
          AcdGroupsID: tenant.groupIds[i % GROUPS],
          Sender: `customer${i}@example.com`,
          Subject: `Stress mail ${i}`,
          UserData: `stress-${i}`,
        }),
        server: (i) => i % SERVERS,
        onCreated: () => {
          acknowledged++;
          if (!killed && acknowledged >= EVENTS * KILL_AT) {
            killed = kill();
            killed.catch((error: unknown) => (failure ??= error));
          }
        },
      }).then((r) => {
        created = r;
        console.log(`${EVENTS} creates acknowledged in ${round(r.seconds, 1)} s: ${r.transportErrors} transport errors, ${r.httpErrors} 5xx, ${r.retries} retries (${elapsed()})`);
        return r;
      });
      creating.catch((error: unknown) => (failure ??= error));

      // Until every event of the client is done (99), or the deadline.
      let open = -1;
      let total = 0;
      let lastReport = 0;
      for (;;) {
        await sleep(500);
        if (failure) throw failure;
        const broken = agents.find((a) => a.error !== undefined);
        if (broken) throw broken.error;
        const { rows: [c] } = await db.query<{ open: number; total: number }>(
          `SELECT count(*) FILTER (WHERE status_id <> 99)::int AS open, count(*)::int AS total FROM acd_events WHERE client_id = $1`, [tenant.clientId]);
        open = c.open;
        total = c.total;
        if (Date.now() - lastReport >= 5000) {
          lastReport = Date.now();
          const done = total - open;
          console.log(`  ${String(acknowledged).padStart(5)} created, ${String(done).padStart(5)} done, ${String(open).padStart(5)} open, ` +
            `${Math.round(done / ((Date.now() - loadStarted) / 1000))} done/s (${elapsed()})`);
        }
        if (created && (!killed || restartedAt) && open === 0) break;
        if (Date.now() > deadline) {
          console.log(`timeout: ${open} events still open after ${TIMEOUT_SECONDS} s`);
          break;
        }
      }
      const loadSeconds = (Date.now() - loadStarted) / 1000;
      const createResult = created ?? (await creating);
      await killed;
      sampling = false;
      await sampler;
      await Promise.all(agents.map((a) => a.stop()));

      // The audit, from the database alone.
      const query = pgQuery(db);
      const events = await readEvents(query, tenant.clientId);
      const history = await readHistory(query, tenant.clientId);
      const audit = auditHistory(events, history);
      const stored = new Set(events.map((e) => e.id));
      const ackedIds = createResult.ids.filter((id) => id !== undefined);
      const lost = ackedIds.filter((id) => !stored.has(id)).length + (EVENTS - ackedIds.length);
      const duplicateAcks = ackedIds.length - new Set(ackedIds).size;
      const acked = new Set(ackedIds);
      const extra = events.filter((e) => !acked.has(e.id)).length;
      const stuck = events.filter((e) => e.status !== 99);
      const latencies = ackedIds.map((id) => audit.offerLatencyMs.get(id)).filter((v): v is number => v !== undefined);
      const createdMs = new Map(events.map((e) => [e.id, e.createdMs]));
      const answeredAt = new Map<number, number>();
      createResult.ids.forEach((id, i) => {
        if (id !== undefined) answeredAt.set(id, createResult.answeredAt[i]);
      });
      const seenIds = ackedIds.filter((id) => offerSeenAt.has(id) && createdMs.has(id));
      const seen = seenIds.map((id) => offerSeenAt.get(id)! - answeredAt.get(id)!);
      const seenFromCreated = seenIds.map((id) => offerSeenAt.get(id)! - createdMs.get(id)!);
      const stats = agents.reduce((sum, a) => addStats(sum, a.stats), emptyAgentStats());

      console.log('');
      console.log(`load: ${EVENTS} events in ${round(loadSeconds, 1)} s = ${round(events.length / loadSeconds, 1)} done/s over ${SERVERS} instances`);
      console.log(`instance ${VICTIM} down ${killedAt ? round(((restartedAt || Date.now()) - killedAt) / 1000, 1) : 0} s`);
      console.log(`rows: ${events.length} events stored, ${extra} not acknowledged to the script (retried creates), ${duplicateAcks} IDs acknowledged twice`);
      console.log(`agents: ${stats.polls} polls, ${stats.accepted} accepts, ${stats.acceptRefused} accepts refused (offer gone), ${stats.done} done, ` +
        `${stats.doneRefused} done refused, ${stats.httpErrors} other non-2xx, ${stats.transportErrors} transport errors, ${stats.failovers} failovers`);
      if (AGENT_MODE === 'push') {
        console.log(`streams: ${stats.streamOpens} opened, ${stats.streamDrops} dropped or refused, ${stats.streamMessages} messages, ` +
          `${stats.streamOffers} offers; ${stats.offersFoundByPoll} offers found by a safety poll before the stream brought them; ` +
          `${pollFirstAt.length} events first seen offered in a poll, ` +
          `${pollFirstAt.filter((at) => killedAt && at >= killedAt && at <= (restartedAt || Infinity) + 5000).length} of them between the kill ` +
          `and 5 s after the restart`);
      }
      console.log(`history: ${history.length} rows, ${audit.expiredOffers} offers expired (10 → 4), ${audit.rejectedOrOtherReturns} other returns to a queue`);
      console.log(`capacity: at most ${capacityViolations} agents seen holding more than one event at once (sampled each second)`);
      console.log(`offer latency (dtCreated → first 4 → 10, history): p50 ${ms(percentile(latencies, 50))} ms, p95 ${ms(percentile(latencies, 95))} ms, ` +
        `p99 ${ms(percentile(latencies, 99))} ms, max ${ms(percentile(latencies, 100))} ms (${latencies.length} events); ` +
        `${latencies.filter((v) => v < 0).length} offers stamped before the event's dtCreated`);
      console.log(`offer latency (create answered → ${AGENT_MODE === 'push' ? 'the offer message arrives on an agent\'s stream' : 'an agent\'s poll first shows it'}): ` +
        `p50 ${ms(percentile(seen, 50))} ms, p95 ${ms(percentile(seen, 95))} ms, p99 ${ms(percentile(seen, 99))} ms (${seen.length} events; ` +
        `from dtCreated p50 ${ms(percentile(seenFromCreated, 50))} ms, p95 ${ms(percentile(seenFromCreated, 95))} ms, p99 ${ms(percentile(seenFromCreated, 99))} ms)`);
      for (const [i, log] of logs.entries()) {
        for (const line of log.lines().slice(0, 12)) console.log(`instance ${i} logged ${line}`);
      }
      for (const [id, why] of [...audit.problems.entries()].slice(0, 10)) console.log(`DOUBLE ASSIGNMENT event ${id}: ${why}`);
      for (const e of stuck.slice(0, 10)) console.log(`STUCK event ${e.id} in status ${e.status}`);
      console.log(`total ${elapsed()}`);

      const summary = {
        events: ackedIds.length,
        doubleAssignments: audit.doubleAssigned.length,
        stuck: stuck.length,
        lost,
        offerLatencyMs: { p50: ms(percentile(latencies, 50)), p95: ms(percentile(latencies, 95)), p99: ms(percentile(latencies, 99)) },
      };
      console.log(JSON.stringify(summary));
      return summary.doubleAssignments === 0 && summary.stuck === 0 && summary.lost === 0 ? 0 : 1;
    } finally {
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all(servers.map((s) => stopServer(s)));
      for (const api of apis) api.close();
      await db.end();
    }
  });
}

process.exitCode = await main();
