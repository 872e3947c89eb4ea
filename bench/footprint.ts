// Footprint of `switchboard serve --demo` (what `npm start` runs) on both stores: time until
// GET /health and GET /ready both answer 200, peak RSS (VmHWM, the process and any children)
// until then, and RSS after an idle spell; once on an empty folder or database, once restarted
// on it. Each run is a real child process, as an operator starts it.
// FOOTPRINT_IDLE_SECONDS (default 60) sets the idle spell; FOOTPRINT_STORES=pglite,postgres.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, launch, serverEnv, stop } from '../test/faults/process-support.ts';
import { round, withFreshDatabase, withTempDir } from './support.ts';

const IDLE_SECONDS = Number(process.env.FOOTPRINT_IDLE_SECONDS ?? 60);
const STORES = (process.env.FOOTPRINT_STORES ?? 'pglite,postgres').split(',');
const START_LIMIT_MS = 120_000;

interface Run {
  healthyMs: number;
  peakRssMb: number;
  idleRssMb: number;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

/** The process and its descendants, from /proc/<pid>/task/<tid>/children (Linux). */
function family(pid: number): number[] {
  const pids = [pid];
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return pids;
  for (const tid of readdirSync(tasks)) {
    let children = '';
    try {
      children = readFileSync(`${tasks}/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean)) pids.push(...family(Number(child)));
  }
  return pids;
}

const sumKb = (pid: number, field: 'VmHWM' | 'VmRSS') => family(pid).reduce((sum, p) => sum + statusKb(p, field), 0);
const mb = (kb: number) => round(kb / 1024, 0);

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function startOnce(env: Record<string, string>): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  // DATABASE_URL names the benchmark's PostgreSQL server (serverEnv drops it unless `env` sets
  // it); the log level stays the one `npm start` runs with.
  const server = launch(serverEnv({ ...env, PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL }), ['--demo'], START_LIMIT_MS);
  const child = server.child;
  // VmHWM is the peak so far of each process; a child that ended before we looked is not seen,
  // so sample often and keep the largest sum.
  let peakKb = 0;
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, sumKb(child.pid!, 'VmHWM'))), 50);
  try {
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${server.err}`);
      if (performance.now() - started > START_LIMIT_MS) throw new Error(`not healthy after ${START_LIMIT_MS} ms: ${server.err}`);
      if (await answers200(`${base}/health`) && await answers200(`${base}/ready`)) break;
      await sleep(50);
    }
    const healthyMs = performance.now() - started;
    peakKb = Math.max(peakKb, sumKb(child.pid!, 'VmHWM'));
    const peakRssMb = mb(peakKb);
    process.stdout.write(`    healthy after ${round(healthyMs / 1000, 1)} s, peak RSS ${peakRssMb} MB; idle ${IDLE_SECONDS} s …\n`);
    await sleep(IDLE_SECONDS * 1000);
    return { healthyMs: round(healthyMs, 0), peakRssMb, idleRssMb: mb(sumKb(child.pid!, 'VmRSS')) };
  } finally {
    clearInterval(sampler);
    await stop(server, 'SIGTERM', 15_000);
  }
}

async function measure(store: string, env: Record<string, string>): Promise<{ first: Run; restart: Run }> {
  process.stdout.write(`${store}: first start on an empty ${store === 'pglite' ? 'folder' : 'database'}\n`);
  const first = await startOnce(env);
  process.stdout.write(`    idle RSS ${first.idleRssMb} MB\n${store}: restart on it\n`);
  const restart = await startOnce(env);
  process.stdout.write(`    idle RSS ${restart.idleRssMb} MB\n`);
  return { first, restart };
}

const results: Record<string, { first: Run; restart: Run }> = {};
for (const store of STORES) {
  if (store === 'pglite') {
    results.pglite = await withTempDir('sb-footprint', (dir) => measure(store, { SWITCHBOARD_DATA_DIR: dir }));
  } else if (store === 'postgres') {
    results.postgres = await withFreshDatabase('sb_footprint', (url) => measure(store, { DATABASE_URL: url }));
  } else {
    throw new Error(`unknown store ${store} in FOOTPRINT_STORES`);
  }
}
process.stdout.write(`${JSON.stringify({ bench: 'footprint', idleSeconds: IDLE_SECONDS, targets: { healthyMs: 10_000, peakRssMb: 400 }, ...results })}\n`);
