// Webhooks [ours, spec §10]: subscriptions of the client, their delivery log and replays.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { AttemptRecord, DeliveryRecord, SubscriptionRecord } from './records.ts';
import { ReplayRangeBody, SubscriptionCreateBody, SubscriptionUpdateBody } from './schemas.ts';
import * as webhooks from './service.ts';

const tags = ['Webhooks'];
const ONE = 'WebhooksID';
const WithSecret = Type.Object(
  { ...(SubscriptionRecord.schema as ReturnType<typeof Type.Object>).properties, Secret: Type.String({ description: 'whsec_…: shown this once' }) },
  { additionalProperties: false },
);

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const worker = app.webhooks;
  // Read per request: tests and operators may change the setting on a running app.
  const allowPrivate = () => worker.settings.allowPrivate;

  app.get('/webhooks', {
    schema: { tags, operationId: 'listWebhooks', summary: 'The client\'s webhook endpoints (default orderBy ID)', params: ClientScopedParams(), querystring: listQuerySchema(SubscriptionRecord), response: { 200: ListEnvelope(SubscriptionRecord.schema), ...commonErrors } },
  }, async (request, reply) => sendClientList(reply, db, SubscriptionRecord, request.query, request.client));

  app.post('/webhooks/create', {
    schema: { tags, operationId: 'createWebhook', summary: 'Subscribe a URL to kinds of change; the answer shows the signing secret, once', params: ClientScopedParams(), body: SubscriptionCreateBody, response: { 200: SingleEnvelope(WithSecret), ...commonErrors, ...conflict } },
  }, async (request, reply) => {
    const texts = await webhooks.createSubscription(db, app.clock, request.client, request.body, allowPrivate(), worker.sealingKey);
    worker.subscribed(request.client.id);
    return sendRecords(reply, texts);
  });

  app.get('/webhooks/webhook/:WebhooksID', {
    schema: { tags, operationId: 'getWebhook', summary: 'One webhook endpoint', params: ClientScopedParams(ONE), response: { 200: SingleEnvelope(SubscriptionRecord.schema), ...commonErrors } },
  }, async (request, reply) => sendRecords(reply, await webhooks.getSubscription(db, request.client, request.params.WebhooksID)));

  app.patch('/webhooks/webhook/:WebhooksID', {
    schema: { tags, operationId: 'updateWebhook', summary: 'Change URL, kinds or description; disable (with a reason) or enable again', params: ClientScopedParams(ONE), body: SubscriptionUpdateBody, response: { 200: SingleEnvelope(SubscriptionRecord.schema), ...commonErrors } },
  }, async (request, reply) => {
    const texts = await webhooks.updateSubscription(db, app.clock, request.client, request.params.WebhooksID, request.body, allowPrivate());
    if (request.body.bEnabled) {
      worker.subscribed(request.client.id);
      worker.kick();
    }
    return sendRecords(reply, texts);
  });

  app.delete('/webhooks/webhook/:WebhooksID', {
    schema: { tags, operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint and its delivery log', params: ClientScopedParams(ONE), response: { 200: StatusOnly, ...commonErrors } },
  }, async (request) => {
    await webhooks.deleteSubscription(db, request.client, request.params.WebhooksID);
    return { status: 200 };
  });

  app.post('/webhooks/webhook/:WebhooksID/rotate-secret', {
    schema: { tags, operationId: 'rotateWebhookSecret', summary: 'A new signing secret, shown once; the previous one keeps signing for 24 h (both signatures are sent)', params: ClientScopedParams(ONE), response: { 200: SingleEnvelope(WithSecret), ...commonErrors } },
  }, async (request, reply) => sendRecords(reply, await webhooks.rotateSecret(db, app.clock, request.client, request.params.WebhooksID, worker.sealingKey)));

  app.get('/webhooks/webhook/:WebhooksID/deliveries', {
    schema: { tags, operationId: 'listWebhookDeliveries', summary: 'The delivery log of an endpoint (default orderBy ID)', params: ClientScopedParams(ONE), querystring: listQuerySchema(DeliveryRecord), response: { 200: ListEnvelope(DeliveryRecord.schema), ...commonErrors } },
  }, async (request, reply) => {
    await webhooks.requireSubscription(db, request.client, request.params.WebhooksID);
    return sendClientList(reply, db, DeliveryRecord, request.query, request.client, sql`d.subscription_id = ${request.params.WebhooksID}`);
  });

  app.get('/webhooks/webhook/:WebhooksID/deliveries/:WebhookDeliveriesID/attempts', {
    schema: { tags, operationId: 'listWebhookDeliveryAttempts', summary: 'Every attempt of a delivery: status, latency, error, the first 1 KiB of the answer', params: ClientScopedParams(ONE, 'WebhookDeliveriesID'), querystring: listQuerySchema(AttemptRecord), response: { 200: ListEnvelope(AttemptRecord.schema), ...commonErrors } },
  }, async (request, reply) => {
    await webhooks.requireSubscription(db, request.client, request.params.WebhooksID);
    return sendClientList(reply, db, AttemptRecord, request.query, request.client,
      sql`d.subscription_id = ${request.params.WebhooksID} AND d.id = ${request.params.WebhookDeliveriesID}`);
  });

  app.post('/webhooks/webhook/:WebhooksID/deliveries/:WebhookDeliveriesID/replay', {
    schema: { tags, operationId: 'replayWebhookDelivery', summary: 'Send a delivery again now (same webhook-id and body); 409 while it is being sent', params: ClientScopedParams(ONE, 'WebhookDeliveriesID'), response: { 200: StatusOnly, ...commonErrors, ...conflict } },
  }, async (request) => {
    await webhooks.replayDelivery(db, app.clock, request.client, request.params.WebhooksID, request.params.WebhookDeliveriesID);
    worker.kick();
    return { status: 200 };
  });

  app.post('/webhooks/webhook/:WebhooksID/replay', {
    schema: {
      tags, operationId: 'replayWebhookDeliveries', summary: 'Send again every delivery created in [From, To) (or only the failed ones)', params: ClientScopedParams(ONE), body: ReplayRangeBody,
      response: { 200: Type.Object({ Replayed: Type.Integer(), BeingSent: Type.Integer({ description: 'left alone: being sent right now' }), status: Type.Integer() }), ...commonErrors },
    },
  }, async (request) => {
    const { replayed, busy } = await webhooks.replayRange(db, app.clock, request.client, request.params.WebhooksID, request.body);
    worker.kick();
    return { Replayed: replayed, BeingSent: busy, status: 200 };
  });
};
