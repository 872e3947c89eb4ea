// Records of webhooks [ours]: a client's subscriptions (never their secrets: those are shown once,
// by create and rotate), the delivery log per endpoint and the attempts of each delivery.
import { Type } from 'typebox';
import { defineRecord, field } from '../../http/records.ts';

export const SubscriptionRecord = defineRecord(
  'WebhookSubscription',
  {
    ID: field.int('s.id'),
    URL: field.text('s.url'),
    Description: field.text('s.description', { nullable: true }),
    Kinds: field.json('array_to_json(s.kinds)', Type.Array(Type.String()), { description: 'Kinds of change delivered: `event.created`, `event.*`, `agent.state`, `contact.result`, `*`…' }),
    bEnabled: field.bool('s.enabled'),
    DisabledReason: field.text('s.disabled_reason', { nullable: true, description: 'Why the endpoint was disabled (by the client, a 410, or days of failures)' }),
    dtDisabled: field.timestamp('s.disabled_at', { nullable: true }),
    dtSecretRotated: field.timestamp('s.secret_rotated_at', { nullable: true }),
    dtPreviousSecretExpires: field.timestamp('s.previous_secret_until', { nullable: true, description: 'Until then deliveries are signed with the previous secret too' }),
    dtFailingSince: field.timestamp('s.failing_since', { nullable: true, description: 'First failure since the last success' }),
    dtLastSuccess: field.timestamp('s.last_success_at', { nullable: true }),
    dtCreated: field.timestamp('s.created_at'),
    dtModified: field.timestamp('s.modified_at'),
  },
  { from: 'webhook_subscriptions s', clientColumn: 's.client_id', idColumn: 's.id', defaultOrderBy: 'ID' },
);

export const DeliveryRecord = defineRecord(
  'WebhookDelivery',
  {
    ID: field.int('d.id'),
    WebhooksID: field.int('d.subscription_id'),
    MessageID: field.text('d.message_id', { description: 'The webhook-id header: the same on every attempt and replay' }),
    Type: field.text('d.type'),
    State: field.text('d.state', { description: 'Pending, Delivered or Failed (410, or the retry schedule ran out)' }),
    nAttempts: field.int('d.attempts'),
    dtNextAttempt: field.timestamp("CASE WHEN d.state = 'Pending' THEN d.next_attempt_at END", { nullable: true }),
    LastStatus: field.int('d.last_status', { nullable: true, description: 'HTTP status of the last answer' }),
    LastError: field.text('d.last_error', { nullable: true }),
    LastLatencyMs: field.int('d.last_latency_ms', { nullable: true }),
    dtLastAttempt: field.timestamp('d.last_attempt_at', { nullable: true }),
    dtDelivered: field.timestamp('d.delivered_at', { nullable: true }),
    dtCreated: field.timestamp('d.created_at', { description: 'When the change happened' }),
  },
  { from: 'webhook_deliveries d', clientColumn: 'd.client_id', idColumn: 'd.id', defaultOrderBy: 'ID' },
);

export const AttemptRecord = defineRecord(
  'WebhookAttempt',
  {
    ID: field.int('a.id'),
    WebhookDeliveriesID: field.int('a.delivery_id'),
    nAttempt: field.int('a.attempt'),
    dtStarted: field.timestamp('a.started_at'),
    Status: field.int('a.status', { nullable: true }),
    Error: field.text('a.error', { nullable: true }),
    LatencyMs: field.int('a.latency_ms'),
    ResponseExcerpt: field.text('a.response', { nullable: true, description: 'At most the first 1 KiB of the answer' }),
  },
  { from: 'webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id', clientColumn: 'd.client_id', idColumn: 'a.id', defaultOrderBy: 'ID' },
);
