// Webhook delivery on PostgreSQL with two `switchboard serve` instances: a local receiver checks
// every signature with the `standardwebhooks` package, N events are created over HTTP (spread
// over both instances), and one instance is killed with SIGKILL once 40 % of the creates are
// acknowledged (the creators then use the survivor). Measures p95 from the change's commit (its
// dtCreated, stamped just before) to the first attempt, and checks that no delivery is lost and
// none is ever sent twice at the same time. Then, with the killed instance started again, every
// delivery is replayed at once (POST …/replay over the whole range) and deliveries/s is the rate
// at which the two instances drain that backlog (the first phase runs only as fast as creates).
//
//   npm run bench:webhooks                (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_EVENTS=2000 npm run bench:webhooks
//
// Last line: JSON {"events","deliveriesPerSecond" (replayed backlog),"p50CommitToFirstAttemptMs","p95CommitToFirstAttemptMs",
// "lost","duplicatedAtOnce","sentAgain","badSignatures","createsPerSecond"}; exits non-zero when lost,
// duplicatedAtOnce or badSignatures is not 0.
import { createServer } from 'node:http';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { round, withFreshDatabase } from './support.ts';
import { Api, newAdminToken, percentile, startServer, stopServer, type ServerProcess } from './distribution-support.ts';

const EVENTS = Number(process.env.BENCH_EVENTS) > 0 ? Number(process.env.BENCH_EVENTS) : 5000;
const CREATORS = 16;
const KILL_AT = 0.4;

interface Receipt { firstAt: number; count: number; open: number }

async function main(): Promise<number> {
  const adminToken = newAdminToken();
  return withFreshDatabase('sb_bench_webhooks', async (url) => {
    let secret = '';
    const receipts = new Map<string, Receipt>();
    const eventIds = new Set<number>();
    let badSignatures = 0;
    let duplicatedAtOnce = 0;
    let firstDelivery = 0;
    let lastDelivery = 0;
    let requests = 0;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const now = Date.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id']);
        requests++;
        const r = receipts.get(id) ?? { firstAt: now, count: 0, open: 0 };
        receipts.set(id, r);
        r.count++;
        if (++r.open > 1) duplicatedAtOnce++;
        try {
          const payload = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { data: { ID: number } };
          eventIds.add(payload.data.ID);
        } catch {
          badSignatures++;
        }
        if (r.count === 1) {
          firstDelivery ||= now;
          lastDelivery = now;
        }
        res.end('ok', () => { r.open--; });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    const env = { DATABASE_URL: url, SWITCHBOARD_ADMIN_TOKEN: adminToken, SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE: '1', SWITCHBOARD_WEBHOOKS_TIMEOUT_MS: '2000' };
    const servers: ServerProcess[] = [await startServer(env), await startServer(env)];
    const apis = servers.map((s) => new Api(s.url));
    const admin = apis[0]!;
    const client = (await admin.call('POST', '/rest/v1.0/clients/create', adminToken, { Name: 'Webhook bench' })).body.records[0];
    const base = `/rest/v1.0/${client.ClientsID}`;
    const group = (await admin.call('POST', `${base}/acd/groups/create`, client.Token, { Name: 'Bench', GroupType: 'Standalone' })).body.records[0];
    const hook = await admin.call('POST', `${base}/webhooks/create`, client.Token, { URL: hookUrl, Kinds: ['event.created'] });
    if (hook.status !== 200) throw new Error(`webhooks/create: ${JSON.stringify(hook.body)}`);
    secret = hook.body.records[0].Secret;

    const alive = [true, true];
    let next = 0;
    let acknowledged = 0;
    let killed = false;
    const started = Date.now();
    async function creator(n: number): Promise<void> {
      while (next < EVENTS) {
        const i = next++;
        for (let attempt = 0; ; attempt++) {
          const s = alive[(n + attempt) % 2] ? (n + attempt) % 2 : 1 - ((n + attempt) % 2);
          try {
            const r = await apis[s]!.call('POST', `${base}/acd/events/create`, client.Token, {
              AcdEventTypesID: 5, AcdGroupsID: group.ID, Sender: `bench${i}@example.com`, Subject: `Webhook bench ${i}`,
            });
            if (r.status === 200) break;
          } catch { /* the instance died under the request: the create may have committed; try the other */ }
          if (attempt > 20) throw new Error(`create ${i} failed 20 times`);
        }
        if (++acknowledged >= KILL_AT * EVENTS && !killed) {
          killed = true;
          alive[1] = false;
          servers[1]!.child.kill('SIGKILL');
          console.log(`killed instance 2 (pid ${servers[1]!.child.pid}) after ${acknowledged} creates`);
        }
      }
    }
    await Promise.all(Array.from({ length: CREATORS }, (_, n) => creator(n)));
    const createsPerSecond = EVENTS / ((Date.now() - started) / 1000);
    console.log(`${EVENTS} creates acknowledged in ${round((Date.now() - started) / 1000, 1)} s`);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const deadline = Date.now() + 120_000;
    let rows: { message_id: string; created_at: Date; state: string }[] = [];
    for (;;) {
      rows = (await db.query(`SELECT message_id, created_at, state FROM webhook_deliveries`)).rows;
      if (rows.every((r) => r.state === 'Delivered') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const phase1 = { firstDelivery, lastDelivery, sentAgain: [...receipts.values()].filter((r) => r.count > 1).length };

    // The backlog: the killed instance back, every delivery replayed at once.
    servers[1] = await startServer(env);
    apis[1] = new Api(servers[1].url);
    const before = requests;
    const replayStarted = Date.now();
    const replay = await admin.call('POST', `${base}/webhooks/webhook/${hook.body.records[0].ID}/replay`, client.Token, {
      From: '2000-01-01T00:00:00.000', To: '2100-01-01T00:00:00.000',
    });
    if (replay.status !== 200) throw new Error(`replay: ${JSON.stringify(replay.body)}`);
    const replayed = replay.body.Replayed as number;
    while (requests - before < replayed && Date.now() < deadline + 60_000) await new Promise((r) => setTimeout(r, 20));
    const drainSeconds = (Date.now() - replayStarted) / 1000;
    console.log(`replayed ${replayed} deliveries: ${requests - before} requests in ${round(drainSeconds, 1)} s`);
    await db.end();
    const latencies = rows.filter((r) => receipts.has(r.message_id)).map((r) => receipts.get(r.message_id)!.firstAt - r.created_at.getTime());
    const lost = rows.filter((r) => !receipts.has(r.message_id)).length + Math.max(0, EVENTS - eventIds.size);
    await Promise.all(servers.map((s) => stopServer(s)));
    for (const api of apis) api.close();
    receiver.closeAllConnections();
    receiver.close();
    const result = {
      events: EVENTS,
      deliveries: rows.length,
      deliveriesPerSecond: round((requests - before) / drainSeconds, 0),
      liveDeliveriesPerSecond: round(receipts.size / ((phase1.lastDelivery - phase1.firstDelivery) / 1000), 0),
      p50CommitToFirstAttemptMs: round(percentile(latencies, 50), 0),
      p95CommitToFirstAttemptMs: round(percentile(latencies, 95), 0),
      lost,
      duplicatedAtOnce,
      sentAgain: phase1.sentAgain,
      badSignatures,
      createsPerSecond: round(createsPerSecond, 0),
    };
    console.log(JSON.stringify(result));
    return lost === 0 && duplicatedAtOnce === 0 && badSignatures === 0 ? 0 : 1;
  });
}

process.exitCode = await main();
