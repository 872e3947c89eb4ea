// Spec §7: "an event is never in two agents' hands at once, with any number of server instances".
// Several distributors — on PostgreSQL each on its own connection pool, as separate instances
// would be — run their passes at the same moment over one queue; every event is offered once and
// no agent goes above capacity.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/db/store.ts';
import { Distributor } from '../src/distributor/distributor.ts';
import { describeStores } from './helper.ts';
import { act, inbox, newEvent, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

const INSTANCES = 4;
const AGENTS = 5;
const CAPACITY = 3;
const EVENTS = 30;

describeStores('distribution: concurrent distributors', (h) => {
  const extraStores: Store[] = [];
  let distributors: Distributor[] = [];
  before(async () => {
    if (h.kind === 'postgres') {
      const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${rows[0]!.db}`;
      for (let i = 0; i < INSTANCES; i++) extraStores.push(await openStore({ databaseUrl: url.toString(), poolSize: 4, migrate: false }));
      distributors = extraStores.map((s) => new Distributor(s.db, h.clock, { batch: 7 }));
    } else {
      distributors = Array.from({ length: INSTANCES }, () => new Distributor(h.store.db, h.clock, { batch: 7 }));
    }
  });
  after(async () => {
    for (const s of extraStores) await s.close();
  });

  const raceAll = () => Promise.all(distributors.map((d) => d.runPass()));

  it('offers every event exactly once and keeps every agent within capacity', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const agents = [];
    for (let i = 0; i < AGENTS; i++) {
      const agent = await readyAgent(h, c, group);
      await c.request('PUT', `${c.base}/agents/agent/${agent.userId}/capacity`, { Capacity: { 5: CAPACITY } });
      agents.push(agent);
    }
    const ids: number[] = [];
    for (let i = 0; i < EVENTS; i++) ids.push(await newEvent(c, group, { Priority: i % 4 }));

    const offersOf = async () => {
      const rows = await h.store.db.selectFrom('acd_event_history').select(['event_id', 'agent_id'])
        .where('event_id', 'in', ids).where('to_status_id', '=', 10).execute();
      return rows;
    };
    const heldPerAgent = async () => {
      const rows = await h.store.db.selectFrom('acd_events').select(['agent_id']).where('id', 'in', ids)
        .where('status_id', 'in', [10, 20, 30]).execute();
      const count = new Map<number, number>();
      for (const r of rows) count.set(r.agent_id!, (count.get(r.agent_id!) ?? 0) + 1);
      return count;
    };

    await raceAll();
    await raceAll();
    let offers = await offersOf();
    assert.equal(offers.length, AGENTS * CAPACITY, 'every free place filled');
    assert.equal(new Set(offers.map((o) => o.event_id)).size, offers.length, 'no event offered twice');
    for (const [, n] of await heldPerAgent()) assert.ok(n <= CAPACITY);

    // The agents finish what they got, all at once; the distributors race for the rest.
    await Promise.all(agents.map(async (agent) => {
      for (const item of await inbox(agent)) {
        assert.equal((await act(agent, item.ID, 'accept')).statusCode, 200);
        assert.equal((await act(agent, item.ID, 'done')).statusCode, 200);
      }
    }));
    await raceAll();
    await raceAll();
    offers = await offersOf();
    assert.equal(offers.length, EVENTS, 'each event offered once, none twice');
    assert.equal(new Set(offers.map((o) => o.event_id)).size, EVENTS);
    for (const [, n] of await heldPerAgent()) assert.ok(n <= CAPACITY);
  });
});
