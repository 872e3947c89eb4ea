// The route fuzzer (fixtures-fuzz.ts) over every operation of the OpenAPI document, a few hundred
// seeded cases per store; `npm run bench:fuzz` runs tens of thousands. FUZZ_SEED replays a run,
// FUZZ_RUNS changes its length.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeStores } from './helper.ts';
import { casesArb, routesOf, runCase, seedWorld, type World } from './fixtures-fuzz.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

describeStores('route fuzzing', (h) => {
  let world: World;
  before(async () => {
    world = await seedWorld(h);
  });

  it(`every route answers, never 5xx, errors as {status, error}, refused requests change nothing (seed ${SEED})`, async () => {
    const routes = routesOf(h.app);
    assert.ok(routes.length >= 50, `only ${routes.length} routes in the document`);
    const state: { digest?: string } = {};
    const statuses = new Map<number, number>();
    const reached = new Set<string>();
    await fc.assert(fc.asyncProperty(casesArb(routes, world), async (c) => {
      const outcome = await runCase(h, world, c, state);
      if (outcome.status !== undefined) statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.status !== undefined && outcome.status < 300) reached.add(`${c.method} ${c.url.split('?')[0]}`);
      assert.deepEqual(outcome.problems, [], `seed ${SEED}`);
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    // Not vacuous: requests got through as well as being refused, in several ways.
    for (const status of [200, 400, 401, 404]) assert.ok(statuses.has(status), `never ${status}: ${JSON.stringify([...statuses])} (seed ${SEED})`);
    assert.ok(reached.size >= 20, `only ${reached.size} distinct accepted requests (seed ${SEED})`);
  });
});
