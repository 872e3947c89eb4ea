// Requests that reach the store while others are on their way go together: a batch runs as one
// statement, so a round trip, a parse and a commit serve many requests. Alone, a request goes at
// once as a batch of one; under load, what arrives while the store is busy waits for the next
// batch, so no one waits for a timer.

export interface BatcherOptions<R> {
  /** Most requests in one batch (also bounds how many statement texts a key can have). */
  maxBatch?: number;
  /**
   * Requests of one lane (default: of one key; a key's requests must share a lane) have at most
   * one batch on their way. Every statement has a fixed cost on the server (executor start,
   * triggers, commit) several times a row's: with one batch of a lane on its way, the requests of
   * that lane arriving meanwhile all share the next ones (measured on the distribution bench,
   * with two batches of one kind of create or of one client's agent actions in flight,
   * PostgreSQL ran 1.3-1.7x as many statements for the same work), while other lanes (other
   * kinds, other clients) go alongside.
   */
  laneOf?: (row: R) => string;
  /** Batches on their way at once, all lanes together (default 4). */
  inFlight?: number;
}

interface Waiting<R, A> {
  row: R;
  resolve(value: A): void;
  reject(error: unknown): void;
}

export class Batcher<R, A> {
  readonly #keyOf: (row: R) => string;
  readonly #laneOf: (row: R) => string;
  readonly #run: (rows: R[]) => Promise<PromiseSettledResult<A>[]>;
  readonly #maxBatch: number;
  readonly #inFlightMax: number;
  readonly #waiting = new Map<string, Waiting<R, A>[]>();
  /** Lanes with a batch on its way. */
  readonly #busy = new Set<string>();

  /**
   * `keyOf`: requests with equal keys may share a batch. `run`: one outcome per row, in order
   * (it handles a batch that cannot run whole, typically by running its rows one by one).
   */
  constructor(keyOf: (row: R) => string, run: (rows: R[]) => Promise<PromiseSettledResult<A>[]>, options: BatcherOptions<R> = {}) {
    this.#keyOf = keyOf;
    this.#laneOf = options.laneOf ?? keyOf;
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 16;
    this.#inFlightMax = options.inFlight ?? 4;
  }

  add(row: R): Promise<A> {
    return new Promise((resolve, reject) => {
      const key = this.#keyOf(row);
      const queue = this.#waiting.get(key);
      if (queue) queue.push({ row, resolve, reject });
      else this.#waiting.set(key, [{ row, resolve, reject }]);
      this.#next();
    });
  }

  #next(): void {
    for (const [key, queue] of this.#waiting) {
      if (this.#busy.size >= this.#inFlightMax) return;
      const lane = this.#laneOf(queue[0]!.row);
      if (this.#busy.has(lane)) continue;
      const batch = queue.splice(0, this.#maxBatch);
      // Keys take turns: what is left of this one queues behind the others (a Map keeps
      // insertion order), so a stream of one kind of request cannot hold the others back.
      this.#waiting.delete(key);
      if (queue.length > 0) this.#waiting.set(key, queue);
      this.#busy.add(lane);
      void this.#settle(batch).finally(() => {
        this.#busy.delete(lane);
        this.#next();
      });
    }
  }

  async #settle(batch: Waiting<R, A>[]): Promise<void> {
    let outcomes: PromiseSettledResult<A>[];
    try {
      outcomes = await this.#run(batch.map((w) => w.row));
    } catch (error) {
      outcomes = batch.map(() => ({ status: 'rejected', reason: error }));
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'fulfilled') w.resolve(outcome.value);
      else w.reject(outcome ? outcome.reason : new Error('a batch answered fewer rows than it was given'));
    });
  }
}
