// Stress test of the dialler engine with several instances on one PostgreSQL: three `switchboard
// serve` processes (each runs the engine), 100 agents in a Preview campaign (1 s preview) and one
// external dialler on an External campaign, 100,000 contacts in eight zones, one instance killed
// with SIGKILL mid-run and started again. Afterwards the database must show no contact ever in
// two hands, no hand-out outside the contact's window, and nothing lost.
//
//   npm run stress:dialler                 (DATABASE_URL names the PostgreSQL server; default local)
//   STRESS_SECONDS=60 npm run stress:dialler          (load time; default 90)
//   STRESS_HANDOUTS=5000 npm run stress:dialler       (or stop once the agents had this many hand-outs)
//   STRESS_AGENTS=50 STRESS_CONTACTS=20000 STRESS_PREVIEW_SECONDS=2 npm run stress:dialler
//
// Agents (bench/dialler-support.ts, DiallerAgent) follow their live stream and poll besides; they
// start the call and post a result (no-contact causes, Done/Abort codes, Delays of a minute, some
// bound to the agent), or skip, release, or let the preview run out. The external dialler claims
// 20 contacts under a 10 s lease, reports results for them, and now and then renews a lease,
// gives one back half worked, or lets one run out. Retry delays are a minute, so retries come
// back within the run.
//
// Calling times: 12 h a day, closing in Europe/Berlin at the middle of the run, so Berlin's
// contacts stop being handed out then and Auckland's start; four zones are open all run and two
// closed all run.
//
// Ends with one JSON line
// {"contacts","doubleHandouts","outsideWindow","lost","handoutLatencyMs":{"p50","p95","p99"}};
// exits non-zero if any counter is not 0. What counts (from the database, after the agents logged
// out and the leases ran out):
//   doubleHandouts: a HandedOut while the contact's previous attempt had no Result, Released,
//     Skipped or LeaseExpired yet;
//   outsideWindow: HandedOut rows whose moment is outside the contact's window in its zone (isOpenAt);
//   lost: contacts still InProgress, plus the difference between the contacts inserted and stored.
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { round, withFreshDatabase } from './support.ts';
import { Api, expectRecord, TransportError } from './sim/api.ts';
import { ms, percentile, pgQuery, type Query } from './sim/audit.ts';
import { provision } from './sim/provision.ts';
import { newAdminToken, ServerLog, startServer, stopServer, type ServerProcess } from './sim/servers.ts';
import {
  addLatencies, auditContactHistory, calendarOf, campaignCreateBody, configureCampaign, DiallerAgent, emptyDiallerStats, insertContacts,
  setWindows, windowsClosingAt, zonesBy, type Window,
} from './dialler-support.ts';

function setting(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return process.env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
}

const SECONDS = setting('STRESS_SECONDS', 90);
const TARGET_HANDOUTS = setting('STRESS_HANDOUTS', Infinity);
const CONTACTS = setting('STRESS_CONTACTS', 100_000);
const AGENTS = setting('STRESS_AGENTS', 100);
const PREVIEW_SECONDS = setting('STRESS_PREVIEW_SECONDS', 1);
const SERVERS = 3;
const VICTIM = 1;
const KILL_AT = 0.4;
const DOWN_SECONDS = 5;
const LEASE_SECONDS = 10;
const EDGE_ZONE = 'Europe/Berlin';
const ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Tokyo', 'Pacific/Auckland'];
const RETRIES = { Busy: 1, NoAnswer: 1, AnsweringMachine: 2, Other: 1 };

/** The external dialler: claims, reports, renews, gives back, and now and then forgets a lease. */
class ExternalDialler {
  readonly stats = { claims: 0, contacts: 0, results: 0, renewed: 0, releasedLeases: 0, expiredLeases: 0, transportErrors: 0, httpErrors: 0 };
  #stopping = false;
  #running: Promise<void> | null = null;
  error: unknown;
  readonly apis: Api[];
  readonly base: string;
  readonly token: string;
  readonly campaignId: number;
  constructor(apis: Api[], base: string, token: string, campaignId: number) {
    this.apis = apis;
    this.base = base;
    this.token = token;
    this.campaignId = campaignId;
  }

  start(): void {
    this.#running = this.#run().catch((error: unknown) => {
      this.error = error;
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
  }

  async #call(method: string, path: string, body?: unknown) {
    for (let i = 0; ; i++) {
      try {
        const r = await this.apis[i % this.apis.length].call(method, `${this.base}${path}`, this.token, body);
        if (r.status !== 200) this.stats.httpErrors++;
        if (r.status < 500 || i > 50) return r;
      } catch (error) {
        if (!(error instanceof TransportError) || i > 50) throw error;
        this.stats.transportErrors++;
      }
      await sleep(200);
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const lease = await expectRecord(this.#call('POST', `/dialler/campaigns/campaign/${this.campaignId}/leases`, { Count: 20, LeaseSeconds: LEASE_SECONDS }), 'claim');
      this.stats.claims++;
      const contacts = lease.Contacts as { DiallerContactsID: number; AttemptID: string }[];
      this.stats.contacts += contacts.length;
      if (contacts.length === 0) {
        await sleep(500);
        continue;
      }
      const r = Math.random();
      if (r < 0.1) {
        this.stats.expiredLeases++;
      } else {
        const half = r < 0.15;
        const report = half ? contacts.slice(0, contacts.length >> 1) : contacts;
        if (Math.random() < 0.1) {
          await this.#call('POST', `/dialler/leases/${lease.LeaseID}/renew`, { LeaseSeconds: LEASE_SECONDS });
          this.stats.renewed++;
        }
        for (const c of report) {
          const x = Math.random();
          const result = x < 0.5 ? { SystemCause: x < 0.25 ? 'Busy' : 'NoAnswer' } : x < 0.75 ? { ResultCodesExportKey: 'DONE' }
            : x < 0.9 ? { ResultCodesExportKey: 'NOTINTERESTED' } : { ResultCodesExportKey: 'SOON' };
          const posted = await this.#call('POST', `/dialler/contacts/${c.DiallerContactsID}/result`, { AttemptID: String(c.AttemptID), ...result });
          if (posted.status === 200) this.stats.results++;
        }
        if (half) {
          await this.#call('POST', `/dialler/leases/${lease.LeaseID}/release`);
          this.stats.releasedLeases++;
        }
      }
      await sleep(100);
    }
  }
}

async function calendarsOf(query: Query, ids: number[]) {
  const out = new Map<number, ReturnType<typeof calendarOf>>();
  for (const id of ids) {
    const rows = await query(`SELECT weekday, to_char(time_from, 'HH24:MI') AS "from", CASE WHEN time_to = '24:00' THEN '24:00' ELSE to_char(time_to, 'HH24:MI') END AS "to"
      FROM dialler_time_windows WHERE campaign_id = $1`, [id]);
    out.set(id, calendarOf(rows as Window[]));
  }
  return out;
}

async function main(): Promise<number> {
  const started = Date.now();
  const elapsed = () => `${round((Date.now() - started) / 1000, 1)} s`;
  const adminToken = newAdminToken();
  return withFreshDatabase('sb_stress_dialler', async (url) => {
    const servers: ServerProcess[] = [];
    const apis: Api[] = [];
    const logs = Array.from({ length: SERVERS }, () => new ServerLog());
    const env = { DATABASE_URL: url, SWITCHBOARD_ADMIN_TOKEN: adminToken };
    const db = new pg.Pool({ connectionString: url, max: 2 });
    db.on('error', () => undefined);
    const query = pgQuery(db);
    const agents: DiallerAgent[] = [];
    try {
      servers[0] = await startServer(env, { log: logs[0] });
      servers.push(...(await Promise.all([1, 2].map((i) => startServer(env, { log: logs[i] })))));
      for (const s of servers) apis.push(new Api(s.url));
      console.log(`${SERVERS} instances on ${servers.map((s) => s.port).join(', ')} (${elapsed()})`);
      const tenant = await provision(apis, adminToken, {
        name: `Dialler stress ${process.pid}`, timeZone: 'Europe/Berlin', groups: 1, agents: AGENTS, groupsOf: () => [0], concurrency: 6,
      });
      const create = (name: string) => expectRecord(apis[0].call('POST', `${tenant.base}/dialler/campaigns/create`, tenant.token, campaignCreateBody(name)), 'create campaign');
      const preview = (await create('Preview campaign')).ID as number;
      const external = (await create('External campaign')).ID as number;
      const common = { previewSeconds: PREVIEW_SECONDS, windows: [], retryDelays: RETRIES, maxTries: 20, maxTriesPerNumber: 10, maxTriesPerDay: 10 };
      await configureCampaign(query, preview, { ...common, mode: 'Preview', groupId: tenant.groupIds[0] });
      await configureCampaign(query, external, { ...common, mode: 'External', groupId: null });
      // Everything not due now is a retry due within the run, or a minute after it.
      const now = Date.now();
      const share = (n: number, p: number) => Math.round(n * p);
      const onExternal = share(CONTACTS, 0.1);
      const inserted = await insertContacts(query, tenant.clientId, preview, [
        { count: share(CONTACTS - onExternal, 0.8), zones: ZONES, rank: 4, due: 'now' },
        { count: CONTACTS - onExternal - share(CONTACTS - onExternal, 0.8), zones: ZONES, rank: 3, due: { at: now, spreadMs: (SECONDS + 120) * 1000 } },
      ], now) + await insertContacts(query, tenant.clientId, external, [{ count: onExternal, zones: ZONES, rank: 4, due: 'now' }], now);
      await query('ANALYZE dialler_contacts');
      console.log(`client ${tenant.clientId}: ${AGENTS} agents, campaigns ${preview} (Preview, ${PREVIEW_SECONDS} s) and ${external} (External), ` +
        `${inserted} contacts (${elapsed()})`);

      const loadStarted = Date.now() + 2000;
      const { windows, closeAt } = windowsClosingAt(EDGE_ZONE, loadStarted + (SECONDS * 1000) / 2);
      await setWindows(query, preview, windows);
      await setWindows(query, external, windows);
      const zones = zonesBy(calendarOf(windows), ZONES, loadStarted, loadStarted + SECONDS * 1000);
      console.log(`windows close in ${EDGE_ZONE} at ${new Date(closeAt).toISOString()}; open all run: ${zones.open.join(', ')}; ` +
        `closed all run: ${zones.closed.join(', ')}; opening or closing during the run: ${zones.changing.join(', ')}`);
      await sleep(Math.max(0, loadStarted - Date.now()));

      for (const [i, creds] of tenant.agents.entries()) agents.push(new DiallerAgent(creds, apis, tenant.base, i % SERVERS, PREVIEW_SECONDS));
      for (const a of agents) a.start();
      await Promise.all(tenant.agents.map((creds, i) => expectRecord(apis[i % SERVERS].call('POST', `${tenant.base}/agents/me/dialler/campaigns/${preview}/login`, creds.token), 'campaign login')));
      const dialler = new ExternalDialler(apis, tenant.base, tenant.token, external);
      dialler.start();

      let killed: Promise<void> | undefined;
      let failure: unknown;
      const kill = async () => {
        const victim = servers[VICTIM];
        victim.child.kill('SIGKILL');
        await victim.exited;
        console.log(`SIGKILL instance ${VICTIM} (port ${victim.port}) (${elapsed()})`);
        await sleep(DOWN_SECONDS * 1000);
        servers[VICTIM] = await startServer(env, { port: victim.port, log: logs[VICTIM] });
        console.log(`instance ${VICTIM} back on port ${victim.port} (${elapsed()})`);
      };
      const deadline = loadStarted + SECONDS * 1000;
      let lastReport = Date.now();
      const handOuts = () => agents.reduce((n, a) => n + a.stats.handOuts, 0);
      while (Date.now() < deadline && handOuts() < TARGET_HANDOUTS) {
        await sleep(500);
        const broken = agents.find((a) => a.error !== undefined)?.error ?? dialler.error ?? failure;
        if (broken) throw broken;
        if (!killed && Date.now() >= loadStarted + SECONDS * 1000 * KILL_AT) {
          killed = kill();
          killed.catch((error: unknown) => (failure ??= error));
        }
        if (Date.now() - lastReport >= 10_000) {
          lastReport = Date.now();
          console.log(`  ${handOuts()} hand-outs to agents, ${dialler.stats.contacts} contacts claimed by the external dialler (${elapsed()})`);
        }
      }
      await killed;
      const loadSeconds = (Date.now() - loadStarted) / 1000;
      await dialler.stop();
      await Promise.all(agents.map((a) => a.stop(preview)));
      // Leases the dialler forgot run out; previews of agents gone would run out and start.
      const settleUntil = Date.now() + (LEASE_SECONDS + 20) * 1000;
      let inProgress = -1;
      while (Date.now() < settleUntil) {
        [{ n: inProgress }] = await query(`SELECT count(*)::int AS n FROM dialler_contacts WHERE client_id = $1 AND state = 'InProgress'`, [tenant.clientId]);
        if (inProgress === 0) break;
        await sleep(1000);
      }
      console.log(`agents logged out, leases settled (${elapsed()})`);

      const audit = await auditContactHistory(query, tenant.clientId, await calendarsOf(query, [preview, external]));
      const [{ n: stored }] = await query('SELECT count(*)::int AS n FROM dialler_contacts WHERE client_id = $1', [tenant.clientId]);
      const stuck = await query(`SELECT id, campaign_id, hold_kind, holder_user_id, attempt_started_at FROM dialler_contacts
        WHERE client_id = $1 AND state = 'InProgress' ORDER BY id LIMIT 10`, [tenant.clientId]);
      const drift = await query(`SELECT s.user_id, s.dialler_held FROM agent_states s JOIN users u ON u.id = s.user_id
        WHERE u.client_id = $1 AND s.dialler_held <> 0`, [tenant.clientId]);
      const byState = await query(`SELECT campaign_id, state, count(*)::int AS n FROM dialler_contacts WHERE client_id = $1
        GROUP BY 1, 2 ORDER BY 1, 2`, [tenant.clientId]);
      const changes = await query(`SELECT change, count(*)::int AS n FROM dialler_contact_history WHERE client_id = $1 GROUP BY 1 ORDER BY 1`, [tenant.clientId]);
      const stats = agents.reduce((sum, a) => addLatencies(sum, a), { ...emptyDiallerStats(), latencies: [] as number[] });
      const lost = Math.max(0, inProgress) + Math.abs(stored - inserted);

      console.log('');
      console.log(`load: ${round(loadSeconds, 1)} s, ${stats.handOuts} hand-outs to agents = ${round(stats.handOuts / loadSeconds, 1)}/s, ` +
        `${dialler.stats.contacts} to the external dialler; history HandedOut rows: ${audit.handOuts}`);
      console.log(`agents: ${JSON.stringify({ ...stats, latencies: undefined })}`);
      console.log(`external dialler: ${JSON.stringify(dialler.stats)}`);
      console.log(`history: ${changes.map((c) => `${c.change} ${c.n}`).join(', ')}`);
      console.log(`contacts: ${byState.map((b) => `campaign ${b.campaign_id} ${b.state} ${b.n}`).join(', ')}; stored ${stored} of ${inserted}`);
      console.log(`agent counters: ${drift.length} agents with dialler_held <> 0 at the end${drift.length ? ` (${JSON.stringify(drift.slice(0, 5))})` : ''}`);
      console.log(`audit: ${audit.strayEnds} ends of an attempt that was not the open one`);
      for (const p of audit.problems.slice(0, 10)) console.log(`PROBLEM ${p}`);
      for (const s of stuck) console.log(`LOST (still InProgress) ${JSON.stringify(s)}`);
      for (const [i, log] of logs.entries()) for (const line of log.lines().slice(0, 10)) console.log(`instance ${i} logged ${line}`);
      const l = stats.latencies;
      console.log(`hand-out latency (free → next contact seen, ${l.length}): p50 ${ms(percentile(l, 50))} ms, p95 ${ms(percentile(l, 95))} ms, ` +
        `p99 ${ms(percentile(l, 99))} ms, max ${ms(percentile(l, 100))} ms`);
      console.log(`total ${elapsed()}`);
      const summary = {
        contacts: inserted, doubleHandouts: audit.doubleHandouts, outsideWindow: audit.outsideWindow, lost,
        handoutLatencyMs: { p50: ms(percentile(l, 50)), p95: ms(percentile(l, 95)), p99: ms(percentile(l, 99)) },
      };
      console.log(JSON.stringify(summary));
      return summary.doubleHandouts === 0 && summary.outsideWindow === 0 && summary.lost === 0 ? 0 : 1;
    } finally {
      await Promise.all(servers.map((s) => stopServer(s)));
      for (const api of apis) api.close();
      await db.end();
    }
  });
}

process.exitCode = await main();
