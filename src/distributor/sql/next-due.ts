// The earliest moment at which a timer kept in the database falls due: the distributor sleeps
// until then (or its sweep interval, whichever comes first). Each probe is one partial-index read.
// Only future moments count for waking: what is already due was just handled by the pass, or is
// waiting for something other than time (a reminder for an agent without a free place waits for
// that place, and the change that frees it wakes the distributor). The earliest lease and
// reminder, due or not, tell the passes woken by a change which sweeps they can skip.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';

export interface DueTimes {
  /** The earliest future moment of any timer: when the distributor must wake. */
  at: number | null;
  /** The earliest lease, and the earliest reminder, due or not (null: none). */
  leaseAt: number | null;
  reminderAt: number | null;
}

export async function nextDueAt(db: Kysely<Database>, now: Date): Promise<DueTimes> {
  const { rows } = await sql<{ at: Date | string | null; lease_at: Date | string | null; reminder_at: Date | string | null }>`
    SELECT least(
        (SELECT min(appointment_at) FROM acd_events WHERE status_id = ${sql.lit(Status.Distribute)} AND appointment_at > ${now}),
        (SELECT min(lease_until) FROM acd_events WHERE status_id = ${sql.lit(Status.TransportAgent)} AND lease_until > ${now}),
        (SELECT min(remind_at) FROM acd_events WHERE status_id = ${sql.lit(Status.Remind)} AND remind_at > ${now})
      ) AS at,
      (SELECT min(lease_until) FROM acd_events WHERE status_id = ${sql.lit(Status.TransportAgent)}) AS lease_at,
      (SELECT min(remind_at) FROM acd_events WHERE status_id = ${sql.lit(Status.Remind)}) AS reminder_at`.execute(db);
  const time = (value: Date | string | null | undefined) => (value == null ? null : new Date(value).getTime());
  return { at: time(rows[0]?.at), leaseAt: time(rows[0]?.lease_at), reminderAt: time(rows[0]?.reminder_at) };
}
