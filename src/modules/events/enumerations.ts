// The system-wide enumerations of spec §2 (the same for every client).

export const EVENT_TYPES = [
  { ID: 1, ShortText: 'AcdEventTypes.VoiceMail' },
  { ID: 2, ShortText: 'AcdEventTypes.Fax' },
  { ID: 3, ShortText: 'AcdEventTypes.Callback' },
  { ID: 4, ShortText: 'AcdEventTypes.SMS' },
  { ID: 5, ShortText: 'AcdEventTypes.Email' },
  { ID: 6, ShortText: 'AcdEventTypes.WorkFlowConnector' },
  { ID: 7, ShortText: 'AcdEventTypes.Chat' },
] as const;

export const EventType = { VoiceMail: 1, Fax: 2, Callback: 3, SMS: 4, Email: 5, WorkFlowConnector: 6, Chat: 7 } as const;

export const EVENT_STATUSES = [
  { ID: 0, ShortText: 'AcdEventStatus.EnterSystem' },
  { ID: 1, ShortText: 'AcdEventStatus.Distribute' },
  { ID: 2, ShortText: 'AcdEventStatus.TransportSMTP' },
  { ID: 4, ShortText: 'AcdEventStatus.TransportToGroup' },
  { ID: 10, ShortText: 'AcdEventStatus.TransportAgent' },
  { ID: 20, ShortText: 'AcdEventStatus.New' },
  { ID: 30, ShortText: 'AcdEventStatus.Seen' },
  { ID: 40, ShortText: 'AcdEventStatus.Remind' },
  { ID: 98, ShortText: 'AcdEventStatus.ChatClosed' },
  { ID: 99, ShortText: 'AcdEventStatus.Done' },
  { ID: 100, ShortText: 'AcdEventStatus.Error' },
] as const;

export const EventStatus = {
  EnterSystem: 0, Distribute: 1, TransportSMTP: 2, TransportToGroup: 4, TransportAgent: 10,
  New: 20, Seen: 30, Remind: 40, ChatClosed: 98, Done: 99, Error: 100,
} as const;

/** Events below this status are open: they count for duplicates and wait for work. */
export const FIRST_CLOSED_STATUS = EventStatus.ChatClosed;
