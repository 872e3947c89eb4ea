// Requests that reach the store while others are on their way go together: a batch runs as one
// statement, so a round trip, a parse and a commit serve many requests. Alone, a request goes at
// once as a batch of one; under load, what arrives while the store is busy waits for the next
// batch, so no one waits for a timer.

export interface BatcherOptions {
  /** Most requests in one batch (also bounds how many statement texts a key can have). */
  maxBatch?: number;
  /**
   * Batches on their way at once (default 1). Every statement has a fixed cost on the server
   * (executor start, triggers, commit) several times a row's: with one batch on its way, the
   * requests that arrive meanwhile all share the next one. Measured on the distribution bench,
   * two in flight made 1.7x as many create and agent-action statements for the same work.
   */
  inFlight?: number;
}

interface Waiting<R, A> {
  row: R;
  resolve(value: A): void;
  reject(error: unknown): void;
}

export class Batcher<R, A> {
  readonly #keyOf: (row: R) => string;
  readonly #run: (rows: R[]) => Promise<PromiseSettledResult<A>[]>;
  readonly #maxBatch: number;
  readonly #inFlightMax: number;
  readonly #waiting = new Map<string, Waiting<R, A>[]>();
  #inFlight = 0;

  /**
   * `keyOf`: requests with equal keys may share a batch. `run`: one outcome per row, in order
   * (it handles a batch that cannot run whole, typically by running its rows one by one).
   */
  constructor(keyOf: (row: R) => string, run: (rows: R[]) => Promise<PromiseSettledResult<A>[]>, options: BatcherOptions = {}) {
    this.#keyOf = keyOf;
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 16;
    this.#inFlightMax = options.inFlight ?? 1;
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
    while (this.#inFlight < this.#inFlightMax && this.#waiting.size > 0) {
      const [key, queue] = this.#waiting.entries().next().value!;
      const batch = queue.splice(0, this.#maxBatch);
      // Keys take turns: what is left of this one queues behind the others (a Map keeps
      // insertion order), so a stream of one kind of request cannot hold the others back.
      this.#waiting.delete(key);
      if (queue.length > 0) this.#waiting.set(key, queue);
      this.#inFlight++;
      void this.#settle(batch).finally(() => {
        this.#inFlight--;
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
