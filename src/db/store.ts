// The two stores behind one Kysely PostgreSQL dialect: PGlite in a data folder (embedded
// default) and PostgreSQL through a pg pool (production, many instances).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteSessionDialect } from './pglite-dialect.ts';
import { preparingClient } from './prepared.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

export type StoreKind = 'pglite' | 'postgres';

export interface Store {
  kind: StoreKind;
  db: Kysely<Database>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  /** Folder for PGlite; `memory://` or undefined keeps it in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  migrate?: boolean;
  /**
   * PostgreSQL: send repeated parameterized statements named (prepared once per connection);
   * default true. Turn off behind a pooler that moves clients between server connections per
   * transaction without tracking prepared statements (PgBouncer < 1.21, or max_prepared_statements
   * at 0). PGlite, in process, always names them.
   */
  preparedStatements?: boolean;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize, options.preparedStatements !== false)
    : await openPGlite(options.dataDir);
  if (options.migrate !== false) await migrateToLatest(store.db);
  return store;
}

function openPostgres(url: string, poolSize = 10, prepared = true): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, ...(prepared && { Client: preparingClient() }) });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kind: 'postgres', db, close: () => db.destroy() };
}

async function openPGlite(dataDir?: string): Promise<Store> {
  let pglite: PGlite;
  if (!dataDir || dataDir.startsWith('memory://')) {
    pglite = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    pglite = new PGlite(dataDir);
  }
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteSessionDialect(pglite) });
  return { kind: 'pglite', db, close: () => db.destroy() };
}

export async function isReachable(store: Store): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}
