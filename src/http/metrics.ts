// GET /metrics in Prometheus's text format (prom-client). Every label set is bounded: requests by
// route pattern (never the raw URL), method and status; events by open status; groups by name
// only for the few with the most waiting (SWITCHBOARD_METRICS_TOP_GROUPS), the rest in the status
// totals. What the database knows is read at scrape time by one aggregating statement over the
// open events (the partial index of open events serves it, so closed history costs nothing), and
// every other figure is kept in memory as it happens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSettings } from '../config.ts';
import type { Store } from '../db/store.ts';
import type { PassResult } from '../distributor/distributor.ts';
import { Status } from '../domain/event-flow.ts';
import { bearerToken, hashToken, tokenMatches } from '../domain/tokens.ts';
import { MetricsUnauthorized } from '../errors.ts';
import { adminTokenHash } from '../modules/clients/admin-token.ts';

/** Statuses an event can still leave: the ones counted at scrape time. */
const OPEN_STATUSES = Object.values(Status).filter((s) => s < Status.ChatClosed);

/** The process's own figures (CPU, memory, event loop, GC), the same for every app it builds. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

interface OpenEventRow {
  kind: 's' | 'g' | 'n';
  client_id: number | null;
  group_id: number | null;
  a: string;
  b: string;
}

/**
 * One statement: open events by status, the `top` groups by waiting (then offered) events, and
 * how many groups have any waiting.
 */
async function readOpenEvents(store: Store, top: number): Promise<OpenEventRow[]> {
  const { rows } = await sql<OpenEventRow>`
    WITH open AS (
      SELECT status_id, client_id, queue_group_id, count(*) AS n
        FROM acd_events WHERE status_id < ${sql.lit(Status.ChatClosed)}
        GROUP BY status_id, client_id, queue_group_id
    ), groups AS (
      SELECT client_id, queue_group_id,
             coalesce(sum(n) FILTER (WHERE status_id = ${sql.lit(Status.TransportToGroup)}), 0) AS waiting,
             coalesce(sum(n) FILTER (WHERE status_id = ${sql.lit(Status.TransportAgent)}), 0) AS offered
        FROM open WHERE status_id IN (${sql.lit(Status.TransportToGroup)}, ${sql.lit(Status.TransportAgent)}) AND queue_group_id IS NOT NULL
        GROUP BY client_id, queue_group_id
    )
    SELECT 's' AS kind, NULL::int AS client_id, NULL::int AS group_id, status_id::text AS a, sum(n)::text AS b FROM open GROUP BY status_id
    UNION ALL
    SELECT 'n', NULL, NULL, count(*) FILTER (WHERE waiting > 0)::text, '' FROM groups
    UNION ALL
    (SELECT 'g', client_id, queue_group_id, waiting::text, offered::text FROM groups
      ORDER BY waiting DESC, offered DESC, client_id, queue_group_id LIMIT ${top})`.execute(store.db);
  return rows;
}

type RequestLabels = 'method' | 'route' | 'status_code';

export class Metrics {
  readonly registry = new Registry();
  readonly #store: Store;
  readonly #settings: MetricsSettings;
  readonly #requests: Histogram<RequestLabels>;
  /** Label children by "method route status", so a request costs no label hashing. */
  readonly #requestChildren = new Map<string, { observe(value: number): void }>();
  readonly #passes: Histogram;
  readonly #expired: Counter;
  readonly #offered: Counter;
  readonly #events: Gauge<'status'>;
  readonly #groupWaiting: Gauge<'client_id' | 'group_id'>;
  readonly #groupOffered: Gauge<'client_id' | 'group_id'>;
  readonly #groupsWaiting: Gauge;
  readonly #storeUp: Gauge;
  #openStreams: () => number = () => 0;
  #reading: Promise<void> | null = null;

  constructor(store: Store, settings: MetricsSettings) {
    this.#store = store;
    this.#settings = settings;
    const registers = [this.registry];
    this.#requests = new Histogram({
      name: 'switchboard_http_request_duration_seconds', help: 'HTTP requests by route pattern, method and status',
      labelNames: ['method', 'route', 'status_code'], registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    });
    this.#passes = new Histogram({
      name: 'switchboard_distributor_pass_duration_seconds', help: 'Distribution engine passes', registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.#expired = new Counter({ name: 'switchboard_acd_offers_expired_total', help: 'Offers not accepted in time, returned to their queue', registers });
    this.#offered = new Counter({ name: 'switchboard_acd_offers_total', help: 'Offers made to agents', registers });
    this.#events = new Gauge({ name: 'switchboard_acd_events', help: 'Open ACD events by AcdEventStatusID (closed ones, 98 and above, are not counted)', labelNames: ['status'], registers });
    this.#groupWaiting = new Gauge({
      name: 'switchboard_acd_group_waiting_events', help: 'Events waiting in a group\'s queue (status 4), for the groups with the most', labelNames: ['client_id', 'group_id'], registers,
    });
    this.#groupOffered = new Gauge({
      name: 'switchboard_acd_group_offered_events', help: 'Events of a group offered to an agent (status 10), for the groups with the most waiting', labelNames: ['client_id', 'group_id'], registers,
    });
    this.#groupsWaiting = new Gauge({ name: 'switchboard_acd_groups_with_waiting_events', help: 'Groups with at least one waiting event (named or not)', registers });
    this.#storeUp = new Gauge({ name: 'switchboard_store_up', help: '1 when the last scrape could read the store', registers });
    const openStreams = () => this.#openStreams();
    new Gauge({
      name: 'switchboard_push_streams_open', help: 'Open live streams (Server-Sent Events) on this instance', registers,
      collect() {
        this.set(openStreams());
      },
    });
    const poolStats = store.poolStats?.bind(store);
    if (poolStats) {
      new Gauge({
        name: 'switchboard_db_pool_connections', help: 'PostgreSQL pool connections of this instance (total, idle) and requests waiting for one',
        labelNames: ['state'], registers,
        collect() {
          const stats = poolStats();
          this.set({ state: 'total' }, stats.total);
          this.set({ state: 'idle' }, stats.idle);
          this.set({ state: 'waiting' }, stats.waiting);
        },
      });
    }
  }

  /** The distributor's onPass. */
  readonly onPass = (durationMs: number, result: PassResult): void => {
    this.#passes.observe(durationMs / 1000);
    if (result.expired > 0) this.#expired.inc(result.expired);
    if (result.offered > 0) this.#offered.inc(result.offered);
  };

  /** Where the open streams are counted (the push module's hub). */
  countOpenStreams(source: () => number): void {
    this.#openStreams = source;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.#requestChildren.get(key);
    if (!child) {
      child = this.#requests.labels(method, route, String(status));
      this.#requestChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /** The text a scrape answers; concurrent scrapes share one read of the store. */
  async scrape(): Promise<string> {
    await (this.#reading ??= this.#readStore().finally(() => {
      this.#reading = null;
    }));
    return `${await processMetrics().metrics()}\n${await this.registry.metrics()}`;
  }

  async #readStore(): Promise<void> {
    let rows: OpenEventRow[];
    try {
      rows = await readOpenEvents(this.#store, this.#settings.topGroups);
    } catch {
      // The process's figures still go out; the store's are absent rather than stale.
      this.#storeUp.set(0);
      for (const gauge of [this.#events, this.#groupWaiting, this.#groupOffered, this.#groupsWaiting]) gauge.reset();
      return;
    }
    this.#storeUp.set(1);
    this.#events.reset();
    for (const status of OPEN_STATUSES) this.#events.set({ status: String(status) }, 0);
    // Groups that left the top N must not linger with their last figures.
    this.#groupWaiting.reset();
    this.#groupOffered.reset();
    for (const row of rows) {
      if (row.kind === 's') this.#events.set({ status: row.a }, Number(row.b));
      else if (row.kind === 'n') this.#groupsWaiting.set(Number(row.a));
      else {
        const labels = { client_id: String(row.client_id), group_id: String(row.group_id) };
        this.#groupWaiting.set(labels, Number(row.a));
        this.#groupOffered.set(labels, Number(row.b));
      }
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/**
 * Route options that log a route's requests at debug rather than info: for probes and scrapes
 * (/health, /ready, /metrics), which would otherwise fill the info log every few seconds.
 * Fastify logs requests at info whatever a route's logLevel, so the route's own logger is raised
 * to warn (its errors still show) and one debug line per request takes the place of the two.
 */
export function logAtDebug(app: FastifyInstance) {
  return {
    logLevel: 'warn',
    onResponse: async (request: FastifyRequest, reply: FastifyReply) => {
      app.log.debug({ reqId: request.id, req: { method: request.method, url: request.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed');
    },
  } as const;
}

/** Requests whose route is unknown (404 before routing) share one label. */
const UNMATCHED = '(unmatched)';

/**
 * Times every request and serves GET /metrics. Who may read it: anyone when
 * SWITCHBOARD_METRICS_PUBLIC=true (a scrape on a private network), else a bearer token, the
 * metrics token (SWITCHBOARD_METRICS_TOKEN, for Prometheus's `authorization` setting) or the admin
 * token. Not open by default, because the API port usually faces the internet and the figures
 * name tenants and tell how busy they are.
 */
export function installMetrics(app: FastifyInstance, metrics: Metrics, settings: MetricsSettings): void {
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED, reply.statusCode, reply.elapsedTime / 1000);
  });
  const metricsTokenHash = settings.token ? hashToken(settings.token) : undefined;
  const authorize = async (request: FastifyRequest): Promise<void> => {
    if (settings.public) return;
    const token = bearerToken(request.headers.authorization);
    if (token && metricsTokenHash && tokenMatches(token, metricsTokenHash)) return;
    if (token && tokenMatches(token, await adminTokenHash(app.store.db))) return;
    throw new MetricsUnauthorized();
  };
  app.get('/metrics', { schema: { hide: true }, onRequest: authorize, ...logAtDebug(app) }, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
