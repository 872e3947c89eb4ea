// The ACD engine in one process. It holds no state that matters: every timer is a column, every
// claim a row lock, so any number of these run side by side on one PostgreSQL and a killed one
// leaves nothing behind but leases that expire. Its passes run in the loop both engines share
// (src/pass-loop.ts): on a change (this process's, or any instance's through NOTIFY), at the next
// timer the database knows of, and on a sweep.
import type { Kysely } from 'kysely';
import { announceChanges, decodeNotice } from '../db/changes.ts';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../domain/clock.ts';
import { PassLoop } from '../pass-loop.ts';
import { dispatchGroup } from './sql/dispatch-group.ts';
import { expireOffers } from './sql/expire-offers.ts';
import { nextDueAt } from './sql/next-due.ts';
import { releaseDueEvents } from './sql/release-due-events.ts';
import { returnDueReminders } from './sql/return-reminders.ts';

export interface DistributorOptions {
  /** Backup sweep when no notification arrives (ms). */
  sweepMs?: number;
  /** Rows per sweep statement and per queue page. */
  batch?: number;
  onError?: (error: unknown) => void;
  /** Told after every pass, with its duration (metrics). */
  onPass?: (durationMs: number, result: PassResult) => void;
}

export interface PassResult {
  released: number;
  expired: number;
  reminded: number;
  offered: number;
  /** Groups another dispatcher held: they are that dispatcher's to serve. */
  busyGroups: number;
}

export class Distributor {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #batch: number;
  readonly #onError: (error: unknown) => void;
  readonly #onPass: (durationMs: number, result: PassResult) => void;
  readonly #loop: PassLoop;
  /**
   * Whose groups the next pass must look at: the clients whose changes woke it since the last
   * pass began, or null: every group (a change of unknown origin, a timer, the sweep).
   */
  #wokenBy: Set<number> | null = null;
  /** From the last look at the timers (see runPass); -Infinity: not known. */
  #leaseAt = -Infinity;
  #reminderAt = -Infinity;

  constructor(db: Kysely<Database>, clock: Clock, options: DistributorOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#batch = options.batch ?? 500;
    this.#onError = options.onError ?? (() => undefined);
    this.#onPass = options.onPass ?? (() => undefined);
    this.#loop = new PassLoop({
      clock, sweepMs: options.sweepMs ?? 2000, onError: this.#onError,
      pass: (full) => this.#pass(full),
      nextTimerAt: () => this.#nextTimerAt(),
    });
  }

  /** Runs passes on its own from now on: on every wake(), at due timers and on the sweep. */
  start(): void {
    this.#wokenBy = null;
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /**
   * Something changed: run a pass soon. Wakes during a pass coalesce into one more pass. `payload`:
   * the change's notice as heard (src/db/changes.ts), so that the pass looks at that client's
   * groups only; without one (or one naming no client) the pass looks at every group.
   */
  wake(payload?: string): void {
    if (!this.#loop.started) return;
    const notice = payload === undefined ? null : decodeNotice(payload);
    if (notice === null) this.#wokenBy = null;
    else this.#wokenBy?.add(notice.clientId);
    this.#loop.run(false);
  }

  async #pass(full: boolean): Promise<{ timersMoved: boolean }> {
    const clientIds = full || this.#wokenBy === null ? null : [...this.#wokenBy];
    this.#wokenBy = new Set();
    try {
      const started = performance.now();
      const result = await this.runPass({ full, clientIds });
      this.#onPass(performance.now() - started, result);
      // A full batch means more may be due right away.
      if (result.released >= this.#batch || result.expired >= this.#batch || result.reminded >= this.#batch) this.#loop.run(false);
    } catch (error) {
      // What the failed pass was to look at is looked at by the next, whatever woke it.
      this.#wokenBy = null;
      throw error;
    }
    return { timersMoved: true };
  }

  async #nextTimerAt(): Promise<number | null> {
    try {
      const due = await nextDueAt(this.#db, new Date(this.#clock.now()));
      this.#leaseAt = due.leaseAt ?? Infinity;
      this.#reminderAt = due.reminderAt ?? Infinity;
      return due.at;
    } catch (error) {
      this.#leaseAt = this.#reminderAt = -Infinity;
      throw error;
    }
  }

  /**
   * One pass over everything due: appointments reached, leases run out, reminders come, then
   * every group with waiting events and someone logged in. Tests drive the engine through this.
   *
   * `full: false` (a pass woken by a change): the lease and reminder sweeps run only when the
   * last look at the timers (after the previous pass, plus the leases this process granted since)
   * says one is due, or a due reminder waits for a free place. A timer another instance set after
   * that look is that instance's to serve, and the sweep (a full pass) catches it if it died.
   * `clientIds` (with `full: false`): the groups to dispatch are those of these clients, of the
   * events released now and of the offers expired now; a full pass looks at every group.
   */
  async runPass(options: { full?: boolean; clientIds?: number[] | null } = {}): Promise<PassResult> {
    const full = options.full !== false;
    const clientIds = full ? null : options.clientIds ?? null;
    // "Now" is read afresh for each step: history times and leases are those of the moment the
    // step ran, not of the start of a pass that may have waited on locks.
    const now = () => new Date(this.#clock.now());
    const released = await releaseDueEvents(this.#db, now(), this.#batch, clientIds);
    const expired = full || this.#clock.now() >= this.#leaseAt ? await expireOffers(this.#db, now(), this.#batch) : { expired: 0, groupIds: [] };
    const reminded = full || this.#clock.now() >= this.#reminderAt ? await returnDueReminders(this.#db, now(), this.#batch) : 0;
    let offered = 0;
    let busyGroups = 0;
    // Expired offers are back in queues the first statement did not see them in.
    const groupIds = [...new Set([...released.groupIds, ...expired.groupIds])].sort((x, y) => x - y);
    for (const groupId of groupIds) {
      const at = now();
      const result = await dispatchGroup(this.#db, groupId, at, this.#batch);
      if (result === 'busy') busyGroups++;
      else offered += result.offered;
      // A lease granted now may end before the earliest one known.
      if (result !== 'busy' && result.leaseUntil !== null) this.#leaseAt = Math.min(this.#leaseAt, result.leaseUntil);
    }
    // Events this pass queued were dispatched by it, unless another dispatcher held their group:
    // that one (and every other) is then woken to look again, as a trigger's notification would.
    await announceChanges(this.#db, released.clientIds.map((clientId) => ({ clientId, agentId: null, distribute: busyGroups > 0 })));
    return { released: released.released, expired: expired.expired, reminded, offered, busyGroups };
  }
}
