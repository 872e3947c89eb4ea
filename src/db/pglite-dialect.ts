// Kysely's bundled PGlite driver shares one connection object between concurrent callers, so
// two overlapping transactions would run their statements inside each other. PGlite is a single
// session, so this dialect hands the session out to one caller at a time (a FIFO mutex held from
// acquire to release) and runs transactions as plain SQL inside that turn.
import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { PGliteStatements } from './prepared.ts';

class SessionMutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const turn = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return turn;
  }
}

class PGliteSession implements DatabaseConnection {
  readonly pglite: PGlite;
  inTransaction = false;
  // Parses each repeated statement once for this instance (src/db/prepared.ts).
  readonly #statements: PGliteStatements;
  constructor(pglite: PGlite) {
    this.pglite = pglite;
    this.#statements = new PGliteStatements(pglite);
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#statements.query<R>(query.sql, query.parameters);
    return {
      rows: result.rows,
      numAffectedRows: result.affectedRows == null ? undefined : BigInt(result.affectedRows),
    };
  }

  // Lists page with short keyset queries (src/http/list.ts) so that no request keeps the one
  // session between batches; a cursor would hold it for as long as its reader dawdles.
  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite session: streaming is not supported; page with keyset queries instead');
  }
}

class PGliteSessionDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #mutex = new SessionMutex();
  readonly #session: PGliteSession;
  #release: (() => void) | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#session = new PGliteSession(pglite);
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return this.#session;
  }
  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const level = settings.isolationLevel ? ` ISOLATION LEVEL ${settings.isolationLevel.toUpperCase()}` : '';
    await connection.executeQuery(CompiledQuery.raw(`BEGIN${level}`));
    this.#session.inTransaction = true;
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#session.inTransaction = false;
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#session.inTransaction = false;
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }
  async destroy(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}

/** Marks a Kysely instance as running on the single PGlite session (see isSingleSession). */
class PGliteSessionAdapter extends PostgresAdapter {}

/**
 * Whether every request of the process queues for this database's one session, so that work
 * done per turn (e.g. a list batch) has to stay short.
 */
export function isSingleSession(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PGliteSessionAdapter;
}

export class PGliteSessionDialect implements Dialect {
  readonly #pglite: PGlite;
  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }
  createDriver(): Driver {
    return new PGliteSessionDriver(this.#pglite);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createAdapter() {
    return new PGliteSessionAdapter();
  }
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
}
