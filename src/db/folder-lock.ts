// The embedded store's data folder belongs to one process at a time: PGlite is a single-user
// PostgreSQL, and two processes writing one folder hand out IDs twice and lose commits.
//
// The lock is the file `switchboard.lock` in the folder, created atomically (a fully written
// temporary file hard-linked to that name, which fails if it exists). Whether its holder still
// lives is not judged by its pid, which another process may reuse (a container restarted as pid 1
// again) or which may belong to another pid namespace (two containers sharing a volume): the
// holder listens on a Unix socket in the folder, named in the lock, before the lock exists, and
// the kernel closes it whatever way the holder dies. A lock whose socket refuses connections is
// stale and is taken over (under a takeover mutex, so two starters cannot both take it). Where a
// socket cannot live in the folder (too long a path, a file system without sockets, Windows) the
// pid on this host stands in.
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StartFailure } from '../errors.ts';

export const LOCK_FILE = 'switchboard.lock';

/** What the lock file tells about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The command holding the folder: `serve`, `migrate`, `clients create` … */
  command: string;
  since: string;
  /** Identifies this lock among successive ones. */
  nonce: string;
  /** The Unix socket the holder listens on while it lives; absent where none could be made. */
  socket?: string;
  /** A server, once it listens: the URL this host reaches it at. */
  url?: string;
  /** A server, once it listens: an admin token valid for this process only (see src/http/local-admin.ts). */
  adminToken?: string;
  /** A server: the last migration it applied at start. */
  migration?: string;
}

export interface FolderLock {
  readonly dir: string;
  readonly holder: LockHolder;
  /** Adds what a server knows once it listens; the file is replaced atomically. */
  update(patch: Partial<Pick<LockHolder, 'url' | 'adminToken' | 'migration'>>): void;
  release(): void;
}

/** The folder is held by a live process; `holder` says which. */
export class FolderInUse extends StartFailure {
  readonly holder: LockHolder;
  readonly dir: string;
  constructor(dir: string, holder: LockHolder) {
    if (holder.pid === 0) {
      super(`the data folder ${dir} is in use by another user's process (its lock file ${join(dir, LOCK_FILE)} is not readable to this user); run the command as that user`);
      this.holder = holder;
      this.dir = dir;
      return;
    }
    const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.host}`;
    const serving = holder.url ? `, serving ${holder.url}` : '';
    const hint = holder.host === hostname() || holder.socket
      ? `stop it first (kill ${holder.pid}) or set SWITCHBOARD_DATA_DIR to another folder`
      : `if that process is gone, delete ${join(dir, LOCK_FILE)}`;
    super(`the data folder ${dir} is in use by switchboard ${holder.command} (${where}${serving}); ${hint}`);
    this.holder = holder;
    this.dir = dir;
  }
}

/** A takeover that crashed leaves its mutex behind; after this long it is not a takeover any more. */
const TAKEOVER_STALE_MS = 10_000;
/** Longest Unix socket path every platform accepts (sun_path is 104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;

/** Whether a configuration names a data folder of the embedded store (not memory, not PostgreSQL). */
export function usesDataFolder(config: { databaseUrl: string | undefined; dataDir: string }): boolean {
  return !config.databaseUrl && !config.dataDir.startsWith('memory://');
}

/** Takes the data folder for this process, or throws FolderInUse naming the live holder. */
export async function lockDataFolder(dir: string, command: string): Promise<FolderLock> {
  const absolute = resolve(dir);
  try {
    mkdirSync(absolute, { recursive: true });
  } catch (error) {
    throw folderFailure(dir, 'cannot create the data folder', error);
  }
  const nonce = randomBytes(8).toString('hex');
  const socket = await listenOnSocket(absolute, nonce);
  const holder: LockHolder = {
    pid: process.pid, host: hostname(), command, since: new Date().toISOString(), nonce,
    ...(socket && { socket: socket.name }),
  };
  try {
    for (let attempt = 0; ; attempt++) {
      if (createLockFile(absolute, dir, holder)) break;
      const current = await liveHolder(absolute);
      if (current) throw new FolderInUse(dir, current);
      if (attempt >= 20) throw new StartFailure(`cannot take the data folder ${dir}: its lock keeps changing hands`);
      await takeOverStaleLock(absolute);
    }
  } catch (error) {
    socket?.server.close();
    throw error;
  }
  return newFolderLock(absolute, dir, holder, socket?.server);
}

/** The live holder of the folder's lock, or undefined when it is free or its holder is gone. */
export async function liveHolder(dir: string): Promise<LockHolder | undefined> {
  const absolute = resolve(dir);
  const holder = readHolder(absolute);
  if (holder === undefined) return undefined;
  if (holder === 'unreadable') {
    // Not ours to read (another user's process): assume it lives rather than corrupt its data.
    return { pid: 0, host: 'unknown', command: 'unknown', since: '', nonce: '' };
  }
  return (await holderLives(absolute, holder)) ? holder : undefined;
}

function newFolderLock(absolute: string, dir: string, holder: LockHolder, server: Server | undefined): FolderLock {
  const lockPath = join(absolute, LOCK_FILE);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only our own lock: a folder someone else took over (after we hung) is theirs.
    const current = readHolder(absolute);
    if (typeof current === 'object' && current.nonce === holder.nonce) {
      try {
        unlinkSync(lockPath);
      } catch { /* gone already */ }
    }
    server?.close();
  };
  // A process that ends without releasing (an uncaught error, process.exit) still frees the folder.
  process.on('exit', release);
  return {
    dir,
    holder,
    update(patch) {
      Object.assign(holder, patch);
      const temporary = `${lockPath}.${holder.nonce}.tmp`;
      writeWhole(temporary, holder);
      renameSync(temporary, lockPath);
    },
    release,
  };
}

/** Creates the lock file with the holder in it, all or nothing; false when it exists. */
function createLockFile(absolute: string, dir: string, holder: LockHolder): boolean {
  const lockPath = join(absolute, LOCK_FILE);
  const temporary = `${lockPath}.${holder.nonce}.tmp`;
  try {
    writeWhole(temporary, holder);
  } catch (error) {
    throw folderFailure(dir, 'cannot write to the data folder', error);
  }
  try {
    linkSync(temporary, lockPath);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    // No hard links on this file system: an exclusive create, written at once, does the same
    // but for a moment in which a reader finds the file empty (readHolder waits that out).
    return exclusiveCreate(lockPath, dir, holder);
  } finally {
    try {
      unlinkSync(temporary);
    } catch { /* already gone */ }
  }
}

function exclusiveCreate(lockPath: string, dir: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw folderFailure(dir, 'cannot write to the data folder', error);
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

function writeWhole(path: string, holder: LockHolder): void {
  // 0600: the file carries a server's process-local admin token.
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
}

function readHolder(absolute: string): LockHolder | 'unreadable' | undefined {
  const lockPath = join(absolute, LOCK_FILE);
  for (let tries = 0; tries < 50; tries++) {
    let text: string;
    try {
      text = readFileSync(lockPath, 'utf8');
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      if (code === 'EACCES' || code === 'EPERM') return 'unreadable';
      throw error;
    }
    try {
      return JSON.parse(text) as LockHolder;
    } catch {
      // Written by exclusiveCreate this very moment, or torn by a crash during that moment.
      if (Date.now() - statMtime(lockPath) > 2000) return { pid: 0, host: '', command: 'unknown', since: '', nonce: 'torn' };
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  return { pid: 0, host: '', command: 'unknown', since: '', nonce: 'torn' };
}

async function holderLives(absolute: string, holder: LockHolder): Promise<boolean> {
  if (holder.nonce === 'torn') return false;
  if (holder.socket) return socketAnswers(join(absolute, holder.socket));
  if (holder.host !== hostname()) return true; // cannot tell: the message says what to do
  if (holder.pid === process.pid) return false; // a previous life of this pid
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const connection = createConnection(path);
    const done = (lives: boolean) => {
      clearTimeout(timer);
      connection.destroy();
      resolvePromise(lives);
    };
    // A live holder's kernel accepts at once, even when the process is stopped or busy.
    const timer = setTimeout(() => done(true), 2000);
    connection.once('connect', () => done(true));
    connection.once('error', (error) => {
      const code = errorCode(error);
      done(!(code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTSOCK'));
    });
  });
}

/** Removes a stale lock under a mutex, re-checking inside it that it is still stale. */
async function takeOverStaleLock(absolute: string): Promise<void> {
  const mutex = join(absolute, `${LOCK_FILE}.takeover`);
  try {
    mkdirSync(mutex);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    if (Date.now() - statMtime(mutex) > TAKEOVER_STALE_MS) {
      try {
        rmdirSync(mutex);
      } catch { /* another starter cleared it */ }
    } else {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
    return;
  }
  try {
    const holder = readHolder(absolute);
    if (typeof holder === 'object' && !(await holderLives(absolute, holder))) {
      try {
        unlinkSync(join(absolute, LOCK_FILE));
      } catch { /* gone already */ }
      if (holder.socket) {
        try {
          unlinkSync(join(absolute, holder.socket));
        } catch { /* the holder's socket file went with it */ }
      }
    }
  } finally {
    rmdirSync(mutex);
  }
}

/** Listens on a socket of this lock's own in the folder; undefined where that is not possible. */
async function listenOnSocket(absolute: string, nonce: string): Promise<{ name: string; server: Server } | undefined> {
  const name = `.switchboard-${nonce}.sock`;
  const path = join(absolute, name);
  if (process.platform === 'win32' || Buffer.byteLength(path) > MAX_SOCKET_PATH) return undefined;
  const server = createServer((connection) => connection.end());
  const listening = await new Promise<boolean>((resolvePromise) => {
    server.once('error', () => resolvePromise(false));
    server.listen(path, () => resolvePromise(true));
  });
  if (!listening) return undefined;
  server.unref(); // the lock must not keep a finished command alive
  return { name, server };
}

function folderFailure(dir: string, what: string, error: unknown): StartFailure {
  const code = errorCode(error);
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EROFS' ? 'read-only file system'
      : code === 'ENOTDIR' ? 'a file of that name is in the way'
        : code === 'ENOSPC' ? 'no space left on the device'
          : (error as Error).message;
  return new StartFailure(`${what} ${dir} (${code ?? 'error'}: ${why}); fix its permissions or set SWITCHBOARD_DATA_DIR to a writable folder`);
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
