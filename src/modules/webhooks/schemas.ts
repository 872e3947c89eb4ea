// Request bodies of webhooks [ours].
import { Type } from 'typebox';
import { NullableString, TIMESTAMP_PATTERN } from '../../http/schema-types.ts';
import { SUBSCRIBABLE_KINDS } from '../../webhooks/kinds.ts';

const TEXT_PATTERN = '^[^\\u0000]*$';
/** The most endpoints a client may have: each change fans out to every one of them. */
export const MAX_SUBSCRIPTIONS = 50;

const fields = {
  URL: Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s\\u0000]+$', description: 'http(s) URL the deliveries are POSTed to' }),
  Kinds: Type.Array(Type.Enum([...SUBSCRIBABLE_KINDS]), {
    minItems: 1, maxItems: 64, uniqueItems: true, description: 'Kinds of change to deliver; `<family>.*` or `*` for all of a family or all',
  }),
  Description: NullableString({ maxLength: 500, pattern: TEXT_PATTERN }),
};

export const SubscriptionCreateBody = Type.Object({
  URL: fields.URL, Kinds: fields.Kinds, Description: Type.Optional(fields.Description),
}, { additionalProperties: false });

export const SubscriptionUpdateBody = Type.Object({
  URL: Type.Optional(fields.URL),
  Kinds: Type.Optional(fields.Kinds),
  Description: Type.Optional(fields.Description),
  bEnabled: Type.Optional(Type.Boolean({ description: 'false disables (with DisabledReason); true enables again and forgets past failures' })),
  DisabledReason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: TEXT_PATTERN })),
}, { additionalProperties: false, minProperties: 1 });

export const ReplayRangeBody = Type.Object({
  From: Type.String({ pattern: TIMESTAMP_PATTERN, description: 'Deliveries created from this moment (client time zone)…' }),
  To: Type.String({ pattern: TIMESTAMP_PATTERN, description: '…until before this one' }),
  bOnlyFailed: Type.Optional(Type.Boolean({ description: 'Only deliveries that failed (default false: every one not being sent right now)' })),
}, { additionalProperties: false });

export const SecretAnswer = Type.Object({ Secret: Type.String({ description: 'whsec_…, shown this once' }) });

export type SubscriptionInput = { URL?: string; Kinds?: string[]; Description?: string | null; bEnabled?: boolean; DisabledReason?: string };
