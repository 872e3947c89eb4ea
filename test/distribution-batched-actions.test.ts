// Agent actions arriving together share one statement (src/modules/work/quick-action.ts); each
// request must still get exactly its own answer, as if it had come alone.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeStores, recordStatements } from './helper.ts';
import { act, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

describeStores('agent actions arriving together', (h) => {
  it('answer each agent with their own event, a double click once, and record each change once', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    const group = await standaloneGroup(c);
    const agents = [];
    for (let i = 0; i < 10; i++) agents.push(await readyAgent(h, c, group));
    const events: number[] = [];
    for (let i = 0; i < 10; i++) events.push(await newEvent(c, group));
    await pass(h);
    const offers = new Map<number, (typeof agents)[number]>();
    for (const a of agents) {
      const inbox = (await a.request('GET', '/agents/me/events')).json().records as { ID: number; AcdEventStatusID: number }[];
      assert.equal(inbox.length, 1);
      offers.set(inbox[0]!.ID, a);
    }
    const { statements, restore } = recordStatements(h.store.db, 'WITH req');
    try {
      // The last offer's double click and a stranger's try travel in the same batch as it.
      const [first, firstAgent] = [...offers.entries()].at(-1)!;
      const other = agents.find((a) => a !== firstAgent)!;
      const accepts = await Promise.all([
        ...[...offers.entries()].map(([id, a]) => act(a, id, 'accept')),
        act(firstAgent, first, 'accept'), // the double click
        act(other, first, 'accept'), // not theirs
      ]);
      const ids = [...offers.keys()];
      accepts.slice(0, ids.length).forEach((res, i) => {
        const mine = i === ids.length - 1 ? [200, 409] : [200];
        assert.ok(mine.includes(res.statusCode), `${res.statusCode} ${res.body}`);
        if (res.statusCode === 200) {
          const record = res.json().records[0];
          assert.deepEqual([record.ID, record.AcdEventStatusID, record.AgentUsersID], [ids[i], 20, offers.get(ids[i]!)!.userId]);
        }
      });
      const doubled = [accepts[ids.length - 1]!.statusCode, accepts[ids.length]!.statusCode].sort();
      assert.deepEqual(doubled, [200, 409], 'one of the two identical accepts wins, the other is told it is accepted already');
      assert.equal(accepts[ids.length + 1]!.statusCode, 404, "another agent's event");

      // Done, half with a comment (another kind of statement), all at once.
      const dones = await Promise.all(ids.map((id, i) => act(offers.get(id)!, id, 'done', i % 2 ? { Comment: `done ${id}` } : {})));
      dones.forEach((res, i) => {
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().records[0].ID, ids[i]);
      });
      if (h.kind === 'postgres') assert.ok(statements.length < accepts.length + dones.length, `actions shared statements (${statements.length})`);
    } finally {
      restore();
    }
    for (const [i, id] of [...offers.keys()].entries()) {
      const history = await h.store.db.selectFrom('acd_event_history').select(['from_status_id', 'to_status_id', 'agent_id']).where('event_id', '=', id).orderBy('id').execute();
      const agentId = offers.get(id)!.userId;
      assert.deepEqual(history.slice(-3), [
        { from_status_id: 4, to_status_id: 10, agent_id: agentId },
        { from_status_id: 10, to_status_id: 20, agent_id: agentId },
        { from_status_id: 20, to_status_id: 99, agent_id: agentId },
      ], `event ${id}: each change recorded once`);
      const comments = await h.store.db.selectFrom('acd_event_comments').select('text').where('event_id', '=', id).execute();
      assert.deepEqual(comments.map((x) => x.text), i % 2 ? [`done ${id}`] : []);
      const finish = await h.store.db.selectFrom('agent_finishes').select('last_agent_time').where('user_id', '=', agentId).executeTakeFirstOrThrow();
      assert.equal(new Date(finish.last_agent_time).getTime(), h.clock.now(), "the agent’s finishing time");
    }
  });

  it('finish work without touching the agent state rows the dispatcher holds locked', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const id = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(agent, id, 'accept')).statusCode, 200);
    const version = async () => (await sql<{ v: string }>`SELECT xmin::text AS v FROM agent_states WHERE user_id = ${agent.userId}`.execute(h.store.db)).rows[0]!.v;
    const before = await version();
    // On PostgreSQL a dispatcher of another instance holds the agent's row meanwhile; the done
    // must not queue behind it.
    let release = () => {};
    const held = h.kind !== 'postgres' ? undefined : await new Promise<{ trx: Promise<void> }>((locked) => {
      const trx = h.store.db.transaction().execute(async (t) => {
        await sql`SELECT 1 FROM agent_states WHERE user_id = ${agent.userId} FOR UPDATE`.execute(t);
        await new Promise<void>((r) => {
          release = r;
          locked({ trx });
        });
      });
    });
    try {
      const done = await Promise.race([act(agent, id, 'done'), new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000))]);
      assert.notEqual(done, 'waited', 'done waited for the lock on the agent state row');
      if (done !== 'waited') assert.equal(done.statusCode, 200, done.body);
    } finally {
      release();
      await held?.trx;
    }
    assert.equal(await version(), before, 'the state row was not written');
  });
});

