// Lists on PostgreSQL read their batches with a binary COPY, whose parameters are written into
// the statement as literals: awkward filter values must match exactly what they say, and the
// answer must be byte for byte what the ordinary query path gives.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type CompiledQuery } from 'kysely';
import { describeStores } from './helper.ts';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import { BinaryRows, copyBatch, inlineParameters } from '../src/db/copy-out.ts';
import { createUser } from './fixtures-groups.ts';

const AWKWARD = ["o'brien", 'back\\slash', '$1 and $2', "quote'\\'mix", 'ümlaut ☎', 'semi;colon--', ''];

describeStores('lists read by binary COPY', (h) => {
  it('filters by awkward text values exactly, and pages across batches the same way', async () => {
    const c = await h.newClient();
    for (const uid of AWKWARD.filter(Boolean)) await createUser(c, { UID: uid, FirstName: uid });
    for (const uid of AWKWARD.filter(Boolean)) {
      const res = await c.get(`/users?UID=${encodeURIComponent(uid)}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().records.map((r: any) => r.UID), [uid]);
    }
    const all = (await c.get('/users')).json().records.map((r: any) => r.UID);
    assert.equal(all.length, AWKWARD.length - 1);
    const paged: string[] = [];
    for (let start = 0; start < all.length; start += 2) {
      paged.push(...(await c.get(`/users?limitStart=${start}&limitPageSize=2`)).json().records.map((r: any) => r.UID));
    }
    assert.deepEqual(paged, all);
  });

  it('answers with the same bytes as the ordinary query would', async () => {
    const c = await h.newClient();
    for (let i = 0; i < 30; i++) await createUser(c, { UID: `u${String(i).padStart(2, '0')}`, LastName: i % 3 ? null : `N"${i}\n` });
    const query = sql<{ j: string }>`SELECT row_to_json(u)::text AS j, u.uid AS k, u.id::text AS i FROM users u WHERE u.client_id = ${c.id} ORDER BY u.uid`;
    const compiled = query.compile(h.store.db);
    const copied = await copyBatch(h.store.db, compiled);
    if (h.kind === 'pglite') {
      assert.equal(copied, undefined, 'PGlite reads lists with ordinary queries');
      return;
    }
    const { rows } = await query.execute(h.store.db);
    assert.equal(copied!.rows, 30);
    assert.equal(Buffer.concat(copied!.body).toString('utf8'), rows.map((r) => r.j).join(','));
    assert.deepEqual(copied!.last, ['u29', String(JSON.parse(rows[29]!.j).id)]);
  });
});

it('writes parameters as literals only when they are plain values', () => {
  const query = (parameters: unknown[]) => ({ sql: 'SELECT $1, $2', parameters, query: {} as never, queryId: {} as never }) as unknown as CompiledQuery;
  assert.equal(inlineParameters(query([1, "it's"])), "SELECT (1), ('it''s')");
  assert.equal(inlineParameters(query([null, true])), 'SELECT (NULL), (true)');
  assert.match(inlineParameters(query(['a\\b', 2]))!, /^SELECT \( E'a\\\\b'\), \(2\)$/);
  assert.equal(inlineParameters(query([new Date(0), 1])), undefined);
  assert.equal(inlineParameters(query([Number.NaN, 1])), undefined);
});

/** PostgreSQL's binary COPY of rows of text fields (null as length -1). */
function binaryCopy(rows: (string | null)[][], extension = 0): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4), Buffer.alloc(4)];
  parts[2]!.writeInt32BE(extension);
  parts.push(Buffer.alloc(extension));
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const value of row) {
      const length = Buffer.alloc(4);
      const bytes = value === null ? Buffer.alloc(0) : Buffer.from(value, 'utf8');
      length.writeInt32BE(value === null ? -1 : bytes.length);
      parts.push(length, bytes);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

it('parses binary COPY data however it is cut into chunks', () => {
  const row = fc.tuple(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary', minLength: 2000, maxLength: 5000 })), fc.option(fc.string({ maxLength: 20 })), fc.string({ maxLength: 12 }));
  fc.assert(fc.property(
    fc.array(row, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 30 }), fc.nat(8),
    (rows, cuts, extension) => {
      const data = binaryCopy(rows, extension);
      const parser = new BinaryRows();
      let at = 0;
      for (let c = 0; at < data.length; c++) {
        const size = cuts[c % cuts.length]!;
        parser.push(data.subarray(at, at + size));
        at += size;
      }
      const batch = parser.finish();
      assert.equal(batch.rows, rows.length);
      assert.equal(Buffer.concat(batch.body).toString('utf8'), rows.map((r) => r[0]).join(','));
      if (rows.length > 0) assert.deepEqual(batch.last, rows.at(-1)!.slice(1));
    },
  ), propertyParameters(300));
});
