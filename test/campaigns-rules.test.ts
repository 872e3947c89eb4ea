// The pure dialler rules of src/domain/dialler.ts, including cases the API cannot reach (the
// unique name index makes "several campaigns with this exact name" impossible to set up there).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTimeWindows, duplicateExportKeyIndex, isPlausibleEmail, normalizePhoneNumber, parseLocalTimestamp, singleExactMatch,
} from '../src/domain/dialler.ts';

describe('dialler rules: delete by name', () => {
  it('deletes only a single exact match: none is 404, several are 409', () => {
    assert.deepEqual(singleExactMatch([7]), { ok: true, value: 7 });
    assert.equal(singleExactMatch([]).status, 404);
    const several = singleExactMatch([7, 8]);
    assert.equal(several.ok, false);
    assert.equal(several.status, 409);
  });
});

describe('dialler rules: campaign end time', () => {
  it('reads local wall time in the client zone, with optional seconds and milliseconds', () => {
    const berlin = (text: string) => {
      const parsed = parseLocalTimestamp(text, 'Europe/Berlin');
      assert.ok(parsed.ok, text);
      return parsed.value.toISOString();
    };
    assert.equal(berlin('2026-12-31T18:00'), '2026-12-31T17:00:00.000Z');
    assert.equal(berlin('2026-07-01T18:00:30'), '2026-07-01T16:00:30.000Z');
    assert.equal(berlin('2026-07-01T18:00:30.5'), '2026-07-01T16:00:30.500Z');
    assert.equal(berlin('2026-07-01T18:00:30.123'), '2026-07-01T16:00:30.123Z');
  });

  it('refuses impossible dates and times and other formats', () => {
    for (const text of ['2026-02-29T10:00', '2026-04-31T10:00', '2026-13-01T10:00', '2026-01-01T24:00', '2026-01-01T10:60',
      '2026-01-01', '2026-01-01 10:00', '2026-01-01T10:00Z', '', '0050-01-01T00:00', '1899-12-31T23:59']) {
      assert.equal(parseLocalTimestamp(text, 'Europe/Berlin').ok, false, text);
    }
    assert.equal(parseLocalTimestamp('2028-02-29T10:00', 'Europe/Berlin').ok, true, 'leap day');
  });
});

describe('dialler rules: time windows', () => {
  it('accepts ordered, non-overlapping windows; 24:00 ends the day', () => {
    const result = checkTimeWindows([{ Weekday: 1, From: '13:00', To: '24:00' }, { Weekday: 1, From: '08:00', To: '13:00' }]);
    assert.deepEqual(result, { ok: true, value: [{ weekday: 1, from: '13:00', to: '24:00' }, { weekday: 1, from: '08:00', to: '13:00' }] });
  });

  it('names the window that is wrong', () => {
    const cases: [Parameters<typeof checkTimeWindows>[0], string][] = [
      [[{ Weekday: 1, From: '24:00', To: '24:00' }], 'TimeWindows.0.From'],
      [[{ Weekday: 1, From: '08:00', To: '8:30' }], 'TimeWindows.0.To'],
      [[{ Weekday: 1, From: '08:00', To: '07:59' }], 'TimeWindows.0.To'],
      [[{ Weekday: 2, From: '08:00', To: '09:00' }, { Weekday: 2, From: '07:00', To: '08:01' }], 'TimeWindows.1'],
      [[{ Weekday: 2, From: '07:00', To: '10:00' }, { Weekday: 3, From: '07:00', To: '10:00' }, { Weekday: 2, From: '08:00', To: '09:00' }], 'TimeWindows.2'],
    ];
    for (const [windows, field] of cases) {
      const result = checkTimeWindows(windows);
      assert.equal(result.ok, false, JSON.stringify(windows));
      assert.equal(result.field, field, JSON.stringify(windows));
    }
  });
});

describe('dialler rules: result codes', () => {
  it('finds the first ExportKey given twice', () => {
    assert.equal(duplicateExportKeyIndex(['A', 'B', 'C']), undefined);
    assert.equal(duplicateExportKeyIndex(['A', 'B', 'A', 'B']), 2);
  });
});

describe('dialler rules: contact data', () => {
  it('normalises phone numbers to digits with an optional leading +', () => {
    const cases: [string, string | null][] = [
      ['+49 89 123-456', '+4989123456'],
      ['(089) 123 45 67', '0891234567'],
      ['0049/89.1234567', '0049891234567'],
      ['   ', null],
      ['', null],
    ];
    for (const [input, expected] of cases) assert.deepEqual(normalizePhoneNumber(input), { ok: true, value: expected }, input);
  });

  it('refuses what cannot be dialled', () => {
    for (const input of ['12', 'abc', '0800-FLOWERS', '+', '++49301234', '49+301234', '+0301234', '+1234567890123456', '1'.repeat(21), '030#1234']) {
      assert.equal(normalizePhoneNumber(input).ok, false, input);
    }
  });

  it('checks e-mail addresses loosely', () => {
    assert.ok(isPlausibleEmail('jane.doe+x@example.co.uk'));
    for (const input of ['jane', 'jane@example', 'jane doe@example.com', '@example.com', `${'a'.repeat(250)}@x.de`]) {
      assert.equal(isPlausibleEmail(input), false, input);
    }
  });
});
