// Remind (40) → New (20): a set-aside event whose dtRemind has come goes back into the same
// agent's hands — as soon as they have a free place for its type, because a returning reminder
// counts against capacity again. The event is locked first (SKIP LOCKED: an agent acting on it
// right now wins, and the next pass looks again), then the agent's state row, the same order as
// the agent's own actions (event, then their state row); the count is taken under the agent
// lock, which every transition that adds to an agent's load holds, so it stays true to commit.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { Status } from '../../domain/event-flow.ts';
import { DISTRIBUTOR_ACTOR } from './history.ts';
import { lockAgentCapacity } from './agent-capacity.ts';

export async function returnDueReminders(db: Kysely<Database>, now: Date, limit: number): Promise<number> {
  const { rows: due } = await sql<{ id: number; agent_id: number; type_id: number }>`
    SELECT id, agent_id, type_id FROM acd_events
    WHERE status_id = ${Status.Remind} AND remind_at <= ${now}
    ORDER BY remind_at, id LIMIT ${limit}`.execute(db);
  let returned = 0;
  for (const event of due) {
    returned += await db.transaction().execute(async (trx) => {
      const { rows: mine } = await sql`SELECT id FROM acd_events
        WHERE id = ${event.id} AND status_id = ${Status.Remind} AND agent_id = ${event.agent_id} AND remind_at <= ${now}
        FOR UPDATE SKIP LOCKED`.execute(trx);
      if (mine.length === 0) return 0;
      const [agent] = await lockAgentCapacity(trx, [event.agent_id]);
      if (!agent || (agent.free[String(event.type_id)] ?? 0) <= 0) return 0;
      const { rows } = await sql<{ id: number }>`
        WITH moved AS (
          UPDATE acd_events SET status_id = ${Status.New}, modified_at = ${now}, last_modified_at = ${now}
          WHERE id = ${event.id}
          RETURNING id, agent_id
        ), hist AS (
          INSERT INTO acd_event_history (event_id, from_status_id, to_status_id, agent_id, actor, reason, created_at)
          SELECT id, ${Status.Remind}, ${Status.New}, agent_id, ${DISTRIBUTOR_ACTOR}, 'reminder due', ${now}::timestamptz FROM moved
        )
        SELECT id FROM moved`.execute(trx);
      return rows.length;
    });
  }
  return returned;
}

