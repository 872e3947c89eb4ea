// Kysely's bundled PGlite driver shares one connection object between concurrent callers, so
// two overlapping transactions would run their statements inside each other. PGlite is a single
// session, so this dialect hands the session out to one caller at a time (a FIFO mutex held from
// acquire to release) and runs transactions and cursors as plain SQL inside that turn.
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
  constructor(pglite: PGlite) {
    this.pglite = pglite;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(query.sql, query.parameters as unknown[], { rowMode: 'object' });
    return {
      rows: result.rows,
      numAffectedRows: result.affectedRows == null ? undefined : BigInt(result.affectedRows),
    };
  }

  // Streams through a server-side cursor so a large list never sits whole in memory.
  async *streamQuery<R>(query: CompiledQuery, chunkSize = 1000): AsyncIterableIterator<QueryResult<R>> {
    const ownTransaction = !this.inTransaction;
    let finished = !ownTransaction;
    if (ownTransaction) await this.pglite.query('BEGIN');
    try {
      await this.pglite.query(`DECLARE switchboard_stream NO SCROLL CURSOR FOR ${query.sql}`, query.parameters as unknown[]);
      for (;;) {
        const { rows } = await this.pglite.query<R>(`FETCH ${Math.max(1, chunkSize | 0)} FROM switchboard_stream`);
        if (rows.length === 0) break;
        yield { rows };
      }
      await this.pglite.query('CLOSE switchboard_stream');
      if (ownTransaction) await this.pglite.query('COMMIT');
      finished = true;
    } finally {
      // Reached on errors and when the consumer stops early (the client went away).
      if (!finished) await this.pglite.query('ROLLBACK').catch(() => undefined);
    }
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
    return new PostgresAdapter();
  }
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
}
