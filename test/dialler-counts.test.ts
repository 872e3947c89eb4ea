// The stored per-campaign contact counts behind the campaign's why-not answer (migration 015,
// src/dialler/sql/contact-counts.ts): whatever statements change contacts, and whenever the
// changes are folded, the counts read as of now equal a scan of the contacts themselves.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/db/schema.ts';
import { countedGroups, foldContactCounts, type CountedGroup } from '../src/dialler/sql/contact-counts.ts';
import { describeStores, secondInstance, type Harness } from './helper.ts';
import { createCampaign } from './fixtures-dialler.ts';
import { propertyParameters } from './fixtures-fast-check.ts';

const RULES = { maxTriesPerNumber: 5, maxTriesPerDay: 3 };
const SLOTS = [1, 2, 3, 4, 5, 6];

/** The reference: the same groups from a scan of every contact of the campaign. */
async function scannedGroups(db: Kysely<Database>, campaignId: number, now: number): Promise<CountedGroup[]> {
  const usable = sql.join(SLOTS.map((n) => sql`(${sql.ref(`k.phone_number${n}`)} IS NOT NULL
    AND NOT ${sql.ref(`k.b_phone_number${n}_invalid`)} AND ${sql.ref(`k.n_tries_phone_number${n}`)} < ${RULES.maxTriesPerNumber})`), sql` OR `);
  const waiting = sql`k.state = 'Waiting'`;
  const { rows } = await sql<CountedGroup>`
    SELECT k.state,
      CASE WHEN k.state IN ('Done', 'Aborted') THEN k.closed_reason END AS closed_reason,
      CASE WHEN ${waiting} THEN (k.holder_user_id IS NOT NULL OR k.hold_kind IS NOT NULL) END AS held,
      CASE WHEN ${waiting} THEN (${usable}) END AS usable,
      CASE WHEN ${waiting} THEN k.dt_next_try <= ${new Date(now)} END AS due,
      CASE WHEN ${waiting} THEN k.due_rank END AS due_rank,
      CASE WHEN ${waiting} THEN k.time_zone END AS time_zone,
      CASE WHEN ${waiting} AND k.due_rank = 3 AND k.n_tries_day >= ${RULES.maxTriesPerDay} THEN to_char(k.tries_day, 'YYYY-MM-DD') END AS capped_day,
      count(*) AS n
    FROM dialler_contacts k WHERE k.campaign_id = ${campaignId}
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`.execute(db);
  return rows;
}

const canonical = (groups: CountedGroup[]) => groups.map((g) => JSON.stringify({ ...g, n: Number(g.n) })).sort();

async function assertCountsAgree(db: Kysely<Database>, campaignIds: number[], now: number): Promise<void> {
  for (const id of campaignIds) {
    assert.deepEqual(canonical(await countedGroups(db, id, RULES, now)), canonical(await scannedGroups(db, id, now)), `campaign ${id}`);
  }
}

/** Dialler columns of a contact, drawn so that every fact of the key varies, around `now`. */
const contactColumns = (now: number) => fc.record({
  state: fc.constantFrom('Waiting', 'Waiting', 'InProgress', 'Done', 'Aborted'),
  closed_reason: fc.constantFrom(null, 'Result', 'NoNumber', 'TriesExhausted'),
  hold_kind: fc.constantFrom(null, null, 'Manual', 'Preview'),
  due_rank: fc.integer({ min: 1, max: 4 }),
  time_zone: fc.constantFrom('Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
  // Seconds around now (inside the current minute too), far ahead, or never tried.
  dt_next_try: fc.oneof(
    fc.integer({ min: -90, max: 90 }).map((s) => new Date(now + s * 1000)),
    fc.integer({ min: 1, max: 3 * 24 * 60 }).map((m) => new Date(now + m * 60_000)),
    // Minutes past (their groups merge at a fold: mergeDueMinutes).
    fc.integer({ min: 1, max: 3 * 24 * 60 }).map((m) => new Date(now - m * 60_000)),
    fc.constant('-infinity'),
  ),
  phone_number1: fc.constantFrom(null, '0301234567'),
  b_phone_number1_invalid: fc.boolean(),
  n_tries_phone_number1: fc.integer({ min: 0, max: 6 }),
  phone_number2: fc.constantFrom(null, null, '0307654321'),
  n_tries_phone_number2: fc.integer({ min: 0, max: 6 }),
  n_tries_day: fc.integer({ min: 0, max: 4 }),
  tries_day: fc.constantFrom(null, '2026-06-15', '2026-06-14'),
});

type Step =
  | { kind: 'insert'; campaign: number; rows: Record<string, unknown>[] }
  | { kind: 'update'; pick: number; cols: Record<string, unknown> }
  | { kind: 'updateMany'; campaign: number; cols: Record<string, unknown> }
  | { kind: 'delete'; pick: number }
  | { kind: 'fold' };

const steps = (now: number) => fc.array(fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), campaign: fc.integer({ min: 0, max: 1 }), rows: fc.array(contactColumns(now), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), cols: contactColumns(now) }),
  fc.record({ kind: fc.constant('updateMany' as const), campaign: fc.integer({ min: 0, max: 1 }), cols: contactColumns(now).map((c) => ({ due_rank: c.due_rank, dt_next_try: c.dt_next_try })) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.constant({ kind: 'fold' as const }),
), { minLength: 1, maxLength: 12 });

describeStores('dialler contact counts', (h) => {
  async function twoCampaigns(h: Harness, name: string) {
    const c = await h.newClient();
    const a = await createCampaign(c, `${name} A`);
    const b = await createCampaign(c, `${name} B`);
    return { clientId: c.id, campaigns: [a.ID, b.ID] };
  }

  async function apply(db: Kysely<Database>, clientId: number, campaigns: number[], step: Step, now: number): Promise<void> {
    const ids = async () => (await sql<{ id: number }>`SELECT id FROM dialler_contacts WHERE campaign_id = ANY(${campaigns}) ORDER BY id`.execute(db)).rows.map((r) => r.id);
    if (step.kind === 'insert') {
      await db.insertInto('dialler_contacts').values(step.rows.map((cols) => ({
        client_id: clientId, campaign_id: campaigns[step.campaign], name: 'Counted', created_at: new Date(now), updated_at: new Date(now), ...cols,
      }) as never)).execute();
    } else if (step.kind === 'update' || step.kind === 'delete') {
      const all = await ids();
      if (all.length === 0) return;
      const id = all[step.pick % all.length];
      if (step.kind === 'update') await db.updateTable('dialler_contacts').set(step.cols as never).where('id', '=', id).execute();
      else await db.deleteFrom('dialler_contacts').where('id', '=', id).execute();
    } else if (step.kind === 'updateMany') {
      await db.updateTable('dialler_contacts').set(step.cols as never).where('campaign_id', '=', campaigns[step.campaign]).execute();
    } else {
      await foldContactCounts(db, now);
    }
  }

  it('equal a scan of the contacts after any inserts, updates, deletes and folds, the current minute counted exactly', async () => {
    const now = h.clock.now();
    const { clientId, campaigns } = await twoCampaigns(h, 'Counted');
    await fc.assert(fc.asyncProperty(steps(now), async (run) => {
      for (const step of run) await apply(h.store.db, clientId, campaigns, step, now);
      await assertCountsAgree(h.store.db, campaigns, now);
      // Read again a few seconds on, inside and past the minute: the due split moves with the clock.
      for (const later of [now + 20_000, now + 45_000, now + 75_000, now + 119_999]) await assertCountsAgree(h.store.db, campaigns, later);
    }), propertyParameters(12));
  });

  it('lose nothing when a fold runs while contacts change, and leave no emptied groups behind', async () => {
    const now = h.clock.now();
    const { clientId, campaigns } = await twoCampaigns(h, 'Folded');
    const rows = fc.sample(contactColumns(now), { numRuns: 60, seed: 7 });
    await apply(h.store.db, clientId, campaigns, { kind: 'insert', campaign: 0, rows }, now);
    const other = await secondInstance(h, () => {});
    try {
      const dbs = [h.store.db, other?.db ?? h.store.db];
      const changes = rows.map((cols, i) => apply(dbs[i % 2], clientId, campaigns, { kind: 'update', pick: i * 7, cols }, now));
      const folds = Array.from({ length: 6 }, (_, i) => foldContactCounts(dbs[i % 2]));
      await Promise.all([...changes, ...folds]);
      await foldContactCounts(h.store.db);
      const { rows: [left] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dialler_contact_count_changes`.execute(h.store.db);
      assert.equal(left.n, 0, 'a fold with no other running takes every change');
      await assertCountsAgree(h.store.db, campaigns, now);
      await h.store.db.deleteFrom('dialler_contacts').where('campaign_id', '=', campaigns[0]).execute();
      await foldContactCounts(h.store.db);
      const { rows: [kept] } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dialler_contact_counts WHERE campaign_id = ${campaigns[0]}`.execute(h.store.db);
      assert.equal(kept.n, 0, 'a campaign without contacts keeps no count rows');
    } finally {
      await other?.close();
    }
  });

  it('keep one group, not one per minute, for contacts whose due minute has passed: a busy campaign\'s counts stay small', async () => {
    // A clock of its own, an hour on: a fold merges each minute once per process (see mergeDueMinutes).
    const now = Math.floor(h.clock.now() / 60_000) * 60_000 + 3_600_000 + 30_000;
    const { clientId, campaigns } = await twoCampaigns(h, 'Merged');
    const retries = Array.from({ length: 50 }, (_, i) => ({
      state: 'Waiting', due_rank: 3, time_zone: 'Europe/Berlin', phone_number1: '0301234567', dt_next_try: new Date(now - (i + 1) * 60_000 - 5_000),
    }));
    const comingDue = [1, 2, 3].map((m) => ({ state: 'Waiting', due_rank: 3, time_zone: 'Europe/Berlin', phone_number1: '0301234567', dt_next_try: new Date(now + m * 60_000) }));
    await apply(h.store.db, clientId, campaigns, { kind: 'insert', campaign: 0, rows: [...retries, ...comingDue] }, now);
    await foldContactCounts(h.store.db, now);
    const rowsOf = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM dialler_contact_counts WHERE campaign_id = ${campaigns[0]}`.execute(h.store.db)).rows[0]!.n;
    // The two minutes just past stay apart (a reader whose clock lags may still be in them); the
    // 48 before merge into one group; the three minutes to come keep theirs.
    assert.equal(await rowsOf(), 1 + 2 + 3);
    await assertCountsAgree(h.store.db, campaigns, now);
    // A contact leaving a merged minute later is taken off the merged group.
    await h.store.db.deleteFrom('dialler_contacts').where('campaign_id', '=', campaigns[0]).where('dt_next_try', '<', new Date(now - 30 * 60_000)).execute();
    await foldContactCounts(h.store.db, now + 60_000);
    await assertCountsAgree(h.store.db, campaigns, now + 60_000);
    assert.equal(await rowsOf(), 1 + 1 + 3, 'one more minute merged, the deleted ones taken off');
  });

  it('are emptied by a TRUNCATE of the contacts, which fires no row or statement trigger of its own kind', async () => {
    const now = h.clock.now();
    const { clientId, campaigns } = await twoCampaigns(h, 'Truncated');
    await apply(h.store.db, clientId, campaigns, { kind: 'insert', campaign: 1, rows: fc.sample(contactColumns(now), { numRuns: 10, seed: 3 }) }, now);
    await foldContactCounts(h.store.db);
    await sql`TRUNCATE dialler_contacts CASCADE`.execute(h.store.db);
    await assertCountsAgree(h.store.db, campaigns, now);
    const { rows: [left] } = await sql<{ n: number }>`SELECT (SELECT count(*) FROM dialler_contact_counts) + (SELECT count(*) FROM dialler_contact_count_changes) AS n`.execute(h.store.db);
    assert.equal(Number(left.n), 0);
  });
});
