// Wall-clock arithmetic in IANA zones (src/domain/time.ts), the base of appointments and dtTo.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import { instantOf, isValidTimeZone, localParts } from '../src/domain/time.ts';

const at = (year: number, month: number, day: number, hour: number, minute = 0) => ({ year, month, day, hour, minute, second: 0 });

describe('time zones', () => {
  it('resolves a Berlin wall time in summer and in winter', () => {
    assert.equal(new Date(instantOf(at(2026, 7, 1, 18), 'Europe/Berlin')).toISOString(), '2026-07-01T16:00:00.000Z');
    assert.equal(new Date(instantOf(at(2026, 1, 1, 18), 'Europe/Berlin')).toISOString(), '2026-01-01T17:00:00.000Z');
  });

  it('moves a time skipped in spring forward by the gap, and takes the first of a repeated autumn time', () => {
    assert.equal(new Date(instantOf(at(2026, 3, 29, 2, 30), 'Europe/Berlin')).toISOString(), '2026-03-29T01:30:00.000Z');
    assert.equal(new Date(instantOf(at(2026, 10, 25, 2, 30), 'Europe/Berlin')).toISOString(), '2026-10-25T00:30:00.000Z');
  });

  it('keeps years below 100 as they are', () => {
    const ms = instantOf(at(50, 1, 1, 0), 'UTC');
    assert.equal(new Date(ms).getUTCFullYear(), 50);
    assert.deepEqual(localParts(ms, 'UTC'), at(50, 1, 1, 0));
  });

  it('knows IANA names and refuses offsets', () => {
    assert.equal(isValidTimeZone('Europe/Berlin'), true);
    assert.equal(isValidTimeZone('UTC'), true);
    assert.equal(isValidTimeZone('+01:00'), false);
    assert.equal(isValidTimeZone('Mars/Base'), false);
  });

  // localParts keeps a zone's offset through a UTC minute instead of asking Intl each time: it
  // must read exactly what Intl reads, in every zone, also in the minutes around a change of
  // offset (DST, and historical changes at odd seconds) and across the years it shifts itself.
  it('reads every zone\'s wall clock exactly as Intl does, around changes of offset too', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    const formats = new Map<string, Intl.DateTimeFormat>();
    const intl = (ms: number, zone: string) => {
      const parts: Record<string, number> = {};
      let f = formats.get(zone);
      if (!f) formats.set(zone, f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }));
      for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
      return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
    };
    // Each zone's changes of offset between 1900 and 2100, found by scanning days then bisecting.
    const offsetOf = (ms: number, zone: string) => { const l = intl(ms, zone); return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(ms / 1000) * 1000; };
    const changes: [string, number][] = [];
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Europe/Amsterdam', 'Africa/Monrovia', 'America/St_Johns']) {
      for (let t = Date.UTC(1900, 0, 1); t < Date.UTC(2100, 0, 1); t += 14 * 86400_000) {
        if (offsetOf(t, zone) === offsetOf(t + 14 * 86400_000, zone)) continue;
        let [lo, hi] = [t, t + 14 * 86400_000];
        while (hi - lo > 1000) { const mid = Math.floor((lo + hi) / 2000) * 1000; if (offsetOf(mid, zone) === offsetOf(lo, zone)) lo = mid; else hi = mid; }
        changes.push([zone, hi]);
      }
    }
    assert.ok(changes.length > 100, `only ${changes.length} changes of offset found`);
    const nearChange = fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -120_000, max: 120_000 })).map(([[zone, t], d]) => [t + d, zone] as const);
    const anywhere = fc.tuple(fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2250, 0, 1) }), fc.constantFrom(...zones)).map(([t, zone]) => [t, zone] as const);
    fc.assert(fc.property(fc.oneof(nearChange, anywhere), ([ms, zone]) => {
      assert.deepEqual(localParts(ms, zone), intl(ms, zone), `${new Date(ms).toISOString()} in ${zone}`);
    }), propertyParameters(5_000));
  });
});
