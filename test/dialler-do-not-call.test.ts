// Spec §8.2: the client's do-not-call list — numbers and prefixes, expiry, tenancy, and the check.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeStores } from './helper.ts';
import { propertyParameters } from './fixtures-fast-check.ts';
import { normalizePrefix } from '../src/modules/donotcall/service.ts';
import { blockedNumbers } from '../src/modules/donotcall/repository.ts';

const ENTRY_FIELDS = ['ID', 'Number', 'bPrefix', 'dtExpires', 'Reason', 'dtCreated'];

describeStores('dialler do-not-call list', (h) => {
  it('creates entries with normalised numbers, times in the client zone, and lists them by Number', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    const a = await c.post('/dialler/doNotCall/create', { Number: '+49 (30) 123-4567', Reason: 'asked us to stop' });
    assert.equal(a.statusCode, 200, a.body);
    const body = a.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    const entry = body.records[0];
    assert.deepEqual(Object.keys(entry), ENTRY_FIELDS);
    assert.deepEqual(entry, {
      ID: entry.ID, Number: '+49301234567', bPrefix: false, dtExpires: null, Reason: 'asked us to stop', dtCreated: '2026-06-15T04:00:00.000',
    });
    const b = await c.post('/dialler/doNotCall/create', { Number: '0 900', bPrefix: true, dtExpires: '2026-07-01T12:00' });
    assert.equal(b.statusCode, 200, b.body);
    assert.deepEqual(b.json().records[0], {
      ID: b.json().records[0].ID, Number: '0900', bPrefix: true, dtExpires: '2026-07-01T12:00:00.000', Reason: null, dtCreated: '2026-06-15T04:00:00.000',
    });
    const list = (await c.get('/dialler/doNotCall')).json();
    assert.equal(list.orderBy, 'Number');
    assert.deepEqual(list.records.map((r: { Number: string }) => r.Number), ['+49301234567', '0900']);
    const filtered = (await c.get('/dialler/doNotCall?bPrefix=true')).json();
    assert.deepEqual(filtered.records.map((r: { ID: number }) => r.ID), [b.json().records[0].ID]);
    assert.deepEqual((await c.get(`/dialler/doNotCall/${entry.ID}`)).json(), body);
  });

  it('answers 409 for the same number and prefix flag in force; a number and a prefix of the same digits may coexist', async () => {
    const c = await h.newClient();
    assert.equal((await c.post('/dialler/doNotCall/create', { Number: '030 1234567' })).statusCode, 200);
    const again = await c.post('/dialler/doNotCall/create', { Number: '030-123 4567', Reason: 'again' });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.json().error, /0301234567/);
    assert.equal((await c.post('/dialler/doNotCall/create', { Number: '0301234567', bPrefix: true })).statusCode, 200);
    // Another client's list is its own.
    const other = await h.newClient();
    assert.equal((await other.post('/dialler/doNotCall/create', { Number: '0301234567' })).statusCode, 200);
    assert.equal((await c.get('/dialler/doNotCall')).json().count, 2);
  });

  it('replaces an expired entry instead of refusing it, keeping its ID', async () => {
    const c = await h.newClient();
    const first = (await c.post('/dialler/doNotCall/create', { Number: '0301234567', dtExpires: '2026-06-15T11:00' })).json().records[0];
    const start = h.clock.now();
    h.clock.set(start + 2 * 3_600_000);
    try {
      const again = await c.post('/dialler/doNotCall/create', { Number: '0301234567', Reason: 'for good' });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json().records[0], { ...first, dtExpires: null, Reason: 'for good', dtCreated: '2026-06-15T12:00:00.000' });
    } finally {
      h.clock.set(start);
    }
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['letters in the number', { Number: '0800-FLOWERS' }, 'Number'],
    ['a blank number', { Number: '  ' }, 'Number'],
    ['a two-digit number', { Number: '12' }, 'Number'],
    ['a prefix with letters', { Number: '09x', bPrefix: true }, 'Number'],
    ['a + prefix with a leading 0', { Number: '+0', bPrefix: true }, 'Number'],
    ['a malformed expiry', { Number: '0301234567', dtExpires: 'tomorrow' }, 'dtExpires'],
    ['an expiry in the past', { Number: '0301234567', dtExpires: '2026-06-15T09:59' }, 'dtExpires'],
    ['an unknown field', { Number: '0301234567', Prefix: true }, 'Prefix'],
  ];
  for (const [title, body, fieldName] of invalid) {
    it(`answers 400 naming the field for ${title}`, async () => {
      const c = await h.newClient();
      const res = await c.post('/dialler/doNotCall/create', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, fieldName, res.body);
      assert.equal((await c.get('/dialler/doNotCall')).json().count, 0);
    });
  }

  it('deletes an entry; unknown or another client\'s: 404 JSON', async () => {
    const c = await h.newClient();
    const other = await h.newClient();
    const id = (await c.post('/dialler/doNotCall/create', { Number: '0301234567' })).json().records[0].ID;
    const NOT_FOUND = { status: 404, error: 'Do-not-call entry not found' };
    for (const client of [other]) {
      assert.deepEqual((await client.request('DELETE', `/dialler/doNotCall/${id}`)).json(), NOT_FOUND);
      assert.deepEqual((await client.get(`/dialler/doNotCall/${id}`)).json(), NOT_FOUND);
    }
    const res = await c.request('DELETE', `/dialler/doNotCall/${id}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    const gone = await c.request('DELETE', `/dialler/doNotCall/${id}`);
    assert.equal(gone.statusCode, 404);
    assert.deepEqual(gone.json(), NOT_FOUND);
  });

  it('checks numbers: exact entries and prefixes block, expired ones and other clients\' do not', async () => {
    const c = await h.newClient();
    const other = await h.newClient();
    await c.post('/dialler/doNotCall/create', { Number: '+49301234567' });
    await c.post('/dialler/doNotCall/create', { Number: '0900', bPrefix: true });
    await c.post('/dialler/doNotCall/create', { Number: '0301111111', dtExpires: '2026-06-15T10:00:01' });
    await other.post('/dialler/doNotCall/create', { Number: '0302222222' });
    const numbers = ['+49 30 1234567', '0900 123456', '090123456', '0301111111', '0302222222'];
    const check = async () => (await c.post('/dialler/doNotCall/check', { Numbers: numbers })).json();
    const res = await check();
    assert.equal(res.count, numbers.length);
    assert.deepEqual(res.records, [
      { Number: '+49 30 1234567', NormalizedNumber: '+49301234567', bBlocked: true },
      { Number: '0900 123456', NormalizedNumber: '0900123456', bBlocked: true },
      { Number: '090123456', NormalizedNumber: '090123456', bBlocked: false },
      { Number: '0301111111', NormalizedNumber: '0301111111', bBlocked: true },
      { Number: '0302222222', NormalizedNumber: '0302222222', bBlocked: false },
    ]);
    const start = h.clock.now();
    h.clock.set(start + 1000);
    try {
      assert.equal((await check()).records[3].bBlocked, false, 'expired at 10:00:01');
    } finally {
      h.clock.set(start);
    }
    const bad = await c.post('/dialler/doNotCall/check', { Numbers: ['0301234567', 'abc'] });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().details[0].field, 'Numbers.1');
    assert.equal((await c.post('/dialler/doNotCall/check', { Numbers: [] })).statusCode, 400);
  });

  it('blockedNumbers agrees with a plain reading of the list for any numbers and prefixes', async () => {
    const digits = fc.stringMatching(/^[0-9]{3,8}$/);
    const c = await h.newClient();
    const db = h.store.db;
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.record({ number: digits, prefix: fc.boolean() }), { maxLength: 6, selector: (e) => `${e.number}/${e.prefix}` }),
      fc.array(digits, { minLength: 1, maxLength: 8 }),
      async (entries, numbers) => {
        await db.deleteFrom('dialler_do_not_call').where('client_id', '=', c.id).execute();
        for (const e of entries) {
          await db.insertInto('dialler_do_not_call').values({ client_id: c.id, number: e.number, b_prefix: e.prefix, created_at: new Date(h.clock.now()) }).execute();
        }
        const got = await blockedNumbers(db, c.id, numbers, new Date(h.clock.now()));
        const expected = new Set(numbers.filter((n) => entries.some((e) => (e.prefix ? n.startsWith(e.number) : n === e.number))));
        assert.deepEqual([...got].sort(), [...expected].sort());
      },
    ), propertyParameters(25));
  });
});

it('normalises prefixes: separators dropped, + only before a non-zero digit, 1..20 digits', () => {
  assert.deepEqual(normalizePrefix('+44'), { ok: true, value: '+44' });
  assert.deepEqual(normalizePrefix('0 9 0 0'), { ok: true, value: '0900' });
  assert.equal(normalizePrefix('').ok, false);
  assert.equal(normalizePrefix('+'.concat('1'.repeat(16))).ok, false);
  assert.equal(normalizePrefix('1'.repeat(21)).ok, false);
  fc.assert(fc.property(fc.stringMatching(/^\+?[0-9]{1,20}$/), (text) => {
    const r = normalizePrefix(text);
    if (r.ok) assert.equal(r.value, text);
    else assert.ok(text.startsWith('+'));
  }), propertyParameters(100));
});
