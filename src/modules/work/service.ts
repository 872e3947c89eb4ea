// What agents do with their events (accept, reject, open, set aside, finish, forward, comment)
// and what supervisors do with any event of their client (reassign), each in one transaction that
// locks the event row first. The event's status decides what is allowed (src/domain/event-flow.ts);
// the distributor picks the event up again wherever an action puts it back into a queue.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Actor, ClientContext } from '../../http/auth.ts';
import { actorLabel } from '../../http/auth.ts';
import type { Clock } from '../../domain/clock.ts';
import { allowedFrom, HELD_STATUSES, nextStatus, reassignedStatus, Status, type AgentAction } from '../../domain/event-flow.ts';
import { parseLocalTimestamp } from '../../domain/dialler.ts';
import {
  type ApiError, Conflict, EventNotFound, GroupNotFound, InvalidField, NoLongerHeld, NotAMember, OfferExpired, UserNotFound, WrongEventStatus,
} from '../../errors.ts';
import { DISTRIBUTOR_ACTOR } from '../../distributor/sql/history.ts';
import { lockGroup } from '../groups/repository.ts';
import { lockUser } from '../users/repository.ts';
import { lockMembership } from '../agents/repository.ts';
import type { MoveInput } from './schemas.ts';
import * as repo from './repository.ts';
import { isQuick, quickAction, type QuickAction } from './quick-action.ts';
import type { EventChanges, LockedEvent } from './repository.ts';

type Db = Kysely<Database>;

export interface ActionInput {
  Comment?: string | null;
  dtRemind?: string;
  AcdGroupsID?: number | null;
  UsersID?: number | null;
}

/**
 * Where a forward or reassignment sends the event: a queue (a Standalone or Agent group of the
 * client; Configuration groups have none) and optionally the one agent who may take it, who must
 * be a member there. The group and membership stay share-locked until commit, so neither can be
 * deleted under the move.
 */
async function moveTarget(trx: Db, client: ClientContext, event: LockedEvent, input: MoveInput): Promise<{ changes: EventChanges; reason: string }> {
  if (input.AcdGroupsID == null && input.UsersID == null) {
    throw new InvalidField('AcdGroupsID', 'give AcdGroupsID, UsersID or both: where the event is to go');
  }
  const groupId = input.AcdGroupsID ?? event.queueGroupId;
  if (groupId === null) throw new InvalidField('AcdGroupsID', 'is required: the event has no queue group');
  const group = await lockGroup(trx, client.id, groupId, 'share');
  if (!group) throw new GroupNotFound(groupId);
  if (group.type === 'Configuration') {
    throw new InvalidField('AcdGroupsID', `ACD group ${groupId} is a Configuration group, which has no queue; name its agent group`);
  }
  const userId = input.UsersID ?? null;
  if (userId !== null) {
    if (!(await lockUser(trx, client.id, userId, 'share'))) throw new UserNotFound(userId);
    if (!(await lockMembership(trx, groupId, userId))) throw new NotAMember(userId, groupId);
  }
  // The record keeps jtel's group fields truthful: a standalone group is AcdGroupsID; an agent
  // group is AcdAgentGroupsID, with the configuration group the event came with (if any).
  const changes: EventChanges = group.type === 'Standalone'
    ? { queue_group_id: groupId, group_id: groupId, configuration_group_id: null, agent_group_id: null, user_id: userId }
    : { queue_group_id: groupId, group_id: null, configuration_group_id: event.configurationGroupId, agent_group_id: groupId, user_id: userId };
  return { changes, reason: userId === null ? `to ACD group ${groupId}` : `to agent ${userId} in ACD group ${groupId}` };
}

const released: EventChanges = { agent_id: null, lease_until: null, offered_at: null };

/** One agent action on an event they hold; answers the event as it now is. */
export async function act(
  db: Db, clock: Clock, client: ClientContext, actor: Actor, agentId: number, eventId: number, action: AgentAction, input: ActionInput = {},
): Promise<string> {
  const now = new Date(clock.now());
  const label = actorLabel(actor);
  if (isQuick(action)) return quickOrExplain(db, client, agentId, eventId, action, label, input.Comment ?? null, now);
  await db.transaction().execute(async (trx) => {
    const event = await lockHeldEvent(trx, client, agentId, eventId, action);
    const to = nextStatus(action, eventId, event.statusId);
    let changes: EventChanges = {};
    let reason: string | null = null;
    if (action === 'remind') {
      const parsed = parseLocalTimestamp(input.dtRemind ?? '', client.timeZone);
      if (!parsed.ok) throw new InvalidField('dtRemind', parsed.reason);
      if (parsed.value.getTime() <= now.getTime()) throw new InvalidField('dtRemind', 'must be in the future');
      changes = { status_id: Status.Remind, remind_at: parsed.value };
    } else if (action === 'forward') {
      const target = await moveTarget(trx, client, event, input);
      changes = { ...released, ...target.changes, status_id: Status.TransportToGroup, remind_at: null };
      reason = `forwarded ${target.reason}`;
      await repo.markAgentFinished(trx, agentId, now);
    }
    const moved = to !== null && to !== event.statusId;
    if (moved || Object.keys(changes).length > 0) {
      await repo.updateEvent(trx, eventId, changes, now, moved ? { from: event.statusId, to, agentId, actor: label, reason } : null);
    }
    if (input.Comment) await repo.insertComment(trx, eventId, label, input.Comment, now);
  });
  return repo.workItemJson(db, client.id, client.timeZone, eventId);
}

/** The event, locked, if this agent holds it; else why not (notHeld). */
async function lockHeldEvent(trx: Db, client: ClientContext, agentId: number, eventId: number, action: AgentAction): Promise<LockedEvent> {
  const event = await repo.lockEvent(trx, client.id, eventId, agentId);
  if (!event) throw await notHeld(trx, client, agentId, eventId, action);
  return event;
}

/**
 * Why an agent cannot act on an event they do not hold. An event that was theirs (their history
 * with it says so) is a 409 saying what became of it: their offer expired, they gave it up, a
 * supervisor moved it, or it is finished. Any other event, of this client or another, is the same
 * 404 as no event at all, so an agent cannot probe other agents' work. Only refused actions come
 * here, so the actions themselves stay one statement.
 */
async function notHeld(db: Db, client: ClientContext, agentId: number, eventId: number, action: AgentAction): Promise<ApiError> {
  const found = await repo.lastTurnOf(db, client.id, eventId, agentId);
  if (!found) return new EventNotFound();
  if (found.agentId === agentId) return new WrongEventStatus(eventId, found.statusId, action, allowedFrom(action).join(' or '));
  const turn = found.turn;
  if (!turn) return new EventNotFound();
  if (turn.from === Status.TransportAgent && turn.to === Status.TransportToGroup && turn.actor === DISTRIBUTOR_ACTOR) return new OfferExpired(eventId);
  const gaveUp = !(HELD_STATUSES as readonly number[]).includes(turn.to) && turn.reason !== null;
  return new NoLongerHeld(eventId, gaveUp ? turn.reason! : `it is in status ${found.statusId}`);
}

/**
 * Accept, reject, seen and done are one statement each (quick-action.ts). When it finds nothing
 * to do, the event is looked at under its lock to say why (404, or 409 naming the status it
 * needs); if it turns out the action is allowed after all (the event changed in between), the
 * statement runs once more.
 */
async function quickOrExplain(
  db: Db, client: ClientContext, agentId: number, eventId: number, action: QuickAction, label: string, comment: string | null, now: Date,
): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const json = await quickAction(db, { clientId: client.id, timeZone: client.timeZone, agentId, eventId, action, actor: label, comment, now });
    if (json !== undefined) return json;
    await db.transaction().execute(async (trx) => {
      const event = await lockHeldEvent(trx, client, agentId, eventId, action);
      nextStatus(action, eventId, event.statusId);
      // Expired, and not yet returned to the queue by the engine's sweep.
      if (action === 'accept' && event.leaseUntil !== null && event.leaseUntil <= now.getTime()) throw new OfferExpired(eventId);
    });
  }
  throw new Conflict(`ACD event ${eventId} changed while it was being changed; try again`);
}

/** A supervisor moves any event of the client, whoever holds it, to another queue or agent. */
export async function reassign(db: Db, clock: Clock, client: ClientContext, actor: Actor, eventId: number, input: MoveInput): Promise<string> {
  const now = new Date(clock.now());
  const label = actorLabel(actor);
  await db.transaction().execute(async (trx) => {
    const event = await repo.lockEvent(trx, client.id, eventId);
    if (!event) throw new EventNotFound();
    const to = reassignedStatus(eventId, event.statusId);
    const target = await moveTarget(trx, client, event, input);
    const changes: EventChanges = { ...released, ...target.changes, status_id: to, remind_at: null, error_reason: null };
    await repo.updateEvent(trx, eventId, changes, now, { from: event.statusId, to, agentId: event.agentId, actor: label, reason: `reassigned ${target.reason}` });
    if (input.Comment) await repo.insertComment(trx, eventId, label, input.Comment, now);
  });
  return repo.workItemJson(db, client.id, client.timeZone, eventId);
}

export async function queueView(db: Db, client: ClientContext, groupId: number, nowMs: number) {
  const f = await repo.queueFigures(db, client.id, groupId);
  if (!f) throw new GroupNotFound(groupId);
  return {
    AcdGroupsID: groupId,
    Waiting: f.waiting,
    Offered: f.offered,
    InHand: f.inHand,
    OldestWaitingSeconds: f.oldestWaitingSince === null ? null : Math.max(0, Math.floor((nowMs - new Date(f.oldestWaitingSince).getTime()) / 1000)),
    AgentsLoggedIn: f.agentsLoggedIn,
  };
}
