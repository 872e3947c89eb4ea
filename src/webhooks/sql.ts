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

/** How a claim shares an instance's room between endpoints (see claimDue). */
export interface ClaimRules {
  /** The most in flight for one endpoint across instances. */
  perEndpoint: number;
  /** The most in flight for a slow endpoint across instances. */
  slowCap: number;
  /** A send leased at or before this (its lease ending by `slowLeaseUntil`) and still open is slow. */
  slowLeaseUntil: Date;
  /** How many of `limit` any endpoint may take; the rest only endpoints with nothing in flight. */
  shared: number;
}

/**
 * Leases up to `limit` due deliveries, at most `perEndpoint` in flight per endpoint counting the
 * leases of every instance. The endpoints are locked (FOR NO KEY UPDATE SKIP LOCKED: writers of
 * new deliveries only take KEY SHARE, so they never wait) for this statement only, so two
 * instances never count one endpoint's room at once; the due condition is repeated in the UPDATE
 * so a delivery another instance leased after this statement's snapshot is rechecked and skipped.
 *
 * A slow or dead endpoint must not delay the others, yet each of its sends holds a slot of an
 * instance for up to the deadline. Two rules bound that:
 * - A slow endpoint gets `slowCap` (1–2) in flight instead of `perEndpoint`: one whose last
 *   recorded send was slow or unanswered (`slow_since`, set and cleared by recordOutcomes, so
 *   every instance sees it), or that has a send open for longer than the slow threshold right
 *   now (read from the leases, so an endpoint going dead is throttled before any send of it ends).
 *   Its first fast answer clears `slow_since` and gives it its full concurrency back.
 * - Only `shared` of the instance's room may go to any endpoint; the rest (the reserve) only to
 *   endpoints with nothing in flight anywhere, `slowCap` each. Endpoints that went dead all at
 *   once, before anything is known of them, fill the shared part at most: an endpoint that is
 *   idle (a healthy one between its fast sends, or a new one) always finds a slot.
 */
export async function claimDue(db: Kysely<any>, now: Date, leaseUntil: Date, limit: number, rules: ClaimRules): Promise<Claimed[]> {
  const { rows } = await sql<Claimed>`
    WITH subs AS (
      SELECT s.id, s.url, s.secret, s.previous_secret, s.previous_secret_until, s.client_id,
        (SELECT count(*) FROM webhook_deliveries f WHERE f.subscription_id = s.id AND f.lease_until > ${now})::int AS leased,
        CASE WHEN s.slow_since IS NOT NULL OR EXISTS (SELECT 1 FROM webhook_deliveries f
          WHERE f.subscription_id = s.id AND f.lease_until > ${now} AND f.lease_until <= ${rules.slowLeaseUntil})
          THEN ${rules.slowCap}::int ELSE ${rules.perEndpoint}::int END AS cap
      FROM webhook_subscriptions s
      WHERE s.enabled AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.next_attempt_at <= ${now})
      -- The endpoints waiting longest first: one with a backlog cannot keep the others out.
      ORDER BY (SELECT min(d.next_attempt_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id), s.id
      LIMIT 200
      FOR NO KEY UPDATE OF s SKIP LOCKED
    ), candidates AS (
      -- Round robin over the endpoints (each one's first, then each one's second, …).
      SELECT p.id, subs.id AS sid, subs.leased, p.turn, row_number() OVER (ORDER BY p.turn, subs.id) AS k
      FROM subs CROSS JOIN LATERAL (
        SELECT d.id, row_number() OVER (ORDER BY d.next_attempt_at, d.id) AS turn FROM webhook_deliveries d
        WHERE d.subscription_id = subs.id AND d.next_attempt_at <= ${now}
        ORDER BY d.next_attempt_at, d.id
        LIMIT greatest(subs.cap - subs.leased, 0)
      ) p
    ), picked AS (
      SELECT c.id, c.sid FROM candidates c
      WHERE c.k <= ${rules.shared} OR (c.leased = 0 AND c.turn <= ${rules.slowCap})
      ORDER BY c.turn, c.sid
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
  /** How fast the endpoint answered: slow (or not at all) throttles it, fast lifts that (claimDue). */
  pace?: 'fast' | 'slow' | null;
  now: Date;
  disableBefore: Date;
}

/**
 * Records attempts (many in one statement): each delivery's new state, the attempt in the log and
 * the endpoints' health. Only the claim that is still current records: true per recorded outcome.
 * A claim stops being current when another is made (`attempts` counts claims) or when a replay
 * ends it after its lease ran out (the replay clears `lease_until`, which only a claim sets): a
 * late outcome then changes nothing, just as after another instance took the delivery over. An endpoint row is written only when its health changes (at most once a minute on
 * success); a batch with a success for an endpoint counts as its success.
 */
export async function recordOutcomes(db: Kysely<any>, outcomes: Recorded[]): Promise<boolean[]> {
  if (outcomes.length === 0) return [];
  const { now, disableBefore } = outcomes[0]!;
  const values = outcomes.map((r) => sql`(${r.delivery.id}::bigint, ${r.delivery.attempts}::int, ${r.state}::text, ${r.nextAt}::timestamptz,
    ${r.retryStep}::int, ${r.startedAt}::timestamptz, ${r.status}::int, ${r.error}::text, ${r.latencyMs}::int, ${r.excerpt}::text,
    ${r.delivery.body}::text, ${r.endpoint}::text, ${r.pace ?? null}::text)`);
  const slowSince = sql`CASE health.pace WHEN 'fast' THEN NULL WHEN 'slow' THEN coalesce(s.slow_since, ${now}::timestamptz) ELSE s.slow_since END`;
  const paceChanges = sql`(health.pace = 'fast' AND s.slow_since IS NOT NULL) OR (health.pace = 'slow' AND s.slow_since IS NULL)`;
  const { rows } = await sql<{ id: string }>`
    WITH v (id, attempts, state, next_at, retry_step, started_at, status, error, latency_ms, excerpt, body, endpoint, pace) AS (VALUES ${sql.join(values)}),
    upd AS (
      UPDATE webhook_deliveries d SET state = v.state, next_attempt_at = v.next_at, lease_until = NULL, retry_step = v.retry_step,
        last_attempt_at = v.started_at, last_status = v.status, last_error = v.error, last_latency_ms = v.latency_ms,
        delivered_at = CASE WHEN v.state = 'Delivered' THEN ${now}::timestamptz ELSE d.delivered_at END,
        body = coalesce(d.body, v.body)
      FROM v WHERE d.id = v.id AND d.attempts = v.attempts AND d.lease_until IS NOT NULL
      RETURNING d.id, d.subscription_id, v.attempts, v.started_at, v.status, v.error, v.latency_ms, v.excerpt, v.endpoint, v.pace
    ), logged AS (
      INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status, error, latency_ms, response)
      SELECT id, attempts, started_at, status, error, latency_ms, excerpt FROM upd
    ), health AS (
      SELECT subscription_id, CASE WHEN bool_or(endpoint = 'success') THEN 'success' WHEN bool_or(endpoint = 'gone') THEN 'gone' ELSE 'failure' END AS h,
        max(status) FILTER (WHERE endpoint = 'gone') AS gone_status,
        -- One fast answer in the batch shows the endpoint is answering again.
        CASE WHEN bool_or(pace = 'fast') THEN 'fast' WHEN bool_or(pace = 'slow') THEN 'slow' END AS pace
      FROM upd GROUP BY subscription_id
    ), succeeded AS (
      -- (One UPDATE per endpoint row and statement: each of these three writes the pace too.)
      UPDATE webhook_subscriptions s SET failing_since = NULL, last_success_at = ${now}, slow_since = ${slowSince}
      FROM health WHERE health.h = 'success' AND s.id = health.subscription_id
        AND (s.failing_since IS NOT NULL OR s.last_success_at IS NULL OR s.last_success_at < ${now}::timestamptz - interval '1 minute' OR ${paceChanges})
    ), gone AS (
      UPDATE webhook_subscriptions s SET enabled = false, disabled_at = ${now}, modified_at = ${now}, slow_since = ${slowSince},
        disabled_reason = 'The endpoint answered ' || health.gone_status || ' Gone; disabled at once'
      FROM health WHERE health.h = 'gone' AND s.id = health.subscription_id AND s.enabled
    ), failed AS (
      UPDATE webhook_subscriptions s SET failing_since = coalesce(s.failing_since, ${now}),
        enabled = s.enabled AND NOT coalesce(s.failing_since <= ${disableBefore}, false),
        disabled_at = CASE WHEN s.enabled AND s.failing_since <= ${disableBefore} THEN ${now} ELSE s.disabled_at END,
        disabled_reason = CASE WHEN s.enabled AND s.failing_since <= ${disableBefore}
          THEN 'No successful delivery since ' || to_char(s.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '; disabled'
          ELSE s.disabled_reason END,
        slow_since = ${slowSince}
      FROM health WHERE health.h = 'failure' AND s.id = health.subscription_id
        AND (s.failing_since IS NULL OR (s.enabled AND s.failing_since <= ${disableBefore}) OR ${paceChanges})
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
