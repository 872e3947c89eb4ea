// Benchmark of the bulk contact import (POST …/dialler/contacts/import/bulk) on both stores: how
// long a file of BENCH_ROWS contacts (default 200,000) takes, and how much the process's resident
// set grows meanwhile (it must stay flat in the file's size: the body streams, batches of 1000).
// On PostgreSQL it is set against a plain `COPY dialler_contacts (…) FROM STDIN` of the same file,
// the fastest the database takes those rows in (no checks, no zones, no duplicates). The server
// runs in this process and the file goes to it over a loopback socket; with --expose-gc (as the
// npm script runs it) heapRetainedMB tells what the heap still holds after the import (GC slack
// is in the resident set's growth, not in this). The peak growth is mostly garbage that V8 lets
// pile up before a full collection: `node --expose-gc --max-old-space-size=64 bench/import.ts`
// imports 400,000 rows with the heap's peak at 44 MB (measured; slower, as it collects more often).
//
//   npm run bench:import               (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_ROWS=50000 npm run bench:import
//   BENCH_STORES=pglite npm run bench:import
//
// Ends with one JSON line: { rows, pglite: { seconds, cpuSeconds, rssGrowthMB, … }, postgres:
// { seconds, cpuSeconds, serverCpuSeconds, rssGrowthMB, …, copySeconds, copyServerCpuSeconds,
// importRatioToCopy, cpuRatioToCopy } }. cpuSeconds is this process's CPU during the import;
// serverCpuSeconds that of the database's backends (read from /proc when the server runs on this
// host): on a busy machine these say more than the durations.
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { build } from '../src/app.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { residentBytes, round, setUpTenant, withFreshDatabase, withTempDir } from './support.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const STORES = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');
const MB = 1024 * 1024;
const COLUMNS = 'name, first_name, email, phone_number1, phone_number2, user_data, priority';

/** A realistic contact file: plain numbers (as the database stores them), one in ten with a second number. */
async function writeFile(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  out.write('Name,FirstName,Email,PhoneNumber1,PhoneNumber2,UserData,Priority\r\n');
  for (let i = 1; i <= rows; i++) {
    const line = `"Customer ${i}, Ltd",Alex,alex.${i}@example.com,+4930${(1_000_000 + i).toString()},${i % 10 === 0 ? `0891${i}` : ''},CRM-${i},${i % 7}\r\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return out.bytesWritten;
}

/**
 * CPU seconds each server process (by pid) has used, when the server runs on this host and
 * /proc may be read; on a shared machine the CPU a run takes varies far less than its duration.
 */
function processCpuSeconds(pids: number[]): Map<number, number> | undefined {
  const ticks = 100; // USER_HZ on Linux
  try {
    return new Map(pids.map((pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      return [pid, (Number(fields[11]) + Number(fields[12])) / ticks];
    }));
  } catch {
    return undefined;
  }
}

async function serverPids(store: Store): Promise<number[]> {
  if (store.kind !== 'postgres') return [];
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`.execute(store.db);
  return rows.map((r) => r.pid);
}

/** The server CPU the import took: every backend of the database, those opened meanwhile from zero. */
function serverCpuSince(before: Map<number, number> | undefined, pids: number[]): number | undefined {
  const after = processCpuSeconds(pids);
  if (!before || !after) return undefined;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Imports the file through the API (in-process, the body streamed from disk), sampling the resident set. */
async function importThroughApi(store: Store, file: string): Promise<{ seconds: number; cpuSeconds: number; serverCpuSeconds?: number; rssGrowthMB: number; heapPeakGrowthMB: number; heapRetainedMB?: number; imported: number }> {
  const tenant = await setUpTenant(store.db, `Bench import ${process.pid}`);
  const app = await build({ store });
  await app.ready();
  try {
    const campaign = await app.inject({
      method: 'POST', url: `/rest/v1.0/${tenant.clientId}/dialler/campaigns/create`, headers: { authorization: `Bearer ${tenant.token}` },
      payload: { Name: 'Bench', ResultCodes: [{ ExportKey: 'DONE', DiallerResultCodesTypesID: 1, Content: { 1: 'Done' } }] },
    });
    if (campaign.statusCode !== 200) throw new Error(`campaign: ${campaign.body}`);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    global.gc?.();
    const before = residentBytes();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = before;
    let peakHeap = heapBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes());
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 50);
    const serverBefore = processCpuSeconds(await serverPids(store));
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    // Over a real socket, the file streamed from disk: both ends keep to the socket's backpressure.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port, method: 'POST',
        path: `/rest/v1.0/${tenant.clientId}/dialler/contacts/import/bulk?diallerCampaignsID=${campaign.json().records[0].ID}`,
        headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'text/csv' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      createReadStream(file).pipe(req);
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serverCpu = store.kind === 'postgres' ? serverCpuSince(serverBefore, await serverPids(store)) : undefined;
    clearInterval(sampler);
    peak = Math.max(peak, residentBytes());
    if (status !== 200) throw new Error(`import: ${status} ${body.slice(0, 500)}`);
    const report = JSON.parse(body).records[0];
    if (report.Imported !== ROWS) throw new Error(`imported ${report.Imported} of ${ROWS}: ${JSON.stringify(report.Errors.slice(0, 3))}`);
    global.gc?.();
    const heapRetainedMB = global.gc ? round((process.memoryUsage().heapUsed - heapBefore) / MB, 1) : undefined;
    return {
      seconds: round(seconds), cpuSeconds: round((cpu.user + cpu.system) / 1e6),
      serverCpuSeconds: serverCpu === undefined ? undefined : round(serverCpu), rssGrowthMB: round((peak - before) / MB, 1), heapPeakGrowthMB: round((peakHeap - heapBefore) / MB, 1),
      heapRetainedMB, imported: report.Imported,
    };
  } finally {
    await app.close();
  }
}

/** The same file by COPY into a second campaign; the columns the file lacks get defaults for the occasion. */
async function plainCopy(url: string, file: string, clientId: number): Promise<{ seconds: number; serverCpuSeconds?: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`INSERT INTO dialler_campaigns (client_id, name, created_at, updated_at) VALUES ($1, 'Copy', now(), now()) RETURNING id`, [clientId]);
    await client.query(`ALTER TABLE dialler_contacts ALTER client_id SET DEFAULT ${clientId}, ALTER campaign_id SET DEFAULT ${rows[0].id},
      ALTER time_zone SET DEFAULT 'Europe/Berlin', ALTER created_at SET DEFAULT now(), ALTER updated_at SET DEFAULT now()`);
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const serverBefore = processCpuSeconds([pid]);
    const started = performance.now();
    await pipeline(createReadStream(file), client.query(copyStreams.from(`COPY dialler_contacts (${COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
    return { seconds: (performance.now() - started) / 1000, serverCpuSeconds: serverCpuSince(serverBefore, [pid]) };
  } finally {
    await client.end();
  }
}

const summary: Record<string, unknown> = { rows: ROWS };
await withTempDir('bench-import', async (dir) => {
  const file = join(dir, 'contacts.csv');
  const bytes = await writeFile(file, ROWS);
  summary.fileMB = round(bytes / MB, 1);
  console.log(`file: ${ROWS} rows, ${summary.fileMB} MB`);
  if (STORES.includes('pglite')) {
    const store = await openStore({ dataDir: join(dir, 'pglite') });
    try {
      const result = await importThroughApi(store, file);
      summary.pglite = { seconds: result.seconds, cpuSeconds: result.cpuSeconds, rssGrowthMB: result.rssGrowthMB, heapPeakGrowthMB: result.heapPeakGrowthMB, heapRetainedMB: result.heapRetainedMB, rowsPerSecond: Math.round(ROWS / result.seconds) };
      console.log('pglite', summary.pglite);
    } finally {
      await store.close();
    }
  }
  if (STORES.includes('postgres')) {
    await withFreshDatabase('bench_import', async (url) => {
      const store = await openStore({ databaseUrl: url });
      let clientId: number;
      try {
        const result = await importThroughApi(store, file);
        const row = await store.db.selectFrom('clients').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
        clientId = row.id;
        summary.postgres = { seconds: result.seconds, cpuSeconds: result.cpuSeconds, serverCpuSeconds: result.serverCpuSeconds, rssGrowthMB: result.rssGrowthMB, heapPeakGrowthMB: result.heapPeakGrowthMB, heapRetainedMB: result.heapRetainedMB, rowsPerSecond: Math.round(ROWS / result.seconds) };
      } finally {
        await store.close();
      }
      const copy = await plainCopy(url, file, clientId);
      const pgSummary = summary.postgres as { seconds: number; cpuSeconds: number; serverCpuSeconds?: number };
      // The CPU ratio (this process and the server's backends, against the COPY's backend) moves
      // far less with the machine's load than the ratio of durations.
      const cpuRatio = pgSummary.serverCpuSeconds === undefined || copy.serverCpuSeconds === undefined
        ? undefined : round((pgSummary.cpuSeconds + pgSummary.serverCpuSeconds) / copy.serverCpuSeconds);
      summary.postgres = {
        ...pgSummary, copySeconds: round(copy.seconds), copyServerCpuSeconds: copy.serverCpuSeconds === undefined ? undefined : round(copy.serverCpuSeconds),
        importRatioToCopy: round(pgSummary.seconds / copy.seconds), cpuRatioToCopy: cpuRatio,
      };
      console.log('postgres', summary.postgres);
    });
  }
});
console.log(JSON.stringify(summary));
