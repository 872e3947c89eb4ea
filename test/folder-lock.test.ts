// The embedded store's data folder lock: one holder at a time, the holder named, a holder that
// died (even by SIGKILL, even with its pid reused) taken over, and a race for a stale lock won
// by exactly one process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FolderInUse, LOCK_FILE, liveHolder, lockDataFolder } from '../src/db/folder-lock.ts';
import { StartFailure } from '../src/errors.ts';

const LOCK_MODULE = new URL('../src/db/folder-lock.ts', import.meta.url).pathname;

async function inTempFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-lock-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A child process that takes the folder, says so on stdout, and waits to be killed. */
async function holdInChild(dir: string): Promise<{ pid: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { lockDataFolder } = await import(${JSON.stringify(LOCK_MODULE)});
    await lockDataFolder(${JSON.stringify(dir)}, 'serve');
    console.log('locked');
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    async kill() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A pid that no process has now. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('data folder lock', () => {
  it('refuses a second holder, naming the first one\'s pid, and frees the folder on release', () => inTempFolder(async (dir) => {
    const lock = await lockDataFolder(dir, 'serve');
    const refused = await lockDataFolder(dir, 'migrate').then(() => undefined, (error: unknown) => error);
    assert.ok(refused instanceof FolderInUse, String(refused));
    assert.match(refused.message, new RegExp(`in use by switchboard serve \\(pid ${process.pid}\\)`));
    assert.equal((await liveHolder(dir))?.pid, process.pid);
    lock.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'the lock file is gone');
    assert.deepEqual(readdirSync(dir), [], 'and so is its socket');
    assert.equal(await liveHolder(dir), undefined);
    (await lockDataFolder(dir, 'migrate')).release();
    console.log('checked: a second holder is refused with the first one\'s pid; release frees the folder');
  }));

  it('keeps the server\'s URL and token in a file only its owner reads', () => inTempFolder(async (dir) => {
    const lock = await lockDataFolder(dir, 'serve');
    lock.update({ url: 'http://127.0.0.1:1', adminToken: 'sbl_x', migration: '009' });
    const stored = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    assert.equal(stored.url, 'http://127.0.0.1:1');
    assert.equal(stored.adminToken, 'sbl_x');
    assert.equal(statSync(join(dir, LOCK_FILE)).mode & 0o777, 0o600);
    assert.equal((await liveHolder(dir))?.url, 'http://127.0.0.1:1');
    lock.release();
    console.log('checked: the lock carries the URL and local admin token, mode 0600');
  }));

  it('takes over the lock of a holder killed with SIGKILL, and refuses while it lived', () => inTempFolder(async (dir) => {
    const holder = await holdInChild(dir);
    const refused = await lockDataFolder(dir, 'serve').then(() => undefined, (error: unknown) => error);
    assert.ok(refused instanceof FolderInUse);
    assert.equal(refused.holder.pid, holder.pid);
    await holder.kill();
    assert.ok(existsSync(join(dir, LOCK_FILE)), 'SIGKILL left the lock file behind');
    const lock = await lockDataFolder(dir, 'serve');
    assert.equal(lock.holder.pid, process.pid);
    assert.equal(readdirSync(dir).filter((name) => name.endsWith('.sock')).length, 1, 'the dead holder\'s socket was removed');
    lock.release();
    console.log('checked: a live holder in another process is refused; after its SIGKILL the lock is taken over');
  }));

  it('does not trust a pid: a lock naming a live pid whose socket is dead is stale', () => inTempFolder(async (dir) => {
    // pid 1 lives (and so does this process): a pid check would refuse forever.
    for (const pid of [1, process.pid]) {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), command: 'serve', since: '', nonce: 'old', socket: '.switchboard-old.sock' }));
      writeFileSync(join(dir, '.switchboard-old.sock'), '');
      const lock = await lockDataFolder(dir, 'serve');
      assert.equal(lock.holder.pid, process.pid);
      assert.equal(existsSync(join(dir, '.switchboard-old.sock')), false);
      lock.release();
    }
    console.log('checked: a reused pid (1, or our own) does not keep a dead lock alive');
  }));

  it('without a socket, judges by the pid on this host', () => inTempFolder(async (dir) => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), command: 'serve', since: '', nonce: 'a' }));
    await assert.rejects(lockDataFolder(dir, 'serve'), FolderInUse);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', command: 'serve', since: '', nonce: 'b' }));
    await assert.rejects(lockDataFolder(dir, 'serve'), (error: Error) => /on host elsewhere.*if that process is gone, delete/.test(error.message));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), command: 'serve', since: '', nonce: 'c' }));
    (await lockDataFolder(dir, 'serve')).release();
    console.log('checked: socketless locks: live pid refused, other host refused with what to do, dead pid taken over');
  }));

  it('lets exactly one of many processes racing for a stale lock win', () => inTempFolder(async (dir) => {
    const holder = await holdInChild(dir);
    await holder.kill();
    // The winner holds on until every racer has spoken, so none can win after it let go.
    const children: ReturnType<typeof spawn>[] = [];
    const racers = Array.from({ length: 6 }, () => new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', `
        const { lockDataFolder } = await import(${JSON.stringify(LOCK_MODULE)});
        try { await lockDataFolder(${JSON.stringify(dir)}, 'serve'); console.log('won'); setInterval(() => {}, 1000); }
        catch (error) { console.log(error.constructor.name); }
      `], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', () => resolve('exited without a word'));
    }));
    const outcomes = await Promise.all(racers);
    for (const child of children) child.kill('SIGKILL');
    assert.equal(outcomes.filter((o) => o === 'won').length, 1, outcomes.join(', '));
    assert.ok(outcomes.every((o) => o === 'won' || o === 'FolderInUse'), outcomes.join(', '));
    console.log(`checked: 6 racers for a stale lock: ${outcomes.join(', ')}`);
  }));

  it('names the folder and the cause when it cannot be made', () => inTempFolder(async (dir) => {
    writeFileSync(join(dir, 'file'), '');
    const error = await lockDataFolder(join(dir, 'file', 'data'), 'serve').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof StartFailure);
    assert.match(error.message, /cannot create the data folder .*file\/data \(ENOTDIR/);
    console.log('checked: a folder that cannot be made is named with its cause');
  }));
});
