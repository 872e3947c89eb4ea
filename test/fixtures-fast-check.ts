// How many cases every property of the suite runs, and from which seed: one place for each
// fc.assert in test/. A property that can miss a broken rule by luck needs many cases, which CI
// can afford and a developer's `npm test` cannot, so CI multiplies each property's local count.
//
//   FC_SEED=<n>  replays: every property starts from that seed (fast-check names the seed and
//                path of any counterexample it reports; run with at least as many cases)
//   FC_RUNS=<n>  cases per property, instead of its own count (and instead of CI's)
//   CI=<set>     each property runs CI_FACTOR times its own count
import fc from 'fast-check';

export const CI_FACTOR = 4;

function envInteger(name: string, min: number): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

const seed = envInteger('FC_SEED', -(2 ** 31));
const runs = envInteger('FC_RUNS', 1);
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/** The number of cases for a property whose local count is `local`. */
export function propertyRuns(local: number): number {
  return runs ?? (inCi ? local * CI_FACTOR : local);
}

/** fc.assert's parameters for a property whose local count is `local`: cases, seed, and `extra`. */
export function propertyParameters<T>(local: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { ...extra, numRuns: propertyRuns(local), ...(seed === undefined ? {} : { seed }) };
}
