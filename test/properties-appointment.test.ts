// Spec §3.2 appointment rules as properties of src/domain/appointment.ts (pure: any "now", any
// input), across the DST changes of Europe/Berlin and America/New_York.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import { ApiError } from '../src/errors.ts';
import { localParts } from '../src/domain/time.ts';
import {
  MAX_YEAR,
  MIN_YEAR,
  daysInMonth,
  parseAppointmentDate,
  parseAppointmentTime,
  resolveAppointment,
  waitsForAppointment,
  wallOccurrences,
} from '../src/domain/appointment.ts';

const ZONES = ['Europe/Berlin', 'America/New_York'] as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const p2 = (n: number) => String(n).padStart(2, '0');

// Moments around the 2026 changes (Berlin: 29 Mar / 25 Oct at 01:00Z; New York: 8 Mar 07:00Z /
// 1 Nov 06:00Z), so "now" and the next occurrence often straddle one.
const CHANGES = [at('2026-03-29T01:00:00Z'), at('2026-10-25T01:00:00Z'), at('2026-03-08T07:00:00Z'), at('2026-11-01T06:00:00Z')];
const nowArb = fc.oneof(
  fc.constantFrom(...CHANGES).chain((c) => fc.integer({ min: -2 * DAY, max: 2 * DAY }).map((d) => c + d)),
  fc.integer({ min: at('2024-01-01T00:00:00Z'), max: at('2030-12-31T00:00:00Z') }),
);
const timeArb = fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) });
const dateArb = fc.integer({ min: 2024, max: 2030 }).chain((year) =>
  fc.integer({ min: 1, max: 12 }).chain((month) => fc.integer({ min: 1, max: daysInMonth(year, month) }).map((day) => ({ year, month, day }))),
);
const zoneArb = fc.constantFrom(...ZONES);

const timeText = (t: { hour: number; minute: number }, compact: boolean) => `${p2(t.hour)}${compact ? '' : ':'}${p2(t.minute)}`;
const dateText = (d: { year: number; month: number; day: number }, compact: boolean) =>
  compact ? `${d.year}${p2(d.month)}${p2(d.day)}` : `${d.year}-${p2(d.month)}-${p2(d.day)}`;

/** The wall clock shows hh:mm:00 at `ms`. Berlin and New York offsets are whole hours. */
function showsTime(ms: number, zone: string, t: { hour: number; minute: number }): boolean {
  const l = localParts(ms, zone);
  return l.hour === t.hour && l.minute === t.minute && l.second === 0 && ms % 60_000 === 0;
}

function rejects(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && e.details?.[0]?.field === field);
}

describe('appointment rules (jtel examples)', () => {
  const zone = 'Europe/Berlin';
  const now = at('2026-06-15T13:30:00Z'); // 15:30 in Berlin

  it('time only: at 15:30, 10:00 is tomorrow and 18:00 is today', () => {
    assert.equal(resolveAppointment({ time: '10:00' }, now, zone), at('2026-06-16T08:00:00Z'));
    assert.equal(resolveAppointment({ time: '1800' }, now, zone), at('2026-06-15T16:00:00Z'));
  });

  it('time only: exactly now counts as today (not in the future, so no wait)', () => {
    const appointment = resolveAppointment({ time: '15:30' }, now, zone);
    assert.equal(appointment, now);
    assert.equal(waitsForAppointment(appointment, now), false);
    // One millisecond later the same time is tomorrow.
    assert.equal(resolveAppointment({ time: '15:30' }, now + 1, zone), now + DAY);
  });

  it('date only is that date at 00:00, also when past', () => {
    assert.equal(resolveAppointment({ date: '2026-07-01' }, now, zone), at('2026-06-30T22:00:00Z'));
    const past = resolveAppointment({ date: '20260101' }, now, zone);
    assert.equal(past, at('2025-12-31T23:00:00Z'));
    assert.equal(waitsForAppointment(past, now), false);
  });

  it('date and time are that exact moment; neither (or empty) is no appointment', () => {
    assert.equal(resolveAppointment({ date: '2026-12-24', time: '18:30' }, now, zone), at('2026-12-24T17:30:00Z'));
    assert.equal(resolveAppointment({}, now, zone), null);
    assert.equal(resolveAppointment({ date: '', time: '' }, now, zone), null);
    assert.equal(resolveAppointment({ date: null, time: null }, now, zone), null);
    assert.equal(waitsForAppointment(null, now), false);
  });

  it('rejects impossible dates and times, naming the field', () => {
    for (const date of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '20260230', '2026-2-3', '26-02-03', '2026/02/03', 'tomorrow', ' 2026-02-03', '1899-12-31']) {
      rejects(() => resolveAppointment({ date }, now, zone), 'dtAppointmentDate');
    }
    for (const time of ['25:00', '24:00', '12:60', '1:00', '10:00:00', '10-00', 'ab:cd', '123', '12345', ' 10:00']) {
      rejects(() => resolveAppointment({ time }, now, zone), 'dtAppointmentTime');
    }
    // A bad time is reported even next to a good date.
    rejects(() => resolveAppointment({ date: '2026-07-01', time: '25:00' }, now, zone), 'dtAppointmentTime');
    assert.deepEqual(parseAppointmentDate('2028-02-29'), { year: 2028, month: 2, day: 29 });
  });

  it('spring forward: a skipped time is read as a wall clock set forward would show it', () => {
    // 29 March 2026, Berlin: 02:00 → 03:00. 02:30 does not exist; it is 03:30 CEST.
    assert.equal(resolveAppointment({ date: '2026-03-29', time: '02:30' }, now, zone), at('2026-03-29T01:30:00Z'));
    const before = at('2026-03-29T00:15:00Z'); // 01:15 CET
    assert.equal(resolveAppointment({ time: '02:30' }, before, zone), at('2026-03-29T01:30:00Z'));
  });

  it('fall back: the repeated hour is two occurrences, and time only takes the next one', () => {
    // 25 October 2026, Berlin: 03:00 CEST → 02:00 CET; 02:30 happens at 00:30Z and at 01:30Z.
    assert.deepEqual(wallOccurrences({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, zone), [at('2026-10-25T00:30:00Z'), at('2026-10-25T01:30:00Z')]);
    assert.equal(resolveAppointment({ date: '2026-10-25', time: '02:30' }, now, zone), at('2026-10-25T00:30:00Z'));
    assert.equal(resolveAppointment({ time: '02:30' }, at('2026-10-25T00:00:00Z'), zone), at('2026-10-25T00:30:00Z'));
    assert.equal(resolveAppointment({ time: '02:30' }, at('2026-10-25T01:10:00Z'), zone), at('2026-10-25T01:30:00Z'));
    assert.equal(resolveAppointment({ time: '02:30' }, at('2026-10-25T01:31:00Z'), zone), at('2026-10-26T01:30:00Z'));
  });

  it('New York: 10:00 is 14:00Z in summer and 15:00Z in winter', () => {
    const ny = 'America/New_York';
    assert.equal(resolveAppointment({ date: '2026-06-15', time: '10:00' }, now, ny), at('2026-06-15T14:00:00Z'));
    assert.equal(resolveAppointment({ date: '2026-12-15', time: '10:00' }, now, ny), at('2026-12-15T15:00:00Z'));
  });
});

describe('appointment rules (properties)', () => {
  it('time only: the next occurrence at or after now, never in the past, within a day', () => {
    fc.assert(
      fc.property(zoneArb, nowArb, timeArb, fc.boolean(), (zone, now, t, compact) => {
        const result = resolveAppointment({ time: timeText(t, compact) }, now, zone)!;
        assert.ok(result >= now, 'not in the past');
        assert.ok(result - now < DAY + HOUR, 'within a day (plus a DST hour)');
        // The wall clock shows the time then, unless that day skips it (then an hour later).
        const l = localParts(result, zone);
        assert.ok(showsTime(result, zone, t) || (l.hour === t.hour + 1 && l.minute === t.minute), `shows ${l.hour}:${l.minute}`);
        // Nothing earlier qualifies: no whole-hour step between now and the result shows it.
        for (let m = result - HOUR; m >= now; m -= HOUR) assert.ok(!showsTime(m, zone, t), `earlier occurrence at ${new Date(m).toISOString()}`);
        assert.equal(waitsForAppointment(result, now), result > now);
      }),
      propertyParameters(300),
    );
  });

  it('date only: 00:00 of that date on the wall clock, past or not', () => {
    fc.assert(
      fc.property(zoneArb, nowArb, dateArb, fc.boolean(), (zone, now, d, compact) => {
        const result = resolveAppointment({ date: dateText(d, compact) }, now, zone)!;
        assert.deepEqual(localParts(result, zone), { ...d, hour: 0, minute: 0, second: 0 });
        assert.equal(waitsForAppointment(result, now), result > now);
      }),
      propertyParameters(200),
    );
  });

  it('date and time: exactly that wall-clock moment (a skipped time moves by the gap), independent of now', () => {
    fc.assert(
      fc.property(zoneArb, nowArb, nowArb, dateArb, timeArb, (zone, now1, now2, d, t) => {
        const result = resolveAppointment({ date: dateText(d, false), time: timeText(t, true) }, now1, zone)!;
        assert.equal(resolveAppointment({ date: dateText(d, true), time: timeText(t, false) }, now2, zone), result);
        const l = localParts(result, zone);
        const shifted = l.hour === t.hour + 1 && l.minute === t.minute;
        assert.ok((l.year === d.year && l.month === d.month && l.day === d.day && showsTime(result, zone, t)) || shifted);
        // It is the first moment showing that time: an hour earlier does not show it.
        assert.ok(!showsTime(result - HOUR, zone, t) || localParts(result - HOUR, zone).day !== d.day);
      }),
      propertyParameters(200),
    );
  });

  it('any text is either a valid date/time or a 400 naming its field, never another error', () => {
    const digits = fc.stringMatching(/^[0-9:\- ]{0,11}$/);
    fc.assert(
      fc.property(zoneArb, nowArb, fc.oneof(digits, fc.string({ maxLength: 12 })), fc.oneof(digits, fc.string({ maxLength: 6 })), (zone, now, date, time) => {
        let result: number | null | undefined;
        try {
          result = resolveAppointment({ date, time }, now, zone);
        } catch (e) {
          assert.ok(e instanceof ApiError && e.status === 400, String(e));
          assert.ok(['dtAppointmentDate', 'dtAppointmentTime'].includes(e.details![0].field));
          return;
        }
        // Accepted: then both parts parse on their own, and the formats were as documented.
        if (date) {
          assert.match(date, /^\d{4}-?\d{2}-?\d{2}$/);
          const d = parseAppointmentDate(date);
          assert.ok(d.year >= MIN_YEAR && d.year <= MAX_YEAR && d.day <= daysInMonth(d.year, d.month));
        }
        if (time) {
          assert.match(time, /^\d{2}:?\d{2}$/);
          parseAppointmentTime(time);
        }
        assert.equal(result === null, !date && !time);
        if (!date && result !== null) assert.ok(result! >= now);
      }),
      propertyParameters(300),
    );
  });

  it('the calendar check agrees with the JavaScript calendar', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_YEAR, max: MAX_YEAR }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (year, month, day) => {
        const text = `${year}-${p2(month)}-${p2(day)}`;
        const real = month >= 1 && month <= 12 && day >= 1 && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
        let ok = true;
        try {
          parseAppointmentDate(text);
        } catch {
          ok = false;
        }
        assert.equal(ok, real, text);
      }),
      propertyParameters(300),
    );
  });
});
