// Per-campaign counts of contacts by the facts the why-not answer decides on (spec §8.2: "answered
// from stored state, not by rescanning"), kept by the statements that change contacts.
//
// Every INSERT, UPDATE and DELETE on dialler_contacts appends, through statement-level triggers,
// the change of each count it makes to `dialler_contact_count_changes`: appended, never updated,
// so concurrent hand-outs and results never wait on one hot counter row (nor deadlock updating
// two). The dialler engine folds those rows into `dialler_contact_counts` every few seconds; a
// reader sums both in one statement, so it sees exactly the contacts of its snapshot.
//
// The facts kept are the ones that do not change with the clock or a campaign's rules: the time
// dependent ones are decided when reading (due: `next_try`, the due moment to the minute, against
// now, with the current minute counted exactly from the contacts; the day cap: `tries_day` and
// `n_tries_day` against the day and the rule; a usable number: the fewest tries on a valid number,
// `min_tries`, against nMaxTriesPerNumber). Only a waiting contact carries more than its state
// and closed reason, so a campaign has a few rows per zone, rank and minute in which contacts
// come due.
import { statementsMigration, statementTrigger } from './statements.ts';

const PHONES = [1, 2, 3, 4, 5, 6];
const KEY = 'campaign_id, state, closed_reason, held, min_tries, due_rank, time_zone, next_try, tries_day, n_tries_day';
// By position: GROUP BY a name would take the contact's own column of that name, not the key's.
const BY_KEY = 'GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10';

/** The key of a contact row `r`, in KEY's order. */
function keyOf(r: string): string {
  const waiting = `${r}.state = 'Waiting'`;
  const validTries = PHONES.map((n) => `CASE WHEN ${r}.phone_number${n} IS NOT NULL AND NOT ${r}.b_phone_number${n}_invalid THEN ${r}.n_tries_phone_number${n} END`);
  return [
    `${r}.campaign_id`,
    `${r}.state`,
    `CASE WHEN ${r}.state IN ('Done', 'Aborted') THEN ${r}.closed_reason END`,
    `CASE WHEN ${waiting} THEN (${r}.holder_user_id IS NOT NULL OR ${r}.hold_kind IS NOT NULL) END`,
    `CASE WHEN ${waiting} THEN least(${validTries.join(', ')}) END`,
    `CASE WHEN ${waiting} THEN ${r}.due_rank END`,
    `CASE WHEN ${waiting} THEN ${r}.time_zone END`,
    // date_bin, not date_trunc: the minute of the instant, whatever the session's time zone.
    `CASE WHEN ${waiting} THEN CASE WHEN isfinite(${r}.dt_next_try) THEN date_bin('1 minute', ${r}.dt_next_try, timestamptz '2000-01-01 00:00Z') ELSE ${r}.dt_next_try END END`,
    `CASE WHEN ${waiting} AND ${r}.due_rank = 3 THEN ${r}.tries_day END`,
    `CASE WHEN ${waiting} AND ${r}.due_rank = 3 THEN ${r}.n_tries_day END`,
  ].join(', ');
}

const COLUMNS = `campaign_id integer NOT NULL, state text NOT NULL, closed_reason text, held boolean, min_tries integer,
      due_rank smallint, time_zone text, next_try timestamptz, tries_day date, n_tries_day integer`;

const UP: string[] = [
  // Until this migration commits, no contact changes: one made between the backfill below and the
  // triggers (an instance of the previous release still running) would never be counted.
  'LOCK TABLE dialler_contacts IN SHARE ROW EXCLUSIVE MODE',
  `CREATE TABLE dialler_contact_counts (${COLUMNS}, n bigint NOT NULL,
      UNIQUE NULLS NOT DISTINCT (${KEY}))`,
  `CREATE TABLE dialler_contact_count_changes (${COLUMNS}, n integer NOT NULL)`,
  'CREATE INDEX dialler_contact_count_changes_campaign ON dialler_contact_count_changes (campaign_id)',
  `INSERT INTO dialler_contact_counts (${KEY}, n) SELECT ${keyOf('k')}, count(*) FROM dialler_contacts k ${BY_KEY}`,
  ...statementTrigger({
    name: 'dialler_contacts_counted_in', on: 'dialler_contacts', event: 'INSERT', trigger: 'dialler_contacts_counted_in',
    body: `INSERT INTO dialler_contact_count_changes (${KEY}, n) SELECT ${keyOf('r')}, count(*) FROM new_rows r ${BY_KEY}`,
  }),
  ...statementTrigger({
    name: 'dialler_contacts_counted_out', on: 'dialler_contacts', event: 'DELETE', trigger: 'dialler_contacts_counted_out',
    body: `INSERT INTO dialler_contact_count_changes (${KEY}, n) SELECT ${keyOf('r')}, -count(*) FROM old_rows r ${BY_KEY}`,
  }),
  // An update moves a contact from its old key to its new one; where they are the same the two
  // cancel out and nothing is written.
  ...statementTrigger({
    name: 'dialler_contacts_counted_again', on: 'dialler_contacts', event: 'UPDATE', trigger: 'dialler_contacts_counted_again',
    body: `INSERT INTO dialler_contact_count_changes (${KEY}, n)
        SELECT ${KEY}, sum(d) FROM (
          SELECT ${keyOf('o')}, -1 AS d FROM old_rows o
          UNION ALL
          SELECT ${keyOf('r')}, 1 FROM new_rows r) AS moved (${KEY}, d)
        GROUP BY ${KEY} HAVING sum(d) <> 0`,
  }),
  // TRUNCATE fires no row or statement triggers of the kinds above: it empties the counts itself.
  `CREATE FUNCTION dialler_contacts_counted_none() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM dialler_contact_count_changes;
        DELETE FROM dialler_contact_counts;
        RETURN NULL;
      END $$`,
  `CREATE TRIGGER dialler_contacts_counted_none AFTER TRUNCATE ON dialler_contacts
      FOR EACH STATEMENT EXECUTE FUNCTION dialler_contacts_counted_none()`,
  // Why-not counts the contacts coming due in the current minute one by one.
  `CREATE INDEX dialler_contacts_waiting_due ON dialler_contacts (campaign_id, dt_next_try) WHERE state = 'Waiting'`,
];

const DOWN: string[] = [
  'DROP INDEX dialler_contacts_waiting_due',
  ...['in', 'out', 'again', 'none'].flatMap((n) => [
    `DROP TRIGGER dialler_contacts_counted_${n} ON dialler_contacts`,
    `DROP FUNCTION dialler_contacts_counted_${n}()`,
  ]),
  'DROP TABLE dialler_contact_count_changes',
  'DROP TABLE dialler_contact_counts',
];

export const { up, down } = statementsMigration(UP, DOWN);
