// Manual mode (spec §8.1, jtel's Manual/CTI): the agent lists callable contacts, reserves one,
// calls and records the result; the engine itself hands nothing out in this mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores } from './helper.ts';
import { newAgent, type TestAgent } from './fixtures-agents.ts';
import {
  agentResult, contactChanges, contactRow, diallerAgent, diallerSetup, heldBy, insertContact, joinCampaign, msOf, secondCampaign,
} from './fixtures-dialler-engine.ts';

const MINUTE = 60_000;

async function callable(agent: TestAgent, campaignId: number, limit?: number): Promise<number[]> {
  const res = await agent.request('GET', `/agents/me/dialler/campaigns/${campaignId}/callable${limit ? `?limit=${limit}` : ''}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0].DiallerContactsIDs;
}

function reserve(agent: TestAgent, contactId: number) {
  return agent.request('POST', `/agents/me/dialler/contacts/${contactId}/reserve`);
}

async function reserved(agent: TestAgent, contactId: number) {
  const res = await reserve(agent, contactId);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0] as { DiallerContactsID: number; AttemptID: string; HoldKind: string; PhoneIndex: number; PhoneNumber: string; bStarted: boolean; dtPreviewEnds: string | null };
}

describeStores('dialler: manual mode', (h) => {
  test('callable lists what the agent may call now in jtel order, leaving out contacts outside their window, bound to another agent or not due', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const agent = await diallerAgent(h, s);
    const other = await diallerAgent(h, s);
    const now = h.clock.now();
    const freshHigh = await insertContact(h, s, { name: 'new, priority 5', priority: 5 });
    const freshLow = await insertContact(h, s, { name: 'new, priority 0' });
    const retry = await insertContact(h, s, { name: 'retry', dueRank: 3, nextTry: new Date(now - 5 * MINUTE), tries: 1 });
    const ownRetry = await insertContact(h, s, { name: 'own retry series', dueRank: 3, nextTry: new Date(now - MINUTE), tries: 1, lastUserId: agent.userId });
    const delay = await insertContact(h, s, { name: 'delay', dueRank: 2, nextTry: new Date(now - 2 * MINUTE) });
    const ownDelay = await insertContact(h, s, { name: 'delay bound to me', dueRank: 2, nextTry: new Date(now - MINUTE), boundUserId: agent.userId });
    const appointment = await insertContact(h, s, { name: 'appointment', dueRank: 1, nextTry: new Date(now - MINUTE) });
    const boundOther = await insertContact(h, s, { name: 'bound to the other agent', dueRank: 2, nextTry: new Date(now - 3 * MINUTE), boundUserId: other.userId });
    const notDue = await insertContact(h, s, { name: 'appointment not due', dueRank: 1, nextTry: new Date(now + MINUTE) });
    const outside = await insertContact(h, s, { name: 'night in Los Angeles', zone: 'America/Los_Angeles' });

    const mine = await callable(agent, s.campaignId);
    assert.deepEqual(mine, [appointment, ownDelay, delay, ownRetry, retry, freshHigh, freshLow]);
    for (const omitted of [boundOther, notDue, outside]) assert.ok(!mine.includes(omitted));
    assert.deepEqual(await callable(agent, s.campaignId, 2), [appointment, ownDelay]);
    const theirs = await callable(other, s.campaignId);
    assert.deepEqual(theirs, [appointment, boundOther, delay, retry, ownRetry, freshHigh, freshLow]);
  });

  test('reserve puts the contact in the agent\'s hands (Manual, no preview end); nobody else can reserve it; start and result', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const id = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const agent = await diallerAgent(h, s);
    const other = await diallerAgent(h, s);
    const held = await reserved(agent, id);
    assert.equal(held.DiallerContactsID, id);
    assert.equal(held.HoldKind, 'Manual');
    assert.equal(held.bStarted, false);
    assert.equal(held.dtPreviewEnds, null);
    assert.equal(held.PhoneIndex, 1);
    assert.equal(held.PhoneNumber, '+4930111');
    // getMyDialler adds the contact's record, history and result codes after the hand-out's fields.
    const [mine, ...others] = (await heldBy(agent)).Contacts as Record<string, unknown>[];
    assert.deepEqual(others, []);
    assert.deepEqual(Object.fromEntries(Object.keys(held).map((k) => [k, mine![k]])), { ...held, DiallerCampaignsID: s.campaignId });
    const row = await contactRow(h, id);
    assert.equal(row.state, 'InProgress');
    assert.equal(row.holder_user_id, agent.userId);
    assert.equal(row.hold_until, null, 'a reservation has no timer');
    assert.deepEqual(await callable(other, s.campaignId), []);

    assert.equal((await reserve(other, id)).statusCode, 409);
    assert.equal((await reserve(agent, id)).statusCode, 409, 'already in hand');
    assert.equal((await other.request('POST', `/agents/me/dialler/contacts/${id}/start`, {})).statusCode, 409);

    const start = await agent.request('POST', `/agents/me/dialler/contacts/${id}/start`, { PhoneIndex: 2 });
    assert.equal(start.statusCode, 200, start.body);
    assert.deepEqual(start.json().records[0], { AttemptID: held.AttemptID, PhoneIndex: 2, PhoneNumber: '+4930222' });
    const release = await agent.request('POST', `/agents/me/dialler/contacts/${id}/release`);
    assert.equal(release.statusCode, 409, 'an attempt under way needs its result');
    const res = await agentResult(agent, id, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await contactRow(h, id)).state, 'Done');
    assert.equal((await contactRow(h, id)).n_tries_phone_number2, 1);
    assert.deepEqual((await contactChanges(h, id)).map((c) => [c.change, c.user_id]),
      [['HandedOut', agent.userId], ['AttemptStarted', agent.userId], ['Result', agent.userId]]);
    assert.equal((await heldBy(agent)).Contacts.length, 0);
  });

  test('release gives the reservation back untouched, for anyone to reserve', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const due = new Date(h.clock.now() - 7 * MINUTE);
    const id = await insertContact(h, s, { dueRank: 3, nextTry: due, tries: 1 });
    const agent = await diallerAgent(h, s);
    const other = await diallerAgent(h, s);
    const held = await reserved(agent, id);
    const res = await agent.request('POST', `/agents/me/dialler/contacts/${id}/release`);
    assert.equal(res.statusCode, 200, res.body);
    const row = await contactRow(h, id);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.n_tries, 1, 'no try counted');
    assert.equal(msOf(row.dt_next_try), due.getTime(), 'due as before');
    assert.equal(row.due_rank, 3);
    assert.equal(row.holder_user_id, null);
    assert.deepEqual((await contactChanges(h, id)).map((c) => c.change), ['HandedOut', 'Released']);
    const state = await h.store.db.selectFrom('agent_states').select('dialler_held').where('user_id', '=', agent.userId).executeTakeFirstOrThrow();
    assert.equal(state.dialler_held, 0);
    assert.deepEqual(await callable(other, s.campaignId), [id]);
    const again = await reserved(other, id);
    assert.notEqual(again.AttemptID, held.AttemptID);
  });

  test('logging out of the campaign gives back unstarted reservations at once; an attempt under way stays in the agent\'s hands until its result', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const started = await insertContact(h, s, { name: 'started' });
    const waiting = await insertContact(h, s, { name: 'reserved only' });
    const agent = await diallerAgent(h, s);
    const held = await reserved(agent, started);
    await reserved(agent, waiting);
    assert.equal((await agent.request('POST', `/agents/me/dialler/contacts/${started}/start`, {})).statusCode, 200);

    const out = await agent.request('POST', `/agents/me/dialler/campaigns/${s.campaignId}/logout`);
    assert.equal(out.statusCode, 200, out.body);
    const left = out.json().records[0];
    assert.deepEqual([left.Campaigns, left.Contacts.map((c: { DiallerContactsID: number }) => c.DiallerContactsID)], [[], [started]], 'the call under way stays');
    const row = await contactRow(h, waiting);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.n_tries, 0);
    assert.deepEqual((await contactChanges(h, waiting)).map((c) => c.change), ['HandedOut', 'Released']);
    const list = await agent.request('GET', `/agents/me/dialler/campaigns/${s.campaignId}/callable`);
    assert.equal(list.statusCode, 409, 'logged out: nothing to list');

    assert.equal((await agentResult(agent, started, { AttemptID: held.AttemptID, SystemCause: 'NoAnswer' })).statusCode, 200);
    assert.deepEqual((await heldBy(agent)).Contacts, [], 'its result is the last: nothing handed out after it');
    assert.equal((await contactRow(h, started)).state, 'Waiting');
    const state = await h.store.db.selectFrom('agent_states').select('dialler_held').where('user_id', '=', agent.userId).executeTakeFirstOrThrow();
    assert.equal(state.dialler_held, 0);
  });

  test('the engine never hands out a Manual campaign\'s contacts by itself', async () => {
    const manual = await diallerSetup(h, { mode: 'Manual' });
    const progressive = await secondCampaign(h, manual, { mode: 'Progressive' });
    const manualIds = [await insertContact(h, manual), await insertContact(h, manual, { dueRank: 1, nextTry: new Date(h.clock.now() - MINUTE) })];
    const progressiveId = await insertContact(h, progressive);
    const agent = await diallerAgent(h, manual);
    await joinCampaign(agent, progressive.campaignId);

    await h.app.dialler.runPass();
    const [held] = (await heldBy(agent)).Contacts;
    assert.equal(held.DiallerContactsID, progressiveId, 'the progressive contact, never a manual one');
    assert.equal((await agentResult(agent, progressiveId, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' })).statusCode, 200);
    await h.app.dialler.runPass();
    await h.app.dialler.runPass();
    assert.equal((await heldBy(agent)).Contacts.length, 0);
    for (const id of manualIds) {
      assert.equal((await contactRow(h, id)).state, 'Waiting');
      assert.deepEqual(await contactChanges(h, id), []);
    }
  });

  test('manual routes: only for Manual campaigns the agent is logged in to, inside the contact\'s window, within the client', async () => {
    const s = await diallerSetup(h, { mode: 'Manual' });
    const night = await insertContact(h, s, { zone: 'America/Los_Angeles' });
    const id = await insertContact(h, s);
    const agent = await diallerAgent(h, s);
    assert.equal((await reserve(agent, night)).statusCode, 409, 'outside its calling times');
    assert.equal((await contactRow(h, night)).state, 'Waiting');

    const progressive = await diallerSetup(h, { mode: 'Progressive' });
    const progressiveId = await insertContact(h, progressive);
    const worker = await diallerAgent(h, progressive);
    assert.equal((await worker.request('GET', `/agents/me/dialler/campaigns/${progressive.campaignId}/callable`)).statusCode, 409);
    assert.equal((await reserve(worker, progressiveId)).statusCode, 409);

    const paused = await diallerSetup(h, { mode: 'Manual', running: false });
    const pausedId = await insertContact(h, paused);
    const idle = await diallerAgent(h, paused);
    assert.equal((await idle.request('GET', `/agents/me/dialler/campaigns/${paused.campaignId}/callable`)).statusCode, 409);
    assert.equal((await reserve(idle, pausedId)).statusCode, 409);

    const stranger = await newAgent(h, (await diallerSetup(h, { mode: 'Manual' })).client);
    assert.equal((await stranger.request('GET', `/agents/me/dialler/campaigns/${s.campaignId}/callable`)).statusCode, 404);
    assert.equal((await reserve(stranger, id)).statusCode, 404);
    assert.equal((await stranger.request('POST', `/agents/me/dialler/contacts/${id}/release`)).statusCode, 404);
    assert.equal((await contactRow(h, id)).state, 'Waiting');
    assert.deepEqual(await callable(agent, s.campaignId), [id]);
  });
});
