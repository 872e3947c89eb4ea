// The system under test of the distribution property (properties-distribution.test.ts): the API on
// a pinned clock, read back from the database after every step and compared with the model.
import assert from 'node:assert/strict';
import type { Harness, TestClient } from './helper.ts';
import { withToken } from './fixtures-agents.ts';
import { insertSession } from '../src/modules/agents/repository.ts';
import { hashToken, newToken } from '../src/domain/tokens.ts';
import { SECOND, TYPES, SESSION_MS, RENEW_SESSION_AFTER, S, ALLOWED, HELD, type ModelEvent, type Model, type RealAgent, type Real, capOf, loadOf, qualifies, queueOrder, describeEvent, modelDump, moveTo, release } from './model-distribution.ts';

export const ms = (v: Date | string | null) => (v === null ? null : new Date(v).getTime());
export const isoSeconds = (t: number) => new Date(t).toISOString().slice(0, 19);

export async function eventRows(r: Real) {
  const rows = await r.h.store.db
    .selectFrom('acd_events')
    .select(['id', 'status_id', 'agent_id', 'queue_group_id', 'user_id', 'type_id', 'priority', 'created_at', 'lease_until', 'remind_at', 'appointment_at'])
    .where('client_id', '=', r.c.id)
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}
export type Rows = Awaited<ReturnType<typeof eventRows>>;

/**
 * A session for the user, written straight into the store: every run needs three agents, and the
 * argon2 work of setting a password and logging in would be most of a run's time (and of every
 * shrinking step). Logging in has its own suites.
 */
export async function session(h: Harness, c: TestClient, userId: number, uid: string): Promise<RealAgent> {
  const token = newToken('sbs');
  const now = h.clock.now();
  await insertSession(h.store.db, userId, hashToken(token), new Date(now), new Date(now + SESSION_MS));
  return { userId, uid, token, request: withToken(h, c, token), loginAt: now };
}

export async function agentRequest(m: Model, r: Real, a: number, method: 'GET' | 'POST', path: string, body?: unknown) {
  if (m.now - r.agents[a].loginAt > RENEW_SESSION_AFTER) r.agents[a] = await session(r.h, r.c, r.agents[a].userId, r.agents[a].uid);
  return r.agents[a].request(method, path, body);
}

export const clientRequest = (r: Real, method: 'POST' | 'PUT', path: string, body?: unknown) => r.c.request(method, `${r.c.base}${path}`, body ?? {});

export function expectStatus(m: Model, kind: string, res: { statusCode: number; body: string }, expected: number, where: string): void {
  m.tally.add(`${kind} ${expected}`);
  assert.equal(res.statusCode, expected, `${where}: answered ${res.statusCode} ${res.body}`);
}

/**
 * The database against the model, after every step: the same events with the same status,
 * holder, queue, target, lease and reminder; the same agent logins and capacities; and the
 * invariants that hold at any moment (1, the capacity part of 2, the status part of 4).
 */
export async function verify(m: Model, r: Real, where: string, given?: Rows): Promise<void> {
  const rows = given ?? await eventRows(r);
  const userIndex = new Map(m.agents.map((a, i) => [a.userId, i]));
  assert.deepEqual([...rows.keys()].sort((a, b) => a - b), [...m.events.keys()].sort((a, b) => a - b), `${where}: the client's events are the ones created`);
  for (const row of rows.values()) {
    assert.ok(ALLOWED.has(row.status_id), `${where}: event ${row.id} in status ${row.status_id}`);
    if (HELD.has(row.status_id)) assert.notEqual(row.agent_id, null, `${where}: event ${row.id} in ${row.status_id} without a holder`);
    if (row.status_id === S.Distribute || row.status_id === S.Queued) assert.equal(row.agent_id, null, `${where}: event ${row.id} in ${row.status_id} held by ${row.agent_id}`);
    assert.equal(row.lease_until !== null, row.status_id === S.Offered, `${where}: event ${row.id} in ${row.status_id} with lease ${row.lease_until}`);
  }
  for (const e of m.events.values()) {
    const row = rows.get(e.id)!;
    const actual = {
      status: row.status_id,
      agent: row.agent_id === null ? null : userIndex.get(row.agent_id) ?? `foreign user ${row.agent_id}`,
      group: row.queue_group_id,
      target: row.user_id === null ? null : userIndex.get(row.user_id) ?? `foreign user ${row.user_id}`,
      type: row.type_id,
      priority: row.priority,
      created: ms(row.created_at),
      lease: ms(row.lease_until),
      remind: e.status === S.Remind ? ms(row.remind_at) : null,
      appointment: ms(row.appointment_at),
    };
    const expected = {
      status: e.status, agent: e.holder, group: m.groups[e.group].id, target: e.target, type: e.type, priority: e.priority,
      created: e.createdAt, lease: e.lease, remind: e.status === S.Remind ? e.remindAt : null, appointment: e.appointmentAt,
    };
    assert.deepEqual(actual, expected, `${where}: event ${e.id}\n${modelDump(m)}`);
  }

  const ids = [...m.events.keys()];
  const history = ids.length === 0 ? [] : await r.h.store.db.selectFrom('acd_event_history')
    .select(['event_id', 'from_status_id', 'to_status_id']).where('event_id', 'in', ids).orderBy('id').execute();
  for (const e of m.events.values()) {
    const steps = history.filter((x) => x.event_id === e.id);
    assert.deepEqual(steps.map((x) => x.to_status_id), e.path, `${where}: the history of event ${e.id}`);
    steps.forEach((x, i) => assert.equal(x.from_status_id, i === 0 ? null : steps[i - 1].to_status_id, `${where}: the history of event ${e.id} is a chain`));
  }

  const userIds = m.agents.map((a) => a.userId);
  const states = await r.h.store.db.selectFrom('agent_states').select(['user_id', 'b_logged_in', 'capacity']).where('user_id', 'in', userIds).execute();
  const logins = await r.h.store.db.selectFrom('agent_group_logins').select(['user_id', 'group_id']).where('user_id', 'in', userIds).execute();
  m.agents.forEach((a, i) => {
    const state = states.find((s) => s.user_id === a.userId);
    const groups = m.groups.map((g) => logins.some((l) => l.user_id === a.userId && l.group_id === g.id));
    const cap = Object.fromEntries(TYPES.map((t) => [String(t), state?.capacity[String(t)] ?? 1]));
    assert.deepEqual({ acd: state?.b_logged_in ?? false, groups, cap }, { acd: a.acd, groups: a.groups, cap: Object.fromEntries(TYPES.map((t) => [String(t), capOf(m, i, t)])) },
      `${where}: agent ${i}'s state`);
    for (const t of TYPES) {
      const load = loadOf(m, i, t);
      const cap = capOf(m, i, t);
      const over = a.over[String(t)] ?? 0;
      assert.ok(load <= Math.max(cap, over), `${where}: agent ${i} holds ${load} of type ${t}, capacity ${cap}\n${modelDump(m)}`);
      a.over[String(t)] = load > cap ? load : 0;
    }
  });
}

/**
 * One distributor pass. The model predicts releases, expiries and returning reminders exactly,
 * then adopts the offers the engine made after checking each against the rules (invariants 2-4).
 */
export async function pass(m: Model, r: Real, where: string): Promise<void> {
  const now = m.now;
  const limit = m.batch;
  const events = [...m.events.values()];
  const result = await r.distributor.runPass();
  const rows = await eventRows(r);

  // Appointments reached, in (appointment NULLS FIRST, ID) order, a batch at most.
  const dueAppointments = events.filter((e) => e.status === S.Distribute && (e.appointmentAt === null || e.appointmentAt <= now))
    .sort((a, b) => (a.appointmentAt ?? -Infinity) - (b.appointmentAt ?? -Infinity) || a.id - b.id);
  const released = Math.min(limit, dueAppointments.length);
  for (const e of dueAppointments.slice(0, limit)) moveTo(e, S.Queued);
  // Leases run out, a batch at most, the earliest first; among equal leases the engine picks,
  // so the ones it took are read back: gone from 10, or offered again with a new lease.
  const dueLeases = events.filter((e) => e.status === S.Offered && e.lease! <= now).sort((a, b) => a.lease! - b.lease!);
  let expiredEvents = dueLeases;
  if (dueLeases.length > limit) {
    expiredEvents = dueLeases.filter((e) => rows.get(e.id)!.status_id !== S.Offered || ms(rows.get(e.id)!.lease_until) !== e.lease);
    assert.equal(expiredEvents.length, limit, `${where}: a batch of leases runs out`);
    const kept = dueLeases.filter((e) => !expiredEvents.includes(e));
    assert.ok(Math.max(...expiredEvents.map((e) => e.lease!)) <= Math.min(...kept.map((e) => e.lease!)), `${where}: the earliest leases run out first`);
  }
  const expired = expiredEvents.length;
  for (const e of expiredEvents) release(e);
  // Reminders due whose agents have room, in (dtRemind, ID) order, a batch at most; each comes
  // back if its agent still has room (two may compete for one place).
  const given = new Set<string>();
  const dueReminders = events.filter((e) => e.status === S.Remind && e.remindAt! <= now && loadOf(m, e.holder!, e.type) < capOf(m, e.holder!, e.type))
    .sort((a, b) => a.remindAt! - b.remindAt! || a.id - b.id);
  let reminded = 0;
  for (const e of dueReminders.slice(0, limit)) {
    if (loadOf(m, e.holder!, e.type) < capOf(m, e.holder!, e.type)) {
      moveTo(e, S.New);
      reminded++;
      given.add(`${e.holder}:${e.type}`);
    }
  }
  // Then the offers, whichever agent the engine chose: checked below, then adopted.
  const waiting = events.filter((e) => e.status === S.Queued);
  const userIndex = new Map(m.agents.map((a, i) => [a.userId, i]));
  const offers: ModelEvent[] = [];
  for (const e of waiting) {
    const row = rows.get(e.id);
    if (row?.status_id !== S.Offered) continue;
    const a = userIndex.get(row.agent_id!);
    assert.ok(a !== undefined, `${where}: event ${e.id} offered to ${row.agent_id}, no agent of this client`);
    moveTo(e, S.Offered);
    e.holder = a;
    e.offeredTo.add(a);
    e.lease = now + m.groups[e.group].timeout * SECOND;
    offers.push(e);
    given.add(`${a}:${e.type}`);
  }
  await verify(m, r, where, rows);
  m.tally.add('pass');
  m.tally.add('released', released);
  m.tally.add('expired', expired);
  m.tally.add('reminded', reminded);
  m.tally.add('offered', offers.length);
  m.tally.add('reminder held back (no room)', events.filter((e) => e.status === S.Remind && e.remindAt! <= now).length);
  if (dueAppointments.length > limit || dueLeases.length > limit || dueReminders.length > limit) m.tally.add('pass with more due than a batch');
  m.tally.add('left waiting', m.events.size === 0 ? 0 : [...m.events.values()].filter((e) => e.status === S.Queued).length);
  assert.deepEqual(result, { released, expired, reminded, offered: offers.length, busyGroups: 0 }, `${where}: the pass's counts`);

  for (const e of offers) {
    assert.ok(qualifies(m, e.holder!, e), `${where}: ${describeEvent(e)} offered to agent ${e.holder}, who may not take it\n${modelDump(m)}`);
  }
  for (const key of given) {
    const [a, t] = key.split(':').map(Number);
    assert.ok(loadOf(m, a, t) <= capOf(m, a, t), `${where}: agent ${a} given work of type ${t} beyond capacity ${capOf(m, a, t)}\n${modelDump(m)}`);
  }
  for (const e of m.events.values()) {
    if (e.status === S.Queued) {
      for (let a = 0; a < m.agents.length; a++) {
        assert.ok(!(qualifies(m, a, e) && loadOf(m, a, e.type) < capOf(m, a, e.type)),
          `${where}: ${describeEvent(e)} left waiting though agent ${a} has room for it\n${modelDump(m)}`);
      }
      for (const o of offers) {
        if (o.group === e.group && o.type === e.type && queueOrder(e, o) < 0 && qualifies(m, o.holder!, e)) {
          assert.fail(`${where}: ${describeEvent(o)} offered to agent ${o.holder} ahead of ${describeEvent(e)}, earlier in the queue\n${modelDump(m)}`);
        }
      }
    }
    // Whatever was due is done, unless more was due than a batch (the engine's loop passes again).
    if (e.status === S.Offered && dueLeases.length <= limit) assert.ok(e.lease! > now, `${where}: ${describeEvent(e)} kept an expired lease`);
    if (e.status === S.Distribute && dueAppointments.length <= limit) assert.ok(e.appointmentAt! > now, `${where}: ${describeEvent(e)} kept waiting past its appointment`);
    if (e.status === S.Remind && e.remindAt! <= now && dueReminders.length <= limit) {
      assert.ok(loadOf(m, e.holder!, e.type) >= capOf(m, e.holder!, e.type), `${where}: ${describeEvent(e)} due but not returned to its agent, who has room`);
    }
  }
}

export function advance(m: Model, r: Real, by: number): void {
  r.h.clock.advance(by);
  m.now += by;
  assert.equal(r.h.clock.now(), m.now);
}
