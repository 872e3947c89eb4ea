// The batcher's contract (src/db/batcher.ts): a request alone goes at once; while a batch is on
// its way, what arrives waits and then goes together, by key, at most maxBatch at a time; each
// request gets its own outcome, and a failed batch fails only its own requests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/db/batcher.ts';

/** A batcher whose batches finish when the test says so. */
function controlled(options?: { maxBatch?: number; inFlight?: number }) {
  const batches: { key: string; rows: number[]; finish(fail?: boolean): void }[] = [];
  const batcher = new Batcher<number, number>(
    (row) => (row % 2 === 0 ? 'even' : 'odd'),
    (rows) => new Promise((resolve, reject) => {
      batches.push({
        key: rows[0]! % 2 === 0 ? 'even' : 'odd',
        rows,
        finish: (fail) => (fail ? reject(new Error(`batch ${rows.join()} failed`)) : resolve(rows.map((r) => ({ status: 'fulfilled', value: r * 10 })))),
      });
    }),
    options,
  );
  return { batcher, batches };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('sends a lone request at once, and what arrives meanwhile as one batch after it', async () => {
    const { batcher, batches } = controlled();
    const first = batcher.add(2);
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[2]]);
    const later = [4, 6, 8, 10].map((r) => batcher.add(r));
    await tick();
    assert.equal(batches.length, 1, 'nothing else goes while one batch is on its way');
    batches[0]!.finish();
    assert.equal(await first, 20);
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[2], [4, 6, 8, 10]]);
    batches[1]!.finish();
    assert.deepEqual(await Promise.all(later), [40, 60, 80, 100]);
  });

  it('keeps keys apart and lets them take turns, bounds a batch by maxBatch, and runs inFlight batches at once', async () => {
    const { batcher, batches } = controlled({ maxBatch: 3, inFlight: 2 });
    const blocker = [batcher.add(0), batcher.add(1)];
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[0], [1]], 'two batches on their way at once');
    const rest = [2, 3, 4, 5, 6, 8].map((r) => batcher.add(r));
    batches[0]!.finish();
    batches[1]!.finish();
    await Promise.all(blocker);
    await tick();
    assert.deepEqual(batches.slice(2).map((b) => b.rows), [[2, 4, 6], [3, 5]], 'by key, at most 3 each, odd before the rest of even');
    batches[2]!.finish();
    batches[3]!.finish();
    await tick();
    assert.deepEqual(batches.slice(4).map((b) => b.rows), [[8]]);
    batches[4]!.finish();
    assert.deepEqual(await Promise.all(rest), [20, 30, 40, 50, 60, 80]);
  });

  it('fails only the requests of a failed batch', async () => {
    const { batcher, batches } = controlled();
    const a = batcher.add(2);
    await tick();
    const b = batcher.add(4);
    batches[0]!.finish(true);
    await assert.rejects(a, /batch 2 failed/);
    await tick();
    batches[1]!.finish();
    assert.equal(await b, 40);
  });
});
