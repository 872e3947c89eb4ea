// Commands that change data while a server holds the embedded store's data folder: the folder is
// that server's alone, so the command asks it over HTTP, with the admin token the server keeps
// for this host's commands in its lock file (src/http/local-admin.ts). A holder that is another
// command, or a server still starting, is waited for a little.
import { hostname } from 'node:os';
import { FolderInUse, liveHolder, lockDataFolder, type FolderLock, type LockHolder } from '../db/folder-lock.ts';
import { LATEST_MIGRATION } from '../db/migrate.ts';
import { StartFailure } from '../errors.ts';
import { API_PREFIX } from '../app.ts';
import { describeError } from '../start-failure.ts';

/** How long a command waits for another command to finish with the folder, or a server to listen. */
const WAIT_MS = 15_000;

export type Outcome = { kind: 'locked'; lock: FolderLock } | { kind: 'server'; holder: LockHolder };

/** Takes the folder for `command`, or finds the server that holds it. */
export async function lockOrFindServer(dir: string, command: string): Promise<Outcome> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let inUse: FolderInUse;
    try {
      return { kind: 'locked', lock: await lockDataFolder(dir, command) };
    } catch (error) {
      if (!(error instanceof FolderInUse)) throw error;
      inUse = error;
    }
    const holder = inUse.holder;
    if (isAskable(holder)) return { kind: 'server', holder };
    if (holder.pid === 0 || Date.now() > deadline) throw inUse;
    await new Promise((r) => setTimeout(r, 200));
    // A server that is starting (or a command that is finishing) may be done by now.
    const now = await liveHolder(dir);
    if (now && isAskable(now)) return { kind: 'server', holder: now };
  }
}

/**
 * A server this command may send the admin token to: one listening on this host. The URL is a
 * loopback address, so on another host (a shared folder) it would name whatever listens there.
 */
export function isAskable(holder: LockHolder): boolean {
  return holder.command === 'serve' && !!holder.url && !!holder.adminToken && holder.host === hostname();
}

interface Credentials {
  ClientsID: number;
  Token: string;
}

export async function createClientOnServer(holder: LockHolder, input: { Name: string; TimeZone?: string }): Promise<Credentials> {
  return (await ask(holder, '/clients/create', input)) as Credentials;
}

export async function rotateTokenOnServer(holder: LockHolder, clientId: number): Promise<Credentials> {
  return (await ask(holder, `/clients/client/${clientId}/token`)) as Credentials;
}

/** `migrate` while a server runs: that server applied its migrations at start. */
export function migrationsOfServer(holder: LockHolder): string {
  if (holder.migration === LATEST_MIGRATION) {
    return `Already up to date (the running server, pid ${holder.pid}, applied every migration at its start)`;
  }
  throw new StartFailure(
    `the server running on this data folder (pid ${holder.pid}) applied migrations up to ${holder.migration ?? 'an unknown one'} `
    + `and this copy of switchboard knows up to ${LATEST_MIGRATION}: stop the server (kill ${holder.pid}) and start the newer one `
    + '(serve migrates at start), or run `switchboard migrate` once it is stopped',
  );
}

async function ask(holder: LockHolder, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${holder.url}${API_PREFIX}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${holder.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new StartFailure(`the data folder is held by a server (pid ${holder.pid}) that does not answer at ${holder.url}: ${describeError(error)}`);
  }
  const answer = await response.json().catch(() => undefined) as { records?: unknown[]; error?: string } | undefined;
  if (!response.ok || !answer?.records?.[0]) {
    throw new StartFailure(answer?.error ?? `the running server (pid ${holder.pid}) answered ${response.status}`);
  }
  return answer.records[0];
}
