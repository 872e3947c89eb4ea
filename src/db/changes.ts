// Recording a change, the one way (migration 011): a change of an event, an agent's state or a
// dialler contact is a history row plus a feed message (push_messages, what live streams read),
// both written by the statement that makes the change, and a notice to every instance once it
// has committed (Store.announce: many notices per NOTIFY).
// Nothing records behind a writer's back any more: the feed triggers of migrations 004-008 looked
// every event up again through a procedure call per statement, and notified inside the writing
// transaction, which makes PostgreSQL serialise the commits of all writers.
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import { AGENT_KIND_SQL, CONTACT_KIND_SQL, EVENT_KIND_SQL } from '../webhooks/kinds.ts';

/** SQL types a kind's row columns are cast to (VALUES rows carry no types of their own). */
type SqlType = 'int' | 'bigint' | 'smallint' | 'text' | 'timestamptz' | 'jsonb';

/** What a feed message names: a column of the kind's rows per message field. */
interface KindDeclaration<Row extends string, Message> {
  topic: 'event' | 'agent' | 'contact';
  /** The rows the builder is given, by column, in order, with their types. */
  rows: Record<Row, SqlType>;
  /** The history table and the row columns it stores (same names). */
  history: { table: string; columns: readonly Row[] };
  /** The message's client, agent (whose stream shows it) and time. */
  clientColumn: Row;
  agentColumn: Row;
  timeColumn: Row;
  /** Every field of the message, from a row column. */
  message: { [F in keyof Message]-?: Row };
  /**
   * What a webhook delivery of the change names (src/webhooks/kinds.ts): the thing changed, whose
   * record the delivery carries, and the kind, an SQL expression over the row columns.
   */
  webhook: { subject: Row; kind: string };
}

export interface ChangeKind<Row extends string, Message> extends KindDeclaration<Row, Message> {
  /** Only a type carrier: the message's data as readers parse it. */
  readonly messageType?: Message;
}

function changeKind<Message>() {
  return <Row extends string>(declaration: KindDeclaration<Row, Message>): ChangeKind<Row, Message> => declaration;
}

/** An event's transition (acd_event_history; topic 'event'). */
export interface EventMessage {
  AcdEventsID: number;
  AcdEventTypesID: number;
  AcdGroupsID: number | null;
  FromAcdEventStatusID: number | null;
  ToAcdEventStatusID: number;
  UsersID: number | null;
  Actor: string;
  Reason: string | null;
}

/**
 * Rows: the event, its statuses before and after, the agent concerned, who and why, when; then
 * the event's client, type and queue group after the change (the message carries them).
 */
export const EventChange = changeKind<EventMessage>()({
  topic: 'event',
  rows: {
    event_id: 'int', from_status_id: 'int', to_status_id: 'int', agent_id: 'int', actor: 'text', reason: 'text',
    created_at: 'timestamptz', client_id: 'int', type_id: 'int', queue_group_id: 'int',
  },
  history: { table: 'acd_event_history', columns: ['event_id', 'from_status_id', 'to_status_id', 'agent_id', 'actor', 'reason', 'created_at'] },
  clientColumn: 'client_id',
  agentColumn: 'agent_id',
  timeColumn: 'created_at',
  message: {
    AcdEventsID: 'event_id', AcdEventTypesID: 'type_id', AcdGroupsID: 'queue_group_id', FromAcdEventStatusID: 'from_status_id',
    ToAcdEventStatusID: 'to_status_id', UsersID: 'agent_id', Actor: 'actor', Reason: 'reason',
  },
  webhook: { subject: 'event_id', kind: EVENT_KIND_SQL },
});

/** A change of an agent's state (agent_state_history; topic 'agent'). */
export interface AgentMessage {
  UsersID: number;
  Change: string;
  AcdGroupsID: number | null;
  Capacity: Record<string, number> | null;
  Actor: string;
  Reason: string | null;
}

export const AgentChange = changeKind<AgentMessage>()({
  topic: 'agent',
  rows: {
    client_id: 'int', user_id: 'int', change: 'text', group_id: 'int', capacity: 'jsonb', actor: 'text', reason: 'text', created_at: 'timestamptz',
  },
  history: { table: 'agent_state_history', columns: ['client_id', 'user_id', 'change', 'group_id', 'capacity', 'actor', 'reason', 'created_at'] },
  clientColumn: 'client_id',
  agentColumn: 'user_id',
  timeColumn: 'created_at',
  message: { UsersID: 'user_id', Change: 'change', AcdGroupsID: 'group_id', Capacity: 'capacity', Actor: 'actor', Reason: 'reason' },
  webhook: { subject: 'user_id', kind: AGENT_KIND_SQL },
});

/** A dialler contact's change (dialler_contact_history, migration 012; topic 'contact'). */
export interface ContactMessage {
  DiallerContactsID: number;
  DiallerCampaignsID: number;
  Change: string;
  State: string;
  UsersID: number | null;
  AttemptID: number | null;
  PhoneIndex: number | null;
  Cause: number | null;
  ResultCodesID: number | null;
  Actor: string;
  Reason: string | null;
}

export const ContactChange = changeKind<ContactMessage>()({
  topic: 'contact',
  rows: {
    client_id: 'int', campaign_id: 'int', contact_id: 'int', attempt_id: 'bigint', change: 'text', state: 'text', user_id: 'int',
    phone_index: 'smallint', phone_number: 'text', cause: 'int', result_code_id: 'int', appointment_at: 'timestamptz', comment: 'text',
    actor: 'text', reason: 'text', created_at: 'timestamptz',
  },
  history: {
    table: 'dialler_contact_history',
    columns: ['client_id', 'campaign_id', 'contact_id', 'attempt_id', 'change', 'state', 'user_id', 'phone_index', 'phone_number', 'cause',
      'result_code_id', 'appointment_at', 'comment', 'actor', 'reason', 'created_at'],
  },
  clientColumn: 'client_id',
  agentColumn: 'user_id',
  timeColumn: 'created_at',
  message: {
    DiallerContactsID: 'contact_id', DiallerCampaignsID: 'campaign_id', Change: 'change', State: 'state', UsersID: 'user_id',
    AttemptID: 'attempt_id', PhoneIndex: 'phone_index', Cause: 'cause', ResultCodesID: 'result_code_id', Actor: 'actor', Reason: 'reason',
  },
  webhook: { subject: 'contact_id', kind: CONTACT_KIND_SQL },
});

/** The row values of a kind, for rows built in the application (changeValues). */
export type ChangeRow<K> = K extends ChangeKind<infer Row, unknown> ? Record<Row, unknown> : never;

type AnyKind = ChangeKind<string, any>;

const rowsName = (kind: AnyKind) => `${kind.topic}_rows`;

/**
 * Four CTEs, `<topic>_rows`, `<topic>_hist`, `<topic>_feed` and `<topic>_hook`: the rows `rows`
 * selects (the kind's row columns, in order and typed), their history rows, one feed message for
 * each, and the webhook outbox: a delivery for each enabled subscription of the row's client that
 * wants the change's kind, committed or rolled back with the change itself. A client without
 * subscriptions costs one probe of an empty partial index, inside this same statement.
 * Both inserts read the same rows: joining the history to the changed rows instead took a nested
 * loop over both (the planner sees one row in each CTE), its cost growing with the square of the
 * batch. A statement changes each thing once, so any order of its messages keeps every thing's
 * changes in order for readers (they deliver by transaction, then by message id).
 */
export function recordChanges(kind: AnyKind, rows: RawBuilder<unknown>): RawBuilder<unknown> {
  const columns = Object.keys(kind.rows);
  const name = sql.raw(rowsName(kind));
  const history = sql.raw(kind.history.columns.join(', '));
  const fields = sql.raw(Object.entries(kind.message as Record<string, string>).map(([field, column]) => `'${field}', ${column}`).join(', '));
  return sql`${name} (${sql.raw(columns.join(', '))}) AS (
      ${rows}
    ), ${sql.raw(`${kind.topic}_hist`)} AS (
      INSERT INTO ${sql.table(kind.history.table)} (${history}) SELECT ${history} FROM ${name}
    ), ${sql.raw(`${kind.topic}_feed`)} AS (
      INSERT INTO push_messages (client_id, agent_id, topic, data, created_at)
      SELECT ${sql.raw(kind.clientColumn)}, ${sql.raw(kind.agentColumn)}, ${sql.lit(kind.topic)}, jsonb_build_object(${fields}), ${sql.raw(kind.timeColumn)}
      FROM ${name}
    ), ${sql.raw(`${kind.topic}_hook`)} AS (
      INSERT INTO webhook_deliveries (subscription_id, client_id, type, topic, subject_id, change, occurred_at, next_attempt_at, created_at)
      SELECT s.id, c.client_id, c.kind, ${sql.lit(kind.topic)}, c.subject_id, c.change, c.at, c.at, c.at
      FROM (
        SELECT ${sql.raw(kind.clientColumn)} AS client_id, ${sql.raw(kind.webhook.kind)} AS kind, ${sql.raw(kind.webhook.subject)} AS subject_id,
          jsonb_build_object(${fields}) AS change, ${sql.raw(kind.timeColumn)} AS at
        FROM ${name}
      ) c
      JOIN webhook_subscriptions s ON s.client_id = c.client_id AND s.enabled
        AND s.kinds && ARRAY[c.kind, ${sql.lit(`${kind.topic}.*`)}, '*']
    )`;
}

/** A select of the rows given in the application, typed as the kind declares, for recordChanges. */
export function changeValues<K extends AnyKind>(kind: K, rows: ChangeRow<K>[]): RawBuilder<unknown> {
  const columns = Object.entries(kind.rows as Record<string, SqlType>);
  const tuples = rows.map((row) => sql`(${sql.join(columns.map(([c, type]) => {
    const value = (row as Record<string, unknown>)[c];
    const json = type === 'jsonb' && value !== null && value !== undefined ? JSON.stringify(value) : value ?? null;
    return sql`${json}::${sql.raw(type)}`;
  }))})`);
  return sql`SELECT * FROM (VALUES ${sql.join(tuples)}) AS v`;
}

/** The clients and agents a statement's changes concern, one row each: select it to announce them. */
export function changedParties(kind: AnyKind): RawBuilder<{ client_id: number; agent_id: number | null }> {
  return sql`SELECT DISTINCT ${sql.raw(kind.clientColumn)} AS client_id, ${sql.raw(kind.agentColumn)} AS agent_id FROM ${sql.raw(rowsName(kind))}`;
}

// ---- Notices ----

/**
 * What every instance hears of a committed change: whose feed grew (the client, and the agent
 * concerned, if any) and whether the change may give the distributor work (an accept, a seen or
 * an offer does not: only live streams look).
 */
export interface ChangeNotice {
  clientId: number;
  agentId: number | null;
  distribute: boolean;
}

// Wire form "<ClientsID>:<UsersID or empty>", ":-" appended when there is nothing to distribute;
// the empty payload means "look, something may have been missed" (a listener came back).
const QUIET = ':-';

export function encodeNotice(notice: ChangeNotice): string {
  return `${notice.clientId}:${notice.agentId ?? ''}${notice.distribute ? '' : QUIET}`;
}

/** The notice of `payload`; null for anything else (the empty "look" included): look at everything. */
export function decodeNotice(payload: string): ChangeNotice | null {
  const [client, agent = '', quiet] = payload.split(':');
  const clientId = Number(client);
  const agentId = agent === '' ? null : Number(agent);
  if (!Number.isInteger(clientId) || clientId <= 0 || (agentId !== null && !Number.isInteger(agentId))) return null;
  return { clientId, agentId, distribute: quiet !== '-' };
}

/** Whether a change of `payload` may give the distributor work (an unreadable one may). */
export function mayDistribute(payload: string): boolean {
  return decodeNotice(payload)?.distribute ?? true;
}

/** The notices of a statement's changed parties (changedParties), all alike in `distribute`. */
export function noticesOf(parties: { client_id: number; agent_id: number | null }[], distribute = true): ChangeNotice[] {
  return parties.map((p) => ({ clientId: p.client_id, agentId: p.agent_id, distribute }));
}

export type Announce = (notice: ChangeNotice) => void;

const announcers = new WeakMap<object, Announce>();

/** Called by the store for its Kysely instance. */
export function registerAnnouncer(db: object, announce: Announce): void {
  announcers.set(db, announce);
}

/**
 * The statement a transaction "runs" to announce notices once it commits: the store's driver
 * keeps them for the connection and hands them to the store after COMMIT (dropped on ROLLBACK).
 * It never reaches the database through a store; through a bare Kysely it is a no-op.
 */
export const NOTICE_STATEMENT = 'SELECT $1::text[] WHERE false -- switchboard notices';

/**
 * Tells every instance of committed changes: at once when `db` is the store's own instance (its
 * statements commit as they return), after COMMIT when it is a transaction.
 */
export async function announceChanges(db: Kysely<any>, notices: ChangeNotice[]): Promise<void> {
  if (notices.length === 0) return;
  // A batch names the same agent many times: each is told once.
  const distinct = new Map(notices.map((n) => [encodeNotice(n), n]));
  const announce = db.isTransaction ? undefined : announcers.get(db);
  if (announce) for (const notice of distinct.values()) announce(notice);
  else await db.executeQuery(CompiledQuery.raw(NOTICE_STATEMENT, [[...distinct.keys()]]));
}
