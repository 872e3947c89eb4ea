// Pure rules of the dialler: result code types, campaign settings given as text (end time, time
// windows), contact phone numbers and e-mail addresses. No I/O; services call these before SQL.
import { instantOf } from './time.ts';

export type LanguageId = 1 | 2;
export const LANGUAGES: readonly LanguageId[] = [1, 2];

/** jtel's result code types; each sets exactly one of the record's b… flags. */
export const RESULT_CODE_TYPES = [
  { ID: 1, flag: 'bDone', content: { 1: 'Completion', 2: 'Abschluss' } },
  { ID: 2, flag: 'bAborted', content: { 1: 'Abort', 2: 'Abbruch' } },
  { ID: 3, flag: 'bDelay', content: { 1: 'Delay', 2: 'Wiedervorlage' } },
  { ID: 4, flag: 'bAppointment', content: { 1: 'Appointment', 2: 'Termin' } },
] as const;

export const ResultCodeType = { Done: 1, Abort: 2, Delay: 3, Appointment: 4 } as const;

export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const fail = <T>(reason: string): Outcome<T> => ({ ok: false, reason });

/**
 * A campaign end (`dtTo`) as the client writes it: local wall time in its zone,
 * `YYYY-MM-DDTHH:mm[:ss[.SSS]]`. Calendar-checked, so `2026-02-30T10:00` is refused.
 */
export function parseLocalTimestamp(text: string, timeZone: string): Outcome<Date> {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(text);
  if (!m) return fail('must be YYYY-MM-DDTHH:mm[:ss[.SSS]] (local time of the client)');
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] ? Number(m[6]) : 0;
  const millis = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (year < 1900) return fail(`${text}: years before 1900 are not accepted`);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return fail(`${text} is not a calendar date`);
  if (hour > 23 || minute > 59 || second > 59) return fail(`${text} is not a time of day`);
  return ok(new Date(instantOf({ year, month, day, hour, minute, second }, timeZone) + millis));
}

export interface TimeWindowInput {
  Weekday: number;
  From: string;
  To: string;
}

export interface TimeWindow {
  weekday: number;
  from: string;
  to: string;
}

/** Minutes since midnight of `HH:mm`; `24:00` is allowed as an end, meaning the end of the day. */
function minutesOf(text: string, allowEndOfDay: boolean): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  if (allowEndOfDay && hour === 24 && minute === 0) return 1440;
  return hour <= 23 && minute <= 59 ? hour * 60 + minute : undefined;
}

/**
 * Dialling windows per weekday (1 = Monday … 7 = Sunday). Each window needs From < To, and
 * windows of one day must not overlap: an overlap is almost always a typing error, and the
 * union would be ambiguous to show back. Failures name the offending entry.
 */
export function checkTimeWindows(windows: readonly TimeWindowInput[]): Outcome<TimeWindow[]> & { field?: string } {
  const checked: (TimeWindow & { start: number; end: number; index: number })[] = [];
  for (const [index, w] of windows.entries()) {
    const start = minutesOf(w.From, false);
    if (start === undefined) return { ...fail('must be HH:mm (00:00..23:59)'), field: `TimeWindows.${index}.From` };
    const end = minutesOf(w.To, true);
    if (end === undefined) return { ...fail('must be HH:mm (00:01..24:00)'), field: `TimeWindows.${index}.To` };
    if (start >= end) return { ...fail(`must be later than From (${w.From})`), field: `TimeWindows.${index}.To` };
    checked.push({ weekday: w.Weekday, from: w.From, to: w.To, start, end, index });
  }
  const byStart = [...checked].sort((a, b) => a.weekday - b.weekday || a.start - b.start);
  for (let i = 1; i < byStart.length; i++) {
    const [prev, cur] = [byStart[i - 1], byStart[i]];
    if (prev.weekday === cur.weekday && cur.start < prev.end) {
      const later = Math.max(prev.index, cur.index);
      return { ...fail(`overlaps TimeWindows.${Math.min(prev.index, cur.index)} on weekday ${cur.weekday}`), field: `TimeWindows.${later}` };
    }
  }
  return ok(checked.map(({ weekday, from, to }) => ({ weekday, from, to })));
}

/** The ExportKeys given twice in one campaign, which the database would refuse anyway. */
export function duplicateExportKeyIndex(keys: readonly string[]): number | undefined {
  const seen = new Set<string>();
  for (const [index, key] of keys.entries()) {
    if (seen.has(key)) return index;
    seen.add(key);
  }
  return undefined;
}

/**
 * Delete by name deletes only what is named exactly, and only when that is unambiguous: a
 * destructive call must never guess.
 */
export function singleExactMatch<T>(matches: readonly T[]): Outcome<T> & { status?: 404 | 409 } {
  if (matches.length === 0) return { ...fail('not found'), status: 404 };
  if (matches.length > 1) return { ...fail(`${matches.length} campaigns carry this exact name`), status: 409 };
  return ok(matches[0]);
}

const PHONE_SEPARATORS = /[\s\-/().]/g;

/**
 * A contact phone number as the dialler will dial it: separators people type (spaces, dashes,
 * slashes, dots, brackets) are dropped; what remains is digits with an optional leading `+`.
 * International numbers (`+`) follow E.164 (at most 15 digits); other numbers may carry
 * national or exit prefixes (`0`, `00`), so up to 20 digits. Blank means "no number".
 */
export function normalizePhoneNumber(text: string): Outcome<string | null> {
  const compact = text.replace(PHONE_SEPARATORS, '');
  if (compact === '') return ok(null);
  const m = /^(\+?)(\d+)$/.exec(compact);
  if (!m) return fail('must be a phone number: digits, optionally a leading +, and separators (space - / . ( ))');
  const digits = m[2];
  if (m[1] === '+' && (digits.length > 15 || digits.startsWith('0'))) return fail('an international (+) number has 1..15 digits after the + and no leading 0 (E.164)');
  if (digits.length < 3 || digits.length > 20) return fail('must have 3..20 digits');
  return ok(m[1] + digits);
}

/** Deliberately loose: one @, no spaces, a dot in the domain. The mail server has the last word. */
export function isPlausibleEmail(text: string): boolean {
  return text.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}
