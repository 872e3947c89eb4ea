// The earliest moment at which a timer kept in the database falls due: the distributor sleeps
// until then (or its sweep interval, whichever comes first). Each probe is one partial-index read.
// Only future moments count: what is already due was just handled by the pass, or is waiting for
// something other than time (a reminder for an agent without a free place waits for that place,
// and the change that frees it wakes the distributor).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';

export async function nextDueAt(db: Kysely<Database>, now: Date): Promise<number | null> {
  const { rows } = await sql<{ at: Date | string | null }>`
    SELECT least(
      (SELECT min(appointment_at) FROM acd_events WHERE status_id = ${sql.lit(Status.Distribute)} AND appointment_at > ${now}),
      (SELECT min(lease_until) FROM acd_events WHERE status_id = ${sql.lit(Status.TransportAgent)} AND lease_until > ${now}),
      (SELECT min(remind_at) FROM acd_events WHERE status_id = ${sql.lit(Status.Remind)} AND remind_at > ${now})
    ) AS at`.execute(db);
  const at = rows[0]?.at;
  return at == null ? null : new Date(at).getTime();
}
