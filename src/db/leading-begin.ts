// A transaction's BEGIN goes to PostgreSQL with the transaction's first statement, in one write
// and one exchange: the extended protocol runs every message up to a Sync in order, so Bind and
// Execute of BEGIN followed by the statement's own messages and a single Sync is BEGIN, then the
// statement, as if sent one after the other. Kysely sends BEGIN on its own and waits for the
// answer, so every transaction paid one round trip (and one wake-up of its backend) for a
// command that cannot fail on a working connection. A transaction that ends before any statement
// never reaches the server at all.
import pg from 'pg';

/** The commands that open a transaction (Kysely: `begin`, or `start transaction …` with settings). */
export const OPENS_TRANSACTION = /^\s*(begin|start\s+transaction)\b/i;
/** The commands that end one: an empty transaction's end is not sent either. */
export const ENDS_TRANSACTION = /^\s*(commit|rollback|end|abort)\s*;?\s*$/i;

/** What a command not sent answers: as PostgreSQL would, for a command without rows. */
export function unsentResult(text: string): pg.QueryResult {
  const command = text.trim().split(/\s+/)[0]!.toUpperCase();
  return { command: command === 'START' ? 'BEGIN' : command, rowCount: null, oid: 0, rows: [], fields: [] };
}

interface Connection {
  parsedStatements: Record<string, string | undefined>;
  bind(config: { portal: string; statement: string; values: unknown[] }): void;
  execute(config: { portal: string; rows?: number }): void;
}

type QueryConfig = { name?: string; text: string; values: unknown[] };
type Callback = (error: Error | null, result?: pg.QueryResult | pg.QueryResult[]) => void;
const QueryBase = pg.Query as unknown as new (config: QueryConfig & { callback: Callback; queryMode: 'extended' }) => { prepare(connection: Connection): void };

/**
 * A statement led by a command already parsed on the connection under `leadName` (a BEGIN): its
 * Bind and Execute go first, then the statement's messages, then the one Sync. The lead sends no
 * Describe, so its answer is its CommandComplete alone, and the statement's result is the last.
 */
class LeadQuery extends QueryBase {
  readonly #lead: string;
  constructor(config: QueryConfig, lead: string, callback: Callback) {
    super({ ...config, callback, queryMode: 'extended' });
    this.#lead = lead;
  }
  override prepare(connection: Connection): void {
    connection.bind({ portal: '', statement: this.#lead, values: [] });
    connection.execute({ portal: '' });
    super.prepare(connection);
  }
}

/**
 * Runs `config` led by the statement `leadName`, parsed on the connection, through `submit` (the
 * client's own query, given a submittable). Answers the statement's result.
 */
export function queryLedBy(submit: (query: object) => unknown, config: QueryConfig, leadName: string): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    submit(new LeadQuery(config, leadName, (error, result) => {
      if (error) reject(error);
      else resolve(Array.isArray(result) ? result.at(-1)! : result!);
    }));
  });
}

const connectionOf = (client: pg.Client) => (client as unknown as { connection: Connection }).connection;

/** Whether the client's connection has parsed the statement `name` (pg's own bookkeeping). */
export function isParsed(client: pg.Client, name: string): boolean {
  return connectionOf(client).parsedStatements[name] !== undefined;
}

/** The session lost the statement `name` (DISCARD ALL, a pooler): it is parsed again when next sent. */
export function forgetParsed(client: pg.Client, name: string): void {
  delete connectionOf(client).parsedStatements[name];
}
