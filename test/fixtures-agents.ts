// Fixtures of the agent suites: users with passwords, agent logins, and requests made with an
// agent session token (the client handle of helper.ts always sends the client token).
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Harness, TestClient } from './helper.ts';
import { createUser } from './fixtures-groups.ts';

export const PASSWORD = 'correct horse battery';

export interface TestAgent {
  userId: number;
  uid: string;
  token: string;
  /** A request with the agent's token; `path` is relative to the client's base URL. */
  request(method: InjectOptions['method'], path: string, body?: unknown): Promise<LightMyRequestResponse>;
}

export function withToken(h: Harness, c: TestClient, token: string) {
  return (method: InjectOptions['method'], path: string, body?: unknown) =>
    h.app.inject({
      method,
      url: `${c.base}${path}`,
      payload: body as InjectOptions['payload'],
      headers: { authorization: `Bearer ${token}` },
    });
}

export async function setPassword(c: TestClient, userId: number, Password: string): Promise<LightMyRequestResponse> {
  return c.request('PUT', `/users/user/${userId}/password`, { Password });
}

/** POST …/agents/login without any token, as an agent's browser would. */
export function login(h: Harness, c: TestClient, UID: string, Password: string, base = c.base): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'POST', url: `${base}/agents/login`, payload: { UID, Password } });
}

/** A user with a password, logged in as an agent. */
export async function newAgent(h: Harness, c: TestClient, uid = `agent-${Math.random().toString(36).slice(2, 10)}`): Promise<TestAgent> {
  const user = await createUser(c, { UID: uid });
  const set = await setPassword(c, user.ID, PASSWORD);
  assert.equal(set.statusCode, 200, set.body);
  const res = await login(h, c, uid, PASSWORD);
  assert.equal(res.statusCode, 200, res.body);
  const token = res.json().records[0].Token;
  return { userId: user.ID, uid, token, request: withToken(h, c, token) };
}

/** The client token's request against `${base}/agents…` (helper.ts prefixes only /acd, /users, /dialler). */
export function asClient(c: TestClient) {
  return (method: InjectOptions['method'], path: string, body?: unknown) => c.request(method, `${c.base}${path}`, body);
}

export async function historyOf(h: Harness, userId: number) {
  return h.store.db
    .selectFrom('agent_state_history')
    .select(['change', 'group_id', 'capacity', 'actor', 'reason'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
}
