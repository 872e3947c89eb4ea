// jtel's appointment rules for a new ACD event (release 3.35): dtAppointmentDate and
// dtAppointmentTime are wall-clock values in the client's time zone. Pure: "now" and the zone
// come from the caller, so the rules can be checked for any moment, DST changes included.
import { InvalidField } from '../errors.ts';
import { instantOf, localParts, zoneOffset, type LocalDateTime } from './time.ts';

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface LocalTime {
  hour: number;
  minute: number;
}

export interface AppointmentInput {
  date?: string | null;
  time?: string | null;
}

// Any past date means "distribute now", so old years add nothing; the floor keeps Date.UTC out of
// its two-digit-year mapping, the ceiling keeps timestamps within four-digit years.
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;

const DAY_MS = 86_400_000;
const DATE_FORMAT = 'must be a date as yyyy-mm-dd or yyyymmdd';
const TIME_FORMAT = 'must be a time as hh:mm or hhmm (00:00 to 23:59)';

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseAppointmentDate(value: string): LocalDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw new InvalidField('dtAppointmentDate', `${DATE_FORMAT}, got "${value}"`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new InvalidField('dtAppointmentDate', `year must be ${MIN_YEAR}..${MAX_YEAR}, got "${value}"`);
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new InvalidField('dtAppointmentDate', `"${value}" is not a calendar date`);
  }
  return { year, month, day };
}

export function parseAppointmentTime(value: string): LocalTime {
  const m = /^(\d{2}):?(\d{2})$/.exec(value);
  if (!m) throw new InvalidField('dtAppointmentTime', `${TIME_FORMAT}, got "${value}"`);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) throw new InvalidField('dtAppointmentTime', `${TIME_FORMAT}, got "${value}"`);
  return { hour, minute };
}

function sameWall(a: LocalDateTime, b: LocalDateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/**
 * The instants at which clocks in `zone` show `local`, ascending: two for a time the autumn
 * change repeats, one otherwise. A time the spring change skips gets the instant a wall clock
 * that was set forward reads it at (02:30 becomes 03:30), as src/domain/time.ts resolves it.
 */
export function wallOccurrences(local: LocalDateTime, zone: string): number[] {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const found = new Set<number>();
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const candidate = wall - zoneOffset(probe, zone);
    if (sameWall(localParts(candidate, zone), local)) found.add(candidate);
  }
  if (found.size === 0) return [instantOf(local, zone)];
  return [...found].sort((a, b) => a - b);
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/**
 * The next moment, at or after `now`, at which clocks in `zone` show `time` — today if that is
 * still ahead (or exactly now), otherwise tomorrow. A repeated autumn hour counts twice.
 */
export function nextOccurrence(time: LocalTime, now: number, zone: string): number {
  const today = localParts(now, zone);
  // Two days always suffice where clocks change away from midnight; four cover zones that
  // change at midnight and so can step back into the previous date.
  for (let days = 0; days < 4; days++) {
    const date = addDays(today, days);
    for (const at of wallOccurrences({ ...date, hour: time.hour, minute: time.minute, second: 0 }, zone)) {
      if (at >= now) return at;
    }
  }
  throw new Error(`no occurrence of ${time.hour}:${time.minute} in ${zone} after ${now}`);
}

/**
 * The appointment of a new event as an instant, or null for none. Empty strings count as not
 * given (jtel: "empty or not provided"). A given date may lie in the past: the event is then
 * distributed at once, and the record still shows the moment asked for.
 */
export function resolveAppointment(input: AppointmentInput, now: number, zone: string): number | null {
  const date = input.date ? parseAppointmentDate(input.date) : undefined;
  const time = input.time ? parseAppointmentTime(input.time) : undefined;
  if (!date && !time) return null;
  if (!date) return nextOccurrence(time!, now, zone);
  return wallOccurrences({ ...date, hour: time?.hour ?? 0, minute: time?.minute ?? 0, second: 0 }, zone)[0];
}

/** Until its appointment an event waits and is offered to nobody. */
export function waitsForAppointment(appointment: number | null, now: number): boolean {
  return appointment !== null && appointment > now;
}
