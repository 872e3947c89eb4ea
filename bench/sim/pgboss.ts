// pg-boss as the distribution benchmark's comparison: the same number of jobs sent, fetched one at
// a time and completed, in rounds between Switchboard's (bench/distribution.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { PgBoss } from 'pg-boss';
import { round } from '../support.ts';

export interface PgBossBenchOptions {
  /** Workers fetching one job at a time (as many as the agents). */
  workers: number;
  senders: number;
  /** A worker that finds no job waits this long (ms, drawn between the two) before it looks again. */
  idleMs: [number, number];
  warmup: number;
  timeoutMs: number;
  /** The payload of job i. */
  data(i: number): Record<string, unknown>;
}

/**
 * pg-boss on its own database: started and warmed up once, then a round at a time (workers run
 * only during their round, so their idle polling never loads the server during ours).
 */
export class PgBossBench {
  readonly #boss: PgBoss;
  readonly #queue = 'bench-assignments';
  readonly #errors: unknown[] = [];
  readonly #completedAt = new Map<number, number>();
  #next = 0;
  seconds = 0;
  jobs = 0;

  readonly #o: PgBossBenchOptions;

  constructor(url: string, options: PgBossBenchOptions) {
    this.#o = options;
    this.#boss = new PgBoss({ connectionString: url, schema: 'pgboss', max: 10 });
    this.#boss.on('error', (error) => this.#errors.push(error));
  }

  async start(): Promise<void> {
    const { workers, senders, idleMs } = this.#o;
    console.log(`\npg-boss: ${workers} workers fetching one job at a time (polling every ${idleMs[0]}-${idleMs[1]} ms when idle), ${senders} senders`);
    await this.#boss.start();
    await this.#boss.createQueue(this.#queue);
    await this.#run(this.#o.warmup);
    console.log(`  warm-up: ${this.#o.warmup} jobs completed`);
  }

  async round(r: number, count: number): Promise<void> {
    const seconds = await this.#run(count);
    this.seconds += seconds;
    this.jobs += count;
    console.log(`  pg-boss round ${r + 1}: ${count} jobs sent, fetched and completed in ${round(seconds, 2)} s = ${round(count / seconds, 1)} jobs/s`);
  }

  async stop(): Promise<void> {
    if (this.#errors.length) console.log(`  pg-boss reported ${this.#errors.length} errors, first: ${String(this.#errors[0])}`);
    await this.#boss.stop({ graceful: true, close: true });
  }

  /** Sends `count` jobs with the senders while the workers take them; seconds until the last is complete. */
  async #run(count: number): Promise<number> {
    const boss = this.#boss;
    const queue = this.#queue;
    const { workers, senders, idleMs, timeoutMs, data } = this.#o;
    const from = this.#next;
    this.#next += count;
    let stopped = false;
    const worker = async () => {
      while (!stopped) {
        const [job] = await boss.fetch<{ i: number }>(queue, { batchSize: 1 });
        if (!job) {
          await sleep(idleMs[0] + Math.random() * (idleMs[1] - idleMs[0]));
          continue;
        }
        await boss.complete(queue, job.id);
        this.#completedAt.set(job.data.i, Date.now());
      }
    };
    const running = Array.from({ length: workers }, worker);
    try {
      const t0 = Date.now();
      let next = from;
      await Promise.all(Array.from({ length: senders }, async () => {
        for (let i = next++; i < from + count; i = next++) {
          const id = await boss.send(queue, { i, ...data(i) });
          if (!id) throw new Error(`pg-boss send ${i} returned no id`);
        }
      }));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let last = 0;
        let missing = 0;
        for (let i = from; i < from + count; i++) {
          const at = this.#completedAt.get(i);
          if (at === undefined) missing++;
          else if (at > last) last = at;
        }
        if (missing === 0) return (last - t0) / 1000;
        if (Date.now() > deadline) throw new Error(`pg-boss: ${missing} jobs not completed`);
        await sleep(5);
      }
    } finally {
      stopped = true;
      await Promise.all(running);
    }
  }
}
