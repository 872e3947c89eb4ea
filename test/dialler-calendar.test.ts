// Spec §8.1/§8.2 calendar rules of the dialler (src/domain/dialler-calendar.ts): windows in the
// contact's local time, DST-correct, restricted dates, the contact's zone. Properties run over every
// zone Intl knows and are checked against a reference that reads the wall clock minute by minute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import { checkTimeWindows } from '../src/domain/dialler.ts';
import {
  type Calendar,
  closedReason,
  isOpenAt,
  isValidZone,
  localDateOf,
  localTimestamp,
  nextOpenAt,
  openUntil,
  resolveContactZone,
  startOfNextLocalDay,
  zoneOfNumber,
} from '../src/domain/dialler-calendar.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ZONES = Intl.supportedValuesOf('timeZone');
const at = (iso: string) => Date.parse(iso);
const p2 = (n: number) => String(n).padStart(2, '0');

// ---- reference: the wall clock as Intl shows it, nothing else ------------------------------

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const referenceFormats = new Map<string, Intl.DateTimeFormat>();
function wallClock(ms: number, zone: string): { date: string; weekday: number; minute: number; asUtc: number } {
  let f = referenceFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    });
    referenceFormats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  const minute = Number(p.hour) * 60 + Number(p.minute);
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    weekday: WEEKDAYS.indexOf(p.weekday) + 1,
    minute,
    asUtc: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) + minute * MINUTE,
  };
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

function referenceOpen(cal: Calendar, zone: string, ms: number): boolean {
  const w = wallClock(ms, zone);
  if (cal.restricted.some((r) => r.from <= w.date && w.date <= r.to)) return false;
  return cal.windows.length === 0 || cal.windows.some((x) => x.weekday === w.weekday && minutesOf(x.from) <= w.minute && w.minute < minutesOf(x.to));
}

/** Every instant of [from, to) has `open` per the reference. Offsets and their changes fall on whole minutes, so one look per minute covers it. */
function referenceAllAre(cal: Calendar, zone: string, from: number, to: number, open: boolean): boolean {
  if (from >= to) return true;
  if (referenceOpen(cal, zone, from) !== open) return false;
  for (let m = Math.floor(from / MINUTE) * MINUTE + MINUTE; m < to; m += MINUTE) {
    if (referenceOpen(cal, zone, m) !== open) return false;
  }
  return true;
}

/** Offset changes of `zone` in `year` (weekly look, then to the second), cached: arbitraries aim at them. */
const transitionCache = new Map<string, number[]>();
function transitionsOf(zone: string, year: number): number[] {
  const key = `${zone} ${year}`;
  let found = transitionCache.get(key);
  if (!found) {
    found = [];
    const offset = (ms: number) => wallClock(ms, zone).asUtc - Math.floor(ms / MINUTE) * MINUTE;
    const end = Date.UTC(year + 1, 0, 1);
    for (let t = Date.UTC(year, 0, 1); t < end; t += 7 * DAY) {
      if (offset(t) === offset(t + 7 * DAY)) continue;
      let [lo, hi] = [t / MINUTE, (t + 7 * DAY) / MINUTE];
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offset(mid * MINUTE) === offset(t)) lo = mid;
        else hi = mid;
      }
      found.push(hi * MINUTE);
    }
    transitionCache.set(key, found);
  }
  return found;
}

// ---- arbitraries ---------------------------------------------------------------------------

const hhmm = (m: number) => `${p2(Math.floor(m / 60))}:${p2(m % 60)}`;
const dateShift = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

// Bounds crowd around midnight and the small hours, where clocks change.
const boundArb = fc.oneof(fc.integer({ min: 0, max: 1440 }), fc.constantFrom(0, 30, 60, 90, 120, 150, 180, 210, 240, 1380, 1410, 1440));
const dayWindowsArb = (weekday: number) =>
  fc.array(boundArb, { minLength: 0, maxLength: 6 }).map((bounds) => {
    const sorted = [...bounds].sort((a, b) => a - b);
    const windows = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      if (sorted[i] < sorted[i + 1]) windows.push({ weekday, from: hhmm(sorted[i]), to: hhmm(sorted[i + 1]) });
    }
    return windows;
  });
// Windows on most days, so an open stretch or a gap is mostly found within the scanned range.
const windowsArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 6, arbitrary: fc.tuple(...[1, 2, 3, 4, 5, 6, 7].map(dayWindowsArb)).map((days) => days.flat()) },
);

const instantArb = fc.record({ zone: fc.constantFrom(...ZONES), year: fc.integer({ min: 2021, max: 2030 }) }).chain(({ zone, year }) => {
  const changes = transitionsOf(zone, year);
  const uniform = fc.integer({ min: Date.UTC(year, 0, 1), max: Date.UTC(year + 1, 0, 1) - 1 });
  if (changes.length === 0) return fc.record({ zone: fc.constant(zone), t: uniform });
  const nearChange = fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -36 * HOUR, max: 36 * HOUR })).map(([c, d]) => c + d);
  return fc.record({ zone: fc.constant(zone), t: fc.oneof(uniform, nearChange, nearChange) });
});

const restrictedArb = (date: string) =>
  fc.array(fc.tuple(fc.integer({ min: -3, max: 5 }), fc.integer({ min: 0, max: 3 })), { maxLength: 2 })
    .map((periods) => periods.map(([start, length]) => ({ from: dateShift(date, start), to: dateShift(date, start + length) })));

const caseArb = instantArb.chain(({ zone, t }) =>
  fc.record({
    zone: fc.constant(zone),
    t: fc.constant(t),
    cal: fc.record({ windows: windowsArb, restricted: restrictedArb(wallClock(t, zone).date) }),
  }),
);

function assertValidWindows(cal: Calendar): void {
  assert.ok(checkTimeWindows(cal.windows.map((w) => ({ Weekday: w.weekday, From: w.from, To: w.to }))).ok);
}

// Far enough to cross a night and a clock change, short enough to scan minute by minute.
const SCAN = 30 * HOUR;

describe('dialler calendar properties (every zone, random windows and dates)', () => {
  it('nextOpenAt is open, not earlier than asked, and nothing before it is open', () => {
    fc.assert(
      fc.property(caseArb, ({ zone, t, cal }) => {
        assertValidWindows(cal);
        const next = nextOpenAt(cal, zone, t);
        if (next === null) {
          assert.ok(referenceAllAre(cal, zone, t, t + SCAN, false));
          return;
        }
        assert.ok(next >= t);
        assert.ok(isOpenAt(cal, zone, next));
        assert.ok(referenceOpen(cal, zone, next));
        assert.ok(next === t || next % MINUTE === 0, 'opens on a whole minute');
        assert.ok(referenceAllAre(cal, zone, t, Math.min(next, t + SCAN), false));
      }),
      propertyParameters(80),
    );
  });

  it('openUntil: open from the asked instant up to it, closed at it', () => {
    fc.assert(
      fc.property(caseArb, ({ zone, t, cal }) => {
        const until = openUntil(cal, zone, t);
        if (!referenceOpen(cal, zone, t)) {
          assert.equal(until, t);
          return;
        }
        if (until === null) {
          const today = wallClock(t, zone).date;
          assert.ok(cal.restricted.every((r) => r.to < today), 'no restricted date ahead');
          assert.ok(referenceAllAre(cal, zone, t, t + SCAN, true));
          return;
        }
        assert.ok(until > t);
        assert.equal(isOpenAt(cal, zone, until), false);
        assert.equal(referenceOpen(cal, zone, until), false);
        assert.ok(referenceAllAre(cal, zone, t, Math.min(until, t + SCAN), true));
      }),
      propertyParameters(80),
    );
  });

  it('isOpenAt and closedReason agree with the reference; restricted dates are never open', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: -2, max: 0 }), fc.integer({ min: 0, max: 3 }), ({ zone, t, cal }, start, extra) => {
        const open = referenceOpen(cal, zone, t);
        assert.equal(isOpenAt(cal, zone, t), open);
        assert.equal(closedReason(cal, zone, t) === null, open);
        assert.equal(localDateOf(zone, t), wallClock(t, zone).date);

        const date = wallClock(t, zone).date;
        const blocked: Calendar = { ...cal, restricted: [...cal.restricted, { from: dateShift(date, start), to: dateShift(date, -start + extra) }] };
        assert.equal(isOpenAt(blocked, zone, t), false);
        assert.equal(closedReason(blocked, zone, t), 'RestrictedPeriod');
        const next = nextOpenAt(blocked, zone, t);
        if (next !== null) {
          const nextDate = wallClock(next, zone).date;
          assert.ok(!blocked.restricted.some((r) => r.from <= nextDate && nextDate <= r.to));
        }
      }),
      propertyParameters(150),
    );
  });

  it('startOfNextLocalDay is the first instant of the next local date, for 23, 24 and 25 h days', () => {
    fc.assert(
      fc.property(instantArb, ({ zone, t }) => {
        const start = startOfNextLocalDay(zone, t);
        assert.ok(start > t);
        assert.ok(wallClock(start, zone).date > wallClock(t, zone).date);
        assert.equal(wallClock(start - 1, zone).date, wallClock(t, zone).date);
      }),
      propertyParameters(150),
    );
  });

  it('around every clock change of 2026 in every zone, stretches begin and end where the wall clock says', () => {
    // Bounds in the small hours and around midnight, where zones change their clocks.
    const night = [1, 2, 3, 4, 5, 6, 7].flatMap((weekday) => [
      { weekday, from: '00:00', to: '00:30' }, { weekday, from: '01:00', to: '01:45' }, { weekday, from: '02:15', to: '02:45' },
      { weekday, from: '03:00', to: '04:00' }, { weekday, from: '23:00', to: '24:00' },
    ]);
    const cal: Calendar = { windows: night, restricted: [] };
    for (const zone of ZONES) {
      for (const change of [...transitionsOf(zone, 2026), Date.UTC(2026, 5, 15, 12)]) {
        for (let t = change - 4 * HOUR; t <= change + 4 * HOUR; t += 17 * MINUTE) {
          const next = nextOpenAt(cal, zone, t);
          assert.ok(next !== null && referenceOpen(cal, zone, next), `${zone} ${localTimestamp(zone, t)}`);
          assert.ok(next === t || !referenceOpen(cal, zone, next - 1), `${zone} ${localTimestamp(zone, t)}: opens at ${localTimestamp(zone, next)}`);
          const until = openUntil(cal, zone, next) as number;
          assert.ok(!referenceOpen(cal, zone, until) && referenceOpen(cal, zone, until - 1), `${zone} ${localTimestamp(zone, next)}`);
        }
      }
    }
  });
});

const sundayAt = (weekday: number, from: string, to: string): Calendar => ({ windows: [{ weekday, from, to }], restricted: [] });

describe('dialler calendar examples', () => {
  it('Berlin spring forward: a window from 02:30 opens at 03:00, the first valid instant', () => {
    const cal = sundayAt(7, '02:30', '04:00');
    const opens = nextOpenAt(cal, 'Europe/Berlin', at('2026-03-29T00:00:00Z'));
    assert.equal(opens, at('2026-03-29T01:00:00Z'));
    assert.equal(localTimestamp('Europe/Berlin', opens as number), '2026-03-29T03:00:00.000');
    assert.equal(openUntil(cal, 'Europe/Berlin', opens as number), at('2026-03-29T02:00:00Z'));
    // A window that lies wholly in the skipped hour has no instant that day.
    assert.equal(nextOpenAt(sundayAt(7, '02:00', '02:59'), 'Europe/Berlin', at('2026-03-29T00:00:00Z')), at('2026-04-05T00:00:00Z'));
    assert.equal(startOfNextLocalDay('Europe/Berlin', at('2026-03-29T12:00:00Z')) - at('2026-03-28T23:00:00Z'), 23 * HOUR);
  });

  it('Berlin fall back: a repeated half hour is open twice, a window across it lasts an hour longer', () => {
    const cal = sundayAt(7, '02:00', '02:30');
    const zone = 'Europe/Berlin';
    assert.equal(nextOpenAt(cal, zone, at('2026-10-24T23:00:00Z')), at('2026-10-25T00:00:00Z'));
    assert.equal(openUntil(cal, zone, at('2026-10-25T00:10:00Z')), at('2026-10-25T00:30:00Z'));
    assert.equal(nextOpenAt(cal, zone, at('2026-10-25T00:30:00Z')), at('2026-10-25T01:00:00Z'));
    assert.equal(openUntil(cal, zone, at('2026-10-25T01:00:00Z')), at('2026-10-25T01:30:00Z'));
    assert.equal(openUntil(sundayAt(7, '01:00', '04:00'), zone, at('2026-10-24T23:00:00Z')), at('2026-10-25T03:00:00Z'));
    assert.equal(startOfNextLocalDay(zone, at('2026-10-25T12:00:00Z')) - at('2026-10-24T22:00:00Z'), 25 * HOUR);
  });

  it('Lord Howe: half-hour DST shifts', () => {
    const zone = 'Australia/Lord_Howe';
    // 4 Oct 2026, 02:00 → 02:30: the 02:00 window opens at 02:30 (+11).
    assert.equal(nextOpenAt(sundayAt(7, '02:00', '03:00'), zone, at('2026-10-03T15:00:00Z')), at('2026-10-03T15:30:00Z'));
    assert.equal(localTimestamp(zone, at('2026-10-03T15:30:00Z')), '2026-10-04T02:30:00.000');
    // 5 Apr 2026, 02:00 → 01:30: 01:30-02:00 comes twice, back to back: one stretch of an hour.
    assert.equal(openUntil(sundayAt(7, '01:30', '02:00'), zone, at('2026-04-04T14:30:00Z')), at('2026-04-04T15:30:00Z'));
  });

  it('a zone without DST (Kolkata, +05:30) is the window shifted by its offset', () => {
    const cal = sundayAt(1, '09:00', '17:30');
    assert.equal(nextOpenAt(cal, 'Asia/Kolkata', at('2026-06-14T20:00:00Z')), at('2026-06-15T03:30:00Z'));
    assert.equal(openUntil(cal, 'Asia/Kolkata', at('2026-06-15T05:00:00Z')), at('2026-06-15T12:00:00Z'));
    assert.equal(closedReason(cal, 'Asia/Kolkata', at('2026-06-15T12:00:00Z')), 'WindowClosed');
  });

  it('24:00 ends the day; windows touching across midnight and the week are one stretch', () => {
    const zone = 'Europe/Berlin';
    const cal: Calendar = {
      windows: [{ weekday: 1, from: '22:00', to: '24:00' }, { weekday: 2, from: '00:00', to: '01:00' }, { weekday: 7, from: '23:30', to: '24:00' }, { weekday: 1, from: '00:00', to: '00:15' }],
      restricted: [],
    };
    assert.equal(isOpenAt(cal, zone, at('2026-06-15T21:59:59.999Z')), true); // Monday 23:59:59.999
    assert.equal(openUntil(cal, zone, at('2026-06-15T20:00:00Z')), at('2026-06-15T23:00:00Z')); // Tuesday 01:00
    assert.equal(openUntil(cal, zone, at('2026-06-14T21:45:00Z')), at('2026-06-14T22:15:00Z')); // Sunday into Monday
  });

  it('midnight skipped (Havana, 8 Mar 2026): the day and its window begin at 01:00', () => {
    const zone = 'America/Havana';
    assert.equal(startOfNextLocalDay(zone, at('2026-03-07T17:00:00Z')), at('2026-03-08T05:00:00Z'));
    assert.equal(nextOpenAt(sundayAt(7, '00:00', '02:00'), zone, at('2026-03-08T03:00:00Z')), at('2026-03-08T05:00:00Z'));
    assert.equal(localDateOf(zone, at('2026-03-08T05:00:00Z')), '2026-03-08');
  });

  it('restricted periods close whole local dates; all dates restricted means never', () => {
    const zone = 'Europe/Berlin';
    const cal: Calendar = { windows: [], restricted: [{ from: '2026-12-24', to: '2026-12-26' }] };
    assert.equal(closedReason(cal, zone, at('2026-12-23T23:30:00Z')), 'RestrictedPeriod'); // 00:30 on the 24th
    assert.equal(openUntil(cal, zone, at('2026-12-23T12:00:00Z')), at('2026-12-23T23:00:00Z'));
    assert.equal(nextOpenAt(cal, zone, at('2026-12-24T12:00:00Z')), at('2026-12-26T23:00:00Z'));
    assert.equal(nextOpenAt({ windows: [], restricted: [{ from: '2020-01-01', to: '2035-12-31' }] }, zone, at('2026-01-01T00:00:00Z')), null);
    assert.equal(openUntil({ windows: [], restricted: [] }, zone, at('2026-01-01T00:00:00Z')), null);
    assert.equal(closedReason({ windows: [], restricted: [] }, zone, at('2026-01-01T00:00:00Z')), null);
    // A stored date the calendar cannot read must not silently let calls through on a holiday.
    assert.throws(() => isOpenAt({ windows: [], restricted: [{ from: '2026-02-30', to: '2026-03-01' }] }, zone, 0), RangeError);
  });

  it('zoneOfNumber: single-zone countries by the longest code, nothing for several zones or national numbers', () => {
    const cases: [string, string | undefined][] = [
      ['+4930123456', 'Europe/Berlin'], ['+44 20 7946 0000', 'Europe/London'], ['+33142000000', 'Europe/Paris'],
      ['+43 1 234', 'Europe/Vienna'], ['+41441234567', 'Europe/Zurich'], ['+31201234567', 'Europe/Amsterdam'],
      ['+3222000000', 'Europe/Brussels'], ['+353 1 234', 'Europe/Dublin'], ['+420 2 1234', 'Europe/Prague'],
      ['+90 212 000', 'Europe/Istanbul'], ['+81 3 0000', 'Asia/Tokyo'], ['+91 22 0000', 'Asia/Kolkata'],
      ['+86 10 0000', 'Asia/Shanghai'], ['+27 11 000', 'Africa/Johannesburg'], ['+972 3 000', 'Asia/Jerusalem'],
      ['+1 876 555 0100', 'America/Jamaica'],
      ['+34911234567', undefined], ['+351213000000', undefined], ['+1 212 555 0100', undefined], ['+7 495 000', undefined],
      ['+61 2 0000', undefined], ['+55 11 0000', undefined], ['+52 55 0000', undefined],
      ['030123456', undefined], ['0049301234', undefined], ['+', undefined], ['+999123', undefined],
    ];
    for (const [number, zone] of cases) assert.equal(zoneOfNumber(number), zone, number);
  });

  it('every zone of the country table is known to this runtime', () => {
    const zones = new Set<string>();
    for (let code = 1; code <= 9999; code++) {
      const zone = zoneOfNumber(`+${code}0000000`);
      if (zone !== undefined) zones.add(zone);
    }
    assert.ok(zones.size > 60);
    for (const zone of zones) assert.ok(isValidZone(zone), zone);
  });

  it('resolveContactZone: contact zone, else the number country, else the campaign; invalid zones fall through', () => {
    assert.deepEqual(resolveContactZone('America/Chicago', '+4930123', 'Europe/Vienna'), { zone: 'America/Chicago', source: 'Contact' });
    assert.deepEqual(resolveContactZone(null, '+4930123', 'Europe/Vienna'), { zone: 'Europe/Berlin', source: 'Country' });
    assert.deepEqual(resolveContactZone('Mars/Olympus', '+4930123', 'Europe/Vienna'), { zone: 'Europe/Berlin', source: 'Country' });
    assert.deepEqual(resolveContactZone('+01:00', '+1 212 555 0100', 'Europe/Vienna'), { zone: 'Europe/Vienna', source: 'Campaign' });
    assert.deepEqual(resolveContactZone(null, null, 'Europe/Vienna'), { zone: 'Europe/Vienna', source: 'Campaign' });
    assert.equal(isValidZone('Europe/Berlin'), true);
    assert.equal(isValidZone('Nowhere/Town'), false);
  });
});
