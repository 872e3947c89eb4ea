// The API server in a process of its own, so a benchmark can watch its memory from outside.
// Opens the PostgreSQL store DATABASE_URL names, listens on a free loopback port and prints
// `{"port":N}` once ready. Stops on SIGTERM, or when the parent closes our stdin (the parent
// died), so it never outlives the benchmark.
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('server-child needs DATABASE_URL');

const store = await openStore({ databaseUrl });
const app = await build({ store });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port })}\n`);

// BENCH_MEMORY_LOG=1: the heap's share of the resident set, to tell GC slack from real holding.
if (process.env.BENCH_MEMORY_LOG === '1') {
  const mb = (n: number) => Math.round(n / 1048576);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(`memory rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`);
  }, 250).unref();
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  await store.close();
  process.exit(0);
}
process.once('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
