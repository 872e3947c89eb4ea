// Real `switchboard` processes for the tests and benchmarks that need one: a server started as an
// operator starts it (its banner parsed for the URL), commands run as an operator runs them, HTTP
// calls to it (plain ones, and a keep-alive load that records every answer and every error).
// Only Node built-ins here, so bench/ can import it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { connect, createServer } from 'node:net';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
/** Generous: a fresh embedded store on a loaded two-core machine takes long to create. */
export const START_TIMEOUT_MS = 120_000;

export function serverEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...extra };
  for (const key of ['DATABASE_URL', 'SWITCHBOARD_DATA_DIR', 'SWITCHBOARD_ADMIN_TOKEN'] as const) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

export interface Served {
  child: ChildProcess;
  url: string;
  /** What it wrote to stdout and stderr so far. */
  out: string;
  err: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Null while it runs; how it ended otherwise. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
}

export interface Launched extends Omit<Served, 'url'> {
  /** The URL of the banner once it is printed whole; rejects if the process ends first. */
  banner: Promise<string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port free on 127.0.0.1 now, for a server whose printed URLs must name it before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `switchboard serve` and answers at once, for callers that watch the start itself. */
export function launch(env: NodeJS.ProcessEnv, args: string[] = [], timeoutMs = START_TIMEOUT_MS): Launched {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    ended = { code, signal };
    resolve(ended);
  }));
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => { err += chunk; });
  const banner = new Promise<string>((resolve, reject) => {
    let url = '';
    const timer = setTimeout(() => reject(new Error(`serve did not listen within ${timeoutMs} ms: ${err}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      out += `${line}\n`;
      const m = /^Switchboard listening on (\S+)/.exec(line);
      // The banner ends with an empty line after the URL.
      if (m) url = m[1]!;
      if (url && line === '' && out.trim() !== '') {
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening: ${err}${out}`));
    });
  });
  // A caller that polls instead of awaiting the banner must not see an unhandled rejection.
  banner.catch(() => undefined);
  return { child, banner, get out() { return out; }, get err() { return err; }, exited, exit: () => ended };
}

/** Starts `switchboard serve` as an operator does and reads the URL off its banner. */
export async function serve(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Served> {
  const launched = launch(env, args);
  const url = await launched.banner;
  return {
    child: launched.child, url, exited: launched.exited, exit: launched.exit,
    get out() { return launched.out; }, get err() { return launched.err; },
  };
}

/** Signals the server and waits for its end; `killAfterMs` bounds a shutdown that hangs. */
export async function stop(server: Pick<Served, 'child' | 'exited'>, signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => server.child.kill('SIGKILL'), killAfterMs);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command line (`args` for the CLI, or a shell line with `shell`) to its end. */
export function run(args: string[], env: NodeJS.ProcessEnv, options: { shell?: boolean; uid?: number; timeoutMs?: number } = {}): Promise<Ran> {
  const started = Date.now();
  const child = options.shell
    ? spawn('sh', ['-c', args.join(' ')], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }) });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => { stdout += chunk; });
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    running.delete(child);
    resolve({ code, stdout, stderr, ms: Date.now() - started });
  }));
}

export interface Answer {
  status?: number;
  connection?: string;
  body?: string;
  error?: string;
  /** The request went out on a connection that had answered before (not a fresh one). */
  reused: boolean;
}

/** One HTTP request on `agent`; never throws, records what happened. */
export function call(agent: Agent, url: string, method: string, token: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, {
      method, agent,
      headers: { authorization: `Bearer ${token}`, ...(payload && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body: text, reused: req.reusedSocket }));
      res.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message, reused: req.reusedSocket }));
    });
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message, reused: req.reusedSocket }));
    req.end(payload);
  });
}

export interface Reply {
  /** 0 when no answer came within the time allowed. */
  status: number;
  /** Parsed JSON, or the text when it is not JSON. */
  body: any;
  ms: number;
}

/** A request by fetch that never waits forever and never throws. */
export async function ask(base: string, method: string, path: string, token?: string, body?: unknown, timeoutMs = 15_000): Promise<Reply> {
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON: kept as text, which the assertions then show */ }
    return { status: res.status, body: parsed, ms: performance.now() - started };
  } catch {
    return { status: 0, body: 'no answer', ms: performance.now() - started };
  }
}

/** A client with one standalone group, made through the admin API of a running server. */
export async function provision(url: string, adminToken: string, name: string): Promise<{ base: string; token: string; groupId: number }> {
  const created = await ask(url, 'POST', '/rest/v1.0/clients/create', adminToken, { Name: name });
  if (created.status !== 200) throw new Error(`clients/create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const { ClientsID, Token } = created.body.records[0];
  const base = `${url}/rest/v1.0/${ClientsID}`;
  const group = await ask(base, 'POST', '/acd/groups/create', Token, { Name: 'Faults', GroupType: 'Standalone' });
  if (group.status !== 200) throw new Error(`groups/create answered ${group.status}: ${JSON.stringify(group.body)}`);
  return { base, token: Token, groupId: group.body.records[0].ID };
}

/** A create body unique by `marker` (its Sender tells the events apart in the database). */
export function eventBody(groupId: number, marker: string | number): Record<string, unknown> {
  return { AcdEventTypesID: 5, AcdGroupsID: groupId, Sender: `${marker}@example.com`, Subject: `Fault ${marker}`, UserData: `u${marker}` };
}

/**
 * A create whose body arrives in two parts on a raw keep-alive connection: the request is
 * accepted (headers read) with the first part, and answered only after `finish()` sends the rest.
 * Resolves with the status line and headers of the answer, and whether the server then closed.
 */
export async function slowCreate(url: string, path: string, token: string, body: unknown): Promise<{ finish(): Promise<{ status: number; headers: Record<string, string>; closedByServer: boolean }> }> {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const socket = connect(Number(port), hostname);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let ended = false;
  socket.on('data', (chunk) => { received += chunk; });
  socket.on('end', () => { ended = true; });
  socket.on('close', () => { ended = true; });
  socket.on('error', () => { ended = true; });
  const half = Math.floor(payload.length / 2);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: keep-alive\r\n\r\n`);
  socket.write(payload.subarray(0, half));
  return {
    async finish() {
      socket.write(payload.subarray(half));
      const deadline = Date.now() + 30_000;
      while (!received.includes('\r\n\r\n') && !ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const [head = ''] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      // A server that keeps the connection open would hold it until its grace period runs out.
      const closeBy = Date.now() + 3000;
      while (!ended && Date.now() < closeBy) await new Promise((r) => setTimeout(r, 10));
      const closedByServer = ended;
      socket.destroy();
      return { status: Number(statusLine.split(' ')[1]), headers, closedByServer };
    },
  };
}
