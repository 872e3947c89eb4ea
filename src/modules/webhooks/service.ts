// Webhook subscriptions of a client and replays of their deliveries (spec §10).
import type { Kysely } from 'kysely';
import type { ClientContext } from '../../http/auth.ts';
import type { Clock } from '../../domain/clock.ts';
import { Conflict, InvalidField, NotFound } from '../../errors.ts';
import { parseLocalTimestamp } from '../../domain/dialler.ts';
import { newSecret } from '../../webhooks/signing.ts';
import { seal } from '../../webhooks/sealing.ts';
import { targetProblem } from '../../webhooks/safety.ts';
import * as repo from './repository.ts';
import { MAX_SUBSCRIPTIONS, type SubscriptionInput } from './schemas.ts';

type Db = Kysely<any>;

/** How long a rotated-out secret still signs, so receivers can switch without losing a delivery. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

const notFound = (id: number) => new NotFound(`Webhook ${id}`);

function checkUrl(url: string | undefined, allowPrivate: boolean): void {
  if (url === undefined) return;
  const problem = targetProblem(url, allowPrivate);
  if (problem) throw new InvalidField('URL', problem);
}

/** A record's JSON text with the secret appended (shown this once). */
const withSecret = (json: string, secret: string) => `${json.slice(0, -1)},"Secret":${JSON.stringify(secret)}}`;

export async function getSubscription(db: Db, client: ClientContext, id: number): Promise<string[]> {
  const texts = await repo.subscriptionTexts(db, client.id, client.timeZone, id);
  if (texts.length === 0) throw notFound(id);
  return texts;
}

export async function createSubscription(db: Db, clock: Clock, client: ClientContext, input: SubscriptionInput & { URL: string; Kinds: string[] }, allowPrivate: boolean, key: Buffer | undefined): Promise<string[]> {
  checkUrl(input.URL, allowPrivate);
  const secret = newSecret();
  const id = await repo.insertSubscription(db, client.id, input, seal(secret, key), new Date(clock.now()), MAX_SUBSCRIPTIONS);
  if (id === undefined) throw new Conflict(`A client has at most ${MAX_SUBSCRIPTIONS} webhooks`);
  const [json] = await getSubscription(db, client, id);
  return [withSecret(json!, secret)];
}

export async function updateSubscription(db: Db, clock: Clock, client: ClientContext, id: number, input: SubscriptionInput, allowPrivate: boolean): Promise<string[]> {
  checkUrl(input.URL, allowPrivate);
  if (input.DisabledReason !== undefined && input.bEnabled !== false) {
    throw new InvalidField('DisabledReason', 'only with bEnabled false');
  }
  if (!(await repo.updateSubscription(db, client.id, id, input, new Date(clock.now())))) throw notFound(id);
  return getSubscription(db, client, id);
}

export async function deleteSubscription(db: Db, client: ClientContext, id: number): Promise<void> {
  if (!(await repo.deleteSubscription(db, client.id, id))) throw notFound(id);
}

export async function rotateSecret(db: Db, clock: Clock, client: ClientContext, id: number, key: Buffer | undefined): Promise<string[]> {
  const secret = newSecret();
  const now = clock.now();
  if (!(await repo.rotateSecret(db, client.id, id, seal(secret, key), new Date(now), new Date(now + ROTATION_OVERLAP_MS)))) throw notFound(id);
  const [json] = await getSubscription(db, client, id);
  return [withSecret(json!, secret)];
}

export async function requireSubscription(db: Db, client: ClientContext, id: number): Promise<void> {
  if (!(await repo.subscriptionExists(db, client.id, id))) throw notFound(id);
}

export async function replayDelivery(db: Db, clock: Clock, client: ClientContext, subscriptionId: number, deliveryId: number): Promise<void> {
  await requireSubscription(db, client, subscriptionId);
  const { replayed, busy } = await repo.replay(db, client.id, subscriptionId, new Date(clock.now()), { id: deliveryId });
  if (busy > 0) throw new Conflict(`Webhook delivery ${deliveryId} is being sent right now`);
  if (replayed === 0) throw new NotFound(`Webhook delivery ${deliveryId}`);
}

export async function replayRange(db: Db, clock: Clock, client: ClientContext, subscriptionId: number, body: { From: string; To: string; bOnlyFailed?: boolean }): Promise<{ replayed: number; busy: number }> {
  const from = parseLocalTimestamp(body.From, client.timeZone);
  if (!from.ok) throw new InvalidField('From', from.reason);
  const to = parseLocalTimestamp(body.To, client.timeZone);
  if (!to.ok) throw new InvalidField('To', to.reason);
  if (to.value <= from.value) throw new InvalidField('To', 'must be after From');
  await requireSubscription(db, client, subscriptionId);
  return repo.replay(db, client.id, subscriptionId, new Date(clock.now()), { from: from.value, to: to.value, onlyFailed: body.bOnlyFailed ?? false });
}
