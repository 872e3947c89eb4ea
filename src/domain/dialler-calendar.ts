// When the dialler may call a contact (spec §8.1, §8.2): weekly windows and restricted dates,
// read on the contact's wall clock. Pure; Intl (through src/domain/time.ts) is the only source of
// zone rules.
//
// Method: a local wall time is handled as a "wall" number, the epoch ms at which a UTC clock
// would show it, so windows and dates are plain arithmetic on it. Between two offset changes
// wall = instant + offset exactly; the walk below finds the earliest instant whose wall
// satisfies a rule one constant-offset stretch at a time, which makes skipped hours (a window
// opening in the gap opens when the gap ends) and repeated hours (open twice) come out right
// without special cases.
import { formatLocal } from './event-rules.ts';
import { isValidTimeZone, localParts, zoneOffset } from './time.ts';

export interface Calendar {
  /** Weekday 1 = Monday … 7 = Sunday; From/To 'HH:mm' local wall time, To may be '24:00'; From < To; windows of one day don't overlap. No windows at all = open around the clock. */
  windows: readonly { weekday: number; from: string; to: string }[];
  /** Local dates 'YYYY-MM-DD', inclusive; no hand-out on these dates (in the contact's zone). */
  restricted: readonly { from: string; to: string }[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HORIZON = 800 * DAY;
// Offsets lie in -12 h … +14 h, so one zone's offset never moves by more than this.
const MAX_SWING = 26 * HOUR;
// No zone changes its offset twice within this span (checked for every zone, 2018-2033), so an
// equal offset at both ends means no change in between.
const PROBE = 36 * HOUR;

interface Compiled {
  /** Merged [start, end) minute ranges per weekday, index 1..7. */
  days: (readonly (readonly [number, number])[])[];
  /** The weekly pattern leaves no gap: no windows, or whole days on all seven. */
  aroundTheClock: boolean;
  /** Merged, sorted [first, last] day numbers (days since 1970-01-01). */
  restricted: (readonly [number, number])[];
}

// Calendars are campaign settings the engine passes again and again; compile each object once.
const compiledCalendars = new WeakMap<Calendar, Compiled>();

function compile(cal: Calendar): Compiled {
  let c = compiledCalendars.get(cal);
  if (!c) {
    c = compileFresh(cal);
    compiledCalendars.set(cal, c);
  }
  return c;
}

function minutesOf(text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || Number(m[2]) > 59 || minutes > 1440) throw new RangeError(`time window bound must be HH:mm, got ${JSON.stringify(text)}`);
  return minutes;
}

function dayNumberOf(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || dateText(ms / DAY) !== text) throw new RangeError(`restricted date must be YYYY-MM-DD, got ${JSON.stringify(text)}`);
  return ms / DAY;
}

function dateText(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

function mergeRanges<T extends readonly [number, number]>(ranges: T[], touching: number): [number, number][] {
  const merged: [number, number][] = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = merged.at(-1);
    if (last && a <= last[1] + touching) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

function compileFresh(cal: Calendar): Compiled {
  const perDay: [number, number][][] = Array.from({ length: 8 }, () => []);
  for (const w of cal.windows) {
    if (!Number.isInteger(w.weekday) || w.weekday < 1 || w.weekday > 7) throw new RangeError(`weekday must be 1..7, got ${w.weekday}`);
    const [from, to] = [minutesOf(w.from), minutesOf(w.to)];
    if (from < to) perDay[w.weekday].push([from, to]);
  }
  const days = perDay.map((ranges) => mergeRanges(ranges, 0));
  const aroundTheClock = cal.windows.length === 0 || days.slice(1).every((d) => d.length === 1 && d[0][0] === 0 && d[0][1] === 1440);
  const restricted = mergeRanges(
    cal.restricted.map((r) => [dayNumberOf(r.from), dayNumberOf(r.to)] as [number, number]).filter(([a, b]) => a <= b),
    1,
  );
  return { days, aroundTheClock, restricted };
}

// ---- rules on wall numbers ----------------------------------------------------------------

/** 1 = Monday … 7 = Sunday; day 0 (1970-01-01) was a Thursday. */
function weekdayOf(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** The restricted range holding `day`, else the index of the first range after it (negative, ~index). */
function findRestricted(c: Compiled, day: number): number {
  let [lo, hi] = [0, c.restricted.length - 1];
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = c.restricted[mid];
    if (day < a) hi = mid - 1;
    else if (day > b) lo = mid + 1;
    else return mid;
  }
  return ~lo;
}

function isRestrictedDay(c: Compiled, day: number): boolean {
  return c.restricted.length > 0 && findRestricted(c, day) >= 0;
}

function wallIsOpen(c: Compiled, wall: number): boolean {
  const day = Math.floor(wall / DAY);
  if (isRestrictedDay(c, day)) return false;
  if (c.aroundTheClock) return true;
  const minute = Math.floor((wall - day * DAY) / MINUTE);
  return c.days[weekdayOf(day)].some(([a, b]) => a <= minute && minute < b);
}

/** Earliest open wall >= `wall`, looking no further than the day of `limit`; null: none. */
function firstOpenWall(c: Compiled, wall: number, limit: number): number | null {
  let day = Math.floor(wall / DAY);
  let into = wall - day * DAY;
  while (day * DAY <= limit) {
    const r = c.restricted.length > 0 ? findRestricted(c, day) : -1;
    if (r >= 0) {
      [day, into] = [c.restricted[r][1] + 1, 0];
      continue;
    }
    if (c.aroundTheClock) return day * DAY + into;
    for (const [a, b] of c.days[weekdayOf(day)]) {
      if (b * MINUTE > into) return day * DAY + Math.max(a * MINUTE, into);
    }
    [day, into] = [day + 1, 0];
  }
  return null;
}

/** Earliest closed wall >= `wall`, looking no further than the day of `limit`; null: none. */
function firstClosedWall(c: Compiled, wall: number, limit: number): number | null {
  let day = Math.floor(wall / DAY);
  let into = wall - day * DAY;
  while (day * DAY <= limit) {
    if (isRestrictedDay(c, day)) return day * DAY + into;
    if (c.aroundTheClock) {
      const next = c.restricted[~findRestricted(c, day)];
      if (!next) return null;
      [day, into] = [next[0], 0];
      continue;
    }
    let at = into;
    for (const [a, b] of c.days[weekdayOf(day)]) {
      if (b * MINUTE <= at) continue;
      if (a * MINUTE > at) break;
      at = b * MINUTE;
    }
    if (at < DAY) return day * DAY + at;
    [day, into] = [day + 1, 0];
  }
  return null;
}

// ---- from walls to instants ---------------------------------------------------------------

/** First instant in (t, until] whose offset differs from `offset` (t's), or null if none. */
function offsetChangeAfter(zone: string, t: number, offset: number, until: number): number | null {
  if (zoneOffset(until, zone) === offset) return null;
  // Offsets change on whole seconds; search those.
  let lo = Math.floor(t / 1000);
  let hi = Math.floor(until / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffset(mid * 1000, zone) === offset) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}

/**
 * The earliest instant in [from, limit] whose wall satisfies a rule, given the rule's "earliest
 * wall >= w" search. Walls only repeat when clocks go back, which is why a far result is
 * approached by a jump that stays one offset swing short of it.
 */
function firstInstant(zone: string, from: number, limit: number, firstWall: (wall: number, wallLimit: number) => number | null): number | null {
  let t = from;
  while (t <= limit) {
    const offset = zoneOffset(t, zone);
    const change = offsetChangeAfter(zone, t, offset, t + PROBE);
    const stretchEnd = change ?? t + PROBE;
    const wall = firstWall(t + offset, limit + offset + 2 * DAY);
    if (wall !== null && wall - offset < stretchEnd) return wall - offset <= limit ? wall - offset : null;
    // Past this stretch, with no change for PROBE > MAX_SWING, every later wall exceeds t's:
    // all of them up to `wall` were searched and failed.
    if (change === null) {
      if (wall === null) return null;
      t = Math.max(stretchEnd, wall - offset - MAX_SWING - HOUR);
    } else {
      t = stretchEnd;
    }
  }
  return null;
}

// ---- the engine's questions ---------------------------------------------------------------

/** Open at instant `at` (epoch ms) in `zone`: the local wall time of `at` lies in [from, to) of a window of its local weekday, and its local date is in no restricted period. */
export function isOpenAt(cal: Calendar, zone: string, at: number): boolean {
  const c = compile(cal);
  if (c.aroundTheClock && c.restricted.length === 0) return true;
  return wallIsOpen(c, at + zoneOffset(at, zone));
}

/** Earliest instant >= from at which isOpenAt is true; null when none within 800 days (e.g. all dates restricted). A window that opens in a skipped DST hour opens at the first valid instant after the gap. */
export function nextOpenAt(cal: Calendar, zone: string, from: number): number | null {
  const c = compile(cal);
  if (isOpenAt(cal, zone, from)) return from;
  return firstInstant(zone, from, from + HORIZON, (wall, limit) => firstOpenWall(c, wall, limit));
}

/** If open at `at`: the instant the current open stretch ends (consecutive windows that touch, e.g. 23:00-24:00 then 00:00-01:00 next day, count as one stretch); null if open with no end in sight (no windows, no restrictions). If closed: `at`. */
export function openUntil(cal: Calendar, zone: string, at: number): number | null {
  const c = compile(cal);
  if (!isOpenAt(cal, zone, at)) return at;
  if (c.aroundTheClock && c.restricted.length === 0) return null;
  return firstInstant(zone, at, at + HORIZON, (wall, limit) => firstClosedWall(c, wall, limit));
}

/** Why closed, for the "why not dialled" answer: 'RestrictedPeriod' if the local date is restricted, else 'WindowClosed'; null when open. */
export function closedReason(cal: Calendar, zone: string, at: number): 'RestrictedPeriod' | 'WindowClosed' | null {
  const c = compile(cal);
  if (c.aroundTheClock && c.restricted.length === 0) return null;
  const wall = at + zoneOffset(at, zone);
  if (isRestrictedDay(c, Math.floor(wall / DAY))) return 'RestrictedPeriod';
  return wallIsOpen(c, wall) ? null : 'WindowClosed';
}

/** Local date 'YYYY-MM-DD' of `at` in `zone`. */
export function localDateOf(zone: string, at: number): string {
  const l = localParts(at, zone);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/** First instant of the local day after the one `at` lies in (DST-correct: 23 or 25 h days). */
export function startOfNextLocalDay(zone: string, at: number): number {
  const nextDay = (Math.floor((at + zoneOffset(at, zone)) / DAY) + 1) * DAY;
  // A day always begins within a day and an offset swing of `at`.
  return firstInstant(zone, at, at + 3 * DAY, (wall) => Math.max(wall, nextDay)) as number;
}

/** 'YYYY-MM-DDTHH:mm:ss.SSS' local wall time (jtel style). */
export function localTimestamp(zone: string, at: number): string {
  return formatLocal(at, zone);
}

// Intl's constructor is the slow part of the check; zone names are few, so remember answers.
const zoneValidity = new Map<string, boolean>();

/** IANA zone valid in this runtime (Intl). */
export function isValidZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = isValidTimeZone(zone);
    if (zoneValidity.size < 4096) zoneValidity.set(zone, valid);
  }
  return valid;
}

// Calling code → zone, only for countries whose whole territory under that code keeps one zone.
// Left out as several zones: +1 (except the single-zone members listed), +7, +34 (Canaries),
// +351 (Azores), +52, +54, +55, +56, +60, +61, +62, +64 (Chatham), +212 (Western Sahara), +380, +593, +976, …
const COUNTRY_ZONES = new Map<string, string>(
  (
    '30 Europe/Athens,31 Europe/Amsterdam,32 Europe/Brussels,33 Europe/Paris,36 Europe/Budapest,39 Europe/Rome,' +
    '40 Europe/Bucharest,41 Europe/Zurich,43 Europe/Vienna,44 Europe/London,45 Europe/Copenhagen,46 Europe/Stockholm,' +
    '47 Europe/Oslo,48 Europe/Warsaw,49 Europe/Berlin,352 Europe/Luxembourg,353 Europe/Dublin,354 Atlantic/Reykjavik,' +
    '356 Europe/Malta,357 Asia/Nicosia,358 Europe/Helsinki,359 Europe/Sofia,370 Europe/Vilnius,371 Europe/Riga,' +
    '372 Europe/Tallinn,385 Europe/Zagreb,386 Europe/Ljubljana,420 Europe/Prague,421 Europe/Bratislava,423 Europe/Vaduz,' +
    '355 Europe/Tirane,373 Europe/Chisinau,375 Europe/Minsk,376 Europe/Andorra,377 Europe/Monaco,378 Europe/San_Marino,' +
    '381 Europe/Belgrade,382 Europe/Podgorica,387 Europe/Sarajevo,389 Europe/Skopje,90 Europe/Istanbul,374 Asia/Yerevan,' +
    '994 Asia/Baku,995 Asia/Tbilisi,972 Asia/Jerusalem,971 Asia/Dubai,966 Asia/Riyadh,974 Asia/Qatar,965 Asia/Kuwait,' +
    '973 Asia/Bahrain,968 Asia/Muscat,962 Asia/Amman,961 Asia/Beirut,20 Africa/Cairo,27 Africa/Johannesburg,' +
    '213 Africa/Algiers,216 Africa/Tunis,233 Africa/Accra,234 Africa/Lagos,251 Africa/Addis_Ababa,' +
    '254 Africa/Nairobi,255 Africa/Dar_es_Salaam,256 Africa/Kampala,81 Asia/Tokyo,82 Asia/Seoul,86 Asia/Shanghai,' +
    '852 Asia/Hong_Kong,853 Asia/Macau,886 Asia/Taipei,91 Asia/Kolkata,92 Asia/Karachi,880 Asia/Dhaka,94 Asia/Colombo,' +
    '977 Asia/Kathmandu,65 Asia/Singapore,66 Asia/Bangkok,63 Asia/Manila,84 Asia/Ho_Chi_Minh,51 America/Lima,' +
    '53 America/Havana,57 America/Bogota,58 America/Caracas,502 America/Guatemala,503 America/El_Salvador,' +
    '506 America/Costa_Rica,507 America/Panama,595 America/Asuncion,598 America/Montevideo,1242 America/Nassau,' +
    '1246 America/Barbados,1787 America/Puerto_Rico,1939 America/Puerto_Rico,1809 America/Santo_Domingo,' +
    '1829 America/Santo_Domingo,1849 America/Santo_Domingo,1868 America/Port_of_Spain,1876 America/Jamaica'
  )
    .split(',')
    .map((entry) => entry.split(' ') as [string, string]),
);
const LONGEST_CODE = Math.max(...[...COUNTRY_ZONES.keys()].map((code) => code.length));

/** The zone of an international number's country when that country has exactly one zone; undefined for several zones, national numbers and unknown codes. Longest matching country code wins. */
export function zoneOfNumber(number: string): string | undefined {
  const digits = /^\+(\d+)$/.exec(number.replace(/[\s\-/().]/g, ''))?.[1];
  if (!digits) return undefined;
  for (let length = Math.min(LONGEST_CODE, digits.length); length >= 1; length--) {
    const zone = COUNTRY_ZONES.get(digits.slice(0, length));
    if (zone) return zone;
  }
  return undefined;
}

/** The contact's zone per §8.2: its own valid TimeZone, else zoneOfNumber(first number), else the campaign's. */
export function resolveContactZone(
  contactZone: string | null,
  firstNumber: string | null,
  campaignZone: string,
): { zone: string; source: 'Contact' | 'Country' | 'Campaign' } {
  if (contactZone !== null && isValidZone(contactZone)) return { zone: contactZone, source: 'Contact' };
  const country = firstNumber === null ? undefined : zoneOfNumber(firstNumber);
  if (country !== undefined) return { zone: country, source: 'Country' };
  return { zone: campaignZone, source: 'Campaign' };
}
