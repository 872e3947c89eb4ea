// Named (prepared) statements under Kysely, on both stores. Kysely sends every query unnamed, so
// the server parses and plans the same text on each call; naming it lets a session Parse once and
// then only Bind and Execute, which more than halves a short statement's cost. Kysely never
// notices: the pg client and the PGlite session below swap the unnamed send for a named one.
import { createHash } from 'node:crypto';
import { type PGlite, type Results, parse as pgliteParse, protocol } from '@electric-sql/pglite';
import pg from 'pg';
import { ENDS_TRANSACTION, forgetParsed, isParsed, OPENS_TRANSACTION, queryLedBy, unsentResult } from './leading-begin.ts';

/** Text → statement name, for the texts worth keeping parsed in every session. */
export class StatementRegistry {
  readonly capacity: number;
  // '' marks a text given up on (renamed too often): it stays unnamed for good.
  readonly #names = new Map<string, string>();
  readonly #generations = new Map<string, number>();
  readonly #taken = new Set<string>();

  constructor(capacity = 500) {
    this.capacity = capacity;
  }

  /**
   * The name to send `text` under, or undefined to send it unnamed. Each session keeps every
   * statement it has parsed until it closes, so the registry admits a bounded number of texts
   * (first come, first kept: hot statements run early): SQL built from input (IN lists of any
   * length, optional filters) cannot grow the server's memory without limit.
   */
  nameFor(text: string): string | undefined {
    const name = this.#names.get(text);
    if (name !== undefined) return name || undefined;
    if (this.#names.size >= this.capacity) return undefined;
    return this.#admit(text, 0);
  }

  /**
   * Stops using `name` for `text`, whose parsed form went stale (see isStaleStatement). The text
   * comes back under a fresh name so each session parses it anew; sessions still holding the
   * old name keep it until they close, so after a few renames the text stays unnamed instead.
   */
  retire(text: string, name: string): void {
    if (this.#names.get(text) !== name) return; // another session already renamed it
    const generation = (this.#generations.get(text) ?? 0) + 1;
    if (generation > MAX_RENAMES) this.#names.set(text, '');
    else this.#admit(text, generation);
  }

  #admit(text: string, generation: number): string | undefined {
    const name = `sb_${createHash('sha256').update(text).digest('hex').slice(0, 24)}${generation ? `_${generation}` : ''}`;
    // A different text behind the same name would run the wrong statement: never share one.
    if (this.#taken.has(name)) {
      this.#names.set(text, '');
      return undefined;
    }
    this.#taken.add(name);
    this.#names.set(text, name);
    this.#generations.set(text, generation);
    return name;
  }
}

const MAX_RENAMES = 4;

/** The process's registry: ~500 texts covers every query the API builds, a few times over. */
export const statements = new StatementRegistry();

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

/**
 * Whether a named statement failed only because of its name, so the same SQL sent unnamed would
 * run: its result columns changed under it (a migration altered a table behind `SELECT *` or
 * `RETURNING *`; `routine` is checked because the message may be translated), or the session
 * lost it or already had it (DISCARD ALL, or a pooler such as PgBouncer in transaction mode
 * without prepared-statement support moving us between server connections).
 */
export function isStaleStatement(error: unknown): boolean {
  const code = codeOf(error);
  if (code === '26000' || code === '42P05') return true;
  if (code !== '0A000') return false;
  const { routine, message } = error as { routine?: string; message?: string };
  return routine === 'RevalidateCachedQuery' || /cached plan must not change result type/.test(message ?? '');
}

/**
 * The unnamed retry of a stale statement. Inside a transaction the failed attempt has already
 * aborted it, so the retry can only say "current transaction is aborted" (25P02): the caller
 * gets the first error instead, which names the real cause.
 */
async function retryUnnamed<T>(run: () => Promise<T>, first: unknown): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw codeOf(error) === '25P02' ? first : error;
  }
}

/**
 * A pg Client class for pg.Pool's `Client` option. Kysely calls `query(text, values)` without a
 * callback; with parameters and an admitted text that becomes `{ name, text, values }`, which pg
 * parses once per connection and remembers. Parameterless statements (COMMIT, DDL) have nothing
 * to reuse and stay unnamed, as do cursors and callback calls. A transaction's BEGIN, named too,
 * is held back and sent with the transaction's first statement (src/db/leading-begin.ts).
 */
export function preparingClient(registry: StatementRegistry = statements): typeof pg.Client {
  return class PreparingClient extends pg.Client {
    /** A BEGIN held back for the next statement: its name (parsed on this connection) and text. */
    #held: { name: string; text: string } | null = null;

    override query(config: any, values?: any, callback?: any): any {
      if (typeof config !== 'string' || callback !== undefined || (values !== undefined && !Array.isArray(values))) {
        // A submittable (a COPY stream) or a callback call: a held BEGIN goes first, on its own.
        // pg runs a client's queries in order; should that BEGIN fail, the connection is gone.
        this.#release()?.catch(() => undefined);
        return super.query(config, values, callback);
      }
      const params: unknown[] = values ?? [];
      if (params.length === 0 && this.#held === null && OPENS_TRANSACTION.test(config)) {
        const name = registry.nameFor(config);
        if (name !== undefined && isParsed(this, name)) {
          this.#held = { name, text: config };
          return Promise.resolve(unsentResult(config));
        }
        // The connection's first: parsed under its name, so that the next ones can be held.
        if (name !== undefined) return super.query({ name, text: config, values: [] });
      }
      const held = this.#take();
      if (held !== null && params.length === 0 && ENDS_TRANSACTION.test(config)) return Promise.resolve(unsentResult(config));
      const name = params.length > 0 ? registry.nameFor(config) : undefined;
      if (held !== null) return this.#led(held.name, name, config, params);
      if (name !== undefined) return this.#named(name, config, params);
      return super.query(config, values);
    }

    /** The held BEGIN, if any, no longer held: whoever takes it sends it. */
    #take(): { name: string; text: string } | null {
      const held = this.#held;
      this.#held = null;
      return held;
    }

    /** Sends a held BEGIN on its own. */
    #release(): Promise<pg.QueryResult> | undefined {
      const held = this.#take();
      return held === null ? undefined : super.query({ name: held.name, text: held.text, values: [] });
    }

    async #named(name: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
      try {
        return await super.query({ name, text, values });
      } catch (error) {
        if (!isStaleStatement(error)) throw error;
        registry.retire(text, name);
        return retryUnnamed(() => super.query(text, values), error);
      }
    }

    /**
     * The statement led by the held BEGIN. No unnamed retry here: had BEGIN not run, the retry
     * would run outside the transaction. A BEGIN the session lost is parsed again next time.
     */
    async #led(lead: string, name: string | undefined, text: string, values: unknown[]): Promise<pg.QueryResult> {
      try {
        return await queryLedBy((query) => super.query(query as pg.QueryConfig), name === undefined ? { text, values } : { name, text, values }, lead);
      } catch (error) {
        if (name !== undefined && isStaleStatement(error)) registry.retire(text, name);
        if (codeOf(error) === '26000') forgetParsed(this, lead);
        throw error;
      }
    }
  };
}

function frame(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const wire = protocol.serialize;
const OBJECT_ROWS = { rowMode: 'object' } as const;

/**
 * Runs statements on one PGlite instance, named where the registry admits the text. The caller
 * holds the session (the dialect's mutex), so nothing interleaves with a Parse/Bind exchange.
 * The result is what `pglite.query(text, params, { rowMode: 'object' })` returns for the rows
 * and the affected-row count: parameters go through the same serializers, chosen by the
 * parameter types the server inferred, and rows through the same parsers.
 */
export class PGliteStatements {
  readonly #pglite: PGlite;
  readonly #registry: StatementRegistry;
  /** Statement name → its parameter type OIDs, for each statement this instance has parsed. */
  readonly #parsed = new Map<string, number[]>();

  constructor(pglite: PGlite, registry: StatementRegistry = statements) {
    this.#pglite = pglite;
    this.#registry = registry;
  }

  async query<R>(text: string, params: readonly unknown[]): Promise<Results<R>> {
    const name = params.length > 0 ? this.#registry.nameFor(text) : undefined;
    if (name === undefined) return this.#pglite.query<R>(text, params as unknown[], OBJECT_ROWS);
    try {
      return await this.#named<R>(name, text, params);
    } catch (error) {
      if (!isStaleStatement(error)) throw error;
      this.#registry.retire(text, name);
      await this.#close(name);
      return retryUnnamed(() => this.#pglite.query<R>(text, params as unknown[], OBJECT_ROWS), error);
    }
  }

  async #named<R>(name: string, text: string, params: readonly unknown[]): Promise<Results<R>> {
    let types = this.#parsed.get(name);
    if (types === undefined) {
      // Close first: should a Parse ever have succeeded without our noting it, parsing the name
      // again would fail. Closing a name that does not exist is not an error.
      const described = await this.#exchange(
        frame([wire.close({ type: 'S', name }), wire.parse({ name, text, types: [] }), wire.describe({ type: 'S', name }), wire.sync()]),
        text, params, false,
      );
      types = pgliteParse.parseDescribeStatementResults(described);
      this.#parsed.set(name, types);
    }
    const values = params.map((value, i) => this.#serialize(value, types[i]));
    // Sync in the same frame: an error still ends the exchange as pglite.query's does, leaving
    // the session idle, or inside BEGIN aborted until ROLLBACK.
    const messages = await this.#exchange(
      frame([wire.bind({ statement: name, values }), wire.describe({ type: 'P' }), wire.execute({}), wire.sync()]),
      text, params, true,
    );
    return pgliteParse.parseResults(messages, this.#pglite.parsers, OBJECT_ROWS)[0] as Results<R>;
  }

  /** As pglite.query does: by the parameter's type, else toString; null and undefined are NULL. */
  #serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : this.#pglite.serializers[type];
    return serializer ? serializer(value) : (value as { toString(): string }).toString();
  }

  async #exchange(message: Uint8Array, text: string, params: readonly unknown[], syncToFs: boolean) {
    const pglite = this.#pglite;
    if (pglite.closed) throw new Error('PGlite is closed');
    try {
      // PGlite's own query lock too, so its close() waits for the exchange as it would for query().
      return await pglite._runExclusiveQuery(() => pglite.execProtocolStream(message, { syncToFs }));
    } catch (error) {
      // The fields pglite.query adds to its errors, for logs that print them.
      if (error instanceof Error && 'code' in error) Object.assign(error, { query: text, params });
      throw error;
    }
  }

  async #close(name: string): Promise<void> {
    this.#parsed.delete(name);
    const pglite = this.#pglite;
    await pglite
      ._runExclusiveQuery(() => pglite.execProtocolStream(frame([wire.close({ type: 'S', name }), wire.sync()]), { syncToFs: false }))
      .catch(() => undefined); // only frees memory; the retry reports whatever is really wrong
  }
}
