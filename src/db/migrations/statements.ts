// Most migrations are lists of SQL statements run in order, one per execute: PGlite's extended
// protocol takes a single command at a time.
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export function statementsMigration(up: string[], down: string[]): Migration {
  const run = (statements: string[]) => async (db: Kysely<any>) => {
    for (const statement of statements) await sql.raw(statement).execute(db);
  };
  return { up: run(up), down: run(down) };
}

/**
 * A plpgsql function and the AFTER trigger that runs it once per statement, with the statement's
 * rows as `old_rows` (DELETE, UPDATE) and `new_rows` (INSERT, UPDATE): one set-based body per
 * statement instead of a call per row.
 */
export function statementTrigger(o: { name: string; on: string; event: 'DELETE' | 'INSERT' | 'UPDATE'; trigger: string; body: string }): string[] {
  const rows = { DELETE: 'OLD TABLE AS old_rows', INSERT: 'NEW TABLE AS new_rows', UPDATE: 'OLD TABLE AS old_rows NEW TABLE AS new_rows' }[o.event];
  return [
    `CREATE FUNCTION ${o.name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${o.body};
        RETURN NULL;
      END $$`,
    `CREATE TRIGGER ${o.trigger} AFTER ${o.event} ON ${o.on}
        REFERENCING ${rows}
        FOR EACH STATEMENT EXECUTE FUNCTION ${o.name}()`,
  ];
}
