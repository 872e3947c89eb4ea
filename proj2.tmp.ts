import pg from 'pg';
const c = new pg.Client({ connectionString: process.argv[2] });
await c.connect();
await c.query(`CREATE TABLE t AS SELECT i AS id, now() AS created_at, now() AS modified_at, NULL::timestamptz AS remind_at, 'subject ' || i AS subject FROM generate_series(1, 2000) i`);
const body = (tz: string) => `SELECT (SELECT row_to_json(r)::text FROM (SELECT t.id AS "ID", t.subject AS "Subject", to_char(t.created_at AT TIME ZONE ${tz}, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS "dtCreated", to_char(t.modified_at AT TIME ZONE ${tz}, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS "dtModified", to_char(t.remind_at AT TIME ZONE ${tz}, 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS "dtRemind") r) FROM t`;
for (const mode of ['force_custom_plan', 'force_generic_plan']) {
  await c.query(`SET plan_cache_mode = ${mode}`);
  await c.query(`PREPARE p_${mode}(text) AS ${body('$1')}`);
  for (let k = 0; k < 3; k++) {
    const r = await c.query(`EXPLAIN (ANALYZE, TIMING OFF) EXECUTE p_${mode}('UTC')`);
    console.log(mode, r.rows.filter((x) => /Execution/.test(x['QUERY PLAN'])).map((x) => x['QUERY PLAN']).join(''));
  }
}
await c.end();
