// The API speaks the client's local time without an offset (`YYYY-MM-DDTHH:mm:ss.SSS` in the
// client's TimeZone); the browser may sit in another zone. These convert with Intl alone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(epoch: number, timeZone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epoch))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at that instant, in ms. */
function offsetAt(epoch: number, timeZone: string): number {
  const p = wallClock(epoch, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(epoch / 1000) * 1000;
}

/** A local timestamp of the zone as an instant (ms since the epoch); NaN when it is not one. */
export function localToEpoch(local: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(local);
  if (!m) return Number.NaN;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0), +(m[7] ?? 0));
  const first = guess - offsetAt(guess, timeZone);
  return guess - offsetAt(first, timeZone);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The instant as a `datetime-local` value (YYYY-MM-DDTHH:mm) on the zone's wall clock. */
export function epochToLocalInput(epoch: number, timeZone: string): string {
  const p = wallClock(epoch, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** Whole seconds from now until a local timestamp of the zone (never below 0). */
export function secondsUntil(local: string | null, timeZone: string, now = Date.now()): number | null {
  if (!local) return null;
  const at = localToEpoch(local, timeZone);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
