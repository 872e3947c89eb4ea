// The per-campaign contact counts behind the campaign's why-not answer (migration 015): reading
// them, and folding the appended changes into them.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { PHONE_SLOTS } from '../../domain/dialler-contact.ts';
import { perDatabase } from '../../db/per-database.ts';
import { storeKey } from './campaign-config.ts';
import { setForTransaction } from '../../db/planner.ts';

type Db = Kysely<Database>;

const KEY = sql.raw('campaign_id, state, closed_reason, held, min_tries, due_rank, time_zone, next_try, tries_day, n_tries_day');
const MINUTE = 60_000;

/** One group of contacts: the facts why-not decides on, null where they do not matter. */
export interface CountedGroup {
  state: 'Waiting' | 'InProgress' | 'Done' | 'Aborted';
  closed_reason: string | null;
  held: boolean | null;
  usable: boolean | null;
  due: boolean | null;
  due_rank: number | null;
  time_zone: string | null;
  capped_day: string | null;
  n: number | string;
}

const slots = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

/**
 * The campaign's contacts in groups, as of now. The stored counts (and the changes not yet
 * folded in) know each waiting contact's due moment to the minute: the minutes before this one
 * are due, those after it are not, and the contacts of this minute are read one by one from the
 * contacts themselves (an index range of one minute). One statement: one snapshot.
 */
export async function countedGroups(db: Db, campaignId: number, rules: { maxTriesPerNumber: number; maxTriesPerDay: number }, now: number): Promise<CountedGroup[]> {
  const minute = new Date(Math.floor(now / MINUTE) * MINUTE);
  const minuteEnd = new Date(minute.getTime() + MINUTE);
  const at = new Date(now);
  const capped = (rank: string, triesDay: string, day: string) =>
    sql`CASE WHEN state = 'Waiting' AND ${sql.raw(rank)} = 3 AND ${sql.raw(triesDay)} >= ${rules.maxTriesPerDay} THEN to_char(${sql.raw(day)}, 'YYYY-MM-DD') END`;
  const usable = sql.join(slots.map((n) => sql`(${sql.ref(`k.phone_number${n}`)} IS NOT NULL
    AND NOT ${sql.ref(`k.b_phone_number${n}_invalid`)} AND ${sql.ref(`k.n_tries_phone_number${n}`)} < ${rules.maxTriesPerNumber})`), sql` OR `);
  return db.transaction().execute(async (trx) => {
    // Tens of thousands of count rows fall into a few dozen groups, but PostgreSQL cannot know it
    // (the groups are expressions) and sorted them on disk: 90 of 145 ms at a million contacts
    // after a minute of dialling (EXPLAIN ANALYZE). Hashing them takes a few ms. JIT would compile
    // this at every call as soon as the estimate passes jit_above_cost.
    await setForTransaction(trx, { enable_sort: 'off', jit: 'off' });
    const { rows } = await sql<CountedGroup>`
    SELECT state, closed_reason, held, usable, due, due_rank, time_zone, capped_day, sum(n) AS n FROM (
      SELECT state, closed_reason, held,
        CASE WHEN state = 'Waiting' THEN coalesce(min_tries < ${rules.maxTriesPerNumber}, false) END AS usable,
        CASE WHEN state = 'Waiting' THEN next_try < ${minute} END AS due,
        due_rank, time_zone, ${capped('due_rank', 'n_tries_day', 'tries_day')} AS capped_day, n
      FROM (
        SELECT ${KEY}, n FROM dialler_contact_counts WHERE campaign_id = ${campaignId}
        UNION ALL
        SELECT ${KEY}, n FROM dialler_contact_count_changes WHERE campaign_id = ${campaignId}
      ) AS counted
      WHERE next_try IS DISTINCT FROM ${minute}
      UNION ALL
      SELECT k.state, NULL, k.holder_user_id IS NOT NULL OR k.hold_kind IS NOT NULL, ${usable}, k.dt_next_try <= ${at},
        k.due_rank, k.time_zone, ${capped('k.due_rank', 'k.n_tries_day', 'k.tries_day')}, 1
      FROM dialler_contacts k
      WHERE k.campaign_id = ${campaignId} AND k.state = 'Waiting' AND k.dt_next_try >= ${minute} AND k.dt_next_try < ${minuteEnd}
    ) AS groups
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(n) <> 0`.execute(trx);
    return rows;
  });
}

/**
 * Folds the appended count changes into the counts. One instance at a time (the advisory lock,
 * held to the end of the transaction; another that finds it taken leaves the work to the holder):
 * two folds upserting, or removing emptied rows, in different orders could deadlock. The changes
 * are deleted and added in one statement, so a reader sees them in one table or the other, never
 * both or neither.
 */
export async function foldContactCounts(db: Db, now?: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const folded = await fold(trx);
    if (folded !== null && now !== undefined) await mergeDueMinutes(trx, now);
    return folded ?? 0;
  });
}

/** How far behind the folding instance's clock a minute must be before it merges (mergeDueMinutes). */
const MERGE_AFTER_MS = 2 * MINUTE;
const KEPT = sql.raw('campaign_id, state, closed_reason, held, min_tries, due_rank, time_zone, tries_day, n_tries_day');

/**
 * Keeps the counts small under a busy campaign: a waiting contact's due minute matters to a reader
 * only until it has passed (then the contact is due, whichever minute it was), so the groups of
 * past minutes are merged into one per group with the minute '-infinity' (due whenever read).
 * Without this every minute of retries left its own groups behind, and a campaign's why-not
 * slowed with the hours it had been dialled. Only minutes MERGE_AFTER_MS behind this instance's
 * clock merge, so a reader whose clock lags the folder's a little still finds its current minute
 * apart. Run by the fold's holder, at most once per minute per process.
 */
async function mergeDueMinutes(db: Db, now: number): Promise<void> {
  const before = new Date(Math.floor((now - MERGE_AFTER_MS) / MINUTE) * MINUTE);
  const merged = mergedUpTo(storeKey(db));
  if (merged.at >= before.getTime()) return;
  await sql`
    WITH past AS (
      DELETE FROM dialler_contact_counts WHERE next_try < ${before} AND next_try <> '-infinity'
      RETURNING ${KEY}, n)
    INSERT INTO dialler_contact_counts (${KEY}, n)
    SELECT campaign_id, state, closed_reason, held, min_tries, due_rank, time_zone, '-infinity', tries_day, n_tries_day, sum(n)
    FROM past GROUP BY ${KEPT} ORDER BY ${KEPT}
    ON CONFLICT (${KEY}) DO UPDATE SET n = dialler_contact_counts.n + excluded.n`.execute(db);
  await sql`DELETE FROM dialler_contact_counts WHERE n = 0`.execute(db);
  merged.at = before.getTime();
}

const mergedUpTo = perDatabase((_db: object) => ({ at: -Infinity }));

/** Folds the changes; null when another instance holds the fold. */
async function fold(db: Db): Promise<number | null> {
  const { rows } = await sql<{ ok: boolean; n: number; emptied: number }>`
    WITH mine AS (SELECT pg_try_advisory_xact_lock(hashtextextended('dialler-contact-counts', 0)) AS ok),
    moved AS (DELETE FROM dialler_contact_count_changes WHERE (SELECT ok FROM mine) RETURNING ${KEY}, n),
    summed AS (SELECT ${KEY}, sum(n) AS n FROM moved GROUP BY ${KEY} HAVING sum(n) <> 0),
    folded AS (
      INSERT INTO dialler_contact_counts (${KEY}, n) SELECT ${KEY}, n FROM summed ORDER BY ${KEY}
      ON CONFLICT (${KEY}) DO UPDATE SET n = dialler_contact_counts.n + excluded.n
      RETURNING n)
    SELECT (SELECT ok FROM mine) AS ok, (SELECT count(*) FROM moved)::int AS n, (SELECT count(*) FROM folded WHERE n = 0)::int AS emptied`.execute(db);
  if (!rows[0]?.ok) return null;
  // Groups that emptied go (a later change makes the row again).
  if (rows[0].emptied > 0) await sql`DELETE FROM dialler_contact_counts WHERE n = 0`.execute(db);
  return rows[0].n;
}
