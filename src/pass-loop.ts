// The loop both engines run (the ACD distributor, the dialler engine): passes on a wake, at the
// next timer the database knows of, and on a sweep as a backup for lost notifications. One pass
// at a time per process; wakes during a pass coalesce into one more pass.
import type { Clock } from './domain/clock.ts';

export interface PassLoopOptions {
  clock: Clock;
  /** Backup sweep: the longest the loop sleeps (ms). */
  sweepMs: number;
  /**
   * One pass; `full` when a timer, the sweep or start asked for it. Answers whether the timers
   * may have moved (the loop then reads them again before it sleeps).
   */
  pass: (full: boolean) => Promise<{ timersMoved: boolean }>;
  /** The next moment a timer of the engine is due (ms), or null. */
  nextTimerAt: () => Promise<number | null>;
  onError: (error: unknown) => void;
}

export class PassLoop {
  readonly #o: PassLoopOptions;
  #running: Promise<void> | null = null;
  #again = false;
  #full = true;
  #started = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: PassLoopOptions) {
    this.#o = options;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Runs passes on its own from now on, starting with a full one. */
  start(): void {
    this.#started = true;
    this.run(true);
  }

  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** A pass soon (`full`: a full one); during a pass, one more after it. */
  run(full: boolean): void {
    if (!this.#started) return;
    if (full) this.#full = true;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      // A run() between the loop's last check and here only set #again: it gets its pass now.
      if (this.#again && this.#started) this.run(false);
    });
  }

  async #loop(): Promise<void> {
    // Until the loop returns, run() only sets #again: a wake heard while the timers are being
    // read (#schedule waits on the database) must run one more pass, or the change it announced
    // waits for the sweep.
    do {
      this.#again = false;
      const full = this.#full;
      this.#full = false;
      let timersMoved = true;
      try {
        timersMoved = (await this.#o.pass(full)).timersMoved || full;
      } catch (error) {
        this.#o.onError(error);
      }
      if (!this.#again && this.#started && (timersMoved || this.#timer === null)) await this.#schedule();
    } while (this.#again && this.#started);
  }

  async #schedule(): Promise<void> {
    const { clock } = this.#o;
    let delay = this.#o.sweepMs;
    try {
      const at = await this.#o.nextTimerAt();
      if (at !== null) delay = Math.min(delay, Math.max(0, at - clock.now()));
    } catch (error) {
      this.#o.onError(error);
    }
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#started) return;
    // +1 ms: a timer due at t must find now >= t when it fires.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.run(true);
    }, delay + 1);
    this.#timer.unref();
  }
}
