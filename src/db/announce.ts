// Transitions the application announces itself. The feed trigger (migrations 004, 007) NOTIFYs
// every event transition, and PostgreSQL serialises the commits of notifying transactions, WAL
// flush included: on the hot paths (agents' accept/reject/seen/done, the distributor's queueing
// and offers) that one lock capped the rate of changes. Those statements tell the trigger to stay
// quiet and announce their changes after commit instead, many per NOTIFY (Store.announce). Every
// other path still notifies from the trigger: a path that does not opt out cannot go unheard.
import { sql, type RawBuilder } from 'kysely';

/**
 * Payload suffix of a change that gives the distributor nothing to do (no event queued, no place
 * freed: an accept, a seen, an offer): only live streams look at it.
 */
export const NOTHING_TO_DISTRIBUTE = ':-';

export type Announce = (payload: string) => void;

const announcers = new WeakMap<object, Announce>();

/** Called by the store for its Kysely instance. */
export function registerAnnouncer(db: object, announce: Announce): void {
  announcers.set(db, announce);
}

/**
 * The store's announce function for `db` (the top-level instance, not a transaction), or
 * undefined: then the statement must leave the announcing to the trigger.
 */
export function announcerOf(db: object): Announce | undefined {
  return announcers.get(db);
}

/**
 * A select-list expression that, once evaluated, keeps the feed trigger from notifying the rest of
 * the transaction's transitions (it reads this transaction-local setting). Put it where it runs
 * whenever the statement wrote transitions (on its returned rows, or in a one-row select); run
 * without any, it does no harm: the setting ends with the transaction.
 */
export const APP_ANNOUNCES: RawBuilder<string> = sql<string>`set_config('switchboard.announced', 'on', true)`;

/** Whether a change of `payload` may give the distributor work. */
export function mayDistribute(payload: string): boolean {
  return !payload.endsWith(NOTHING_TO_DISTRIBUTE);
}
