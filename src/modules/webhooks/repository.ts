// SQL of webhook subscriptions and of the delivery log's replays.
import { sql, type Kysely } from 'kysely';
import { selectRecords } from '../../http/records.ts';
import { SubscriptionRecord } from './records.ts';
import type { SubscriptionInput } from './schemas.ts';

type Db = Kysely<any>;

export async function subscriptionTexts(db: Db, clientId: number, timeZone: string, id: number): Promise<string[]> {
  const { rows } = await selectRecords(SubscriptionRecord, timeZone, sql`s.client_id = ${clientId} AND s.id = ${id}`).execute(db);
  return rows.map((r) => r.j);
}

/** Inserts the subscription unless the client has `max` already (counted under a lock on the client). */
export async function insertSubscription(db: Db, clientId: number, input: Required<Pick<SubscriptionInput, 'URL' | 'Kinds'>> & SubscriptionInput, secret: string, now: Date, max: number): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT id FROM clients WHERE id = ${clientId} FOR NO KEY UPDATE`.execute(trx);
    const { rows: [count] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_subscriptions WHERE client_id = ${clientId}`.execute(trx);
    if (count!.n >= max) return undefined;
    const { rows: [row] } = await sql<{ id: number }>`
      INSERT INTO webhook_subscriptions (client_id, url, description, kinds, secret, created_at, modified_at)
      VALUES (${clientId}, ${input.URL}, ${input.Description ?? null}, ${input.Kinds}::text[], ${secret}, ${now}, ${now})
      RETURNING id`.execute(trx);
    return row!.id;
  });
}

export async function updateSubscription(db: Db, clientId: number, id: number, input: SubscriptionInput, now: Date): Promise<boolean> {
  const sets = [sql`modified_at = ${now}`];
  if (input.URL !== undefined) sets.push(sql`url = ${input.URL}`);
  if (input.Kinds !== undefined) sets.push(sql`kinds = ${input.Kinds}::text[]`);
  if (input.Description !== undefined) sets.push(sql`description = ${input.Description}`);
  if (input.bEnabled === true) {
    // Enabled again: past failures are forgiven, the endpoint starts a fresh count of days.
    sets.push(sql`enabled = true, disabled_reason = NULL, disabled_at = NULL, failing_since = NULL, slow_since = NULL`);
  } else if (input.bEnabled === false) {
    sets.push(sql`enabled = false, disabled_at = CASE WHEN enabled THEN ${now}::timestamptz ELSE disabled_at END,
      disabled_reason = ${input.DisabledReason ?? 'Disabled by the client'}`);
  }
  const result = await sql`UPDATE webhook_subscriptions SET ${sql.join(sets)} WHERE client_id = ${clientId} AND id = ${id}`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

export async function deleteSubscription(db: Db, clientId: number, id: number): Promise<boolean> {
  const result = await sql`DELETE FROM webhook_subscriptions WHERE client_id = ${clientId} AND id = ${id}`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

/** The new secret signs from now on; the current one keeps signing too until `overlapUntil`. */
export async function rotateSecret(db: Db, clientId: number, id: number, secret: string, now: Date, overlapUntil: Date): Promise<boolean> {
  const result = await sql`UPDATE webhook_subscriptions
    SET previous_secret = secret, previous_secret_until = ${overlapUntil}, secret = ${secret}, secret_rotated_at = ${now}, modified_at = ${now}
    WHERE client_id = ${clientId} AND id = ${id}`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

export async function subscriptionExists(db: Db, clientId: number, id: number): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM webhook_subscriptions WHERE client_id = ${clientId} AND id = ${id}`.execute(db);
  return rows.length === 1;
}

/**
 * Makes deliveries due now again, with the same webhook-id and body (receivers can tell a replay
 * from a new change), the retry schedule from its start. One being sent right now is left alone:
 * the lease is tested on the row being updated, so a claim committed after this statement's
 * snapshot is seen (the row's newest version is re-checked) and the delivery is not sent twice.
 * Clearing the lease of one whose lease ran out ends that claim: its late outcome is not recorded.
 */
export async function replay(db: Db, clientId: number, subscriptionId: number, now: Date, which: { id: number } | { from: Date; to: Date; onlyFailed: boolean }): Promise<{ replayed: number; busy: number }> {
  const scope = 'id' in which
    ? sql`d.id = ${which.id}`
    : sql`d.created_at >= ${which.from} AND d.created_at < ${which.to}
        ${which.onlyFailed ? sql`AND d.state = 'Failed'` : sql``}`;
  const { rows: [row] } = await sql<{ replayed: number; busy: number }>`
    WITH hit AS (
      SELECT d.id FROM webhook_deliveries d
      WHERE d.client_id = ${clientId} AND d.subscription_id = ${subscriptionId} AND ${scope}
    ), upd AS (
      UPDATE webhook_deliveries d SET state = 'Pending', next_attempt_at = ${now}, retry_step = 0, lease_until = NULL
      FROM hit WHERE d.id = hit.id AND (d.lease_until IS NULL OR d.lease_until <= ${now})
      RETURNING d.id
    )
    SELECT (SELECT count(*) FROM upd)::int AS replayed, ((SELECT count(*) FROM hit) - (SELECT count(*) FROM upd))::int AS busy`.execute(db);
  return row!;
}
