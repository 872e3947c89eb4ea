// `switchboard serve` child processes for the benchmarks, and what they log.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SWITCHBOARD_BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const LISTENING = /Switchboard listening on (http:\/\/\S+)/;
const children = new Set<ChildProcess>();
// Whatever way this process ends, it takes its servers with it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** What a server logged at warn level or above: counts per message, with a sample of each. */
export class ServerLog {
  readonly counts = new Map<string, { level: number; n: number; sample: string }>();
  add(line: string): void {
    let entry: { level?: number; msg?: string; err?: { message?: string; code?: string } };
    try {
      entry = JSON.parse(line);
    } catch {
      if (line.trim()) this.#count(50, `(non-JSON) ${line.slice(0, 160)}`, line);
      return;
    }
    if (typeof entry.level !== 'number' || entry.level < 40) return;
    const detail = entry.err?.message ? `: ${entry.err.message.split('\n')[0].slice(0, 160)}` : '';
    this.#count(entry.level, `${entry.msg ?? '?'}${detail}`, line.slice(0, 600));
  }
  #count(level: number, key: string, sample: string): void {
    const seen = this.counts.get(key);
    if (seen) seen.n++;
    else this.counts.set(key, { level, n: 1, sample });
  }
  get errors(): number {
    let n = 0;
    for (const c of this.counts.values()) if (c.level >= 50) n += c.n;
    return n;
  }
  lines(): string[] {
    return [...this.counts.entries()].map(([key, c]) => `${c.level >= 50 ? 'error' : 'warn'} x${c.n}: ${key}`);
  }
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  log: ServerLog;
  exited: Promise<number | null>;
}

/**
 * Starts `switchboard serve` (distribution engine running) and resolves once it listens. `env`
 * names the store: DATABASE_URL for PostgreSQL, SWITCHBOARD_DATA_DIR alone for PGlite.
 */
export async function startServer(env: Record<string, string>, options: { port?: number; log?: ServerLog } = {}): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.SWITCHBOARD_DATA_DIR;
  Object.assign(childEnv, { HOST: '127.0.0.1', PORT: String(options.port ?? 0), LOG_LEVEL: 'warn', ...env });
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node options for the servers only.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, SWITCHBOARD_BIN, 'serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const log = options.log ?? new ServerLog();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchboard serve did not listen within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = LISTENING.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      } else if (line.startsWith('{')) {
        log.add(line);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`switchboard serve exited with ${code} before listening: ${stderr}`));
    });
  });
  return { child, port: Number(new URL(url).port), url, log, exited };
}

/** SIGTERM, then SIGKILL if it has not stopped within `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 15_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

export function newAdminToken(): string {
  return `sba_bench_${randomBytes(18).toString('hex')}`;
}
