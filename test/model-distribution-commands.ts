// The commands of the distribution property (properties-distribution.test.ts): each does one thing
// through the API, applies what the spec determines to the model and checks the invariants.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_COMMANDS, SECOND, MINUTE, TYPES, SKILLS, AGENTS, DEFAULT_TIMEOUT_S, S, HELD, type Action, ACTION_FROM, type ModelEvent, type Model, type Real, loadOf, describeEvent, moveTo, release } from './model-distribution.ts';
import { isoSeconds, agentRequest, clientRequest, expectStatus, verify, pass, advance } from './model-distribution-system.ts';

export type Cmd = fc.AsyncCommand<Model, Real>;

export function command(label: string, run: (m: Model, r: Real, where: string) => Promise<void>): Cmd {
  return {
    check: () => true,
    run: async (m, r) => {
      m.step++;
      await run(m, r, `step ${m.step} ${label}`);
    },
    toString: () => label,
  };
}

/** `arb` once in `every` draws, null otherwise. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, every: number) =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
export const agentArb = fc.integer({ min: 0, max: AGENTS - 1 });
export const groupArb = fc.integer({ min: 0, max: 1 });

export const createSpecArb = fc.record({
  group: groupArb,
  type: fc.constantFrom(...TYPES),
  priority: fc.option(fc.oneof(fc.constantFrom(0, 50, 200), fc.integer({ min: 0, max: 200 })), { nil: undefined }),
  target: sometimes(agentArb, 5),
  skill: sometimes(fc.record({ id: fc.constantFrom(...SKILLS), min: fc.constantFrom(0, 30, 50, 90) }), 3),
  /** Minutes from the current minute; 0 or less: already due. */
  appointment: sometimes(fc.integer({ min: -2, max: 45 }), 4),
});
export type CreateSpec = typeof createSpecArb extends fc.Arbitrary<infer T> ? T : never;

let senderSeq = 0;

export async function createEvent(m: Model, r: Real, x: CreateSpec, where: string): Promise<void> {
  const appointmentAt = x.appointment === null ? null : Math.floor(m.now / MINUTE) * MINUTE + x.appointment * MINUTE;
  const body: Record<string, unknown> = {
    AcdEventTypesID: x.type, AcdGroupsID: m.groups[x.group].id, Sender: `customer${++senderSeq}@example.com`, Subject: `Mail ${senderSeq}`,
  };
  if (x.priority !== undefined) body.Priority = x.priority;
  if (x.target !== null) body.UsersID = m.agents[x.target].userId;
  if (x.skill) Object.assign(body, { SkillsID1: x.skill.id, SkillsValue1: x.skill.min });
  if (appointmentAt !== null) {
    const iso = new Date(appointmentAt).toISOString();
    Object.assign(body, { dtAppointmentDate: iso.slice(0, 10), dtAppointmentTime: iso.slice(11, 16) });
  }
  const res = await r.c.post('/acd/events/create', body);
  if (x.target !== null && !m.agents[x.target].member[x.group]) {
    expectStatus(m, 'create', res, 409, where);
  } else {
    expectStatus(m, 'create', res, 200, where);
    const record = res.json().records[0];
    assert.equal(record.AcdEventStatusID, S.Distribute, where);
    m.events.set(record.ID, {
      id: record.ID, type: x.type, group: x.group, target: x.target, priority: x.priority ?? 50, createdAt: m.now,
      skill: x.skill, appointmentAt, status: S.Distribute, holder: null, lease: null, remindAt: null, path: [S.Distribute], offeredTo: new Set(),
    });
  }
  await verify(m, r, where);
}

export const createCmd = createSpecArb.map((x) => command(`create ${JSON.stringify(x)}`, (m, r, where) => createEvent(m, r, x, where)));

/** Logins and logouts; with `holder`, of an agent who has an offer out (when one has). */
export const loginCmd = fc.record({
  holder: fc.boolean(),
  agent: agentArb,
  kind: fc.constantFrom('acd-in', 'acd-out', 'group-in', 'group-in', 'group-out', 'group-out', 'force-out'),
  group: groupArb,
}).map(({ holder, agent: pick, kind, group: g }) => command(`${kind} ${holder ? 'holder' : 'agent'} ${pick}${kind.startsWith('group') ? ` group ${g}` : ''}`, async (m, r, where) => {
  const holders = [...new Set([...m.events.values()].filter((e) => e.status === S.Offered).map((e) => e.holder!))].sort();
  const a = holder && holders.length > 0 ? holders[pick % holders.length] : pick;
  where = `${where}: agent ${a}`;
  const agent = m.agents[a];
  const returnOffers = (group?: number) => {
    for (const e of m.events.values()) if (e.status === S.Offered && e.holder === a && (group === undefined || e.group === group)) release(e);
  };
  switch (kind) {
    case 'acd-in':
      expectStatus(m, kind, await agentRequest(m, r, a, 'POST', '/agents/me/acd/login'), 200, where);
      agent.acd = true;
      break;
    case 'acd-out':
      expectStatus(m, kind, await agentRequest(m, r, a, 'POST', '/agents/me/acd/logout'), 200, where);
      if (agent.acd) returnOffers();
      agent.acd = false;
      break;
    case 'group-in':
    case 'group-out': {
      const res = await agentRequest(m, r, a, 'POST', `/agents/me/groups/${m.groups[g].id}/${kind === 'group-in' ? 'login' : 'logout'}`);
      if (!agent.member[g]) {
        expectStatus(m, kind, res, 409, where);
        break;
      }
      expectStatus(m, kind, res, 200, where);
      if (kind === 'group-out') returnOffers(g);
      agent.groups[g] = kind === 'group-in';
      break;
    }
    case 'force-out':
      expectStatus(m, kind, await clientRequest(r, 'POST', `/agents/agent/${agent.userId}/logout`), 200, where);
      returnOffers();
      agent.acd = false;
      agent.groups = agent.groups.map(() => false);
      break;
  }
  await verify(m, r, where);
}));

export const capacityCmd = fc.record({ agent: agentArb, type: fc.constantFrom(...TYPES), value: fc.integer({ min: 0, max: 2 }) })
  .map(({ agent: a, type, value }) => command(`capacity agent ${a} type ${type} = ${value}`, async (m, r, where) => {
    expectStatus(m, 'capacity', await r.c.request('PUT', `${r.c.base}/agents/agent/${m.agents[a].userId}/capacity`, { Capacity: { [type]: value } }), 200, where);
    const agent = m.agents[a];
    agent.cap[String(type)] = value;
    const load = loadOf(m, a, type);
    if (load > value) agent.over[String(type)] = load;
    await verify(m, r, where);
  }));

export const moveArb = fc.record({ group: fc.option(groupArb, { nil: null, freq: 3 }), user: fc.option(agentArb, { nil: null, freq: 2 }) });
export type Move = { group: number | null; user: number | null };

/** Where a forward or reassignment sends an event; the answer it expects when it cannot. */
export function moveTarget(m: Model, e: ModelEvent, move: Move): { group: number; target: number | null } | number {
  if (move.group === null && move.user === null) return 400;
  const group = move.group ?? e.group;
  if (move.user !== null && !m.agents[move.user].member[group]) return 409;
  return { group, target: move.user };
}

export function moveBody(m: Model, move: Move) {
  const body: Record<string, number> = {};
  if (move.group !== null) body.AcdGroupsID = m.groups[move.group].id;
  if (move.user !== null) body.UsersID = m.agents[move.user].userId;
  return body;
}

/**
 * The agent and event an action is about: with `own`, one of the events some agent holds (and
 * that agent), when there are any, set-aside ones only now and then (so that reminders come due);
 * otherwise `agent` and any event of the client.
 */
export function pickEvent(m: Model, pick: number, agent: number, own: boolean): { a: number; e: ModelEvent } | undefined {
  const all = [...m.events.values()].sort((a, b) => a.id - b.id);
  if (own) {
    const held = all.filter((e) => HELD.has(e.status) && (e.status !== S.Remind || pick % 5 === 0));
    if (held.length > 0) {
      const e = held[pick % held.length];
      return { a: e.holder!, e };
    }
  }
  return all.length === 0 ? undefined : { a: agent, e: all[pick % all.length] };
}

/** What a holder would do next from each status; `smart` actions pick from these. */
export const LIKELY: Record<number, Action[]> = {
  [S.Offered]: ['accept', 'accept', 'accept', 'reject'],
  [S.New]: ['seen', 'remind', 'remind', 'done', 'forward'],
  [S.Seen]: ['seen', 'remind', 'remind', 'done', 'forward'],
  [S.Remind]: ['remind', 'done', 'forward'],
};

/**
 * Agent `a` does `action` to `e`, with the model's expected answer and, on 200, the event as the
 * model says it is afterwards.
 */
export async function agentAct(
  m: Model, r: Real, a: number, e: ModelEvent, action: Action, input: { remindSeconds: number; move: Move }, where: string,
): Promise<void> {
  const remindAt = Math.floor(m.now / SECOND) * SECOND + input.remindSeconds * SECOND;
  let body: unknown;
  if (action === 'remind') body = { dtRemind: isoSeconds(remindAt) };
  else if (action === 'forward') body = moveBody(m, input.move);

  let expected = 200;
  let why = '';
  const after: Partial<ModelEvent> = {};
  // An event that was this agent's answers why it no longer is (409); anyone else's is 404.
  if (e.holder !== a || !HELD.has(e.status)) expected = e.holder === a || e.offeredTo.has(a) ? 409 : 404;
  else if (!ACTION_FROM[action].includes(e.status)) expected = 409;
  else {
    switch (action) {
      case 'accept':
        if (e.lease! <= m.now) [expected, why] = [409, ' (expired)'];
        else Object.assign(after, { status: S.New, lease: null });
        break;
      case 'reject':
        Object.assign(after, { status: S.Queued, holder: null, lease: null });
        break;
      case 'seen':
        after.status = S.Seen;
        break;
      case 'remind':
        if (remindAt <= m.now) expected = 400;
        else Object.assign(after, { status: S.Remind, remindAt });
        break;
      case 'done':
        Object.assign(after, { status: S.Done, remindAt: null });
        break;
      case 'forward': {
        const target = moveTarget(m, e, input.move);
        if (typeof target === 'number') expected = target;
        else Object.assign(after, { status: S.Queued, holder: null, lease: null, remindAt: null, ...target });
        break;
      }
    }
  }
  const res = await agentRequest(m, r, a, 'POST', `/agents/me/events/${e.id}/${action}`, body);
  expectStatus(m, `${action}${why}`, res, expected, where);
  if (expected === 200) {
    moveTo(e, after.status!);
    Object.assign(e, after);
    assert.equal(res.json().records[0].AcdEventStatusID, e.status, where);
  }
  await verify(m, r, where);
}

/**
 * An agent's action. Mostly (`smart`) the holder of some held event does what the event's status
 * allows; otherwise the given agent tries the given action on any event (404s and 409s).
 */
export const actCmd = fc.record({
  smart: fc.constantFrom(true, true, true, true, false),
  agent: agentArb,
  action: fc.constantFrom<Action>('accept', 'reject', 'seen', 'remind', 'done', 'forward'),
  pick: fc.nat(),
  choice: fc.nat(),
  remindSeconds: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 600 }) }, { weight: 3, arbitrary: fc.integer({ min: 601, max: 3600 }) }, { weight: 1, arbitrary: fc.integer({ min: -60, max: 0 }) }),
  move: moveArb,
}).map((x) => command(`${x.smart ? 'holder acts' : `agent ${x.agent} ${x.action}`} pick ${x.pick}/${x.choice} remind +${x.remindSeconds}s move ${JSON.stringify(x.move)}`, async (m, r, where) => {
  const picked = pickEvent(m, x.pick, x.agent, x.smart);
  if (!picked || (x.smart && !HELD.has(picked.e.status))) return;
  const { a, e } = picked;
  const action = x.smart ? LIKELY[e.status][x.choice % LIKELY[e.status].length] : x.action;
  await agentAct(m, r, a, e, action, x, `${where}: agent ${a} ${action} on ${describeEvent(e)}`);
}));

export const reassignCmd = fc.record({ pick: fc.nat(), move: moveArb })
  .map((x) => command(`reassign pick ${x.pick} ${JSON.stringify(x.move)}`, async (m, r, where) => {
    const e = pickEvent(m, x.pick, 0, false)?.e;
    if (!e) return;
    where = `${where} on ${describeEvent(e)}`;
    const res = await r.c.post(`/acd/events/event/${e.id}/reassign`, moveBody(m, x.move));
    const target = e.status === S.Done ? 409 : moveTarget(m, e, x.move);
    if (typeof target === 'number') {
      expectStatus(m, 'reassign', res, target, where);
    } else {
      expectStatus(m, 'reassign', res, 200, where);
      // A reassignment is recorded even when the status stays (1 → 1, 4 → 4).
      const status = e.status === S.Distribute ? S.Distribute : S.Queued;
      e.path.push(status);
      Object.assign(e, { status, holder: null, lease: null, remindAt: null, ...target });
    }
    await verify(m, r, where);
  }));

export const inboxCmd = agentArb.map((a) => command(`inbox agent ${a}`, async (m, r, where) => {
  const res = await agentRequest(m, r, a, 'GET', '/agents/me/events');
  expectStatus(m, 'inbox', res, 200, where);
  const got = res.json().records.map((x: any) => [x.ID, x.AcdEventStatusID]).sort((p: number[], q: number[]) => p[0] - q[0]);
  const want = [...m.events.values()].filter((e) => e.holder === a && HELD.has(e.status)).map((e) => [e.id, e.status]).sort((p, q) => p[0] - q[0]);
  assert.deepEqual(got, want, where);
}));

export const passCmd = fc.constant(null).map(() => command('pass', (m, r, where) => pass(m, r, where)));

export const advanceCmd = fc.oneof(
  fc.integer({ min: 1, max: 10 }),
  fc.integer({ min: 20, max: 70 }),
  fc.integer({ min: 5 * 60, max: 40 * 60 }),
).map((seconds) => command(`advance ${seconds}s`, async (m, r, where) => {
  advance(m, r, seconds * SECOND);
  await verify(m, r, where);
}));

/** Right onto (or just past) the last lease of the offers out, then a pass: every offer expires. */
export const expireLeasesCmd = fc.constantFrom(0, 1).map((extra) => command(`expire leases +${extra}s`, async (m, r, where) => {
  const leases = [...m.events.values()].filter((e) => e.status === S.Offered).map((e) => e.lease!);
  const to = leases.length > 0 ? Math.max(...leases) : m.now + (DEFAULT_TIMEOUT_S + 1) * SECOND;
  advance(m, r, Math.max(0, to - m.now) + extra * SECOND);
  await pass(m, r, where);
}));

/** Right onto the next timer of any kind (appointment, lease, reminder), then a pass. */
export const nextTimerCmd = fc.constant(null).map(() => command('next timer', async (m, r, where) => {
  const timers = [...m.events.values()].flatMap((e) =>
    e.status === S.Distribute ? [e.appointmentAt] : e.status === S.Offered ? [e.lease] : e.status === S.Remind ? [e.remindAt] : [])
    .filter((t): t is number => t !== null && t > m.now);
  if (timers.length > 0) advance(m, r, Math.min(...timers) - m.now);
  await pass(m, r, where);
}));

/** Right onto the next reminder set, then a pass: it returns if its agent has room. */
export const remindersDueCmd = fc.constant(null).map(() => command('reminders due', async (m, r, where) => {
  const due = [...m.events.values()].filter((e) => e.status === S.Remind && e.remindAt! > m.now).map((e) => e.remindAt!);
  if (due.length > 0) advance(m, r, Math.min(...due) - m.now);
  await pass(m, r, where);
}));

export const commandsArb = fc.commands([
  createCmd, createCmd, createCmd, createCmd, createCmd,
  passCmd, passCmd, passCmd, passCmd,
  ...Array.from({ length: 12 }, () => actCmd),
  loginCmd, loginCmd,
  capacityCmd, reassignCmd, inboxCmd,
  advanceCmd, expireLeasesCmd, nextTimerCmd, remindersDueCmd, remindersDueCmd,
], { maxCommands: MAX_COMMANDS, size: 'max' });
