// What results and the campaign's limits do to a contact (spec §8.1, §8.2), through the agent's
// routes and the engine's passes: delays and appointments (agent binding and its fallback), closing
// codes, the tries caps, invalid and do-not-call numbers, the line limit, the campaign's end, the
// campaigns' weights, and that a hand-out never crosses clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores } from './helper.ts';
import type { TestAgent } from './fixtures-agents.ts';
import {
  agentResult, atTime, blockNumber, contactChanges, contactRow, diallerAgent, diallerSetup, handedTo, heldBy, insertContact, joinCampaign,
  msOf, secondCampaign, setRules, type DiallerSetup,
} from './fixtures-dialler-engine.ts';

const MINUTE = 60_000;
/** Monday 2026-06-15 in Berlin (UTC+2): the harness clock stands at 10:00 local. */
const berlin = (hhmm: string, day = '2026-06-15') => new Date(`${day}T${hhmm}:00+02:00`).toISOString();

/**
 * A contact of the same zone that never comes due: it keeps the zone among the campaign's waiting
 * zones (the engine caches them for a few seconds), so a contact that falls back from a binding is
 * seen at once and the test does not depend on how fast it runs.
 */
const keepZoneOpen = (h: Parameters<typeof insertContact>[0], s: DiallerSetup) =>
  insertContact(h, s, { name: 'not due this year', nextTry: new Date('2027-06-01T00:00:00Z') });

async function result(agent: TestAgent, contactId: number, body: Record<string, unknown>) {
  const res = await agentResult(agent, contactId, body);
  assert.equal(res.statusCode, 200, res.body);
}

async function logout(agent: TestAgent, campaignId: number) {
  const res = await agent.request('POST', `/agents/me/dialler/campaigns/${campaignId}/logout`);
  assert.equal(res.statusCode, 200, res.body);
}

/** The hand-out, result and binding of LATER (Delay, TimeOffset 90, bAgentBound) set at 11:00 Berlin. */
async function delayedBy(h: Parameters<typeof insertContact>[0], fallback: number | null) {
  const s = await diallerSetup(h, { mode: 'Progressive' });
  await setRules(h, s.campaignId, { appointmentFallbackMinutes: fallback });
  const id = await insertContact(h, s);
  await keepZoneOpen(h, s);
  const a = await diallerAgent(h, s);
  await atTime(h, berlin('11:00'), async () => {
    const held = await handedTo(h, a);
    await result(a, id, { AttemptID: held.AttemptID, ResultCodesExportKey: 'LATER' });
  });
  const b = await diallerAgent(h, s);
  return { s, id, a, b };
}

describeStores('dialler: results and limits', (h) => {
  test('Delay: due TimeOffset later, moved into the next window, and bound to the agent who set it', async () => {
    const { s, id, a, b } = await delayedBy(h, null);
    const row = await contactRow(h, id);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.due_rank, 2);
    assert.equal(row.result_export_key, 'LATER');
    assert.equal(msOf(row.dt_next_try), Date.parse(berlin('13:00')), '12:30 falls in the lunch break: the next window opens at 13:00');
    assert.equal(row.bound_user_id, a.userId);
    assert.equal(row.bound_until, null, 'no fallback: bound for good');

    await atTime(h, berlin('12:59'), async () => {
      await h.app.dialler.runPass();
      assert.equal((await heldBy(a)).Contacts.length, 0, 'not due yet');
    });
    await atTime(h, berlin('13:00'), async () => {
      await logout(a, s.campaignId);
      await h.app.dialler.runPass();
      assert.equal((await heldBy(b)).Contacts.length, 0, 'bound to the other agent');
      await joinCampaign(a, s.campaignId);
      const held = await handedTo(h, a);
      assert.equal(held.DiallerContactsID, id);
      assert.equal(held.PhoneIndex, 1);
    });
  });

  test('Delay with AppointmentFallbackMinutes: the binding falls back and another agent gets the contact', async () => {
    const { s, id, a, b } = await delayedBy(h, 30);
    assert.equal(msOf((await contactRow(h, id)).bound_until), Date.parse(berlin('13:30')));
    await logout(a, s.campaignId);
    await atTime(h, berlin('13:29'), async () => {
      await h.app.dialler.runPass();
      assert.equal((await heldBy(b)).Contacts.length, 0, 'still bound');
    });
    await atTime(h, berlin('13:30'), async () => {
      const held = await handedTo(h, b);
      assert.equal(held.DiallerContactsID, id);
    });
  });

  test('Appointment: needs dtAppointment in the future and inside the calling times, and is honoured to the minute', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const id = await insertContact(h, s);
    const a = await diallerAgent(h, s);
    const held = await handedTo(h, a);
    const appt = (dtAppointment?: string) => agentResult(a, id, { AttemptID: held.AttemptID, ResultCodesExportKey: 'APPT', ...(dtAppointment ? { dtAppointment } : {}) });

    const missing = await appt();
    assert.equal(missing.statusCode, 400, missing.body);
    assert.equal(missing.json().details[0].field, 'dtAppointment');
    const past = await appt('2026-06-15T09:30');
    assert.equal(past.statusCode, 400, past.body);
    assert.equal(past.json().details[0].field, 'dtAppointment');
    const lunch = await appt('2026-06-15T12:30');
    assert.equal(lunch.statusCode, 400, lunch.body);
    assert.equal(lunch.json().details[0].field, 'dtAppointment');
    assert.match(lunch.body, /2026-06-15T13:00:00\.000/, 'names the next opening');
    const sunday = await appt('2026-06-21T10:00');
    assert.equal(sunday.statusCode, 400, sunday.body);
    assert.match(sunday.body, /2026-06-22T08:00:00\.000/);
    const onDelay = await agentResult(a, id, { AttemptID: held.AttemptID, ResultCodesExportKey: 'LATER', dtAppointment: '2026-06-15T14:37' });
    assert.equal(onDelay.statusCode, 400, 'dtAppointment only with an Appointment code');
    assert.equal((await contactRow(h, id)).state, 'InProgress', 'refused results change nothing');

    assert.equal((await appt('2026-06-15T14:37')).statusCode, 200);
    const row = await contactRow(h, id);
    const at = Date.parse(berlin('14:37'));
    assert.equal(row.state, 'Waiting');
    assert.equal(row.due_rank, 1);
    assert.equal(msOf(row.dt_next_try), at);
    assert.equal(msOf(row.follow_up_at), at);
    assert.equal(row.bound_user_id, null, 'APPT is not agent-bound');
    await atTime(h, new Date(at - MINUTE).toISOString(), async () => {
      await h.app.dialler.runPass();
      assert.equal((await heldBy(a)).Contacts.length, 0);
    });
    await atTime(h, new Date(at).toISOString(), async () => {
      assert.equal((await handedTo(h, a)).DiallerContactsID, id);
    });
  });

  test('Done and Abort codes close the contact for good', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const done = await insertContact(h, s, { priority: 2 });
    const aborted = await insertContact(h, s, { priority: 1 });
    const a = await diallerAgent(h, s);
    await result(a, done, { AttemptID: (await handedTo(h, a)).AttemptID, ResultCodesID: s.codes.DONE });
    await result(a, aborted, { AttemptID: (await handedTo(h, a)).AttemptID, ResultCodesExportKey: 'NOTEL' });
    await h.app.dialler.runPass();
    assert.equal((await heldBy(a)).Contacts.length, 0, 'closed contacts are never handed out again');
    const [d, x] = [await contactRow(h, done), await contactRow(h, aborted)];
    assert.deepEqual([d.state, d.result_export_key, d.closed_reason], ['Done', 'DONE', 'Result']);
    assert.deepEqual([x.state, x.result_export_key, x.result_code_id, x.closed_reason], ['Aborted', 'NOTEL', s.codes.NOTEL, 'Result']);
  });

  test('tries per contact: the last try allowed closes the contact as TriesExhausted, after a no-answer and after a delay', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    await setRules(h, s.campaignId, { maxTries: 2 });
    const busy = await insertContact(h, s, { tries: 1, priority: 2 });
    const later = await insertContact(h, s, { tries: 1, priority: 1 });
    const a = await diallerAgent(h, s);
    await result(a, busy, { AttemptID: (await handedTo(h, a)).AttemptID, SystemCause: 'Busy' });
    await result(a, later, { AttemptID: (await handedTo(h, a)).AttemptID, ResultCodesExportKey: 'LATER' });
    for (const id of [busy, later]) {
      const row = await contactRow(h, id);
      assert.deepEqual([row.state, row.closed_reason, row.n_tries], ['Aborted', 'TriesExhausted', 2]);
    }
  });

  test('tries per number: a number that used its tries is skipped in the rotation; when none is left the campaign\'s NOTEL code closes', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    await setRules(h, s.campaignId, { maxTriesPerNumber: 1 });
    const id = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const a = await diallerAgent(h, s);
    const first = await handedTo(h, a);
    assert.equal(first.PhoneIndex, 1);
    await result(a, id, { AttemptID: first.AttemptID, SystemCause: 'Busy' });
    assert.equal((await contactRow(h, id)).next_phone_index, 1);
    await atTime(h, berlin('10:10'), async () => {
      const second = await handedTo(h, a);
      assert.equal(second.PhoneIndex, 2);
      await result(a, id, { AttemptID: second.AttemptID, SystemCause: 'Busy' });
    });
    const row = await contactRow(h, id);
    assert.deepEqual([row.state, row.closed_reason, row.result_export_key, row.n_tries], ['Aborted', 'NoNumber', 'NOTEL', 2],
      'without the cap the rotation would come back to the first number');
  });

  test('every number invalid: the contact closes with the campaign\'s AbortOnNoTelNumber code', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const id = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const a = await diallerAgent(h, s);
    const first = await handedTo(h, a);
    await result(a, id, { AttemptID: first.AttemptID, SystemCause: 'InvalidNumber' });
    let row = await contactRow(h, id);
    assert.deepEqual([row.state, row.b_phone_number1_invalid, row.next_phone_index], ['Waiting', true, 1]);
    assert.equal(msOf(row.dt_next_try), h.clock.now(), 'the next number at once');
    const second = await handedTo(h, a);
    assert.equal(second.PhoneIndex, 2);
    await result(a, id, { AttemptID: second.AttemptID, SystemCause: 'InvalidNumber' });
    row = await contactRow(h, id);
    assert.deepEqual([row.state, row.closed_reason, row.result_export_key, row.result_code_id], ['Aborted', 'NoNumber', 'NOTEL', s.codes.NOTEL]);
  });

  test('the daily cap moves the next try to the contact\'s next local day', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive', windows: [] });
    await setRules(h, s.campaignId, { maxTriesPerDay: 2 });
    const id = await insertContact(h, s);
    const a = await diallerAgent(h, s);
    await result(a, id, { AttemptID: (await handedTo(h, a)).AttemptID, SystemCause: 'Busy' });
    assert.equal(msOf((await contactRow(h, id)).dt_next_try), Date.parse(berlin('10:10')), 'first try of the day: the Busy delay');
    await atTime(h, berlin('10:10'), async () => {
      await result(a, id, { AttemptID: (await handedTo(h, a)).AttemptID, SystemCause: 'Busy' });
    });
    const midnight = Date.parse(berlin('00:00', '2026-06-16'));
    const row = await contactRow(h, id);
    assert.equal(msOf(row.dt_next_try), midnight);
    assert.equal(row.n_tries_day, 2);
    // Read from the rows: the agent's session (12 h) does not last until midnight.
    await atTime(h, new Date(midnight - MINUTE).toISOString(), () => h.app.dialler.runPass());
    assert.equal((await contactRow(h, id)).state, 'Waiting');
    await atTime(h, new Date(midnight).toISOString(), () => h.app.dialler.runPass());
    const taken = await contactRow(h, id);
    assert.deepEqual([taken.state, taken.holder_user_id], ['InProgress', a.userId]);
  });

  test('do-not-call: a listed number is skipped at hand-out, and a contact with only listed numbers is closed with NOTEL', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    await blockNumber(h, s.client.id, '+4930111');
    const onlyListed = await insertContact(h, s, { phones: ['+4930111'], priority: 9 });
    const partly = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const a = await diallerAgent(h, s);
    const held = await handedTo(h, a);
    assert.equal(held.DiallerContactsID, partly);
    assert.equal(held.PhoneIndex, 2);
    assert.equal(held.PhoneNumber, '+4930222');
    const row = await contactRow(h, onlyListed);
    assert.deepEqual([row.state, row.closed_reason, row.result_export_key, row.n_tries], ['Aborted', 'NoNumber', 'NOTEL', 0]);
    const changes = await contactChanges(h, onlyListed);
    assert.deepEqual(changes.map((c) => [c.change, c.state]), [['Closed', 'Aborted']]);
    assert.match(changes[0].reason ?? '', /do-not-call/);
  });

  test('starting on a PhoneIndex that is empty, invalid, used up or on the do-not-call list is 400 naming PhoneIndex', async () => {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 60 });
    await blockNumber(h, s.client.id, '+4930333');
    const id = await insertContact(h, s, { phones: ['+4930111', null, '+4930333', '+4930444', '+4930555'] });
    await h.store.db.updateTable('dialler_contacts').set({ b_phone_number4_invalid: true, n_tries_phone_number5: 5 }).where('id', '=', id).execute();
    const a = await diallerAgent(h, s);
    const held = await handedTo(h, a);
    assert.equal(held.PhoneIndex, 1);
    for (const PhoneIndex of [2, 3, 4, 5, 6]) {
      const res = await a.request('POST', `/agents/me/dialler/contacts/${id}/start`, { PhoneIndex });
      assert.equal(res.statusCode, 400, `PhoneIndex ${PhoneIndex}: ${res.body}`);
      assert.equal(res.json().details?.[0]?.field, 'PhoneIndex', res.body);
    }
    assert.equal((await heldBy(a)).Contacts[0].bStarted, false);
    const ok = await a.request('POST', `/agents/me/dialler/contacts/${id}/start`, { PhoneIndex: 1 });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('nMaxParallelLines 1: two free agents, one hand-out', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive', maxParallel: 1 });
    for (let i = 0; i < 3; i++) await insertContact(h, s);
    const agents = [await diallerAgent(h, s), await diallerAgent(h, s)];
    const inHand = async () => (await Promise.all(agents.map(async (x) => (await heldBy(x)).Contacts.map((c) => ({ agent: x, c }))))).flat();
    await h.app.dialler.runPass();
    const held = await inHand();
    assert.equal(held.length, 1);
    await result(held[0].agent, held[0].c.DiallerContactsID, { AttemptID: held[0].c.AttemptID, ResultCodesExportKey: 'DONE' });
    await h.app.dialler.runPass();
    assert.equal((await inHand()).length, 1, 'the line is free again, for one');
  });

  test('a campaign past its dtTo hands out nothing', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    await setRules(h, s.campaignId, { endsAt: new Date(h.clock.now() - MINUTE) });
    const id = await insertContact(h, s);
    const a = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    assert.equal((await heldBy(a)).Contacts.length, 0);
    assert.equal((await contactRow(h, id)).state, 'Waiting');
    assert.deepEqual(await contactChanges(h, id), []);
  });

  test('weights: an agent in two campaigns gets contacts from both, about in their weights\' proportion', async () => {
    const heavy = await diallerSetup(h, { mode: 'Progressive' });
    const light = await secondCampaign(h, heavy, { mode: 'Progressive' });
    await setRules(h, heavy.campaignId, { weight: 4 });
    await setRules(h, light.campaignId, { weight: 1 });
    const rounds = 60;
    for (let i = 0; i < rounds; i++) {
      await insertContact(h, heavy);
      await insertContact(h, light);
    }
    const a = await diallerAgent(h, heavy);
    await joinCampaign(a, light.campaignId);
    const from = new Map<number, number>([[heavy.campaignId, 0], [light.campaignId, 0]]);
    for (let i = 0; i < rounds; i++) {
      const held = await handedTo(h, a);
      const { DiallerCampaignsID } = held as typeof held & { DiallerCampaignsID: number };
      from.set(DiallerCampaignsID, from.get(DiallerCampaignsID)! + 1);
      await result(a, held.DiallerContactsID, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
    }
    const [nHeavy, nLight] = [from.get(heavy.campaignId)!, from.get(light.campaignId)!];
    assert.equal(nHeavy + nLight, rounds);
    // Expected 48 : 12 (sd ≈ 3.1): a bound 4 sd out, which equal weights (30 : 30) would miss.
    assert.ok(nLight >= 1, `the light campaign got ${nLight} of ${rounds}`);
    assert.ok(nHeavy >= 36, `the heavy campaign got ${nHeavy} of ${rounds}`);
  });

  test('tenancy: a hand-out never crosses clients, and another client\'s held contact is 404 to its agents', async () => {
    const a = await diallerSetup(h, { mode: 'Progressive' });
    const idA = await insertContact(h, a);
    const b = await diallerSetup(h, { mode: 'Progressive' });
    const agentB = await diallerAgent(h, b);
    await h.app.dialler.runPass();
    assert.equal((await heldBy(agentB)).Contacts.length, 0, 'b has no contacts of its own');
    assert.equal((await contactRow(h, idA)).state, 'Waiting');

    const agentA = await diallerAgent(h, a);
    const held = await handedTo(h, agentA);
    for (const path of ['start', 'release', 'skip']) {
      const res = await agentB.request('POST', `/agents/me/dialler/contacts/${idA}/${path}`, path === 'start' ? {} : undefined);
      assert.equal(res.statusCode, 404, `${path}: ${res.body}`);
    }
    const res = await agentResult(agentB, idA, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(res.statusCode, 404, res.body);
    const row = await contactRow(h, idA);
    assert.equal(row.state, 'InProgress');
    assert.equal(row.holder_user_id, agentA.userId);
  });
});
