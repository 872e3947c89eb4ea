// The batcher's contract (src/db/batcher.ts): a request alone goes at once; while a batch of its
// lane (by default, its key) is on its way, what arrives waits and then goes together by key, at
// most maxBatch at a time; other lanes go meanwhile, up to inFlight batches in all; each request
// gets its own outcome, and a failed batch fails only its own requests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/db/batcher.ts';

/** A batcher whose batches finish when the test says so. */
function controlled(options?: { maxBatch?: number; inFlight?: number; laneOf?: (row: number) => string }) {
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

  it('runs other keys while one is on its way, up to inFlight batches in all', async () => {
    const { batcher, batches } = controlled({ inFlight: 1 });
    const even = batcher.add(2);
    const odd = batcher.add(3);
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[2]], 'inFlight 1: the odd key waits for the even batch');
    batches[0]!.finish();
    await even;
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[2], [3]]);
    batches[1]!.finish();
    assert.equal(await odd, 30);

    const wide = controlled();
    const both = [wide.batcher.add(2), wide.batcher.add(3)];
    await tick();
    assert.deepEqual(wide.batches.map((b) => b.rows), [[2], [3]], 'by default keys do not wait for each other');
    for (const b of wide.batches) b.finish();
    assert.deepEqual(await Promise.all(both), [20, 30]);
  });

  it('lets the keys of one lane take turns, one batch at a time, while other lanes go', async () => {
    // Lanes by tens: 2 and 3 share lane 0 (keys even and odd), 12 is in lane 1.
    const { batcher, batches } = controlled({ laneOf: (row) => String(Math.floor(row / 10)) });
    const first = [batcher.add(2), batcher.add(3), batcher.add(12)];
    await tick();
    assert.deepEqual(batches.map((b) => b.rows), [[2], [12]], 'odd waits for its lane; lane 1 goes');
    const later = [batcher.add(4), batcher.add(5)];
    batches[0]!.finish();
    batches[1]!.finish();
    await tick();
    assert.deepEqual(batches.slice(2).map((b) => b.rows), [[3, 5]], 'the key that waited goes next, with what joined it');
    batches[2]!.finish();
    await tick();
    assert.deepEqual(batches.slice(3).map((b) => b.rows), [[4]]);
    batches[3]!.finish();
    assert.deepEqual(await Promise.all([...first, ...later]), [20, 30, 120, 40, 50]);
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
