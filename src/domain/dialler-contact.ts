// The dialler state of one contact and of its campaign, as the scheduler reads and writes it. The
// repository maps these to the columns of migration 012 one to one; the rules that move them live
// in dialler-schedule.ts (results, number rotation, jtel's hand-out order, why not dialled) and
// dialler-calendar.ts (windows per time zone, restricted periods). No I/O here.

/** System causes of an attempt without a conversation (stored in jtel's `nPhoneNumberXLastCause`). */
export const SystemCause = { Connected: 0, Busy: 1, NoAnswer: 2, AnsweringMachine: 3, InvalidNumber: 4, Other: 5 } as const;
export type SystemCauseName = keyof typeof SystemCause;
export type SystemCauseId = (typeof SystemCause)[SystemCauseName];
export const SYSTEM_CAUSE_NAMES = Object.keys(SystemCause) as SystemCauseName[];

/** Causes whose retry delay a campaign sets (minutes); an invalid number is never retried. */
export type RetryCause = 'Busy' | 'NoAnswer' | 'AnsweringMachine' | 'Other';
export type RetryDelays = Record<RetryCause, number>;

/** jtel's hand-out classes (spec §8.1), in order: each comes in an agent's own and a general step. */
export const DueRank = { Appointment: 1, Delay: 2, Retry: 3, New: 4 } as const;
export type DueRankId = (typeof DueRank)[keyof typeof DueRank];

export type ContactStateName = 'Waiting' | 'InProgress' | 'Done' | 'Aborted';
export type CampaignMode = 'Manual' | 'Preview' | 'Progressive' | 'External';
export const CAMPAIGN_MODES: readonly CampaignMode[] = ['Manual', 'Preview', 'Progressive', 'External'];

export const PHONE_SLOTS = 6;

export interface PhoneSlot {
  /** Normalised number (src/domain/dialler.ts), null: slot empty. */
  number: string | null;
  tries: number;
  lastCause: number | null;
  invalid: boolean;
}

/** Everything the scheduler decides from, and writes back. Times are epoch milliseconds. */
export interface ContactDiallerState {
  state: ContactStateName;
  dueRank: DueRankId;
  /** When the next try is due (-Infinity: at once). */
  nextTryAt: number;
  phones: PhoneSlot[];
  tries: number;
  triesDay: number;
  /** Local date (YYYY-MM-DD, contact's zone) that `triesDay` counts. */
  triesDate: string | null;
  /** Index (0..5) of the number to try next; null: the first valid one. */
  nextPhoneIndex: number | null;
  /** Reserved for this agent while never tried (jtel ReservedUsersUID). */
  reservedUserId: number | null;
  /** Agent a Delay/Appointment with bAgentBound belongs to (jtel FollowUpUsersUID). */
  followUpUserId: number | null;
  /** jtel FollowUpDateTime: the appointment. */
  followUpAt: number | null;
  /** Only this agent may get the contact (until `boundUntil`, then anyone). */
  boundUserId: number | null;
  boundUntil: number | null;
  /** The agent who worked the last attempt (jtel step 5: their own retry series first). */
  lastUserId: number | null;
  resultCodeId: number | null;
  resultExportKey: string | null;
  closedReason: ClosedReason | null;
}

/** NeverOpen: the next try would fall where the calendar never opens again (no window left). */
export type ClosedReason = 'Result' | 'NoNumber' | 'TriesExhausted' | 'IncomingCall' | 'NeverOpen';

export interface ResultCode {
  id: number;
  exportKey: string;
  /** 1 Done, 2 Abort, 3 Delay, 4 Appointment (src/domain/dialler.ts RESULT_CODE_TYPES). */
  typeId: 1 | 2 | 3 | 4;
  /** Minutes, for Delay. */
  timeOffset: number | null;
  agentBound: boolean;
}

export interface CampaignRules {
  maxTries: number;
  maxTriesPerNumber: number;
  maxTriesPerDay: number;
  retryDelays: RetryDelays;
  /** Minutes after which an agent-bound appointment or delay goes to any agent; null: never. */
  appointmentFallbackMinutes: number | null;
  abortOnNoNumber: ResultCode | null;
}
