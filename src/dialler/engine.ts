// The dialler engine in one process, beside the ACD distributor and built like it: no state that
// matters in memory (holds and timers are columns, claims are row locks), so any number of
// instances run it side by side and a killed one leaves only holds that run out. Its passes run
// in the loop both engines share (src/pass-loop.ts): on a change (any instance's, through the
// store's notices), at the next timer, and on a sweep — the sweep is also what notices a retry or
// a window coming due, which no change announces.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from '../domain/clock.ts';
import { decodeNotice } from '../db/changes.ts';
import { nextTimerAt, releaseBindings, runDueHolds } from './actions.ts';
import { handOutToAgents, handsOutWithResult, type HandedOut } from './hand-out.ts';
import { refill } from './hopper.ts';
import { foldContactCounts } from './sql/contact-counts.ts';
import { campaignConfigs } from './sql/campaign-config.ts';
import { PassLoop } from '../pass-loop.ts';

/**
 * Hand-outs a pass runs at once. Each holds a pool connection for a few statements; four keep a
 * pass short with 100 agents waiting without taking the pool from the API (PGlite, with one
 * connection, runs them one after another anyway).
 */
export const HAND_OUT_CONCURRENCY = 4;
/** Agents served in one batch (handOutToAgents). */
export const HAND_OUT_BATCH = 64;
/** How often the appended contact-count changes are folded into the counts (why-not reads both). */
export const FOLD_MS = 2000;

export interface DiallerEngineOptions {
  /** Backup sweep, and how soon a contact coming due is handed out (ms). */
  sweepMs?: number;
  batch?: number;
  onError?: (error: unknown) => void;
  /**
   * Whether it keeps the campaigns' heads read (hopper.ts), so that results hand out the next
   * contact themselves (default true; without heads every agent is served by batches).
   */
  headsForResults?: boolean;
  /** Told of every hand-out (metrics, tests). */
  onHandOut?: (handedOut: HandedOut, latencyMs: number) => void;
}

export interface DiallerPassResult {
  holds: number;
  handedOut: number;
  /** Agents another transaction held (an ACD offer, another instance): theirs this time. */
  busyAgents: number;
}

export class DiallerEngine {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #batch: number;
  readonly #onHandOut: (handedOut: HandedOut, latencyMs: number) => void;
  readonly #onError: (error: unknown) => void;
  readonly #loop: PassLoop;
  readonly #heads: boolean;
  /** Agents logged in to any campaign, as the last full look found them (see wake). */
  #diallerAgents = new Set<number>();
  /** Agents freed and waiting for the next batch (serve). */
  #toServe = new Set<number>();
  /** The batches of freed agents under way (serve). */
  #serving: Promise<void> | undefined;
  #foldedAt = -Infinity;

  constructor(db: Kysely<Database>, clock: Clock, options: DiallerEngineOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#batch = options.batch ?? 200;
    this.#onHandOut = options.onHandOut ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
    this.#heads = options.headsForResults ?? true;
    this.#loop = new PassLoop({
      clock, sweepMs: options.sweepMs ?? 1000, onError: this.#onError,
      pass: (full) => this.#pass(full),
      nextTimerAt: () => nextTimerAt(this.#db),
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#serving;
  }

  /**
   * A change was heard (its notice, src/db/changes.ts): look for free agents soon if it concerns
   * an agent who works a campaign (they may have finished an ACD event, or a contact). Every change
   * of the store is heard here, and a look is a query on the single session of PGlite, so changes
   * of anybody else are left to the sweep: contacts arriving, campaigns starting and retries
   * coming due are handed out within a sweep (1 s).
   */
  wake(payload?: string): void {
    const notice = payload === undefined ? null : decodeNotice(payload);
    if (notice?.agentId != null && this.#diallerAgents.has(notice.agentId)) this.#loop.run(false);
  }

  async #pass(full: boolean): Promise<{ timersMoved: boolean }> {
    if (full) {
      const result = await this.runPass();
      if (result.holds >= this.#batch) this.#loop.run(true);
      return { timersMoved: true };
    }
    // New holds bring new preview deadlines: the timer must know of them.
    return { timersMoved: (await this.#handOut(await this.#freeAgents())).handedOut > 0 };
  }

  /**
   * A contact for an agent who just became free (their result, skip or release), at once rather
   * than at the next pass; the pass would find them too, this only saves the wait.
   */
  serve(agentId: number): void {
    if (!this.#loop.started) return;
    this.#diallerAgents.add(agentId);
    this.#toServe.add(agentId);
    if (this.#serving) return;
    // One batch at a time: agents freed while a batch runs wait for the next, which takes them
    // all. Batches of one instance then never propose each other's contacts, and the busier the
    // engine, the bigger (and cheaper per agent) its batches.
    this.#serving = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#toServe.size > 0 && this.#loop.started) {
        const agentIds = [...this.#toServe];
        this.#toServe.clear();
        try {
          await this.#handOut(await this.#freeAgents(agentIds));
        } catch (error) {
          this.#onError(error);
        }
      }
    })().finally(() => {
      this.#serving = undefined;
    });
  }

  /**
   * A result drew on the campaign's head (hopper.ts), or would have: read it again if it is old
   * or running out, in the background. Results hand out the next contacts from it, so while
   * agents keep posting results it is this, not a batch, that looks at the campaign's queue.
   */
  keepHead(campaignId: number): void {
    if (!this.#loop.started || !this.#heads) return;
    void campaignConfigs(this.#db, [campaignId])
      .then((configs) => {
        const config = configs.get(campaignId);
        return config && handsOutWithResult(config, this.#clock.now()) ? refill(this.#db, config, this.#clock.now()) : undefined;
      })
      .catch(this.#onError);
  }

  /** One pass: due holds and bindings, then a contact for every free agent. Tests drive this. */
  async runPass(): Promise<DiallerPassResult> {
    const holds = await runDueHolds(this.#db, this.#clock.now(), this.#batch);
    await releaseBindings(this.#db, this.#clock.now());
    if (performance.now() - this.#foldedAt >= FOLD_MS) {
      this.#foldedAt = performance.now();
      await foldContactCounts(this.#db, this.#clock.now());
    }
    const { handedOut, busyAgents } = await this.#handOut(await this.#freeAgents());
    return { holds, handedOut, busyAgents };
  }

  /**
   * Agents logged in to a running agent-mode campaign and holding no dialler work (one, or all);
   * the hand-out checks all of it again under the agent's lock.
   */
  async #freeAgents(agentIds?: number[]): Promise<{ user_id: number; campaigns: number[] }[]> {
    if (agentIds === undefined) {
      const { rows } = await sql<{ user_id: number }>`SELECT DISTINCT user_id FROM dialler_campaign_logins`.execute(this.#db);
      this.#diallerAgents = new Set(rows.map((r) => r.user_id));
    }
    const { rows } = await sql<{ user_id: number; campaigns: number[] }>`
      SELECT l.user_id, array_agg(l.campaign_id ORDER BY l.campaign_id) AS campaigns
      FROM dialler_campaign_logins l
      JOIN dialler_campaigns c ON c.id = l.campaign_id AND c.b_running AND c.mode IN ('Preview', 'Progressive')
      JOIN agent_states s ON s.user_id = l.user_id AND s.dialler_held = 0
      ${agentIds === undefined ? sql`` : sql`WHERE l.user_id = ANY(${agentIds}::int[])`}
      GROUP BY l.user_id ORDER BY l.user_id`.execute(this.#db);
    return rows;
  }

  /**
   * Serves the agents in batches of HAND_OUT_BATCH (handOutToAgents: one transaction per campaign
   * of a batch), HAND_OUT_CONCURRENCY batches at a time.
   */
  async #handOut(agents: { user_id: number; campaigns: number[] }[]): Promise<{ handedOut: number; busyAgents: number }> {
    let handedOut = 0;
    let busyAgents = 0;
    if (agents.length === 0) return { handedOut, busyAgents };
    const configs = await campaignConfigs(this.#db, [...new Set(agents.flatMap((a) => a.campaigns))]);
    const batches: (typeof agents)[] = [];
    for (let i = 0; i < agents.length; i += HAND_OUT_BATCH) batches.push(agents.slice(i, i + HAND_OUT_BATCH));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const started = performance.now();
        const requests = batch.map((agent) => ({ agentId: agent.user_id, configs: agent.campaigns.map((id) => configs.get(id)).filter((c) => c !== undefined) }));
        const results = await handOutToAgents(this.#db, requests, this.#clock.now());
        const took = performance.now() - started;
        for (const result of results.values()) {
          if (result === 'busy') busyAgents++;
          else if (result !== null) {
            handedOut++;
            this.#onHandOut(result, took);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HAND_OUT_CONCURRENCY, batches.length) }, worker));
    // The agents served now post their results next: their campaigns' heads, read for them.
    const now = this.#clock.now();
    if (this.#heads) await Promise.all([...configs.values()].filter((c) => handsOutWithResult(c, now)).map((c) => refill(this.#db, c, now)));
    return { handedOut, busyAgents };
  }
}
