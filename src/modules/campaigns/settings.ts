// The dialler engine's campaign settings (spec §8) as the API takes them: defaults, the checks no
// schema can express (calendar dates, a period that ends before it starts), and the merge of
// retry delays on a change. No I/O here.
import type { RetryCause, RetryDelays } from '../../domain/dialler-contact.ts';

/** A year of single days, each its own period, is the most a campaign plausibly needs. */
export const RESTRICTED_PERIODS_MAX = 366;

export const DEFAULT_RETRY_DELAYS: Readonly<RetryDelays> = { Busy: 10, NoAnswer: 30, AnsweringMachine: 60, Other: 15 };
const RETRY_CAUSES = Object.keys(DEFAULT_RETRY_DELAYS) as RetryCause[];

export const SETTING_DEFAULTS = {
  mode: 'Preview',
  maxTries: 10,
  maxTriesPerNumber: 5,
  maxTriesPerDay: 3,
  running: false,
  weight: 1,
} as const;

/**
 * The delays after a change: given causes replace, the others keep `current` (complete, as every
 * write stores all four; a stored object missing one falls back to the default).
 */
export function mergeRetryDelays(current: Partial<RetryDelays> | undefined, given: Partial<RetryDelays> | undefined): RetryDelays {
  const merged = { ...DEFAULT_RETRY_DELAYS };
  for (const cause of RETRY_CAUSES) {
    const value = given?.[cause] ?? current?.[cause];
    if (value !== undefined) merged[cause] = value;
  }
  return merged;
}

export interface RestrictedPeriodInput {
  From: string;
  To: string;
  Name?: string | null;
}

export interface RestrictedPeriod {
  from: string;
  to: string;
  name: string | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

/** `YYYY-MM-DD` that names a day of the calendar (2026-02-30 does not). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Periods may overlap (a holiday inside a blackout week): each only says "no calls on these days". */
export function checkRestrictedPeriods(periods: readonly RestrictedPeriodInput[]): Checked<RestrictedPeriod[]> {
  const checked: RestrictedPeriod[] = [];
  for (const [index, p] of periods.entries()) {
    for (const end of ['From', 'To'] as const) {
      if (!isCalendarDate(p[end])) {
        return { ok: false, field: `RestrictedPeriods.${index}.${end}`, reason: `"${p[end]}" is not a calendar date YYYY-MM-DD (year 1900 or later)` };
      }
    }
    // ISO dates of equal length compare as text in calendar order.
    if (p.To < p.From) return { ok: false, field: `RestrictedPeriods.${index}.To`, reason: `must not be before From (${p.From})` };
    checked.push({ from: p.From, to: p.To, name: p.Name ?? null });
  }
  return { ok: true, value: checked };
}
