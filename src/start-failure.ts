// What an operator reads when a start or a command fails: one line naming the cause. Node's
// errors, pg's, PGlite's (which may throw plain objects or emscripten errno errors) and
// AggregateError (one error per address of a host name) all come here.
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { isConnectionLoss } from './db/errors.ts';
import { StartFailure } from './errors.ts';

/** The error's message, whatever kind of thing was thrown, on one line. */
export function describeError(error: unknown, depth = 0): string {
  const text = rawDescription(error, depth);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

function rawDescription(error: unknown, depth: number): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, errno, errors, cause } = error as { message?: unknown; code?: unknown; errno?: unknown; errors?: unknown; cause?: unknown };
  if (Array.isArray(errors) && errors.length > 0 && depth < 3 && !message) return describeError(errors[0], depth + 1);
  // Node's and libc's codes (EACCES …) say what the message may not; our own and PostgreSQL's do not.
  const name = typeof code === 'string' ? (/^E[A-Z0-9_]+$/.test(code) ? code : undefined) : typeof errno === 'number' ? errnoName(errno) : undefined;
  let text = typeof message === 'string' ? message : '';
  if (name && !text.includes(name)) text = text ? `${name}: ${text}` : name;
  if (!text && cause && depth < 3) return describeError(cause, depth + 1);
  if (!text) {
    try {
      text = JSON.stringify(error);
    } catch {
      text = Object.prototype.toString.call(error);
    }
  }
  return text;
}

/** emscripten's FS errors (PGlite's files) carry a POSIX errno number only. */
function errnoName(errno: number): string | undefined {
  const entry = Object.entries(constants.errno).find(([, value]) => value === errno);
  return entry?.[0];
}

/** Which store a start opened, to say what failed. */
export function storeFailure(error: unknown, where: { databaseUrl?: string; dataDir: string }): StartFailure {
  if (error instanceof StartFailure) return error;
  if (where.databaseUrl) {
    const target = describeDatabase(where.databaseUrl);
    if (isConnectionLoss(error)) return new StartFailure(`cannot reach PostgreSQL at ${target}: ${describeError(error)}`);
    return new StartFailure(`cannot open the PostgreSQL database at ${target}: ${describeError(error)}`);
  }
  const unwritable = firstUnwritable(where.dataDir);
  // PGlite reports a file it may not write as an abort of its WebAssembly build, naming nothing.
  if (unwritable) return new StartFailure(`cannot open the embedded store in ${where.dataDir}: ${unwritable} is not writable (EACCES); fix the folder's permissions`);
  return new StartFailure(`cannot open the embedded store in ${where.dataDir}: ${describeError(error)}`);
}

/** The first of the data folder's main files this process may not write, if any. */
function firstUnwritable(dataDir: string): string | undefined {
  for (const name of ['PG_VERSION', 'global', join('global', 'pg_control'), 'base', 'pg_wal']) {
    const path = join(dataDir, name);
    try {
      accessSync(path, fsConstants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return path;
    }
  }
  return undefined;
}

/** host:port/database of a URL, without its password. */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** Why listening failed, naming HOST and PORT. */
export function listenFailure(error: unknown, host: string, port: number): StartFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return new StartFailure(`port ${port} on ${host} is already in use (EADDRINUSE); stop what listens there or set PORT to another port`);
  if (code === 'EACCES') return new StartFailure(`not allowed to listen on port ${port} (EACCES); use a port above 1023 or run with the right to bind it`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new StartFailure(`HOST ${host} is not an address of this machine (${code}); set HOST to one (0.0.0.0 for all)`);
  return new StartFailure(`cannot listen on ${host}:${port}: ${describeError(error)}`);
}
