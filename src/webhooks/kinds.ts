// The kinds of change a webhook subscription names: `<family>.<what>`, one family per change
// topic of src/db/changes.ts. A subscription lists kinds, a family's wildcard (`event.*`) or `*`;
// a new kind in a family reaches the family's wildcard subscribers without their doing anything.

/** Event transitions by the status they enter; a new event is `event.created` whatever its status. */
export const EVENT_STATUS_KINDS: Record<number, string> = {
  0: 'event.enter_system', 1: 'event.distribute', 2: 'event.transport_smtp', 4: 'event.transport_to_group',
  10: 'event.transport_agent', 20: 'event.new', 30: 'event.seen', 40: 'event.remind', 98: 'event.chat_closed',
  99: 'event.done', 100: 'event.error',
};

/** Dialler contact changes (dialler_contact_history.change) by kind. */
export const CONTACT_CHANGE_KINDS: Record<string, string> = {
  HandedOut: 'contact.handed_out', AttemptStarted: 'contact.attempt_started', Result: 'contact.result',
  Closed: 'contact.closed', IncomingCall: 'contact.incoming_call',
};

export const FAMILIES = ['event', 'agent', 'contact'] as const;
export type Family = (typeof FAMILIES)[number];

export const KNOWN_KINDS: readonly string[] = [
  'event.created', ...Object.values(EVENT_STATUS_KINDS), 'agent.state', ...Object.values(CONTACT_CHANGE_KINDS),
];

/** Every value a subscription's Kinds may hold. */
export const SUBSCRIBABLE_KINDS: readonly string[] = ['*', ...FAMILIES.map((f) => `${f}.*`), ...KNOWN_KINDS];

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** SQL (over the EventChange row columns) naming the kind of an event transition. */
export const EVENT_KIND_SQL = `CASE WHEN from_status_id IS NULL THEN 'event.created' ELSE CASE to_status_id ${
  Object.entries(EVENT_STATUS_KINDS).map(([id, kind]) => `WHEN ${id} THEN ${quote(kind)}`).join(' ')
} ELSE 'event.status_' || to_status_id END END`;

export const AGENT_KIND_SQL = `'agent.state'`;

/** SQL (over the ContactChange row columns); a change added later gets its lower-case name. */
export const CONTACT_KIND_SQL = `CASE change ${
  Object.entries(CONTACT_CHANGE_KINDS).map(([change, kind]) => `WHEN ${quote(change)} THEN ${quote(kind)}`).join(' ')
} ELSE 'contact.' || lower(change) END`;

/** Whether a subscription naming `kinds` wants a change of `kind` (what the outbox's SQL tests). */
export function wants(kinds: readonly string[], kind: string): boolean {
  const family = kind.slice(0, kind.indexOf('.'));
  return kinds.includes(kind) || kinds.includes(`${family}.*`) || kinds.includes('*');
}
