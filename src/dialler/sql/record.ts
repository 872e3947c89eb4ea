// A contact's changes, recorded the one way (src/db/changes.ts): history row, feed message for the
// supervisor's and the agent's streams, and a notice to every instance after commit.
import { sql, type Kysely, type OperationNodeSource } from 'kysely';
import { announceChanges, changeValues, ContactChange, recordChanges, type ChangeRow } from '../../db/changes.ts';
import type { Database } from '../../db/schema.ts';

export type ContactChangeRow = ChangeRow<typeof ContactChange>;

/** What a contact change names; the rest of the row defaults to null. */
export interface ContactChangeInput {
  clientId: number;
  campaignId: number;
  contactId: number;
  change: 'HandedOut' | 'AttemptStarted' | 'Result' | 'Skipped' | 'Released' | 'LeaseExpired' | 'Closed' | 'IncomingCall';
  state: string;
  actor: string;
  at: number;
  attemptId?: string | null;
  userId?: number | null;
  phoneIndex?: number | null;
  phoneNumber?: string | null;
  cause?: number | null;
  resultCodeId?: number | null;
  appointmentAt?: number | null;
  comment?: string | null;
  reason?: string | null;
}

function rowOf(c: ContactChangeInput): ContactChangeRow {
  return {
    client_id: c.clientId, campaign_id: c.campaignId, contact_id: c.contactId, attempt_id: c.attemptId ?? null, change: c.change,
    state: c.state, user_id: c.userId ?? null, phone_index: c.phoneIndex ?? null, phone_number: c.phoneNumber ?? null,
    cause: c.cause ?? null, result_code_id: c.resultCodeId ?? null,
    appointment_at: c.appointmentAt == null ? null : new Date(c.appointmentAt), comment: c.comment ?? null,
    actor: c.actor, reason: c.reason ?? null, created_at: new Date(c.at),
  };
}

/**
 * Records the changes in the caller's transaction, in one statement with `writes`: the statements
 * that make them (a contact's new state, an agent's count of held contacts), so a change costs one
 * round trip. `distribute`: whether they may give the ACD distributor work (they do when an
 * agent's dialler work ends: the agent is free for events again).
 */
export async function recordContactChanges(db: Kysely<Database>, changes: ContactChangeInput[], distribute: boolean, writes: OperationNodeSource[] = []): Promise<void> {
  if (changes.length === 0) {
    for (const write of writes) await sql`${write}`.execute(db);
    return;
  }
  const made = writes.map((write, i) => sql`${sql.raw(`write${i}`)} AS (${write}), `);
  await sql`WITH ${sql.join(made, sql``)}${recordChanges(ContactChange, changeValues(ContactChange, changes.map(rowOf)))} SELECT 1`.execute(db);
  const parties = new Map(changes.map((c) => [`${c.clientId}:${c.userId ?? ''}`, { clientId: c.clientId, agentId: c.userId ?? null, distribute }]));
  await announceChanges(db, [...parties.values()]);
}
