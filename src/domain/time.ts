// Wall-clock arithmetic in a client's IANA time zone, without a date library: Intl gives the
// zone's offset at any instant, and local times are resolved to instants from that.

/**
 * An IANA zone name (Europe/Berlin, UTC) that JavaScript knows. Offsets such as "+01:00" are
 * refused: PostgreSQL reads POSIX offsets with the opposite sign, so one zone would show two times.
 */
export function isValidTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

export interface LocalDateTime {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Date.UTC without its two-digit-year rule (it reads year 50 as 1950). */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

/** The wall-clock reading in `zone` at instant `ms`, as Intl reads it. */
function readParts(ms: number, zone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

const MINUTE = 60_000;
// Years in which a reading is shifted from UTC by plain date arithmetic (Intl names eras outside).
const FAST_FROM = Date.UTC(1900, 0, 1);
const FAST_TO = Date.UTC(2200, 0, 1);

/**
 * Per zone, the offset in force through one whole UTC minute. Intl is slow (formatToParts costs
 * microseconds, and the dialler asks for every candidate contact's zone at the same instant), and
 * a zone's offset changes at most once in any minute: read at the minute's first and last second,
 * the same offset holds in between. A minute with a change in it is never kept.
 */
const minuteOffsets = new Map<string, { minute: number; offset: number | null }>();

function offsetThroughMinute(minute: number, zone: string): number | null {
  const known = minuteOffsets.get(zone);
  if (known?.minute === minute) return known.offset;
  const start = minute * MINUTE;
  const first = offsetFromParts(start, zone);
  const offset = offsetFromParts(start + MINUTE - 1000, zone) === first ? first : null;
  minuteOffsets.set(zone, { minute, offset });
  return offset;
}

/** The wall-clock reading in `zone` at instant `ms`. */
export function localParts(ms: number, zone: string): LocalDateTime {
  const offset = ms >= FAST_FROM && ms < FAST_TO ? offsetThroughMinute(Math.floor(ms / MINUTE), zone) : null;
  if (offset === null) return readParts(ms, zone);
  const d = new Date(Math.floor(ms / 1000) * 1000 + offset);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

/** The offset at a whole second, read with Intl. */
function offsetFromParts(second: number, zone: string): number {
  const l = readParts(second, zone);
  return utc(l.year, l.month, l.day, l.hour, l.minute, l.second) - second;
}

/** Offset of `zone` from UTC at instant `ms`, in ms (Berlin in summer: +7,200,000). */
export function zoneOffset(ms: number, zone: string): number {
  const l = localParts(Math.floor(ms / 1000) * 1000, zone);
  const asUtc = utc(l.year, l.month, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which clocks in `zone` show the given wall time. A time skipped by a DST jump
 * (02:30 on the spring-forward night) resolves to the instant after the gap, shifted by its
 * length (03:30), as a wall clock that is set forward would read; a time that occurs twice
 * (autumn) resolves to its first occurrence.
 */
export function instantOf(local: LocalDateTime, zone: string): number {
  const wall = utc(local.year, local.month, local.day, local.hour, local.minute, local.second);
  const before = wall - zoneOffset(wall - 86400000, zone);
  const after = wall - zoneOffset(wall + 86400000, zone);
  // Candidates: the wall time read with the offset in force before and after a nearby change.
  const candidates = [before, after].filter((t) => sameWall(localParts(t, zone), local)).sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0];
  // In a gap: no instant shows this wall time. Take the later offset, which lands past the gap.
  return Math.max(before, after);
}

function sameWall(a: LocalDateTime, b: LocalDateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/** The first instant of `now`'s day in `zone` (a midnight skipped by DST: the first after the gap). */
export function startOfLocalDay(now: number, zone: string): number {
  const { year, month, day } = localParts(now, zone);
  return instantOf({ year, month, day, hour: 0, minute: 0, second: 0 }, zone);
}
