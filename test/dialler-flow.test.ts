// The agent's dialler flow end to end: login to a campaign, the engine's hand-out in jtel order,
// the preview countdown, the attempt's start and result, and what each result schedules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores } from './helper.ts';
import {
  blockNumber, contactChanges, contactRow, diallerAgent, diallerSetup, heldBy, insertContact,
} from './fixtures-dialler-engine.ts';
import { HEAD_TTL_MS } from '../src/dialler/hopper.ts';

const MINUTE = 60_000;

describeStores('dialler: preview flow', (h) => {
  test('an agent logged in to a running preview campaign is handed the next contact, starts the call on a number and posts the result', async () => {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 30 });
    const contact = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    const [held] = (await heldBy(agent)).Contacts;
    assert.equal(held.DiallerContactsID, contact);
    assert.equal(held.HoldKind, 'Preview');
    assert.equal(held.bStarted, false);
    assert.equal(held.PhoneIndex, 1);
    assert.equal(held.dtPreviewEnds, '2026-06-15T10:00:30.000');

    const start = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/start`, { PhoneIndex: 2 });
    assert.equal(start.statusCode, 200, start.body);
    assert.deepEqual(start.json().records[0], { AttemptID: held.AttemptID, PhoneIndex: 2, PhoneNumber: '+4930222' });

    const result = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE', Comment: 'sold' });
    assert.equal(result.statusCode, 200, result.body);
    assert.equal(result.json().records[0].bRepeated, false);
    const row = await contactRow(h, contact);
    assert.equal(row.state, 'Done');
    assert.equal(row.result_export_key, 'DONE');
    assert.equal(row.n_tries_phone_number2, 1);
    assert.equal(row.n_tries_phone_number1, 0);
    assert.equal((await heldBy(agent)).Contacts.length, 0);
    assert.deepEqual((await contactChanges(h, contact)).map((c) => c.change), ['HandedOut', 'AttemptStarted', 'Result']);
  });

  test('the same result for the same attempt again changes nothing; a result for an attempt the contact never had is 409', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const contact = await insertContact(h, s, { phones: ['+4930111'] });
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    const [held] = (await heldBy(agent)).Contacts;
    assert.equal(held.bStarted, true, 'progressive: no preview step');
    const body = { AttemptID: held.AttemptID, SystemCause: 'Busy' };
    const first = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, body);
    assert.equal(first.statusCode, 200, first.body);
    const before = await contactRow(h, contact);
    const again = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, body);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().records[0].bRepeated, true);
    assert.deepEqual(await contactRow(h, contact), before);
    const other = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, { AttemptID: '999999', SystemCause: 'Busy' });
    assert.equal(other.statusCode, 409, other.body);
  });

  test('jtel order: due appointments, then delays, then retries, then never-tried contacts; ties by due time, then priority', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const now = h.clock.now();
    const fresh = await insertContact(h, s, { name: 'new', priority: 9 });
    const retry = await insertContact(h, s, { name: 'retry', dueRank: 3, nextTry: new Date(now - 5 * MINUTE), tries: 1 });
    const delayLater = await insertContact(h, s, { name: 'delay later', dueRank: 2, nextTry: new Date(now - MINUTE) });
    const delayEarlier = await insertContact(h, s, { name: 'delay earlier', dueRank: 2, nextTry: new Date(now - 2 * MINUTE) });
    const appointment = await insertContact(h, s, { name: 'appointment', dueRank: 1, nextTry: new Date(now - MINUTE) });
    await insertContact(h, s, { name: 'appointment not due', dueRank: 1, nextTry: new Date(now + MINUTE) });
    const agent = await diallerAgent(h, s);
    const order: number[] = [];
    for (let i = 0; i < 5; i++) {
      await h.app.dialler.runPass();
      const [held] = (await heldBy(agent)).Contacts;
      assert.ok(held, `hand-out ${i + 1}`);
      order.push(held.DiallerContactsID);
      const res = await agent.request('POST', `/agents/me/dialler/contacts/${held.DiallerContactsID}/result`, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
      assert.equal(res.statusCode, 200, res.body);
    }
    assert.deepEqual(order, [appointment, delayEarlier, delayLater, retry, fresh]);
    await h.app.dialler.runPass();
    assert.equal((await heldBy(agent)).Contacts.length, 0, 'the appointment not yet due waits');
  });

  test('agents freed together are served in one batch: each gets its own next contact in jtel order, an agent\'s own before everyone\'s; one whose contact is closed for want of a number is served after the others', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const now = h.clock.now();
    const agents = [await diallerAgent(h, s), await diallerAgent(h, s), await diallerAgent(h, s)].sort((a, b) => a.userId - b.userId);
    const [first, second, third] = agents as [typeof agents[0], typeof agents[0], typeof agents[0]];
    const appointment = await insertContact(h, s, { name: 'appointment', dueRank: 1, nextTry: new Date(now - 2 * MINUTE) });
    const delay = await insertContact(h, s, { name: 'delay', dueRank: 2, nextTry: new Date(now - MINUTE) });
    const fresh = await insertContact(h, s, { name: 'new', priority: 9 });
    // The third agent's own retry series (jtel step 5) comes before everyone's new contacts for them.
    const ownRetry = await insertContact(h, s, { name: 'own retry', dueRank: 3, nextTry: new Date(now - MINUTE), lastUserId: third.userId, tries: 1 });
    const held = async (agent: typeof first) => (await heldBy(agent)).Contacts;
    const serve = async () => {
      assert.equal((await h.app.dialler.runPass()).handedOut, 3);
      return [await held(first), await held(second), await held(third)].map((c) => c.map((x) => x.DiallerContactsID));
    };
    assert.deepEqual(await serve(), [[appointment], [delay], [ownRetry]]);
    assert.equal((await contactRow(h, fresh)).state, 'Waiting');
    assert.equal((await h.app.dialler.runPass()).handedOut, 0, 'each holds one contact: nothing more for anybody');
    // The results come when the campaign's head (read at the pass) is too old to hand out the
    // next contacts with them (dialler-result-hand-out.test.ts): the engine's batch serves them.
    h.clock.advance(HEAD_TTL_MS + 1);
    try {
      for (const agent of agents) {
        const [c] = await held(agent);
        assert.equal((await agent.request('POST', `/agents/me/dialler/contacts/${c!.DiallerContactsID}/result`, { AttemptID: c!.AttemptID, ResultCodesExportKey: 'DONE' })).statusCode, 200);
        assert.deepEqual(await held(agent), [], 'nothing with the result');
      }
      // The first agent's best is a contact whose only number is on the do-not-call list: it is
      // closed on the way, and that agent takes the best left once the others have theirs (as if
      // served after them).
      await blockNumber(h, s.client.id, '+4930999');
      const blocked = await insertContact(h, s, { name: 'blocked', dueRank: 1, nextTry: new Date(now - 3 * MINUTE), phones: ['+4930999'] });
      const middle = await insertContact(h, s, { name: 'new, priority 5', priority: 5 });
      const last = await insertContact(h, s, { name: 'new, priority 1', priority: 1 });
      assert.deepEqual(await serve(), [[last], [fresh], [middle]]);
      assert.equal((await contactRow(h, blocked)).state, 'Aborted');
    } finally {
      h.clock.advance(-HEAD_TTL_MS - 1);
    }
  });

  test('the preview countdown running out starts the call on the proposed number', async () => {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 10 });
    const contact = await insertContact(h, s);
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    h.clock.advance(10_000);
    try {
      await h.app.dialler.runPass();
      const [held] = (await heldBy(agent)).Contacts;
      assert.equal(held.bStarted, true);
      assert.equal(held.dtPreviewEnds, null);
      const changes = await contactChanges(h, contact);
      assert.deepEqual(changes.map((c) => [c.change, c.reason]), [['HandedOut', 'preview for 10 s'], ['AttemptStarted', 'preview time over']]);
    } finally {
      h.clock.advance(-10_000);
    }
  });

  test('no conversation: the retry comes after the cause\'s delay on the next number, and the agent is free at once', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const contact = await insertContact(h, s, { phones: ['+4930111', null, '+4930333'] });
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    const [held] = (await heldBy(agent)).Contacts;
    const res = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, { AttemptID: held.AttemptID, SystemCause: 'NoAnswer' });
    assert.equal(res.statusCode, 200, res.body);
    const row = await contactRow(h, contact);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.due_rank, 3);
    assert.equal(row.next_phone_index, 2);
    assert.equal(new Date(row.dt_next_try).getTime(), h.clock.now() + 30 * MINUTE);
    assert.equal(row.n_tries, 1);
    assert.equal(row.last_user_id, agent.userId);
    await h.app.dialler.runPass();
    assert.equal((await heldBy(agent)).Contacts.length, 0, 'not due yet');
  });

  test('skip returns the contact to the queue, behind the retry delay for Other, and records it', async () => {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 60 });
    const contact = await insertContact(h, s);
    const agent = await diallerAgent(h, s);
    await h.app.dialler.runPass();
    const res = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/skip`);
    assert.equal(res.statusCode, 200, res.body);
    const row = await contactRow(h, contact);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.n_tries, 0, 'a skip is no try');
    assert.equal(new Date(row.dt_next_try).getTime(), h.clock.now() + 15 * MINUTE);
    assert.equal(row.holder_user_id, null);
  });

  test('a paused campaign hands out nothing; a contact outside its window waits', async () => {
    const paused = await diallerSetup(h, { mode: 'Progressive', running: false });
    await insertContact(h, paused);
    const a1 = await diallerAgent(h, paused);
    const closed = await diallerSetup(h, { mode: 'Progressive' });
    await insertContact(h, closed, { zone: 'America/Los_Angeles' }); // 01:00 there on Monday: standard windows closed
    const a2 = await diallerAgent(h, closed);
    await h.app.dialler.runPass();
    assert.equal((await heldBy(a1)).Contacts.length, 0);
    assert.equal((await heldBy(a2)).Contacts.length, 0);
  });

  test('an agent with dialler work gets no ACD offer, and one with an ACD event gets no contact', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const contact = await insertContact(h, s);
    const agent = await diallerAgent(h, s);
    for (const path of ['/agents/me/acd/login', `/agents/me/groups/${s.groupId}/login`]) {
      const res = await agent.request('POST', path);
      assert.equal(res.statusCode, 200, res.body);
    }
    await h.app.dialler.runPass();
    const [held] = (await heldBy(agent)).Contacts;
    assert.equal(held.DiallerContactsID, contact);
    const created = await s.client.post('/acd/events/create', { AcdEventTypesID: 1, AcdGroupsID: s.groupId, Sender: '+4930999', Subject: 'Voicemail' });
    assert.equal(created.statusCode, 200, created.body);
    const eventId = created.json().records[0].ID;
    const statusOf = async () => (await h.store.db.selectFrom('acd_events').select(['status_id', 'agent_id']).where('id', '=', eventId).executeTakeFirstOrThrow());
    await h.app.distributor.runPass();
    assert.equal((await statusOf()).status_id, 4, 'waits in the queue while the agent is on a dialler contact');

    const res = await agent.request('POST', `/agents/me/dialler/contacts/${contact}/result`, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(res.statusCode, 200, res.body);
    await insertContact(h, s);
    await h.app.distributor.runPass();
    assert.deepEqual(await statusOf(), { status_id: 10, agent_id: agent.userId }, 'offered once the contact is done');
    await h.app.dialler.runPass();
    assert.equal((await heldBy(agent)).Contacts.length, 0, 'no contact while an ACD event is offered to the agent');
  });

  test('login needs the campaign to name a group the agent is a member of', async () => {
    const s = await diallerSetup(h, { mode: 'Preview' });
    const { newAgent } = await import('./fixtures-agents.ts');
    const outsider = await newAgent(h, s.client);
    const res = await outsider.request('POST', `/agents/me/dialler/campaigns/${s.campaignId}/login`);
    assert.equal(res.statusCode, 409, res.body);
    const other = await h.newClient();
    const foreign = await diallerSetup(h, {});
    const alien = await newAgent(h, other);
    const notFound = await alien.request('POST', `/agents/me/dialler/campaigns/${foreign.campaignId}/login`);
    assert.equal(notFound.statusCode, 404, notFound.body);
  });
});
