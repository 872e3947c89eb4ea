// Remind (40) → New (20): a set-aside event whose dtRemind has come goes back into the same
// agent's hands — as soon as they have a free place for its type, because a returning reminder
// counts against capacity again. The event is locked first (SKIP LOCKED: an agent acting on it
// right now wins, and the next pass looks again), then the agent's state row, the same order as
// the agent's own actions (event, then their state row); the count is taken under the agent
// lock, which every transition that adds to an agent's load holds, so it stays true to commit.
//
// The batch holds only reminders whose agent has room as the sweep reads them (re-checked under
// the lock): reminders waiting for a place must not fill every batch and keep those behind them,
// whose agents have room, from ever coming back.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { CAPACITY_STATUSES, Status } from '../../domain/event-flow.ts';
import { DEFAULT_CAPACITY } from '../../modules/agents/records.ts';
import { announceChanges, noticesOf } from '../../db/changes.ts';
import { historyFrom } from './history.ts';
import { lockAgentCapacity } from './agent-capacity.ts';

export async function returnDueReminders(db: Kysely<Database>, now: Date, limit: number): Promise<number> {
  // Capacity as lockAgentCapacity reads it: the defaults overlaid by the agent's own values.
  const { rows: due } = await sql<{ id: number; agent_id: number; type_id: number }>`
    SELECT e.id, e.agent_id, e.type_id FROM acd_events e
    JOIN agent_states s ON s.user_id = e.agent_id
    WHERE e.status_id = ${sql.lit(Status.Remind)} AND e.remind_at <= ${now}
      AND coalesce(((${JSON.stringify(DEFAULT_CAPACITY)}::jsonb || s.capacity) ->> e.type_id::text)::int, 0) > (
        SELECT count(*) FROM acd_events h
        WHERE h.agent_id = e.agent_id AND h.type_id = e.type_id AND h.status_id IN (${sql.join(CAPACITY_STATUSES.map((x) => sql.lit(x)))}))
    ORDER BY e.remind_at, e.id LIMIT ${limit}`.execute(db);
  let returned = 0;
  for (const event of due) {
    returned += await db.transaction().execute(async (trx) => {
      const { rows: mine } = await sql`SELECT id FROM acd_events
        WHERE id = ${event.id} AND status_id = ${sql.lit(Status.Remind)} AND agent_id = ${event.agent_id} AND remind_at <= ${now}
        FOR UPDATE SKIP LOCKED`.execute(trx);
      if (mine.length === 0) return 0;
      const [agent] = (await lockAgentCapacity(trx, [event.agent_id])).agents;
      if (!agent || (agent.free[String(event.type_id)] ?? 0) <= 0) return 0;
      const { rows } = await sql<{ client_id: number; agent_id: number }>`
        WITH moved AS (
          UPDATE acd_events SET status_id = ${sql.lit(Status.New)}, modified_at = ${now}, last_modified_at = ${now}
          WHERE id = ${event.id}
          RETURNING id, agent_id, client_id, type_id, queue_group_id
        ), ${historyFrom('moved', Status.Remind, Status.New, 'reminder due', now)}
        SELECT client_id, agent_id FROM moved`.execute(trx);
      await announceChanges(trx, noticesOf(rows));
      return rows.length;
    });
  }
  return returned;
}

