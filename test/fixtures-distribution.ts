// Fixtures of the distribution suites: agents ready to take work in a group, events created
// through the API, and the engine driven one pass at a time (the suites pin the clock).
import assert from 'node:assert/strict';
import type { Harness, TestClient } from './helper.ts';
import { addMember, createGroup } from './fixtures-groups.ts';
import { newAgent, type TestAgent } from './fixtures-agents.ts';

export async function standaloneGroup(c: TestClient, fields: Record<string, unknown> = {}): Promise<number> {
  const group = await createGroup(c, { Name: `Queue ${Math.random().toString(36).slice(2, 8)}`, ...fields });
  return group.ID;
}

/** An agent who is a member of `groupId` (with `skills`) and logged in to the ACD and the group. */
export async function readyAgent(h: Harness, c: TestClient, groupId: number, skills: Record<string, number> = {}): Promise<TestAgent> {
  const agent = await newAgent(h, c);
  await addMember(c, groupId, agent.userId, skills);
  await logIn(agent, groupId);
  return agent;
}

export async function logIn(agent: TestAgent, groupId: number): Promise<void> {
  for (const path of ['/agents/me/acd/login', `/agents/me/groups/${groupId}/login`]) {
    const res = await agent.request('POST', path);
    assert.equal(res.statusCode, 200, res.body);
  }
}

let seq = 0;

/** Creates an event in the group's queue; returns its ID. */
export async function newEvent(c: TestClient, groupId: number, fields: Record<string, unknown> = {}): Promise<number> {
  const res = await c.post('/acd/events/create', {
    AcdEventTypesID: 5, AcdGroupsID: groupId, Sender: `customer${++seq}@example.com`, Subject: `Mail ${seq}`, ...fields,
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0].ID;
}

export async function pass(h: Harness) {
  return h.app.distributor.runPass();
}

/** The event as its holder sees it, read with the client token (status, holder, lease). */
export async function eventOf(h: Harness, eventId: number) {
  const row = await h.store.db
    .selectFrom('acd_events')
    .select(['status_id', 'agent_id', 'queue_group_id', 'user_id', 'lease_until', 'remind_at', 'error_reason'])
    .where('id', '=', eventId)
    .executeTakeFirstOrThrow();
  return { status: row.status_id, agent: row.agent_id, group: row.queue_group_id, user: row.user_id, lease: row.lease_until, remind: row.remind_at };
}

export async function inbox(agent: TestAgent): Promise<Record<string, any>[]> {
  const res = await agent.request('GET', '/agents/me/events');
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records;
}

export async function act(agent: TestAgent, eventId: number, action: string, body?: unknown) {
  return agent.request('POST', `/agents/me/events/${eventId}/${action}`, body);
}
