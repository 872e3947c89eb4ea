// The reference model of the dialler property (properties-dialler-flow.test.ts): contacts, their
// holders and attempts, agents' campaign logins and leases as spec §8 says they must be; the
// reading of the database after every step, checked against the model and the invariants; and
// the engine's pass and the external claim, whose choices the model adopts once they are checked.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Harness, TestClient } from './helper.ts';
import type { RealAgent } from './model-distribution.ts';
import { Tally } from './model-distribution.ts';
import { isOpenAt, type Calendar } from '../src/domain/dialler-calendar.ts';

export { Tally };
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** The campaigns' defaults (migration 012, campaign-config.ts), which the runs do not change. */
export const MAX_TRIES_PER_NUMBER = 5;
export const RETRY_MINUTES = { Busy: 10, NoAnswer: 30, AnsweringMachine: 60, InvalidNumber: 0, Other: 15 } as const;
/** The standard result codes (fixtures-dialler.ts): LATER is a Delay of 90 minutes bound to the agent. */
export const LATER_MINUTES = 90;

export type Mode = 'Preview' | 'Progressive' | 'External';
export type State = 'Waiting' | 'InProgress' | 'Done' | 'Aborted';

export interface ModelCampaign {
  id: number;
  mode: Mode;
  previewSeconds: number;
  running: boolean;
  calendar: Calendar;
  codes: Record<string, number>;
}

export interface ModelContact {
  id: number;
  campaign: number;
  zone: string;
  state: State;
  /** Agent index (Preview, Progressive) or lease id (External) while InProgress. */
  holder: number | string | null;
  kind: 'Preview' | 'Progressive' | 'External' | null;
  attemptId: string | null;
  started: boolean;
  phoneIndex: number | null;
  /** Preview countdown or lease end. */
  until: number | null;
  /** Every attempt handed out, and those with a result. */
  attempts: string[];
  resulted: Set<string>;
  /** The changes its history must record, in order. */
  path: string[];
  /** The row once Done/Aborted, which must never change again. */
  closedRow: string | null;
}

export interface ModelAgent {
  userId: number;
  member: boolean;
  /** Campaign indices logged in to. */
  logins: Set<number>;
}

export interface Model {
  tally: Tally;
  now: number;
  campaigns: ModelCampaign[];
  agents: ModelAgent[];
  contacts: Map<number, ModelContact>;
  leases: Map<string, { campaign: number }>;
  step: number;
}

export interface Real {
  h: Harness;
  c: TestClient;
  agents: RealAgent[];
}

export const ms = (v: Date | string | null): number | null => (v === null ? null : new Date(v).getTime());
/** -infinity comes back as a Date of NaN (or its text). */
export const dueMs = (v: Date | string): number => { const t = new Date(v).getTime(); return Number.isNaN(t) ? -Infinity : t; };

export function describeContact(k: ModelContact): string {
  return `#${k.id}(c${k.campaign} ${k.zone} ${k.state} holder ${k.holder} ${k.kind ?? '-'} attempt ${k.attemptId} started ${k.started} until ${k.until})`;
}
export function modelDump(m: Model): string {
  const agents = m.agents.map((a, i) => `agent ${i} (user ${a.userId}) member ${a.member} logins ${[...a.logins].join(',')}`);
  const campaigns = m.campaigns.map((c, i) => `campaign ${i}: ${c.mode} preview ${c.previewSeconds}s running ${c.running} windows ${c.calendar.windows.length}`);
  return [`now ${new Date(m.now).toISOString()}`, ...campaigns, ...agents, ...[...m.contacts.values()].map(describeContact)].join('\n');
}

export function expectStatus(m: Model, kind: string, res: { statusCode: number; body: string }, expected: number, where: string): void {
  m.tally.add(`${kind} ${expected}`);
  assert.equal(res.statusCode, expected, `${where}: answered ${res.statusCode} ${res.body}\n${modelDump(m)}`);
}

/** Back in the queue: no holder, no attempt. */
export function letGo(k: ModelContact, state: State, change: string): void {
  Object.assign(k, { state, holder: null, kind: null, attemptId: null, started: false, phoneIndex: null, until: null });
  k.path.push(change);
}

// ---------------------------------------------------------------------------------------------
// The system under test, read back

export async function contactRows(r: Real) {
  const rows = await r.h.store.db.selectFrom('dialler_contacts').selectAll().where('client_id', '=', r.c.id).execute();
  return new Map(rows.map((row) => [row.id, row]));
}
export type Rows = Awaited<ReturnType<typeof contactRows>>;
export type Row = Rows extends Map<number, infer R> ? R : never;

const columns = (row: Row) => row as unknown as Record<string, any>;

/** A number of the contact that may be dialled from slot `start` on (wrapping), as pickNumber finds it. */
export function usableSlot(row: Row, start: number | null = null): number | null {
  const r = columns(row);
  for (let k = 0; k < 6; k++) {
    const i = ((start ?? r.next_phone_index ?? 0) + k) % 6;
    if (r[`phone_number${i + 1}`] !== null && !r[`b_phone_number${i + 1}_invalid`] && r[`n_tries_phone_number${i + 1}`] < MAX_TRIES_PER_NUMBER) return i;
  }
  return null;
}

export const numberAt = (row: Row, i: number): string | null => columns(row)[`phone_number${i + 1}`] ?? null;

/** Whether the engine may hand the contact out now, to agent `userId` (null: an external dialler). */
export function eligible(m: Model, row: Row, userId: number | null): boolean {
  const k = m.contacts.get(row.id)!;
  const bound = row.bound_user_id === null || row.bound_user_id === userId || (row.bound_until !== null && ms(row.bound_until)! <= m.now);
  return row.state === 'Waiting' && dueMs(row.dt_next_try) <= m.now && bound && isOpenAt(m.campaigns[k.campaign].calendar, row.time_zone, m.now) &&
    usableSlot(row) !== null;
}

/**
 * The database against the model, after every step: the same contacts, state, holder, attempt
 * and hold; each InProgress contact has exactly one holder and the others none; an agent holds at
 * most one contact and agent_states.dialler_held counts it; closed contacts never change; the
 * logins; and the history: the model's changes in order, a HandedOut for every Result's attempt,
 * at most one Result per attempt, and no hand-out outside the contact's window.
 */
export async function verify(m: Model, r: Real, where: string, given?: Rows): Promise<Rows> {
  const rows = given ?? await contactRows(r);
  const dump = () => `\n${modelDump(m)}`;
  assert.deepEqual([...rows.keys()].sort((a, b) => a - b), [...m.contacts.keys()].sort((a, b) => a - b), `${where}: no contact lost or added`);
  const userIndex = new Map(m.agents.map((a, i) => [a.userId, i]));
  for (const k of m.contacts.values()) {
    const row = rows.get(k.id)!;
    assert.ok(['Waiting', 'InProgress', 'Done', 'Aborted'].includes(row.state), `${where}: contact ${k.id} in state ${row.state}`);
    if (row.state === 'InProgress') {
      assert.notEqual(row.hold_kind, null, `${where}: contact ${k.id} InProgress without a hold`);
      assert.notEqual(row.attempt_id, null, `${where}: contact ${k.id} InProgress without an attempt`);
      const holders = (row.holder_user_id !== null ? 1 : 0) + (row.lease_id !== null ? 1 : 0);
      assert.equal(holders, 1, `${where}: contact ${k.id} InProgress with ${holders} holders (user ${row.holder_user_id}, lease ${row.lease_id})`);
      assert.equal(row.lease_id !== null, row.hold_kind === 'External', `${where}: contact ${k.id} held (${row.hold_kind}) by lease ${row.lease_id}`);
    } else {
      assert.deepEqual([row.hold_kind, row.holder_user_id, row.lease_id, row.attempt_id, row.hold_until, row.attempt_started_at], [null, null, null, null, null, null],
        `${where}: contact ${k.id} in ${row.state} keeps a hold`);
    }
    const actual = {
      state: row.state,
      holder: row.holder_user_id !== null ? userIndex.get(row.holder_user_id) ?? `foreign user ${row.holder_user_id}` : row.lease_id,
      kind: row.hold_kind, attemptId: row.attempt_id === null ? null : String(row.attempt_id), started: row.attempt_started_at !== null,
      phoneIndex: row.attempt_phone_index, until: ms(row.hold_until),
    };
    const expected = { state: k.state, holder: k.holder, kind: k.kind, attemptId: k.attemptId, started: k.started, phoneIndex: k.phoneIndex, until: k.until };
    assert.deepEqual(actual, expected, `${where}: contact ${k.id}${dump()}`);
    if (row.state === 'Done' || row.state === 'Aborted') {
      const text = JSON.stringify(row);
      if (k.closedRow === null) k.closedRow = text;
      else assert.equal(text, k.closedRow, `${where}: closed contact ${k.id} changed`);
    }
  }

  const userIds = m.agents.map((a) => a.userId);
  const states = await r.h.store.db.selectFrom('agent_states').select(['user_id', 'dialler_held']).where('user_id', 'in', userIds).execute();
  const logins = await r.h.store.db.selectFrom('dialler_campaign_logins').select(['user_id', 'campaign_id']).where('user_id', 'in', userIds).execute();
  m.agents.forEach((a, i) => {
    const held = [...m.contacts.values()].filter((k) => k.holder === i).length;
    assert.ok(held <= 1, `${where}: agent ${i} holds ${held} contacts${dump()}`);
    assert.equal(states.find((s) => s.user_id === a.userId)?.dialler_held ?? 0, held, `${where}: agent ${i}'s dialler_held`);
    const mine = logins.filter((l) => l.user_id === a.userId).map((l) => m.campaigns.findIndex((c) => c.id === l.campaign_id)).sort();
    assert.deepEqual(mine, [...a.logins].sort(), `${where}: agent ${i}'s campaign logins`);
  });

  const { rows: history } = await sql<{ contact_id: number; attempt_id: string | null; change: string; created_at: Date | string }>`
    SELECT contact_id, attempt_id::text, change, created_at FROM dialler_contact_history WHERE client_id = ${r.c.id} ORDER BY id`.execute(r.h.store.db);
  const handedOut = new Set<string>();
  const resulted = new Set<string>();
  for (const x of history) {
    const k = m.contacts.get(x.contact_id)!;
    if (x.change === 'HandedOut') {
      handedOut.add(`${x.contact_id}:${x.attempt_id}`);
      const at = ms(x.created_at)!;
      assert.ok(isOpenAt(m.campaigns[k.campaign].calendar, k.zone, at), `${where}: contact ${k.id} handed out at ${new Date(at).toISOString()}, outside its window (${k.zone})`);
    }
    if (x.change === 'Result') {
      assert.ok(handedOut.has(`${x.contact_id}:${x.attempt_id}`), `${where}: contact ${k.id}: a Result of attempt ${x.attempt_id}, never handed out`);
      assert.ok(!resulted.has(x.attempt_id!), `${where}: attempt ${x.attempt_id} has two Results`);
      resulted.add(x.attempt_id!);
    }
  }
  for (const k of m.contacts.values()) {
    assert.deepEqual(history.filter((x) => x.contact_id === k.id).map((x) => x.change), k.path, `${where}: the history of contact ${k.id}`);
  }
  return rows;
}

/** Waiting contacts the engine closed on the way (no number left): adopted once checked. */
export function adoptClosed(m: Model, before: Rows, after: Rows, where: string): void {
  for (const k of m.contacts.values()) {
    if (k.state !== 'Waiting' || after.get(k.id)!.state === 'Waiting' || after.get(k.id)!.state === 'InProgress') continue;
    assert.equal(usableSlot(before.get(k.id)!), null, `${where}: contact ${k.id} closed though it has a number`);
    assert.equal(after.get(k.id)!.state, 'Aborted', where);
    k.state = 'Aborted';
    k.path.push('Closed');
    m.tally.add('closed on the way');
  }
}

/** What a hand-out must look like, and the model's contact in that hold afterwards. */
function adoptHandOut(m: Model, k: ModelContact, before: Row, row: Row, holder: number | string, where: string): void {
  const campaign = m.campaigns[k.campaign];
  const preview = campaign.mode === 'Preview' && campaign.previewSeconds > 0;
  const attemptId = String(row.attempt_id);
  assert.ok(!k.attempts.includes(attemptId), `${where}: contact ${k.id} handed out under an old attempt id ${attemptId}`);
  assert.equal(row.hold_kind, campaign.mode, `${where}: contact ${k.id}'s hold kind`);
  assert.equal(row.attempt_phone_index, usableSlot(before), `${where}: contact ${k.id} proposed on the wrong number`);
  Object.assign(k, {
    state: 'InProgress', holder, kind: campaign.mode, attemptId, started: !preview, phoneIndex: row.attempt_phone_index,
    until: campaign.mode === 'External' ? ms(row.hold_until) : preview ? m.now + campaign.previewSeconds * SECOND : null,
  });
  k.attempts.push(attemptId);
  k.path.push('HandedOut');
  if (!preview && campaign.mode !== 'External') k.path.push('AttemptStarted');
}

/**
 * The contacts the engine handed to agents (in a pass, or with an agent's result), adopted once
 * each is checked: to an agent who `mayTake` one, logged in to the contact's running
 * Preview/Progressive campaign, at most one each, of a contact that was due, free for them and
 * inside its window. Answers the agents given one.
 */
export function adoptHandOuts(m: Model, before: Rows, after: Rows, mayTake: (agent: number) => boolean, where: string): Set<number> {
  const userIndex = new Map(m.agents.map((a, i) => [a.userId, i]));
  const given = new Set<number>();
  for (const k of m.contacts.values()) {
    const row = after.get(k.id)!;
    if (k.state !== 'Waiting' || row.state !== 'InProgress') continue;
    const a = userIndex.get(row.holder_user_id!);
    const w = `${where}: contact ${k.id} handed out to user ${row.holder_user_id}`;
    assert.ok(a !== undefined, `${w}, no agent of this client`);
    const campaign = m.campaigns[k.campaign];
    assert.ok(campaign.running && campaign.mode !== 'External', `${w}: campaign ${k.campaign} is ${campaign.running ? campaign.mode : 'paused'}`);
    assert.ok(m.agents[a].logins.has(k.campaign), `${w}: agent ${a} is not logged in to campaign ${k.campaign}${'\n'}${modelDump(m)}`);
    assert.ok(mayTake(a) && !given.has(a), `${w}: agent ${a} already held a contact${'\n'}${modelDump(m)}`);
    assert.ok(eligible(m, before.get(k.id)!, m.agents[a].userId), `${w}: it was not callable for agent ${a} (due ${before.get(k.id)!.dt_next_try}, bound ${before.get(k.id)!.bound_user_id})${'\n'}${modelDump(m)}`);
    given.add(a);
    adoptHandOut(m, k, before.get(k.id)!, row, a, where);
  }
  return given;
}

/**
 * One engine pass. The model predicts the due holds exactly (a preview that ran out starts, a
 * lease that ran out returns its contact), then adopts the hand-outs once each is checked: to a
 * free agent logged in to the contact's running Preview/Progressive campaign, at most one each,
 * of a contact that was due, free for them and inside its window; and after the pass no free
 * agent is left while a contact they could take waits.
 */
export async function pass(m: Model, r: Real, where: string): Promise<void> {
  const before = await contactRows(r);
  let holds = 0;
  for (const k of m.contacts.values()) {
    if (k.state !== 'InProgress' || k.until === null || k.until > m.now) continue;
    holds++;
    if (k.kind === 'External') {
      letGo(k, 'Waiting', 'LeaseExpired');
      m.tally.add('lease expired');
    } else {
      Object.assign(k, { started: true, until: null });
      k.path.push('AttemptStarted');
      m.tally.add('preview ran out');
    }
  }
  const free = (a: number) => ![...m.contacts.values()].some((k) => k.holder === a);
  const freeBefore = m.agents.map((_, a) => free(a));
  const result = await r.h.app.dialler.runPass();
  const after = await contactRows(r);
  const given = adoptHandOuts(m, before, after, (a) => freeBefore[a]!, where);
  adoptClosed(m, before, after, where);
  await verify(m, r, where, after);
  assert.deepEqual(result, { holds, handedOut: given.size, busyAgents: 0 }, `${where}: the pass's counts`);
  m.tally.add('pass');
  m.tally.add('handed out', given.size);
  m.agents.forEach((agent, a) => {
    if (!free(a)) return;
    for (const row of after.values()) {
      const campaign = m.campaigns[m.contacts.get(row.id)!.campaign];
      if (!agent.logins.has(m.contacts.get(row.id)!.campaign) || !campaign.running || campaign.mode === 'External') continue;
      assert.ok(!eligible(m, row, agent.userId), `${where}: agent ${a} left free while contact ${row.id} is callable for them${'\n'}${modelDump(m)}`);
    }
  });
}

/** External dialler: claim up to `count` under a lease; the engine's choice is adopted once checked. */
export async function claim(m: Model, r: Real, c: number, count: number, seconds: number, where: string): Promise<void> {
  const campaign = m.campaigns[c];
  const before = await contactRows(r);
  const res = await r.c.post(`/dialler/campaigns/campaign/${campaign.id}/leases`, { Count: count, LeaseSeconds: seconds });
  expectStatus(m, 'claim', res, campaign.mode === 'External' && campaign.running ? 200 : 409, where);
  if (res.statusCode !== 200) return void await verify(m, r, where);
  const lease = res.json().records[0];
  const after = await contactRows(r);
  assert.ok(lease.Contacts.length <= count, `${where}: ${lease.Contacts.length} contacts for a claim of ${count}`);
  for (const x of lease.Contacts) {
    const k = m.contacts.get(x.DiallerContactsID);
    assert.ok(k && k.campaign === c && k.state === 'Waiting', `${where}: claimed contact ${x.DiallerContactsID} is not a waiting contact of campaign ${c}`);
    assert.ok(eligible(m, before.get(k.id)!, null), `${where}: claimed contact ${k.id} was not callable`);
    const row = after.get(k.id)!;
    assert.deepEqual([row.lease_id, String(row.attempt_id), ms(row.hold_until), row.attempt_phone_index], [lease.LeaseID, x.AttemptID, m.now + seconds * SECOND, x.PhoneIndex - 1], where);
    adoptHandOut(m, k, before.get(k.id)!, row, lease.LeaseID, where);
  }
  m.leases.set(lease.LeaseID, { campaign: c });
  adoptClosed(m, before, after, where);
  m.tally.add('claimed', lease.Contacts.length);
  if (lease.Contacts.length < count) {
    for (const row of after.values()) {
      if (m.contacts.get(row.id)!.campaign === c) assert.ok(!eligible(m, row, null), `${where}: contact ${row.id} callable but not claimed`);
    }
  }
  await verify(m, r, where, after);
}

export function advance(m: Model, r: Real, by: number): void {
  r.h.clock.advance(by);
  m.now += by;
  assert.equal(r.h.clock.now(), m.now);
}
