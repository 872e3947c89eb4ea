// The worker's statements: claim due deliveries (one short statement that locks the endpoints it
// serves and leases what it takes), render a delivery's body once, record an attempt's outcome.
import { sql, type Kysely } from 'kysely';
import { selectRecords, type RecordDef } from '../http/records.ts';
import { EventRecord } from '../modules/events/records.ts';
import { AgentRecord } from '../modules/agents/records.ts';
import { ContactRecord } from '../modules/contacts/records.ts';

export interface Claimed {
  id: string;
  message_id: string;
  subscription_id: number;
  client_id: number;
  type: string;
  topic: string;
  subject_id: string;
  change: unknown;
  occurred_at: Date;
  body: string | null;
  attempts: number;
  retry_step: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  time_zone: string;
}

/**
 * Leases up to `limit` due deliveries, at most `perEndpoint` in flight per endpoint counting the
 * leases of every instance. The endpoints are locked (FOR NO KEY UPDATE SKIP LOCKED: writers of
 * new deliveries only take KEY SHARE, so they never wait) for this statement only, so two
 * instances never count one endpoint's room at once; the due condition is repeated in the UPDATE
 * so a delivery another instance leased after this statement's snapshot is rechecked and skipped.
 */
export async function claimDue(db: Kysely<any>, now: Date, leaseUntil: Date, limit: number, perEndpoint: number): Promise<Claimed[]> {
  const { rows } = await sql<Claimed>`
    WITH subs AS (
      SELECT s.id, s.url, s.secret, s.previous_secret, s.previous_secret_until, s.client_id,
        ${perEndpoint}::int - (SELECT count(*) FROM webhook_deliveries f WHERE f.subscription_id = s.id AND f.lease_until > ${now})::int AS room
      FROM webhook_subscriptions s
      WHERE s.enabled AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.next_attempt_at <= ${now})
      -- The endpoints waiting longest first: one with a backlog cannot keep the others out.
      ORDER BY (SELECT min(d.next_attempt_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id), s.id
      LIMIT 200
      FOR NO KEY UPDATE OF s SKIP LOCKED
    ), picked AS (
      -- Round robin over the endpoints (each one's first, then each one's second, …) up to the limit.
      SELECT p.id, subs.id AS sid FROM subs CROSS JOIN LATERAL (
        SELECT d.id, row_number() OVER (ORDER BY d.next_attempt_at, d.id) AS turn FROM webhook_deliveries d
        WHERE d.subscription_id = subs.id AND d.next_attempt_at <= ${now}
        ORDER BY d.next_attempt_at, d.id
        LIMIT greatest(subs.room, 0)
      ) p
      ORDER BY p.turn, subs.id
      LIMIT ${limit}
    )
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, lease_until = ${leaseUntil}, next_attempt_at = ${leaseUntil}
    FROM picked JOIN subs ON subs.id = picked.sid JOIN clients c ON c.id = subs.client_id
    WHERE d.id = picked.id AND d.next_attempt_at <= ${now}
    RETURNING d.id::text AS id, d.message_id, d.subscription_id, d.client_id, d.type, d.topic, d.subject_id::text AS subject_id, d.change,
      d.occurred_at, d.body, d.attempts, d.retry_step, subs.url, subs.secret, subs.previous_secret, subs.previous_secret_until, c.time_zone`.execute(db);
  return rows;
}

const RECORDS: Record<string, RecordDef> = { event: EventRecord, agent: AgentRecord, contact: ContactRecord };

/**
 * The bodies of deliveries sent for the first time: `{type, timestamp, data}` with `data` the
 * record as the API's GET shows it now (one query per topic and time zone), or the change itself
 * when the thing is gone.
 */
export async function renderBodies(db: Kysely<any>, deliveries: Claimed[]): Promise<void> {
  const groups = new Map<string, Claimed[]>();
  for (const d of deliveries) {
    if (d.body !== null) continue;
    const key = `${d.topic}\u0000${d.time_zone}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  for (const group of groups.values()) {
    const { topic, time_zone: zone } = group[0]!;
    const record = RECORDS[topic];
    const found = new Map<string, string>();
    if (record) {
      const pairs = group.map((d) => sql`(${d.client_id}::int, ${d.subject_id}::bigint)`);
      const where = sql`(${sql.raw(record.clientColumn)}, ${sql.raw(record.idColumn)}) IN (${sql.join(pairs)})`;
      const { rows } = await selectRecords(record, zone, where, sql``, sql`${sql.raw(record.idColumn)}::text AS sid`).execute(db);
      for (const row of rows as { j: string; sid: string }[]) found.set(row.sid, row.j);
    }
    for (const d of group) {
      const data = found.get(d.subject_id) ?? JSON.stringify(d.change);
      d.body = `{"type":${JSON.stringify(d.type)},"timestamp":${JSON.stringify(d.occurred_at.toISOString())},"data":${data}}`;
    }
  }
}

export interface Recorded {
  delivery: Claimed;
  startedAt: Date;
  status: number | null;
  error: string | null;
  latencyMs: number;
  excerpt: string | null;
  /** Delivered, Pending (again at `nextAt`) or Failed. */
  state: 'Delivered' | 'Pending' | 'Failed';
  nextAt: Date | null;
  retryStep: number;
  /** What happens to the endpoint: nothing, success noted, failure noted, or disabled now (410). */
  endpoint: 'success' | 'failure' | 'gone';
  now: Date;
  disableBefore: Date;
}

/**
 * Records attempts (many in one statement): each delivery's new state, the attempt in the log and
 * the endpoints' health. Only the claim that is still current records (`attempts` fences an
 * outcome that comes after the lease ran out and another instance took over): true per recorded
 * outcome. An endpoint row is written only when its health changes (at most once a minute on
 * success); a batch with a success for an endpoint counts as its success.
 */
export async function recordOutcomes(db: Kysely<any>, outcomes: Recorded[]): Promise<boolean[]> {
  if (outcomes.length === 0) return [];
  const { now, disableBefore } = outcomes[0]!;
  const values = outcomes.map((r) => sql`(${r.delivery.id}::bigint, ${r.delivery.attempts}::int, ${r.state}::text, ${r.nextAt}::timestamptz,
    ${r.retryStep}::int, ${r.startedAt}::timestamptz, ${r.status}::int, ${r.error}::text, ${r.latencyMs}::int, ${r.excerpt}::text,
    ${r.delivery.body}::text, ${r.endpoint}::text)`);
  const { rows } = await sql<{ id: string }>`
    WITH v (id, attempts, state, next_at, retry_step, started_at, status, error, latency_ms, excerpt, body, endpoint) AS (VALUES ${sql.join(values)}),
    upd AS (
      UPDATE webhook_deliveries d SET state = v.state, next_attempt_at = v.next_at, lease_until = NULL, retry_step = v.retry_step,
        last_attempt_at = v.started_at, last_status = v.status, last_error = v.error, last_latency_ms = v.latency_ms,
        delivered_at = CASE WHEN v.state = 'Delivered' THEN ${now}::timestamptz ELSE d.delivered_at END,
        body = coalesce(d.body, v.body)
      FROM v WHERE d.id = v.id AND d.attempts = v.attempts
      RETURNING d.id, d.subscription_id, v.attempts, v.started_at, v.status, v.error, v.latency_ms, v.excerpt, v.endpoint
    ), logged AS (
      INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status, error, latency_ms, response)
      SELECT id, attempts, started_at, status, error, latency_ms, excerpt FROM upd
    ), health AS (
      SELECT subscription_id, CASE WHEN bool_or(endpoint = 'success') THEN 'success' WHEN bool_or(endpoint = 'gone') THEN 'gone' ELSE 'failure' END AS h,
        max(status) FILTER (WHERE endpoint = 'gone') AS gone_status
      FROM upd GROUP BY subscription_id
    ), succeeded AS (
      UPDATE webhook_subscriptions s SET failing_since = NULL, last_success_at = ${now}
      FROM health WHERE health.h = 'success' AND s.id = health.subscription_id
        AND (s.failing_since IS NOT NULL OR s.last_success_at IS NULL OR s.last_success_at < ${now}::timestamptz - interval '1 minute')
    ), gone AS (
      UPDATE webhook_subscriptions s SET enabled = false, disabled_at = ${now}, modified_at = ${now},
        disabled_reason = 'The endpoint answered ' || health.gone_status || ' Gone; disabled at once'
      FROM health WHERE health.h = 'gone' AND s.id = health.subscription_id AND s.enabled
    ), failed AS (
      UPDATE webhook_subscriptions s SET failing_since = coalesce(s.failing_since, ${now}),
        enabled = s.enabled AND NOT coalesce(s.failing_since <= ${disableBefore}, false),
        disabled_at = CASE WHEN s.enabled AND s.failing_since <= ${disableBefore} THEN ${now} ELSE s.disabled_at END,
        disabled_reason = CASE WHEN s.enabled AND s.failing_since <= ${disableBefore}
          THEN 'No successful delivery since ' || to_char(s.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '; disabled'
          ELSE s.disabled_reason END
      FROM health WHERE health.h = 'failure' AND s.id = health.subscription_id
        AND (s.failing_since IS NULL OR (s.enabled AND s.failing_since <= ${disableBefore}))
    )
    SELECT id::text AS id FROM upd`.execute(db);
  const recorded = new Set(rows.map((r) => r.id));
  return outcomes.map((r) => recorded.has(r.delivery.id));
}

export async function recordOutcome(db: Kysely<any>, outcome: Recorded): Promise<boolean> {
  return (await recordOutcomes(db, [outcome]))[0]!;
}

/** Forgets finished deliveries (and their attempts) created before `before`, a bounded number at a time. */
export async function pruneFinished(db: Kysely<any>, before: Date, limit = 5000): Promise<number> {
  const result = await sql`DELETE FROM webhook_deliveries WHERE id IN (
    SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NULL AND created_at < ${before} ORDER BY created_at LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The clients that have an enabled subscription (whose change notices may mean work). */
export async function subscribedClients(db: Kysely<any>): Promise<Set<number>> {
  const { rows } = await sql<{ client_id: number }>`SELECT DISTINCT client_id FROM webhook_subscriptions WHERE enabled`.execute(db);
  return new Set(rows.map((r) => r.client_id));
}
