import { sql } from 'kysely';
import { openStore } from './src/db/store.ts';
import { jsonProjection } from './src/http/records.ts';
import { EventRecord } from './src/modules/events/records.ts';
const store = await openStore({ databaseUrl: process.argv[2] });
const db = store.db;
await sql`INSERT INTO clients (name) VALUES ('x')`.execute(db).catch((e) => console.log(String(e)));
const c = (await sql<{ id: number }>`SELECT id FROM clients LIMIT 1`.execute(db)).rows[0].id;
await sql`INSERT INTO acd_events (client_id, type_id, status_id, sender, subject, event_data)
  SELECT ${c}, 5, 99, 'customer' || i || '@example.com', 'load mail ' || i, '<eventData><body html="true">Customer asks about the renewal of contract 4711-0815 before Friday.</body></eventData>' FROM generate_series(1, 2000) i`.execute(db);
for (const tz of ['UTC', 'Europe/Berlin']) {
  const q = sql`EXPLAIN (ANALYZE, TIMING OFF) SELECT ${jsonProjection(EventRecord, tz)} AS j FROM acd_events e`.compile(db);
  for (let k = 0; k < 3; k++) {
    const r = await db.executeQuery(q);
    console.log(tz, r.rows.map((x: any) => x['QUERY PLAN']).filter((l: string) => /Execution|Planning/.test(l)).join(' | '));
  }
  const q2 = sql`EXPLAIN (ANALYZE, TIMING OFF) SELECT e.id, e.created_at, e.modified_at, e.last_modified_at, e.event_data, e.subject FROM acd_events e`.compile(db);
  const r2 = await db.executeQuery(q2);
  console.log('plain', r2.rows.map((x: any) => x['QUERY PLAN']).filter((l: string) => /Execution/.test(l)).join(' | '));
}
const q3 = sql`EXPLAIN (ANALYZE, TIMING OFF) SELECT to_char(e.created_at AT TIME ZONE ${'UTC'}, 'YYYY-MM-DD"T"HH24:MI:SS.MS') FROM acd_events e`.compile(db);
for (let k = 0; k < 2; k++) console.log('to_char', (await db.executeQuery(q3)).rows.map((x: any) => x['QUERY PLAN']).filter((l: string) => /Execution/.test(l)).join(''));
await store.close();
