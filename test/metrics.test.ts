// Issue 11, item 9: GET /metrics in Prometheus's format — who may read it, what it holds after
// some traffic (requests by route pattern, open events by status, the busiest groups, offers
// made and expired, engine passes, open streams, the pool, the process), bounded label sets —
// and /health and /ready logged at debug.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from '../src/app.ts';
import { loadConfig, METRICS_DEFAULTS } from '../src/config.ts';
import type { Store } from '../src/db/store.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { ensureAdminToken } from '../src/modules/clients/admin-token.ts';
import { createClient } from '../src/modules/clients/service.ts';
import { ADMIN_TOKEN, clientHandle, openTestStore, storeKinds, type Harness } from './helper.ts';
import { newEvent, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

const METRICS_TOKEN = 'sbm_test_scrape_token';

/** The value of one series, written exactly as prom-client writes it; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function seriesOf(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const kind of storeKinds()) {
  describe(`metrics [${kind}]`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    const extra: FastifyInstance[] = [];
    const clock = fixedClock(Date.UTC(2026, 5, 15, 8, 0, 0));
    const harness = (): Harness => ({
      kind, clock, get app() { return app; }, get store() { return store; },
      async newClient() {
        const { ClientsID, Token } = await createClient(store.db, { Name: `Metrics ${process.pid}-${Math.random()}` });
        return clientHandle(app, ClientsID, Token);
      },
      admin: (method, url) => app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    });
    const scrape = async (token = METRICS_TOKEN) => {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 200, res.body);
      return res.body;
    };
    const another = async (options: Omit<BuildOptions, 'store'>) => {
      const built = await build({ store, ...options });
      await built.ready();
      extra.push(built);
      return built;
    };

    before(async () => {
      ({ store, dispose } = await openTestStore(kind));
      await ensureAdminToken(store.db, ADMIN_TOKEN);
      app = await build({
        store, clock, distribute: true, distributorSweepMs: 200,
        metrics: { ...METRICS_DEFAULTS, token: METRICS_TOKEN, topGroups: 2 },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      for (const built of extra) await built.close();
      await app.close();
      await dispose();
    });

    it('answers the metrics token and the admin token, anyone else 401; open to all only when configured', async () => {
      const bare = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(bare.statusCode, 401);
      assert.deepEqual(bare.json(), { status: 401, error: 'Metrics token or admin token missing or wrong' });
      const wrong = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.statusCode, 401);
      const byToken = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(byToken.statusCode, 200);
      assert.match(String(byToken.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).statusCode, 200);
      // Without a metrics token only the admin token reads them.
      const adminOnly = await another({});
      assert.equal((await adminOnly.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode, 401);
      const open = await another({ metrics: { ...METRICS_DEFAULTS, public: true } });
      assert.equal((await open.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
    });

    it('counts requests by route pattern and status, open events by status and the busiest groups, offers, passes, streams, pool and process', async () => {
      const h = harness();
      const c = await h.newClient();
      const [g1, g2, g3] = [await standaloneGroup(c), await standaloneGroup(c), await standaloneGroup(c)];
      const agent = await readyAgent(h, c, g1);
      const created = [];
      for (const group of [g1, g1, g2, g2, g2, g3]) created.push(await newEvent(c, group));
      for (const id of created) assert.equal((await c.get(`/acd/events/event/${id}`)).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/no/such/thing/1' })).statusCode, 404);
      assert.equal((await app.inject({ method: 'GET', url: '/no/such/thing/2' })).statusCode, 404);

      // The engine runs on its own: g1's first event offered to the agent, the rest waiting.
      let text = await until('events queued and one offered', async () => {
        const t = await scrape();
        return sample(t, 'switchboard_acd_events{status="4"}') === 5 && sample(t, 'switchboard_acd_events{status="10"}') === 1 ? t : undefined;
      });
      assert.equal(sample(text, 'switchboard_acd_events{status="1"}'), 0);
      assert.equal(sample(text, 'switchboard_acd_events{status="20"}'), 0);
      assert.equal(sample(text, 'switchboard_http_request_duration_seconds_count{method="POST",route="/rest/v1.0/:ClientsID/acd/events/create",status_code="200"}'), 6);
      assert.equal(sample(text, 'switchboard_http_request_duration_seconds_count{method="GET",route="/rest/v1.0/:ClientsID/acd/events/event/:AcdEventsID",status_code="200"}'), 6);
      assert.equal(sample(text, 'switchboard_http_request_duration_seconds_count{method="GET",route="(unmatched)",status_code="404"}'), 2);
      // Bounded: route labels are patterns, never a URL with its ids.
      for (const line of seriesOf(text, 'switchboard_http_request_duration_seconds_count')) {
        const route = /route="([^"]*)"/.exec(line)![1]!;
        assert.ok(route === '(unmatched)' || route === '/metrics' || !/\d/.test(route.replace('/rest/v1.0', '')), line);
      }
      // The two groups with the most waiting (then offered) are named; the third only counted.
      assert.equal(sample(text, `switchboard_acd_group_waiting_events{client_id="${c.id}",group_id="${g2}"}`), 3);
      assert.equal(sample(text, `switchboard_acd_group_waiting_events{client_id="${c.id}",group_id="${g1}"}`), 1);
      assert.equal(sample(text, `switchboard_acd_group_offered_events{client_id="${c.id}",group_id="${g1}"}`), 1);
      assert.equal(sample(text, `switchboard_acd_group_offered_events{client_id="${c.id}",group_id="${g2}"}`), 0);
      assert.equal(seriesOf(text, 'switchboard_acd_group_waiting_events').length, 2);
      assert.equal(sample(text, 'switchboard_acd_groups_with_waiting_events'), 3);
      assert.ok(sample(text, 'switchboard_acd_offers_total')! >= 1);
      assert.equal(sample(text, 'switchboard_acd_offers_expired_total'), 0);
      assert.ok(sample(text, 'switchboard_distributor_pass_duration_seconds_count')! >= 1);
      assert.equal(sample(text, 'switchboard_store_up'), 1);
      assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0);
      assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
      assert.ok(seriesOf(text, 'nodejs_eventloop_lag_seconds').length > 0);
      if (kind === 'postgres') assert.ok(sample(text, 'switchboard_db_pool_connections{state="total"}')! >= 1);
      else assert.equal(seriesOf(text, 'switchboard_db_pool_connections').length, 0);

      // The offer runs out: counted as expired.
      clock.advance(31_000);
      app.distributor.wake();
      text = await until('the offer expired', async () => {
        const t = await scrape();
        return sample(t, 'switchboard_acd_offers_expired_total') === 1 ? t : undefined;
      });

      // An open live stream is counted while it is open.
      assert.equal(sample(text, 'switchboard_push_streams_open'), 0);
      const { port } = app.server.address() as { port: number };
      const stream = http.get({ host: '127.0.0.1', port, path: `${c.base}/agents/me/stream`, headers: { authorization: `Bearer ${agent.token}` } });
      await new Promise<void>((resolve, reject) => stream.once('response', () => resolve()).once('error', reject));
      await until('the stream counted', async () => (sample(await scrape(), 'switchboard_push_streams_open') === 1 ? true : undefined));
      stream.destroy();
      await until('the stream gone', async () => (sample(await scrape(), 'switchboard_push_streams_open') === 0 ? true : undefined));
    });

    it('logs /health, /ready and /metrics at debug, so a probe every second does not flood the info log', async () => {
      const logged = async (level: string) => {
        const lines: { level: number; req?: { url?: string } }[] = [];
        const quiet = await another({
          metrics: { ...METRICS_DEFAULTS, public: true },
          logger: { level, stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
        });
        for (const url of ['/health', '/ready', '/metrics', '/rest/v1.0/1/acd/groups']) await quiet.inject({ method: 'GET', url });
        return lines.filter((l) => l.req?.url).map((l) => `${l.req!.url} ${l.level}`);
      };
      assert.deepEqual(await logged('info'), ['/rest/v1.0/1/acd/groups 30']);
      const DEBUG = 20;
      assert.deepEqual((await logged('debug')).sort(), ['/health', '/metrics', '/ready', '/rest/v1.0/1/acd/groups'].map(
        (url) => `${url} ${url.startsWith('/rest') ? 30 : DEBUG}`));
    });
  });
}

it('reads who may scrape /metrics and how many groups it names from the environment', () => {
  assert.deepEqual(loadConfig({}).metrics, { token: undefined, public: false, topGroups: 20 });
  assert.deepEqual(
    loadConfig({ SWITCHBOARD_METRICS_TOKEN: 'scrape', SWITCHBOARD_METRICS_PUBLIC: 'true', SWITCHBOARD_METRICS_TOP_GROUPS: '5' }).metrics,
    { token: 'scrape', public: true, topGroups: 5 },
  );
  assert.throws(() => loadConfig({ SWITCHBOARD_METRICS_PUBLIC: 'yes' }), /SWITCHBOARD_METRICS_PUBLIC must be true or false/);
});
