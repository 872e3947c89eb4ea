// The agent's side of an event's life (spec §2 and §7): which action is allowed from which status
// and where it leads. The services lock the event, ask here, then write.
import { WrongEventStatus } from '../errors.ts';

export const Status = {
  EnterSystem: 0, Distribute: 1, TransportToGroup: 4, TransportAgent: 10,
  New: 20, Seen: 30, Remind: 40, ChatClosed: 98, Done: 99, Error: 100,
} as const;

/** Statuses in which an agent holds the event; all but Remind count against their capacity. */
export const HELD_STATUSES = [Status.TransportAgent, Status.New, Status.Seen, Status.Remind] as const;
export const CAPACITY_STATUSES = [Status.TransportAgent, Status.New, Status.Seen] as const;

export type AgentAction = 'accept' | 'reject' | 'seen' | 'remind' | 'done' | 'forward' | 'comment';

const FROM: Record<AgentAction, readonly number[]> = {
  accept: [Status.TransportAgent],
  reject: [Status.TransportAgent],
  seen: [Status.New, Status.Seen],
  remind: [Status.New, Status.Seen, Status.Remind],
  done: [Status.New, Status.Seen, Status.Remind],
  forward: [Status.New, Status.Seen, Status.Remind],
  comment: [Status.TransportAgent, Status.New, Status.Seen, Status.Remind],
};

const TO: Record<AgentAction, number | null> = {
  accept: Status.New,
  reject: Status.TransportToGroup,
  seen: Status.Seen,
  remind: Status.Remind,
  done: Status.Done,
  forward: Status.TransportToGroup,
  comment: null,
};

/** The statuses the action is allowed from. */
export function allowedFrom(action: AgentAction): readonly number[] {
  return FROM[action];
}

/** The status the action leads to (null: the status stays), or 409 naming what it needs. */
export function nextStatus(action: AgentAction, eventId: number, current: number): number | null {
  if (!FROM[action].includes(current)) {
    throw new WrongEventStatus(eventId, current, action, FROM[action].join(' or '));
  }
  return TO[action] ?? (action === 'comment' ? null : current);
}

/**
 * Where a supervisor's reassignment leaves an event: one still waiting for its appointment keeps
 * waiting; any other open or failed event goes back to a queue at once. Done events stay done.
 */
export function reassignedStatus(eventId: number, current: number): number {
  if (current === Status.Distribute || current === Status.EnterSystem) return Status.Distribute;
  if (current === Status.Done || current === Status.ChatClosed) {
    throw new WrongEventStatus(eventId, current, 'reassign', 'below 98, or 100 (Error)');
  }
  return Status.TransportToGroup;
}
