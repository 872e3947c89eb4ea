// The delivery worker. Any number of instances run one each: a pass claims due deliveries (a
// short statement leasing them), sends each outside any transaction, then records the outcome.
// Woken by change notices of clients with subscriptions (after their commit), by its own sends
// finishing, and by a sweep timer (retries coming due, other instances' leases running out).
// Each send has its own deadline and the worker holds at most `maxInFlight` of them, so a slow or
// dead endpoint never holds the API's connections; it is throttled to `slowCap` sends in flight,
// and a reserve of slots is kept for idle endpoints, so it cannot hold the other endpoints' slots
// either (the rules are in claimDue, src/webhooks/sql.ts).
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { decodeNotice } from '../db/changes.ts';
import { DISABLE_AFTER_MS, LOG_RETENTION_MS, RETRY_SCHEDULE_MS, retryDelay } from './schedule.ts';
import { send, type Outcome } from './sender.ts';
import { signedHeaders } from './signing.ts';
import { sealingKey, unseal } from './sealing.ts';
import { Batcher } from '../db/batcher.ts';
import { claimDue, pruneFinished, recordOutcomes, renderBodies, subscribedClients, type Claimed, type Recorded } from './sql.ts';
import { deliveryAgents, type DeliveryAgents } from './sender.ts';

export interface WebhookSettings {
  /** Send to loopback/private/link-local targets (SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE=1; tests). */
  allowPrivate: boolean;
  /** An attempt's deadline, answer included. */
  timeoutMs: number;
  /**
   * How long a claim holds a delivery (default three deadlines): longer than the attempt, so a
   * live worker always records before its lease runs out; a dead worker's claims come due again.
   */
  leaseMs: number;
  sweepMs: number;
  perEndpoint: number;
  maxInFlight: number;
  /** A send taking this long (or timing out, or getting no answer) marks its endpoint slow. */
  slowMs: number;
  /** The most sends in flight for a slow endpoint across instances (until one is fast again). */
  slowCap: number;
  /** Slots of `maxInFlight` kept for endpoints with nothing in flight (`slowCap` each per pass). */
  reserve: number;
  schedule: readonly number[];
  disableAfterMs: number;
  /** How long finished deliveries stay in the log. */
  retentionMs: number;
  /** SWITCHBOARD_WEBHOOKS_SECRET_KEY: seals signing secrets at rest (src/webhooks/sealing.ts). */
  secretKey?: string;
}

export const WEBHOOK_DEFAULTS: Omit<WebhookSettings, 'leaseMs'> = {
  allowPrivate: false, timeoutMs: 10_000, sweepMs: 500, perEndpoint: 32, maxInFlight: 128, slowMs: 1000, slowCap: 2, reserve: 32,
  schedule: RETRY_SCHEDULE_MS, disableAfterMs: DISABLE_AFTER_MS, retentionMs: LOG_RETENTION_MS,
};

/** How often an instance prunes the log. */
const PRUNE_EVERY_MS = 10 * 60_000;

export class WebhookWorker {
  readonly settings: WebhookSettings;
  readonly #db: Kysely<any>;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #key: Buffer | undefined;
  readonly #agents: DeliveryAgents;
  /** Outcomes finishing while others are being recorded share the next statement. */
  readonly #outcomes: Batcher<Recorded, boolean>;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #passing: Promise<number> | undefined;
  #again = false;
  #inFlight = new Set<Promise<void>>();
  /** Clients with an enabled subscription, refreshed every sweep; null: not known yet (wake on all). */
  #subscribers: Set<number> | null = null;
  #prunedAt = 0;

  constructor(db: Kysely<any>, clock: Clock, settings: Partial<WebhookSettings> = {}, onError: (error: unknown) => void = () => {}) {
    this.#db = db;
    this.#clock = clock;
    const timeoutMs = settings.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
    this.settings = { ...WEBHOOK_DEFAULTS, leaseMs: 3 * timeoutMs, ...settings };
    this.#onError = onError;
    this.#key = sealingKey(this.settings.secretKey);
    this.#agents = deliveryAgents(() => this.settings.allowPrivate, this.settings.perEndpoint);
    this.#outcomes = new Batcher(() => 'outcomes', async (rows) => {
      const recorded = await recordOutcomes(this.#db, rows);
      return recorded.map((value) => ({ status: 'fulfilled', value }));
    }, { maxBatch: 64, inFlight: 1 });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const sweep = () => {
      if (!this.#running) return;
      void this.#refresh().then(() => this.kick());
      this.#timer = setTimeout(sweep, this.settings.sweepMs);
      this.#timer.unref();
    };
    sweep();
  }

  /** Stops claiming; waits for the sends under way (each ends by its deadline). */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#passing?.catch(() => 0);
    await Promise.all(this.#inFlight);
    this.#agents.close();
  }

  /** A change notice: work only when the client has a subscription (or the notice is unreadable). */
  wake(payload: string): void {
    if (!this.#running) return;
    const notice = decodeNotice(payload);
    if (notice && this.#subscribers && !this.#subscribers.has(notice.clientId)) return;
    this.kick();
  }

  /** A subscription of `clientId` was enabled here: its notices mean work from now on. */
  subscribed(clientId: number): void {
    this.#subscribers?.add(clientId);
  }

  /** Runs a pass soon (passes never overlap; one asked for during a pass follows it). */
  kick(): void {
    if (!this.#running) return;
    if (this.#passing) {
      this.#again = true;
      return;
    }
    this.#passing = this.#pass().catch((error: unknown) => {
      this.#onError(error);
      return 0;
    }).finally(() => {
      this.#passing = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Forgets finished deliveries older than the retention (every 10 minutes while running). */
  prune(): Promise<number> {
    return pruneFinished(this.#db, new Date(this.#clock.now() - this.settings.retentionMs));
  }

  /** For tests: one pass, resolving once every delivery it claimed has been sent and recorded. */
  async runPass(): Promise<number> {
    const sends: Promise<void>[] = [];
    const n = await this.#pass(sends);
    await Promise.all(sends);
    return n;
  }

  async #refresh(): Promise<void> {
    try {
      this.#subscribers = await subscribedClients(this.#db);
      const now = this.#clock.now();
      if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
        this.#prunedAt = now;
        await this.prune();
      }
    } catch (error) {
      this.#onError(error);
    }
  }

  async #pass(collect?: Promise<void>[]): Promise<number> {
    const room = this.settings.maxInFlight - this.#inFlight.size;
    if (room <= 0) return 0;
    const now = this.#clock.now();
    const { leaseMs, maxInFlight, perEndpoint, slowCap, slowMs, reserve } = this.settings;
    const claimed = await claimDue(this.#db, new Date(now), new Date(now + leaseMs), room, {
      perEndpoint, slowCap,
      // A lease taken more than slowMs ago (by an instance with the same lease length) that is still held.
      slowLeaseUntil: new Date(now + leaseMs - slowMs),
      // (The reserve is at most half the instance: a small maxInFlight still serves busy endpoints.)
      shared: Math.max(0, maxInFlight - Math.min(reserve, Math.floor(maxInFlight / 2)) - this.#inFlight.size),
    });
    if (claimed.length === 0) return 0;
    await renderBodies(this.#db, claimed);
    for (const delivery of claimed) {
      const sending = this.#deliver(delivery).catch((error: unknown) => this.#onError(error)).finally(() => {
        this.#inFlight.delete(sending);
        if (!collect) this.kick();
      });
      this.#inFlight.add(sending);
      collect?.push(sending);
    }
    return claimed.length;
  }

  /** The key that seals secrets at rest (undefined: stored as they are). */
  get sealingKey(): Buffer | undefined {
    return this.#key;
  }

  async #deliver(delivery: Claimed): Promise<void> {
    const startedAt = this.#clock.now();
    let outcome: Outcome;
    try {
      const secrets = [unseal(delivery.secret, this.#key)];
      if (delivery.previous_secret && delivery.previous_secret_until && delivery.previous_secret_until.getTime() > startedAt) {
        secrets.push(unseal(delivery.previous_secret, this.#key));
      }
      // The signing time is the wall clock's: receivers compare it with theirs.
      const headers = signedHeaders(secrets, delivery.message_id, Math.floor(Date.now() / 1000), delivery.body!);
      outcome = await send(delivery.url, headers, delivery.body!, {
        timeoutMs: this.settings.timeoutMs, allowPrivate: this.settings.allowPrivate, agents: this.#agents,
      });
    } catch (error) {
      // A secret this instance cannot unseal: nothing sent; retried (another instance may hold the key).
      outcome = { status: null, error: (error as Error).message, latencyMs: 0, excerpt: null, refused: false };
    }
    const recorded = await this.#outcomes.add(this.#judge(delivery, outcome, startedAt));
    if (!recorded) this.#onError(new Error(`webhook delivery ${delivery.message_id}: outcome came after its lease ran out`));
  }

  /** 2xx delivered; 410 gives up and disables the endpoint; anything else retries on the schedule. */
  #judge(delivery: Claimed, outcome: Outcome, startedAt: number): Recorded {
    const now = this.#clock.now();
    const base: Omit<Recorded, 'error' | 'state' | 'nextAt' | 'retryStep' | 'endpoint'> = {
      delivery, startedAt: new Date(startedAt), status: outcome.status, latencyMs: outcome.latencyMs, excerpt: outcome.excerpt,
      now: new Date(now), disableBefore: new Date(now - this.settings.disableAfterMs),
    };
    const status = outcome.status;
    // Nothing sent (refused target, secret not unsealed: latency 0) says nothing of the endpoint's pace.
    const pace = status !== null ? (outcome.latencyMs < this.settings.slowMs ? 'fast' : 'slow')
      : outcome.refused || outcome.latencyMs === 0 ? null : 'slow';
    base.pace = pace;
    if (status !== null && status >= 200 && status < 300) {
      return { ...base, error: null, state: 'Delivered', nextAt: null, retryStep: delivery.retry_step, endpoint: 'success' };
    }
    const error = outcome.error ?? (status !== null && status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`);
    if (status === 410) return { ...base, error, state: 'Failed', nextAt: null, retryStep: delivery.retry_step, endpoint: 'gone' };
    const delay = retryDelay(this.settings.schedule, delivery.retry_step);
    return delay === undefined
      ? { ...base, error, state: 'Failed', nextAt: null, retryStep: delivery.retry_step, endpoint: 'failure' }
      : { ...base, error, state: 'Pending', nextAt: new Date(now + delay), retryStep: delivery.retry_step + 1, endpoint: 'failure' };
  }
}
