// Wall-clock arithmetic in IANA zones (src/domain/time.ts), the base of appointments and dtTo.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
});
