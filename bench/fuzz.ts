// bench:fuzz — the route fuzzer of test/fixtures-fuzz.ts at length: FUZZ_CASES (default 10,000)
// seeded cases over every operation of the OpenAPI document, on the embedded store (or on a
// throw-away PostgreSQL database with FUZZ_STORE=postgres), a fresh tenant every ROUND cases so
// that deletions do not starve the later rounds. Prints each failure as it happens and, last, one
// JSON line: {seed, cases, fiveXX, unanswered, failures, seconds}. Exits 1 if anything failed.
import fc from 'fast-check';
import { build } from '../src/app.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { fixedClock } from '../src/domain/clock.ts';
import { LIMIT_DEFAULTS } from '../src/config.ts';
import { ensureAdminToken } from '../src/modules/clients/admin-token.ts';
import { ADMIN_TOKEN, clientHandle, type Harness } from '../test/helper.ts';
import { casesArb, routesOf, runCase, seedWorld } from '../test/fixtures-fuzz.ts';
import { withFreshDatabase } from './support.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ROUND = 500;

async function fuzz(store: Store, kind: Harness['kind']) {
  await ensureAdminToken(store.db, ADMIN_TOKEN);
  const clock = fixedClock(Date.UTC(2026, 5, 15, 8));
  // Logins are throttled per address; every fuzzed request comes from one.
  const limits = { ...LIMIT_DEFAULTS, loginPerAddress: 1_000_000, loginPerUid: 1_000_000 };
  const app = await build({ store, clock, limits });
  await app.ready();
  let clients = 0;
  const h: Harness = {
    kind, app, store, clock,
    // Through the API: this instance then forgets at once that the ClientsID did not exist (an
    // earlier case may have asked for it); created behind its back, PostgreSQL would tell it a
    // notification later.
    async newClient(input = {}) {
      const res = await app.inject({
        method: 'POST', url: '/rest/v1.0/clients/create', payload: { Name: `Fuzz ${SEED} ${++clients}`, TimeZone: input.TimeZone },
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const { ClientsID, Token } = res.json().records[0] as { ClientsID: number; Token: string };
      return clientHandle(app, ClientsID, Token);
    },
    admin: (method, path, payload) => app.inject({ method, url: path, payload: payload as string, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
  };
  const routes = routesOf(app);
  const tally = { seed: SEED, store: kind, routes: routes.length, cases: 0, fiveXX: 0, unanswered: 0, failures: 0, seconds: 0 };
  const started = Date.now();
  try {
    for (let round = 0; tally.cases < CASES; round++) {
      const world = await seedWorld(h);
      const state: { digest?: string } = {};
      for (const c of fc.sample(casesArb(routes, world), { numRuns: Math.min(ROUND, CASES - tally.cases), seed: SEED + round })) {
        const outcome = await runCase(h, world, c, state);
        tally.cases++;
        if (outcome.status === undefined) tally.unanswered++;
        else if (outcome.status >= 500) tally.fiveXX++;
        if (outcome.problems.length > 0) {
          tally.failures++;
          console.error(`FAIL (seed ${SEED}, round ${round}): ${outcome.problems.join(' | ')}`);
        }
      }
      console.error(`${tally.cases} cases, ${tally.failures} failures`);
    }
  } finally {
    await app.close();
  }
  tally.seconds = Math.round((Date.now() - started) / 100) / 10;
  return tally;
}

const result = process.env.FUZZ_STORE === 'postgres'
  ? await withFreshDatabase('sb_fuzz', async (url) => {
    const store = await openStore({ databaseUrl: url, poolSize: 4 });
    try {
      return await fuzz(store, 'postgres');
    } finally {
      await store.close();
    }
  })
  : await (async () => {
    const store = await openStore({ dataDir: 'memory://' });
    try {
      return await fuzz(store, 'pglite');
    } finally {
      await store.close();
    }
  })();
console.log(JSON.stringify(result));
process.exit(result.failures > 0 ? 1 : 0);
