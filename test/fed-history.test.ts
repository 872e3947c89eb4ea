// Every statement that moves an event writes its feed messages itself (src/db/changes.ts,
// migration 011), hot path or not: every history row must have exactly one message, the same on
// every path; and deleting events must still delete their history.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeStores } from './helper.ts';
import { act, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

describeStores('history rows and their feed messages', (h) => {
  it('have one message each, written by the statement that moves the event, on every path', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const agent = await readyAgent(h, c, group);
    const first = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(agent, first, 'accept')).statusCode, 200);
    assert.equal((await act(agent, first, 'done')).statusCode, 200);
    const second = await newEvent(c, group);
    await pass(h);
    assert.equal((await act(agent, second, 'reject')).statusCode, 200);
    await pass(h);
    assert.equal((await act(agent, second, 'accept')).statusCode, 200);
    assert.equal((await act(agent, second, 'seen')).statusCode, 200);
    // Not on the hot path: the general service records it.
    const res = await act(agent, second, 'remind', { dtRemind: '2099-01-01T10:00' });
    assert.equal(res.statusCode, 200, res.body);

    const { rows } = await sql<{ event_id: number; from_status_id: number | null; to_status_id: number; messages: string[] }>`
      SELECT h.event_id, h.from_status_id, h.to_status_id, ARRAY(
          SELECT jsonb_build_array(m.client_id, m.agent_id, m.topic, m.data, m.created_at = h.created_at)::text FROM push_messages m
          WHERE (m.data->>'AcdEventsID')::int = h.event_id
            AND (m.data->>'ToAcdEventStatusID')::int = h.to_status_id
            AND (m.data->>'FromAcdEventStatusID')::int IS NOT DISTINCT FROM h.from_status_id) AS messages
      FROM acd_event_history h JOIN acd_events e ON e.id = h.event_id
      WHERE e.client_id = ${c.id} ORDER BY h.id`.execute(h.store.db);
    const steps = rows.map((r) => `${r.event_id}:${r.from_status_id}>${r.to_status_id}`);
    assert.deepEqual(steps, [
      `${first}:null>1`, `${first}:1>4`, `${first}:4>10`, `${first}:10>20`, `${first}:20>99`,
      `${second}:null>1`, `${second}:1>4`, `${second}:4>10`, `${second}:10>4`, `${second}:4>10`, `${second}:10>20`, `${second}:20>30`,
      `${second}:30>40`,
    ]);
    // A transition made twice (the second offer) matches both messages: one per history row.
    const key = (r: (typeof rows)[number]) => `${r.event_id}:${r.from_status_id}>${r.to_status_id}`;
    const times = new Map<string, number>();
    for (const r of rows) times.set(key(r), (times.get(key(r)) ?? 0) + 1);
    for (const [i, r] of rows.entries()) assert.equal(r.messages.length, times.get(key(r)), `${steps[i]}: one message per history row`);
    // Same fields on every path: compare an accept (the batched statement) with a remind (the service).
    const written = (i: number) => JSON.parse(rows[i]!.messages[0]!) as [number, number | null, string, Record<string, unknown>, boolean];
    const [clientId, agentId, topic, data, sameTime] = written(3);
    assert.deepEqual([clientId, agentId, topic, sameTime], [c.id, agent.userId, 'event', true]);
    assert.deepEqual(data, {
      AcdEventsID: first, AcdEventTypesID: data.AcdEventTypesID, AcdGroupsID: group, FromAcdEventStatusID: 10, ToAcdEventStatusID: 20,
      UsersID: agent.userId, Actor: `agent:${agent.userId}`, Reason: null,
    });
    assert.deepEqual(Object.keys(written(12)[3]).sort(), Object.keys(data).sort(), 'the service writes the same fields');
    assert.equal(written(8)[3].Reason, 'rejected');
  });

  it('go when their event is deleted', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const kept = await newEvent(c, group);
    const gone = await newEvent(c, group);
    await pass(h);
    const count = async (id: number) => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM acd_event_history WHERE event_id = ${id}`.execute(h.store.db)).rows[0]!.n);
    assert.equal(await count(gone), 2);
    await sql`DELETE FROM acd_events WHERE id = ${gone}`.execute(h.store.db);
    assert.equal(await count(gone), 0);
    assert.equal(await count(kept), 2);
  });
});
