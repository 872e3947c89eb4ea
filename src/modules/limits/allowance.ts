// Request limits counted in memory and shared through a ledger (PostgreSQL for many instances, a
// Map for one process). An instance leases a slice of a key's allowance for the current window
// from the ledger and spends it locally, so a request waits for the ledger only when its
// instance's slice is used up: the first request of a window, about every twentieth of the limit
// after that, and each request in the last slices (they shrink as the allowance runs out).
// The ledger never hands out more than the limit, so across instances a key is never admitted
// beyond it; what another instance leased and did not spend is lost to the rest, so a key whose
// traffic moves between instances may be refused up to (instances - 1) x ceil(limit / 20)
// requests early in a window. A limit of 20 or less leases one request at a time: exact.

export interface LeaseRequest {
  key: string;
  /** Requests wanted for this instance. */
  want: number;
  /** The key's limit per window. */
  max: number;
  windowMs: number;
}

export interface Lease {
  /** Requests granted (0: the window's allowance is spent). */
  granted: number;
  /** Requests handed out in this window so far, to every instance, this grant included. */
  hits: number;
  /** Which window (the ledger's clock): a given-back request goes to the window it came from. */
  window: number;
  resetInMs: number;
}

export interface Ledger {
  lease(request: LeaseRequest): Promise<Lease>;
  /** A request that should not count after all (a successful login): one more for the window. */
  giveBack(key: string, window: number): Promise<void>;
  close(): Promise<void>;
}

export interface Verdict {
  admitted: boolean;
  limit: number;
  /** Requests left in the window as far as this instance knows (others' unspent slices count as spent). */
  remaining: number;
  resetInMs: number;
}

/** A slice is at most this share of the limit. */
const SLICE_DIVISOR = 20;
/** ...and at most this share of what was left at the last lease, so the last slices are small. */
const REMAINDER_DIVISOR = 4;

interface Tally {
  /** Local time the window ends; unknown (Infinity) until the first lease answers. */
  resetAt: number;
  window: number;
  left: number;
  hits: number;
  exhausted: boolean;
  leasing: Promise<void> | null;
}

export class Allowances {
  readonly #ledger: Ledger;
  readonly #now: () => number;
  readonly #tallies = new Map<string, Tally>();
  #sweepAt = 1000;

  constructor(ledger: Ledger, now: () => number = Date.now) {
    this.#ledger = ledger;
    this.#now = now;
  }

  /**
   * Counts one request for `key`; admitted while the window's allowance lasts. Answers at once
   * (no promise) while this instance's slice lasts: the hot path costs no await.
   */
  take(key: string, max: number, windowMs: number): Verdict | Promise<Verdict> {
    const now = this.#now();
    let tally = this.#tallies.get(key);
    if (!tally || now >= tally.resetAt) {
      // Swept before the new tally is stored: it has no window yet and would be swept away.
      if (this.#tallies.size >= this.#sweepAt) this.#sweep(now);
      tally = { resetAt: Infinity, window: -1, left: 0, hits: 0, exhausted: false, leasing: null };
      this.#tallies.set(key, tally);
    }
    if (tally.left > 0) {
      tally.left--;
      return { admitted: true, limit: max, remaining: Math.max(0, max - tally.hits + tally.left), resetInMs: tally.resetAt - now };
    }
    if (tally.exhausted) return { admitted: false, limit: max, remaining: 0, resetInMs: tally.resetAt - now };
    // Requests arriving while a lease is on its way wait for it and share what it brings.
    tally.leasing ??= this.#lease(key, tally, max, windowMs);
    return tally.leasing.then(() => this.take(key, max, windowMs));
  }

  /** The request taken for `key` does not count (a successful login). */
  giveBack(key: string): void {
    const tally = this.#tallies.get(key);
    if (!tally || tally.window < 0 || this.#now() >= tally.resetAt) return;
    tally.hits = Math.max(0, tally.hits - 1);
    tally.exhausted = false;
    void this.#ledger.giveBack(key, tally.window).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.#ledger.close();
  }

  #lease(key: string, tally: Tally, max: number, windowMs: number): Promise<void> {
    const want = Math.max(1, Math.min(Math.ceil(max / SLICE_DIVISOR), Math.ceil((max - tally.hits) / REMAINDER_DIVISOR)));
    return this.#ledger.lease({ key, want, max, windowMs }).then((lease) => {
      tally.left += lease.granted;
      tally.hits = lease.hits;
      tally.window = lease.window;
      tally.resetAt = this.#now() + lease.resetInMs;
      tally.exhausted = lease.granted === 0;
    }).finally(() => {
      tally.leasing = null;
    });
  }

  /** Forgets windows that ended, once the map has doubled since the last sweep. */
  #sweep(now: number): void {
    for (const [key, tally] of this.#tallies) {
      if (now >= tally.resetAt || (tally.window < 0 && !tally.leasing)) this.#tallies.delete(key);
    }
    this.#sweepAt = Math.max(1000, this.#tallies.size * 2);
  }
}

/** The ledger of one process (the embedded store): exact, as no other instance shares it. */
export class MemoryLedger implements Ledger {
  readonly #rows = new Map<string, { window: number; hits: number; resetAt: number }>();
  readonly #now: () => number;
  #sweepAt = 1000;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async lease({ key, want, max, windowMs }: LeaseRequest): Promise<Lease> {
    const now = this.#now();
    const window = Math.floor(now / windowMs);
    let row = this.#rows.get(key);
    if (!row || row.window !== window) {
      row = { window, hits: 0, resetAt: (window + 1) * windowMs };
      this.#rows.set(key, row);
      if (this.#rows.size >= this.#sweepAt) this.#sweep(now);
    }
    const granted = Math.min(want, Math.max(0, max - row.hits));
    row.hits += granted;
    return { granted, hits: row.hits, window, resetInMs: row.resetAt - now };
  }

  async giveBack(key: string, window: number): Promise<void> {
    const row = this.#rows.get(key);
    if (row && row.window === window && row.hits > 0) row.hits--;
  }

  async close(): Promise<void> {}

  #sweep(now: number): void {
    for (const [key, row] of this.#rows) if (now >= row.resetAt) this.#rows.delete(key);
    this.#sweepAt = Math.max(1000, this.#rows.size * 2);
  }
}
