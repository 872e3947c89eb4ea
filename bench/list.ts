// Benchmark of GET /acd/events over one client's 1,000,000 events on PostgreSQL: how long the
// whole streamed answer takes to arrive and how much the server's memory grows meanwhile, next
// to PostgreSQL's own COPY of the same rows as JSON (the fastest the database hands them out).
//
//   npm run bench:list              (DATABASE_URL names the PostgreSQL server; default local)
//   BENCH_ROWS=200000 npm run bench:list
//
// The server runs in a child process (bench/server-child.ts) so its resident set can be sampled
// from /proc while the answer downloads. Ends with one JSON line of the summary.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore } from '../src/db/store.ts';
import { CopyOutQuery } from '../src/db/copy-out.ts';
import { residentBytes, round, setUpTenant, withFreshDatabase, type BenchTenant } from './support.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = 2;
const RSS_SAMPLE_MS = 50;
const TARGET_RATIO = 2;
const TARGET_RSS_MB = 100;
const MB = 1024 * 1024;

interface Transfer {
  seconds: number;
  bytes: number;
}

/**
 * One client's history: mostly finished events of every type, spread over the past weeks one
 * second apart, with texts of a realistic width. Finished events keep a distributor, should
 * one run in the server, from acting on them while the answer downloads.
 */
async function fillEvents(url: string, rows: number): Promise<BenchTenant> {
  const store = await openStore({ databaseUrl: url });
  try {
    const tenant = await setUpTenant(store.db, `Bench list ${process.pid}`);
    await sql`
      INSERT INTO acd_events (client_id, type_id, status_id, group_id, queue_group_id, sender, receiver, subject,
        body, user_data, event_data, priority, received_at, created_at, modified_at, last_modified_at)
      SELECT ${tenant.clientId}, 1 + i % 7, CASE WHEN i % 50 = 0 THEN 100 ELSE 99 END, ${tenant.groupId}, ${tenant.groupId},
        '+49' || (8900000000 + i)::text, '4989700700', 'Callback request ' || i,
        'Customer asks to be called back about order ' || i || ' before Friday.', 'ticket-' || i,
        '<eventData><urls><url><urlPath></urlPath><displayName>ticket-' || i || '</displayName></url></urls>'
          || '<body html="true">Customer asks to be called back about order ' || i || ' before Friday.</body></eventData>',
        50, t, t, t + interval '5 minutes', t + interval '5 minutes'
      FROM generate_series(1, ${rows}::int) AS i,
        LATERAL (SELECT timestamptz '2026-03-01 08:00:00+00' + i * interval '1 second') AS s(t)
    `.execute(store.db);
    await sql`ANALYZE acd_events`.execute(store.db);
    return tenant;
  } finally {
    await store.close();
  }
}

async function copyRows(url: string, clientId: number): Promise<Transfer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let bytes = 0;
    let lines = 0;
    const copy = new CopyOutQuery(
      `COPY (SELECT row_to_json(e) FROM acd_events e WHERE e.client_id = ${Number(clientId)} ORDER BY e.created_at, e.id) TO STDOUT`,
      (chunk) => {
        bytes += chunk.length;
        // COPY text format ends every row with a newline and escapes those inside values.
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
      },
      () => undefined,
    );
    const started = performance.now();
    client.query(copy as unknown as pg.QueryConfig);
    await copy.done;
    const seconds = (performance.now() - started) / 1000;
    if (lines !== ROWS) throw new Error(`COPY gave ${lines} rows, expected ${ROWS}`);
    return { seconds, bytes };
  } finally {
    await client.end();
  }
}

async function startServer(url: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./server-child.ts', import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`server child exited with ${code} before listening`);
  });
  const ready = (async () => {
    for await (const line of lines) {
      const match = /^\{"port":(\d+)\}$/.exec(line.trim());
      if (match) return Number(match[1]);
    }
    throw new Error('server child closed its output before listening');
  })();
  const port = await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Resident set of `pid` sampled every few ms until stopped; returns the peak seen. A sample of a
 * process that has just gone counts as nothing: the download then fails and says why.
 */
function watchResident(pid: number): { stop(): number } {
  const sample = () => {
    try {
      return residentBytes(pid);
    } catch {
      return 0;
    }
  };
  let peak = sample();
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, sample());
    },
  };
}

/** Downloads the whole list, counting bytes as they stream in; only the tail is kept. */
function downloadList(port: number, tenant: BenchTenant): Promise<Transfer & { head: string; tail: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { host: '127.0.0.1', port, path: `/rest/v1.0/${tenant.clientId}/acd/events`, headers: { authorization: `Bearer ${tenant.token}` } },
      (res) => {
        let bytes = 0;
        let head = '';
        let tail: Buffer = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          if (head.length < 64) head += chunk.subarray(0, 64).toString('utf8');
          bytes += chunk.length;
          tail = chunk.length >= 256 ? chunk.subarray(-256) : Buffer.concat([tail, chunk]).subarray(-256);
        });
        res.on('end', () => {
          const seconds = (performance.now() - started) / 1000;
          if (res.statusCode !== 200) reject(new Error(`list answered ${res.statusCode}: ${head}`));
          else resolve({ seconds, bytes, head, tail: tail.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function measureList(pid: number, port: number, tenant: BenchTenant): Promise<Transfer & { growthBytes: number }> {
  const before = residentBytes(pid);
  const watch = watchResident(pid);
  let peak = before;
  let result: Awaited<ReturnType<typeof downloadList>>;
  try {
    result = await downloadList(port, tenant);
  } finally {
    peak = watch.stop();
  }
  if (!result.head.startsWith('{') || !result.tail.includes(`"count":${ROWS}`) || !result.tail.trimEnd().endsWith('}')) {
    throw new Error(`incomplete list answer: starts ${JSON.stringify(result.head)}, ends ${JSON.stringify(result.tail.slice(-80))}`);
  }
  return { seconds: result.seconds, bytes: result.bytes, growthBytes: peak - before };
}

function show(label: string, t: Transfer, extra = ''): void {
  console.log(`  ${label.padEnd(16)} ${t.seconds.toFixed(2).padStart(7)} s   ${(t.bytes / MB).toFixed(1).padStart(7)} MB   ${(t.bytes / MB / t.seconds).toFixed(1).padStart(6)} MB/s${extra}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const summary = await withFreshDatabase('sb_bench_list', async (url) => {
    console.log(`inserting ${ROWS} events…`);
    const fillStarted = Date.now();
    const tenant = await fillEvents(url, ROWS);
    console.log(`  done in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s`);

    const { child, port } = await startServer(url);
    try {
      const pid = child.pid!;
      // Warms PostgreSQL's buffer cache, so neither side pays for the first read from disk.
      show('COPY warm-up', await copyRows(url, tenant.clientId));
      const lists: (Transfer & { growthBytes: number })[] = [];
      const copies: Transfer[] = [];
      for (let roundNo = 1; roundNo <= ROUNDS; roundNo++) {
        const order = roundNo % 2 === 1 ? (['list', 'copy'] as const) : (['copy', 'list'] as const);
        for (const which of order) {
          if (which === 'copy') {
            const copy = await copyRows(url, tenant.clientId);
            copies.push(copy);
            show(`COPY #${roundNo}`, copy);
          } else {
            const list = await measureList(pid, port, tenant);
            lists.push(list);
            show(`GET list #${roundNo}`, list, `   RSS +${(list.growthBytes / MB).toFixed(1)} MB`);
          }
        }
      }
      const seconds = Math.min(...lists.map((l) => l.seconds));
      const copySeconds = Math.min(...copies.map((c) => c.seconds));
      const growth = Math.max(...lists.map((l) => l.growthBytes));
      return {
        rows: ROWS,
        seconds: round(seconds, 3),
        copySeconds: round(copySeconds, 3),
        ratio: round(seconds / copySeconds, 3),
        rssGrowthMB: round(growth / MB, 1),
      };
    } finally {
      await stopServer(child);
    }
  });

  console.log('');
  const timeVerdict = summary.ratio <= TARGET_RATIO ? 'meets' : 'MISSES';
  const rssVerdict = summary.rssGrowthMB < TARGET_RSS_MB ? 'meets' : 'MISSES';
  console.log(`list ${summary.seconds} s vs COPY ${summary.copySeconds} s = ${summary.ratio}x (${timeVerdict} the ≤ ${TARGET_RATIO}x target)`);
  console.log(`server RSS growth ${summary.rssGrowthMB} MB (${rssVerdict} the < ${TARGET_RSS_MB} MB target)`);
  console.log(`total ${round((Date.now() - started) / 1000, 1)} s`);
  console.log(JSON.stringify(summary));
}

await main();
