// Process faults with real `switchboard` processes: a second process on one data folder, the
// commands an operator runs while a server holds it, and starts that fail (each must end the
// process non-zero within seconds with one line naming the cause).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, run, serve, serverEnv, stop, type Served } from './process-support.ts';

/** A start failure must be over within this long (the process started, read, refused and ended). */
const FAIL_FAST_MS = 15_000;

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

describe('a second process on one data folder', () => {
  let dir: string;
  let data: string;
  let server: Served;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-fault-proc-'));
    chmodSync(dir, 0o755);
    data = join(dir, 'data');
    // As `npm start` runs: demo, no SWITCHBOARD_ADMIN_TOKEN (the admin token exists only as a hash).
    env = serverEnv({ SWITCHBOARD_DATA_DIR: data });
    server = await serve(env, ['--demo']);
  });
  after(async () => {
    if (server) await stop(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second serve fails fast, naming the holder\'s pid', async () => {
    const second = await run(['serve'], env);
    assert.equal(second.code, 1);
    const line = oneLine(second.stderr);
    assert.match(line, new RegExp(`in use by switchboard serve \\(pid ${server.child.pid}\\b`));
    assert.ok(second.ms < FAIL_FAST_MS, `took ${second.ms} ms`);
    const alive = await fetch(`${server.url}/health`);
    assert.equal(alive.status, 200, 'the first server is untouched');
    console.log(`checked: second serve exited ${second.code} in ${second.ms} ms: ${line}`);
  });

  it('the banner\'s `clients token` hint, run as printed, gives a token that works on the running server', async () => {
    const hint = /`([^`]*npx switchboard clients token \d+)`/.exec(server.out)?.[1];
    assert.ok(hint, server.out);
    const oldToken = /Client token: +(\S+)/.exec(server.out)![1]!;
    const base = /Base URL: +(\S+)/.exec(server.out)![1]!;
    const rotated = await run([hint], env, { shell: true });
    assert.equal(rotated.code, 0, rotated.stderr);
    const token = /Token (\S+)/.exec(rotated.stdout)?.[1];
    assert.ok(token, rotated.stdout);
    assert.equal((await ask(base, 'GET', '/acd/events', token)).status, 200, 'the new token works at once');
    assert.equal((await ask(base, 'GET', '/acd/events', oldToken)).status, 401, 'the old one stopped working');
    console.log(`checked: \`${hint}\` while serving: new token 200, old token 401 (${rotated.ms} ms)`);
  });

  it('clients create and migrate work while the server runs', async () => {
    const created = await run(['clients', 'create', '--name', 'Made while serving', '--time-zone', 'Europe/Vienna'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = /ClientsID (\d+)/.exec(created.stdout)?.[1];
    const token = /Token (\S+)/.exec(created.stdout)?.[1];
    assert.ok(id && token, created.stdout);
    assert.equal((await ask(server.url, 'GET', `/rest/v1.0/${id}/acd/groups`, token)).status, 200);
    const duplicate = await run(['clients', 'create', '--name', 'Made while serving'], env);
    assert.equal(duplicate.code, 1);
    assert.match(oneLine(duplicate.stderr), /already exists/);
    const missing = await run(['clients', 'token', '999999'], env);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /Client not found/);
    const migrate = await run(['migrate'], env);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /Already up to date/);
    console.log(`checked: clients create (ClientsID ${id}, token works), duplicate and unknown client refused in one line, migrate up to date`);
  });

  it('SIGTERM frees the folder: commands then open it themselves', async () => {
    const held = JSON.parse(readFileSync(join(data, 'switchboard.lock'), 'utf8')) as { pid: number };
    assert.equal(held.pid, server.child.pid, 'while serving, the lock names the server');
    assert.deepEqual(await stop(server), { code: 0, signal: null });
    assert.equal(existsSync(join(data, 'switchboard.lock')), false);
    const rotated = await run(['clients', 'token', '1'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    console.log('checked: after SIGTERM (exit 0) the lock is gone and clients token runs on the folder itself');
  });
});

describe('start failures end the process with one line', () => {
  let dir: string;
  let data: string;
  let blocker: Server;
  let silent: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-fault-start-'));
    chmodSync(dir, 0o755);
    data = join(dir, 'data');
    // An existing folder, made by a command (faster than a server start).
    const made = await run(['clients', 'create', '--name', 'Existing'], serverEnv({ SWITCHBOARD_DATA_DIR: data }));
    assert.equal(made.code, 0, made.stderr);
    blocker = createServer().listen(0, '127.0.0.1');
    // Accepts connections and never says a word: a database behind a black hole.
    silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await Promise.all([blocker, silent].map((s) => new Promise((r) => s.listening ? r(null) : s.once('listening', r))));
  });
  after(() => {
    blocker?.close();
    silent?.close();
    chmodSync(data, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  const port = (s: Server) => (s.address() as { port: number }).port;

  it('an invalid LOG_LEVEL is named before the store is opened', async () => {
    const fresh = join(dir, 'never-made');
    const failed = await run(['serve'], serverEnv({ SWITCHBOARD_DATA_DIR: fresh, LOG_LEVEL: 'verbose' }));
    assert.equal(failed.code, 1);
    assert.match(oneLine(failed.stderr), /LOG_LEVEL must be one of .* got "verbose"/);
    assert.equal(existsSync(fresh), false, 'no data folder was made');
    console.log(`checked: LOG_LEVEL=verbose exit ${failed.code} in ${failed.ms} ms, folder untouched: ${oneLine(failed.stderr)}`);
  });

  it('a port in use ends the process and frees the folder', async () => {
    const failed = await run(['serve'], serverEnv({ SWITCHBOARD_DATA_DIR: data, PORT: String(port(blocker)) }));
    assert.equal(failed.code, 1);
    const line = oneLine(failed.stderr);
    assert.match(line, new RegExp(`port ${port(blocker)} on 127.0.0.1 is already in use \\(EADDRINUSE\\)`));
    assert.ok(failed.ms < FAIL_FAST_MS, `took ${failed.ms} ms`);
    assert.equal(existsSync(join(data, 'switchboard.lock')), false, 'the folder was released');
    console.log(`checked: port in use exit ${failed.code} in ${failed.ms} ms, folder released: ${line}`);
  });

  it('an unreachable DATABASE_URL (refused, or silent) is named', async () => {
    const cases = [['refused', await closedPortUrl()], ['silent', `postgres://postgres@127.0.0.1:${port(silent)}/nowhere`]] as const;
    for (const [what, url] of cases) {
      const failed = await run(['serve'], serverEnv({ DATABASE_URL: url, SWITCHBOARD_DB_CONNECT_TIMEOUT_MS: '2000' }));
      assert.equal(failed.code, 1, failed.stderr);
      const line = oneLine(failed.stderr);
      assert.match(line, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/\w+/);
      assert.ok(failed.ms < FAIL_FAST_MS, `took ${failed.ms} ms`);
      console.log(`checked: ${what} DATABASE_URL exit ${failed.code} in ${failed.ms} ms: ${line}`);
    }
  });

  it('a read-only data folder is named with its cause', async () => {
    chmodSync(data, 0o555);
    // root writes anywhere: the server runs as nobody then, as an operator's service user would.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const failed = await run(['serve'], serverEnv({ SWITCHBOARD_DATA_DIR: data, HOME: dir }), { uid });
    assert.equal(failed.code, 1);
    const line = oneLine(failed.stderr);
    assert.match(line, new RegExp(`cannot write to the data folder ${data} \\(EACCES`));
    assert.ok(failed.ms < FAIL_FAST_MS, `took ${failed.ms} ms`);
    console.log(`checked: read-only folder exit ${failed.code} in ${failed.ms} ms: ${line}`);
  });
});

async function closedPortUrl(): Promise<string> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const free = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return `postgres://postgres@127.0.0.1:${free}/nowhere`;
}
