// Builds the Fastify application as a plugin-composed instance so tests can build() it on any
// store with a pinned clock, and the server can listen with it.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { openApiOptions } from './http/openapi.ts';
import { installUnknownEndpoints } from './http/unknown-endpoints.ts';
import { installCors } from './http/cors.ts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { Store } from './db/store.ts';
import { isReachable } from './db/store.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { clientErrorHandler, installErrorHandling } from './http/error-handler.ts';
import { installJsonBody } from './http/json-body.ts';
import { rejectNonDecimalIntegers, rejectUnstorableText, validatorCompiler } from './http/validation.ts';
import { authenticateAdmin, authenticateClient } from './http/auth.ts';
import { ErrorBody } from './http/schema-types.ts';
import { clientRoutes } from './modules/clients/routes.ts';
import { eventRoutes } from './modules/events/routes.ts';
import { groupRoutes } from './modules/groups/routes.ts';
import { userRoutes } from './modules/users/routes.ts';
import { campaignRoutes } from './modules/campaigns/routes.ts';
import { contactRoutes } from './modules/contacts/routes.ts';
import { adminContactFileRoutes } from './modules/contacts/file-routes.ts';
import { agentRoutes } from './modules/agents/routes.ts';
import { workRoutes } from './modules/work/routes.ts';
import { pushRoutes } from './modules/push/routes.ts';
import { diallerRoutes } from './modules/dialler/routes.ts';
import { doNotCallRoutes } from './modules/donotcall/routes.ts';
import { incomingCallRoutes } from './modules/dialler/incoming-call-routes.ts';
import { whyNotRoutes } from './modules/dialler/why-not-routes.ts';
import { contactHistoryRoutes } from './modules/dialler/history-routes.ts';
import { webhookRoutes } from './modules/webhooks/routes.ts';
import { consoleSessionRoutes } from './modules/console-sessions/routes.ts';
import { wallboardRoutes } from './modules/wallboard/routes.ts';
import { consolePlugin } from './console/plugin.ts';
import { WebhookWorker, type WebhookSettings } from './webhooks/worker.ts';
import { mayDistribute } from './db/changes.ts';
import { Distributor } from './distributor/distributor.ts';
import { DiallerEngine } from './dialler/engine.ts';
import { CredentialCache } from './http/credential-cache.ts';
import { installRequestLimits } from './http/rate-limit.ts';
import { installIdempotency } from './modules/idempotency/plugin.ts';
import { installMetrics, logAtDebug, Metrics } from './http/metrics.ts';
import { LIMIT_DEFAULTS, METRICS_DEFAULTS, type CorsOrigins, type LimitSettings, type MetricsSettings, type TrustProxy } from './config.ts';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    clock: Clock;
    /** Credentials verified by this instance (see src/http/credential-cache.ts). */
    credentials: CredentialCache;
    distributor: Distributor;
    dialler: DiallerEngine;
    webhooks: WebhookWorker;
    /** Whether this instance runs the engine (and the other background sweeps). */
    distributorRunning: boolean;
  }
}

export interface BuildOptions {
  store: Store;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /**
   * Run the distribution engine on its own (on every change, due timer and sweep). Off, tests
   * drive it step by step with `app.distributor.runPass()`.
   */
  distribute?: boolean;
  distributorSweepMs?: number;
  /** Request limits and /metrics access (default: config.ts's defaults); whose X-Forwarded-For to trust. */
  limits?: LimitSettings;
  metrics?: MetricsSettings;
  trustProxy?: TrustProxy;
  /** Origins browsers may call the API from (SWITCHBOARD_CORS_ORIGINS); default: none (no CORS). */
  cors?: CorsOrigins;
  /** Webhook delivery settings; `deliver` runs the worker (default: as `distribute`). */
  webhooks?: Partial<WebhookSettings> & { deliver?: boolean };
}

export const API_PREFIX = '/rest/v1.0';

export async function build(options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 2 * 1024 * 1024,
    requestIdHeader: 'x-request-id',
    trustProxy: options.trustProxy ?? false,
    genReqId: () => randomUUID(),
    // Keep-alive sockets must not hold a graceful shutdown open.
    forceCloseConnections: 'idle',
    // Fastify's own 503 while closing has its body, not ours: installErrorHandling answers it.
    return503OnClosing: false,
    // Requests Node's HTTP parser refuses (malformed, oversized headers) answer in the wire format too.
    clientErrorHandler,
    // Node would answer a missing Host with a bare 400; installErrorHandling answers it instead.
    http: { requireHostHeader: false },
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a path that is not valid percent-encoding) use the wire format too.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
      const reason = error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid percent-encoded UTF-8' : 'Bad request';
      void reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ status, error: reason }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installJsonBody(app);

  app.decorate('store', options.store);
  app.decorate('clock', options.clock ?? systemClock);
  const credentials = new CredentialCache(options.store);
  app.decorate('credentials', credentials);
  app.addHook('onClose', async () => credentials.close());
  const metrics = new Metrics(options.store, options.metrics ?? METRICS_DEFAULTS);
  const distributor = new Distributor(options.store.db, options.clock ?? systemClock, {
    sweepMs: options.distributorSweepMs,
    onError: (error) => app.log.error({ err: error }, 'distribution pass failed'),
    onPass: metrics.onPass,
  });
  app.decorate('distributor', distributor);
  const dialler = new DiallerEngine(options.store.db, options.clock ?? systemClock, {
    onError: (error) => app.log.error({ err: error }, 'dialler pass failed'),
    // PGlite runs one statement at a time in this process: a batch costs it less than a hand-out
    // with every result (bench:dialler: 434 against 203 per second), and saves no round trips.
    headsForResults: options.store.kind === 'postgres',
  });
  app.decorate('dialler', dialler);
  app.decorate('distributorRunning', options.distribute === true);
  const { deliver = options.distribute === true, ...webhookSettings } = options.webhooks ?? {};
  const webhooks = new WebhookWorker(options.store.db, options.clock ?? systemClock, webhookSettings,
    (error) => app.log.error({ err: error }, 'webhook delivery failed'));
  app.decorate('webhooks', webhooks);
  let stopHearing = () => {};
  if (deliver) {
    app.addHook('onReady', async () => {
      stopHearing = options.store.onChange((payload) => webhooks.wake(payload));
      webhooks.start();
    });
  }
  app.addHook('onClose', async () => {
    stopHearing();
    await webhooks.stop();
  });
  if (options.distribute) {
    let unsubscribe = () => {};
    app.addHook('onReady', async () => {
      unsubscribe = options.store.onChange((payload) => {
        if (mayDistribute(payload)) distributor.wake(payload);
        dialler.wake(payload);
      });
      distributor.start();
      dialler.start();
    });
    app.addHook('onClose', async () => {
      unsubscribe();
      await Promise.all([distributor.stop(), dialler.stop()]);
    });
  }
  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(ErrorBody);
  installErrorHandling(app);
  installUnknownEndpoints(app);
  installMetrics(app, metrics, options.metrics ?? METRICS_DEFAULTS);
  app.addHook('preValidation', rejectUnstorableText);
  app.addHook('preValidation', rejectNonDecimalIntegers);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await installCors(app, options.cors ?? false);
  await app.register(swagger, openApiOptions);
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/health', { schema: { hide: true }, ...logAtDebug(app) }, async () => ({ status: 200 }));
  app.get('/ready', { schema: { hide: true }, ...logAtDebug(app) }, async (_request, reply) => {
    const ok = await isReachable(app.store);
    return reply.code(ok ? 200 : 503).send(ok ? { status: 200 } : { status: 503, error: 'Store not reachable' });
  });
  await app.register(consolePlugin);

  await app.register(async (admin) => {
    admin.addHook('onRequest', authenticateAdmin);
    installIdempotency(admin, 'admin');
    await admin.register(clientRoutes);
    await admin.register(adminContactFileRoutes);
  }, { prefix: API_PREFIX });

  await app.register(async (client) => {
    client.addHook('onRequest', authenticateClient);
    await installRequestLimits(client, options.limits ?? LIMIT_DEFAULTS);
    installIdempotency(client, 'client');
    await client.register(eventRoutes);
    await client.register(groupRoutes);
    await client.register(userRoutes);
    await client.register(campaignRoutes);
    await client.register(contactRoutes);
    await client.register(agentRoutes);
    await client.register(workRoutes);
    await client.register(pushRoutes);
    await client.register(diallerRoutes);
    await client.register(doNotCallRoutes);
    await client.register(incomingCallRoutes);
    await client.register(whyNotRoutes);
    await client.register(contactHistoryRoutes);
    await client.register(webhookRoutes);
    await client.register(consoleSessionRoutes);
    await client.register(wallboardRoutes);
  }, { prefix: `${API_PREFIX}/:ClientsID` });

  return app;
}
