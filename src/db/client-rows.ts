// Plain writes of a client-owned table whose API fields map one-to-one to columns (groups,
// users): every statement is scoped by client_id, so an id of another client matches nothing.
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;
type ClientTable = 'acd_groups' | 'users';

export function clientRows<I extends object>(table: ClientTable, columns: Record<keyof I, string>, uniqueColumn: 'name' | 'uid') {
  /** The given fields as columns; absent fields stay untouched, null clears. */
  const toColumns = (input: I): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    for (const [key, column] of Object.entries(columns) as [keyof I, string][]) {
      if (input[key] !== undefined) values[column] = input[key];
    }
    return values;
  };

  return {
    /** Whether another row of the client already carries this unique value (Name, UID). */
    async valueTaken(db: Db, clientId: number, value: string, exceptId?: number): Promise<boolean> {
      let query = db.selectFrom(table).select('id').where('client_id', '=', clientId).where(uniqueColumn as never, '=', value as never);
      if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
      return (await query.executeTakeFirst()) !== undefined;
    },
    async insert(db: Db, clientId: number, input: I, now: Date): Promise<number> {
      const row = await db
        .insertInto(table)
        .values({ ...toColumns(input), client_id: clientId, created_at: now, updated_at: now } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async update(db: Db, clientId: number, id: number, input: I, now: Date): Promise<void> {
      await db.updateTable(table).set({ ...toColumns(input), updated_at: now } as never).where('id', '=', id).where('client_id', '=', clientId).execute();
    },
    async remove(db: Db, clientId: number, id: number): Promise<void> {
      await db.deleteFrom(table).where('id', '=', id).where('client_id', '=', clientId).execute();
    },
  };
}
