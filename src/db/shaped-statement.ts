// Statements on a hot path whose SQL text depends only on the request's shape (which optional
// parts it has), not on its values. Building and compiling such a statement with Kysely on every
// call cost the create more of Node's time than the pg driver spends running it, so the text is
// built once per shape and later calls only put their values in place.
import { CompiledQuery, type Kysely, type RawBuilder } from 'kysely';

/** Stands for the value at one index of `values(input)` while the statement is being built. */
interface Marker {
  readonly index: number;
}

export interface ShapedStatementDefinition<I> {
  /** Equal for every input whose statement text is the same. */
  shape(input: I): string;
  /** The statement's values, in the order `build` refers to them with `value(i)`. */
  values(input: I): unknown[];
  /** The statement, with every value written as `value(i)` (never inlined). */
  build(input: I, value: (index: number) => unknown): RawBuilder<unknown>;
}

export class ShapedStatement<I> {
  readonly #definition: ShapedStatementDefinition<I>;
  readonly #compiled = new Map<string, { text: string; order: number[] }>();

  constructor(definition: ShapedStatementDefinition<I>) {
    this.#definition = definition;
  }

  /** The statement for this input, ready for `db.executeQuery`. */
  compile(db: Kysely<any>, input: I): CompiledQuery {
    const key = this.#definition.shape(input);
    let compiled = this.#compiled.get(key);
    if (!compiled) {
      const markers: Marker[] = [];
      const marker = (index: number): Marker => (markers[index] ??= { index });
      const query = this.#definition.build(input, marker).compile(db);
      // Each parameter Kysely numbered must be one of the markers: the map from parameter to value.
      const order = query.parameters.map((parameter) => {
        const index = markers.indexOf(parameter as Marker);
        if (index < 0) throw new Error('A shaped statement has a value not written as value(i)');
        return index;
      });
      compiled = { text: query.sql, order };
      this.#compiled.set(key, compiled);
    }
    const values = this.#definition.values(input);
    return CompiledQuery.raw(compiled.text, compiled.order.map((index) => values[index]));
  }
}

/**
 * How many rows a batch of `n` is sent as: the next power of two, the rows beyond `n` being
 * padding the statement ignores. Batches of any size up to 16 then share five texts, each run
 * often enough for PostgreSQL to keep one generic plan for it; with a text per size, most
 * batches were planned afresh (a quarter of the agent actions' time on the server).
 */
export function batchSlots(n: number): number {
  let slots = 1;
  while (slots < n) slots *= 2;
  return slots;
}
