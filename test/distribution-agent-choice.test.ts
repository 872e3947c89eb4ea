// Issue 11 item 13: who gets work, where the rest of the suite cannot see the rule break.
// Longest idle (DistributionAlgorithmID 1) counts from the agent's last new work — an offer or a
// finish, whichever came last — and an agent logged out of the ACD gets nothing from a group
// they are still logged in to. That second rule is checked twice in the dispatcher (in its read
// of the members, and under the agents' lock against a logout in between), so each check is also
// tried alone on PostgreSQL, where the logout can land between the two.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { describeStores, type Harness } from './helper.ts';
import { act, eventOf, inbox, logIn, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';
import type { TestAgent } from './fixtures-agents.ts';
import { addMember } from './fixtures-groups.ts';

/** Offers the event to the agent (it names them) and has them accept it. */
async function take(h: Harness, agent: TestAgent, id: number): Promise<void> {
  await pass(h);
  assert.equal((await eventOf(h, id)).agent, agent.userId);
  assert.equal((await act(agent, id, 'accept')).statusCode, 200);
}

/** A connection of its own to the harness's PostgreSQL database (another session's locks). */
async function otherSession(h: Harness): Promise<pg.Client> {
  const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${rows[0]!.db}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

async function someoneWaitsForALock(h: Harness): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(h.store.db);
  return rows[0]!.n > 0;
}

/** Whether `work` came to wait for a lock before it was done (polled, so no timing guess). */
async function waitsForALock(h: Harness, work: Promise<unknown>): Promise<boolean> {
  let done = false;
  work.then(() => { done = true; }, () => { done = true; });
  const deadline = Date.now() + 30_000;
  while (!done) {
    if (await someoneWaitsForALock(h)) return true;
    if (Date.now() > deadline) throw new Error('neither done nor waiting for a lock after 30 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

async function logOutOfAcd(agent: TestAgent): Promise<void> {
  const res = await agent.request('POST', '/agents/me/acd/logout');
  assert.equal(res.statusCode, 200, res.body);
}

describeStores('distribution: agent choice the other suites do not pin', (h) => {
  it('longest idle counts from the last finish: offered d then a, a finished first, the next event goes to a', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { DistributionAlgorithmID: 1 });
    // d has the lower user ID, so a tie would go to d: a gets the event only by being idle longer.
    const d = await readyAgent(h, c, group);
    const a = await readyAgent(h, c, group);
    assert.ok(d.userId < a.userId);
    const forD = await newEvent(c, group, { UsersID: d.userId });
    await take(h, d, forD);
    h.clock.advance(1000);
    const forA = await newEvent(c, group, { UsersID: a.userId });
    await take(h, a, forA);
    h.clock.advance(1000);
    assert.equal((await act(a, forA, 'done')).statusCode, 200);
    h.clock.advance(1000);
    assert.equal((await act(d, forD, 'done')).statusCode, 200);
    h.clock.advance(1000);
    const next = await newEvent(c, group);
    await pass(h);
    assert.equal((await eventOf(h, next)).agent, a.userId, 'a has been idle since their finish, before d\'s');
  });

  it('longest idle counts an offer as new work: an agent offered work since their finish waits their turn', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { DistributionAlgorithmID: 1 });
    const y = await readyAgent(h, c, group);
    const x = await readyAgent(h, c, group);
    await c.request('PUT', `${c.base}/agents/agent/${y.userId}/capacity`, { Capacity: { 5: 2 } });
    // y finishes first, x a second later; then y is offered (and keeps) another event.
    const forY = await newEvent(c, group, { UsersID: y.userId });
    const forX = await newEvent(c, group, { UsersID: x.userId });
    await take(h, y, forY);
    assert.equal((await act(x, forX, 'accept')).statusCode, 200);
    h.clock.advance(1000);
    assert.equal((await act(y, forY, 'done')).statusCode, 200);
    h.clock.advance(1000);
    assert.equal((await act(x, forX, 'done')).statusCode, 200);
    h.clock.advance(1000);
    const again = await newEvent(c, group, { UsersID: y.userId });
    await pass(h);
    assert.equal((await eventOf(h, again)).status, 10);
    h.clock.advance(1000);
    const next = await newEvent(c, group);
    await pass(h);
    assert.equal((await eventOf(h, next)).agent, x.userId, 'y has had new work (an offer) since x finished');
  });

  it('gives nothing to an agent logged out of the ACD but still logged in to the group, until they log in again', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c, { DistributionAlgorithmID: 1 });
    // d never had work and has the lower user ID: longest idle would pick d first.
    const d = await readyAgent(h, c, group);
    const a = await readyAgent(h, c, group);
    await logOutOfAcd(d);
    const first = await newEvent(c, group);
    h.clock.advance(1000);
    const second = await newEvent(c, group);
    await pass(h);
    assert.equal((await eventOf(h, first)).agent, a.userId);
    assert.equal((await eventOf(h, second)).status, 4, 'a is full and d is out of the ACD: it waits');
    assert.deepEqual(await inbox(d), []);
    const loggedIn = async () => (await c.get(`/acd/groups/group/${group}/queue`)).json().records[0].AgentsLoggedIn;
    assert.equal(await loggedIn(), 1, 'the queue view counts only agents in the ACD');
    // Only the ACD login was missing: the group login stayed.
    assert.equal((await d.request('POST', '/agents/me/acd/login')).statusCode, 200);
    await pass(h);
    assert.equal((await eventOf(h, second)).agent, d.userId);
    assert.equal(await loggedIn(), 2);
  });

  if (h.kind === 'postgres') {
    it('gives nothing to an agent who logs out of the ACD while the dispatcher waits for the agents\' lock', async () => {
      const c = await h.newClient({ TimeZone: 'UTC' });
      const group = await standaloneGroup(c);
      const d = await readyAgent(h, c, group);
      const id = await newEvent(c, group);
      // Another session holds d's state row and logs d out of the ACD in it (the logout's write).
      // The pass reads the group's members before that commits (d is in) and then waits for the
      // row: only the check under the lock can see the logout.
      const session = await otherSession(h);
      try {
        await session.query('BEGIN');
        await session.query('SELECT 1 FROM agent_states WHERE user_id = $1 FOR UPDATE', [d.userId]);
        await session.query('UPDATE agent_states SET b_logged_in = false WHERE user_id = $1', [d.userId]);
        const passing = pass(h);
        assert.ok(await waitsForALock(h, passing), 'the pass waits for d\'s state row');
        await session.query('COMMIT');
        await passing;
      } finally {
        await session.end();
      }
      assert.deepEqual(await eventOf(h, id).then((e) => [e.status, e.agent]), [4, null]);
      assert.deepEqual(await inbox(d), []);
    });

    it('neither dispatches a group whose agents are all out of the ACD nor waits on such an agent\'s state', async () => {
      const c = await h.newClient({ TimeZone: 'UTC' });
      const nobody = await standaloneGroup(c);
      const out = await readyAgent(h, c, nobody);
      await logOutOfAcd(out);
      const waiting = await newEvent(c, nobody);
      const staffed = await standaloneGroup(c);
      const a = await readyAgent(h, c, staffed);
      await addMember(c, staffed, out.userId);
      await logIn(out, staffed);
      await logOutOfAcd(out);
      const id = await newEvent(c, staffed);
      // Another session holds the group's dispatch row (a dispatcher visiting the group would
      // find it busy) and the state row of the agent out of the ACD (one locking it would wait).
      await sql`INSERT INTO acd_group_dispatch (group_id) VALUES (${nobody}) ON CONFLICT DO NOTHING`.execute(h.store.db);
      const session = await otherSession(h);
      let waited;
      let result;
      try {
        await session.query('BEGIN');
        await session.query('SELECT 1 FROM acd_group_dispatch WHERE group_id = $1 FOR UPDATE', [nobody]);
        await session.query('SELECT 1 FROM agent_states WHERE user_id = $1 FOR UPDATE', [out.userId]);
        const passing = pass(h);
        waited = await waitsForALock(h, passing);
        await session.query('COMMIT');
        result = await passing;
      } finally {
        await session.end();
      }
      assert.equal(waited, false, 'the pass waited for the state row of an agent out of the ACD');
      assert.equal(result.busyGroups, 0, 'the pass visited a group nobody in the ACD is logged in to');
      assert.equal((await eventOf(h, id)).agent, a.userId);
      assert.equal((await eventOf(h, waiting)).status, 4);
    });
  }
});
