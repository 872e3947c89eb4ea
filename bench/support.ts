// Shared ground for the benchmark scripts: a throw-away PostgreSQL database on the server that
// DATABASE_URL names, a tenant with one standalone group, and the create body a telephony
// integration would send for a callback request.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from '../src/db/schema.ts';
import { createClient } from '../src/modules/clients/service.ts';

export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function postgresServerUrl(): string {
  return process.env.DATABASE_URL?.trim() || DEFAULT_SERVER_URL;
}

async function onServer(serverUrl: string, ...statements: string[]): Promise<Record<string, unknown>[]> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    let rows: Record<string, unknown>[] = [];
    for (const statement of statements) rows = (await admin.query(statement)).rows;
    return rows;
  } finally {
    await admin.end();
  }
}

// Ctrl-C (or a kill) skips `finally`: what a benchmark changed on a shared server is undone on the
// way out all the same, innermost first, by one handler.
const undoOnInterrupt: (() => Promise<unknown>)[] = [];
let interruptHandled = false;

async function undoing<T>(undo: () => Promise<unknown>, work: () => Promise<T>): Promise<T> {
  if (!interruptHandled) {
    interruptHandled = true;
    const interrupted = (signal: NodeJS.Signals) => {
      void (async () => {
        for (const step of undoOnInterrupt.splice(0).reverse()) await step().catch(() => undefined);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      })();
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
  }
  undoOnInterrupt.push(undo);
  try {
    return await work();
  } finally {
    undoOnInterrupt.splice(undoOnInterrupt.indexOf(undo), 1);
    await undo();
  }
}

/**
 * `work` with the server's autovacuum on (ALTER SYSTEM and a reload, reset afterwards) when it is
 * off: the machines here run PostgreSQL without it, and a sustained benchmark must not.
 */
export async function withAutovacuum<T>(work: () => Promise<T>): Promise<T> {
  const serverUrl = postgresServerUrl();
  const [{ autovacuum }] = await onServer(serverUrl, 'SHOW autovacuum');
  if (autovacuum === 'on') return work();
  await onServer(serverUrl, 'ALTER SYSTEM SET autovacuum = on', 'SELECT pg_reload_conf()');
  return undoing(() => onServer(serverUrl, 'ALTER SYSTEM RESET autovacuum', 'SELECT pg_reload_conf()'), work);
}

/**
 * Runs `work` with this process's scheduling group ahead of the database's backends: Linux's
 * autogroup (one per session) at nice -10, set back after. On one host a backend woken by the
 * process's write often takes over the writer's core, stalling the event loop for everything
 * else under way; a heavier group keeps the core (README, "Sharing a host with PostgreSQL"). Answers
 * what was set, or null where the kernel has no autogroups or refuses (not root, no CAP_SYS_NICE).
 */
export async function withCpuPriority<T>(work: (set: string | null) => Promise<T>): Promise<T> {
  const file = '/proc/self/autogroup';
  let before: string;
  try {
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() !== '1') {
      console.log('CPU priority not raised: the kernel does not group processes by session (sched_autogroup_enabled is 0)');
      return work(null);
    }
    before = /nice (-?\d+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '0';
    writeFileSync(file, '-10');
  } catch (error) {
    console.log(`CPU priority not raised: ${(error as Error).message}`);
    return work(null);
  }
  return undoing(async () => writeFileSync(file, before), () => work(`autogroup nice -10 (was ${before})`));
}

/**
 * Runs `work` against a database created for it alone and drops that database afterwards, also
 * when `work` fails or the benchmark is interrupted, so it leaves nothing behind on a shared server.
 */
export async function withFreshDatabase<T>(prefix: string, work: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = postgresServerUrl();
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return undoing(() => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`), () => work(url.toString()));
}

export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BenchTenant {
  clientId: number;
  token: string;
  groupId: number;
}

/**
 * A client account with one standalone group that keeps every repeated request as its own event
 * (bAvoidDuplicateEvents off), so each create under load really inserts a row.
 */
export async function setUpTenant(db: Kysely<Database>, name: string): Promise<BenchTenant> {
  const { ClientsID, Token } = await createClient(db, { Name: name, TimeZone: 'Europe/Berlin' });
  const group = await db
    .insertInto('acd_groups')
    .values({ client_id: ClientsID, name: 'Callback queue', group_type: 'Standalone', b_avoid_duplicate_events: false })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { clientId: ClientsID, token: Token, groupId: group.id };
}

/** What a web form's callback request looks like on POST /acd/events/create. */
export function callbackRequest(groupId: number) {
  return {
    AcdEventTypesID: 3,
    AcdGroupsID: groupId,
    Sender: '+49891234567',
    Subject: 'Callback request: contract question',
    Body: 'Customer asks to be called back about the renewal of contract 4711-0815 before Friday.',
    UserData: 'webform-7f3a9c',
  };
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function residentBytes(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * CPU seconds used so far by this process and by the PostgreSQL backends serving this database
 * (a server on this machine: read from /proc; 0 for the backends when it is elsewhere). Taken
 * before and after a run, it gives CPU per operation: a figure the other work on a noisy machine
 * barely moves, unlike times.
 */
export async function cpuSeconds(db: Kysely<Database>, postgres: boolean): Promise<{ self: number; backends: Map<number, number> }> {
  const { user, system } = process.cpuUsage();
  const backends = new Map<number, number>();
  if (postgres) {
    const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db);
    for (const { pid } of rows) {
      try {
        // Fields 14 and 15 of /proc/PID/stat (after the parenthesised name): user and system ticks.
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
        backends.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // Not on this machine, or gone.
      }
    }
  }
  return { self: (user + system) / 1e6, backends };
}

/** CPU milliseconds per operation between two cpuSeconds readings: this process, and the backends. */
export function cpuPerOperation(before: Awaited<ReturnType<typeof cpuSeconds>>, after: Awaited<ReturnType<typeof cpuSeconds>>, operations: number): { self: number; postgres: number } {
  let backends = 0;
  for (const [pid, seconds] of after.backends) backends += seconds - (before.backends.get(pid) ?? 0);
  const per = (seconds: number) => round((seconds * 1000) / Math.max(operations, 1), 3);
  return { self: per(after.self - before.self), postgres: per(backends) };
}
