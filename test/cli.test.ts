// The command line's help, version and refusals answer without opening the store or taking the
// data folder; configuration is refused before anything is opened, naming the variable; and
// whatever was thrown, an operator reads one line naming it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { describeError, storeFailure } from '../src/start-failure.ts';
import { lockDataFolder } from '../src/db/folder-lock.ts';
import { isAskable } from '../src/cli/remote.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: '', ...env }, encoding: 'utf8' });
}

describe('switchboard help and version', () => {
  it('answer without making, opening or locking the data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-help-'));
    const held = join(dir, 'held');
    const lock = await lockDataFolder(held, 'serve');
    try {
      // Held: a command that took the folder would stop; absent: one that opened it would make it.
      for (const [index, folder] of [held, join(dir, 'absent')].entries()) {
        const cases: [string[], RegExp][] = [
          [['--help'], /^Usage: switchboard <command>[\s\S]*clients token CLIENTS_ID/],
          [['-h'], /^Usage: switchboard <command>/],
          [['help', 'serve'], /^Usage: switchboard serve \[--demo\]/],
          [['serve', '--help'], /^Usage: switchboard serve \[--demo\][\s\S]*SIGTERM/],
          [['migrate', '--help'], /^Usage: switchboard migrate/],
          [['clients', '--help'], /^Usage: switchboard clients create --name NAME/],
          [['clients', 'token', '--help'], /^Usage: switchboard clients create[\s\S]*token +makes a new token/],
          [['--version'], new RegExp(`^switchboard ${VERSION.replace(/\./g, '\\.')}\n$`)],
          [['-v'], new RegExp(`^switchboard ${VERSION.replace(/\./g, '\\.')}\n$`)],
        ];
        for (const [args, expected] of index === 0 ? cases : cases.slice(0, 3)) {
          const result = cli(args, { SWITCHBOARD_DATA_DIR: folder });
          assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
          assert.match(result.stdout, expected, args.join(' '));
        }
      }
      assert.equal(existsSync(join(dir, 'absent')), false, 'help made no data folder');
      console.log('checked: --help, -h, help serve, <command> --help, --version answer with the folder absent or held');
    } finally {
      lock.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong command line with exit 2 and one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-usage-'));
    try {
      const env = { SWITCHBOARD_DATA_DIR: join(dir, 'data') };
      for (const [args, expected] of [
        [['bogus'], /^switchboard: unknown command "bogus"/],
        [['serve', '--bogus'], /^switchboard: Unknown option '--bogus'/],
        [['clients', 'create'], /^switchboard: clients create needs --name NAME/],
        [['clients', 'token', 'abc'], /^switchboard: clients token needs a CLIENTS_ID/],
        [['clients', 'rename'], /^switchboard: unknown command "clients rename"/],
      ] as const) {
        const result = cli([...args], env);
        assert.equal(result.status, 2, args.join(' '));
        assert.match(result.stderr, expected);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      }
      const bare = cli([], env);
      assert.equal(bare.status, 2);
      assert.match(bare.stderr, /^Usage: switchboard/);
      assert.equal(existsSync(join(dir, 'data')), false);
      console.log('checked: wrong command lines exit 2 with one line, touching no folder');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration is refused before anything opens', () => {
  it('names the variable and the value', () => {
    assert.throws(() => loadConfig({ LOG_LEVEL: 'verbose' }), /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be at most 65535, got "70000"/);
    assert.equal(loadConfig({ LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.equal(loadConfig({}).logLevel, 'info');
  });
});

describe('describeError', () => {
  it('says something readable whatever was thrown, on one line', () => {
    assert.equal(describeError({ errno: 13 }), 'EACCES', 'an emscripten errno error');
    assert.equal(describeError({ some: 'object' }), '{"some":"object"}', 'never [object Object]');
    const aggregate = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], '');
    assert.equal(describeError(aggregate), 'connect ECONNREFUSED ::1:5432');
    assert.equal(describeError(Object.assign(new Error('open failed'), { code: 'EROFS' })), 'EROFS: open failed');
    assert.equal(describeError(new Error('two\n  lines')), 'two lines');
    assert.equal(describeError('text'), 'text');
  });

  it('names the store that failed, without a password', () => {
    const pgFailure = storeFailure(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6543'), { code: 'ECONNREFUSED' }), { databaseUrl: 'postgres://u:secret@db.example:6543/sb', dataDir: './data' });
    assert.equal(pgFailure.message, 'cannot reach PostgreSQL at db.example:6543/sb: connect ECONNREFUSED 10.0.0.1:6543');
    const folderFailure = storeFailure({ errno: 28 }, { dataDir: '/nonexistent/for/sure' });
    assert.equal(folderFailure.message, 'cannot open the embedded store in /nonexistent/for/sure: ENOSPC');
  });
});

describe('commands while a server holds the folder', () => {
  it('send the admin token only to a server on this host (its URL is a loopback address)', () => {
    const server = { pid: 4242, host: hostname(), command: 'serve', since: '', nonce: 'n', url: 'http://127.0.0.1:8080', adminToken: 'sbl_x' };
    assert.equal(isAskable(server), true);
    assert.equal(isAskable({ ...server, host: `${hostname()}-elsewhere` }), false, 'a server on another host sharing the folder');
    assert.equal(isAskable({ ...server, url: undefined }), false, 'a server still starting');
    assert.equal(isAskable({ ...server, command: 'migrate' }), false, 'another command');
  });
});
