// An agent's result hands out their next contact in its own transaction, from the campaign's head
// (src/dialler/hopper.ts) and the agent's own contacts, when that is what the engine would give
// them: everything is checked again under the locks, and whatever the head cannot judge is left
// to the engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores, type Harness } from './helper.ts';
import {
  agentResult, atTime, blockNumber, contactChanges, contactRow, diallerAgent, diallerSetup, heldBy, insertContact, joinCampaign,
  secondCampaign, type DiallerSetup,
} from './fixtures-dialler-engine.ts';
import { campaignConfigs, forgetCampaignConfig } from '../src/dialler/sql/campaign-config.ts';
import { HEAD_TTL_MS, refill } from '../src/dialler/hopper.ts';
import { lockContact } from '../src/dialler/sql/contact-state.ts';
import { GENERIC_PLANS } from '../src/dialler/sql/hand-out.ts';
import { sql } from 'kysely';

const MINUTE = 60_000;
type Agent = Awaited<ReturnType<typeof diallerAgent>>;

/** The campaign's head read now (as the engine reads it after a pass, or when a result asks). */
async function readHead(h: Harness, s: DiallerSetup): Promise<void> {
  forgetCampaignConfig(h.store.db, s.campaignId);
  const config = (await campaignConfigs(h.store.db, [s.campaignId])).get(s.campaignId)!;
  await refill(h.store.db, config, h.clock.now());
}

/** A contact put in the agent's hands by a pass (`s`: one inserted first for it). */
async function firstContact(h: Harness, agent: Agent, s?: DiallerSetup) {
  if (s) await insertContact(h, s, { name: 'in hand' });
  await h.app.dialler.runPass();
  const [held] = (await heldBy(agent)).Contacts;
  assert.ok(held, 'a contact for the agent');
  return held;
}

/**
 * Posts DONE for what the agent holds; answers what they hold right after (nothing run in
 * between), which the result's answer names as `Next`.
 */
async function doneAndNext(agent: Agent, held: { DiallerContactsID: number; AttemptID: string }) {
  const res = await agentResult(agent, held.DiallerContactsID, { AttemptID: held.AttemptID, ResultCodesExportKey: 'DONE' });
  assert.equal(res.statusCode, 200, res.body);
  const contacts = (await heldBy(agent)).Contacts;
  const next = res.json().records[0].Next as Record<string, unknown> | null;
  const inHand = contacts[0] && Object.fromEntries(Object.keys(next ?? {}).map((key) => [key, (contacts[0] as Record<string, unknown>)[key]]));
  assert.deepEqual(next, inHand ?? null, 'the answer\'s Next is the contact now in hand');
  return contacts;
}

async function dialler_held(h: Harness, agent: Agent): Promise<number> {
  return (await h.store.db.selectFrom('agent_states').select('dialler_held').where('user_id', '=', agent.userId).executeTakeFirstOrThrow()).dialler_held;
}

describeStores('dialler: the next contact with the result', (h) => {
  test('a result hands out the agent\'s next contact in jtel order, in its own transaction: their own retry first, then the head\'s best', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const now = h.clock.now();
    const agent = await diallerAgent(h, s);
    const first = await insertContact(h, s, { name: 'first', priority: 20 });
    const high = await insertContact(h, s, { name: 'priority 9', priority: 9 });
    const low = await insertContact(h, s, { name: 'priority 1', priority: 1 });
    const ownRetry = await insertContact(h, s, { name: 'own retry', dueRank: 3, nextTry: new Date(now - MINUTE), lastUserId: agent.userId, tries: 1 });
    const held = await firstContact(h, agent);
    assert.equal(held.DiallerContactsID, ownRetry, 'jtel step 5 before everyone\'s new contacts');
    await readHead(h, s);
    let next = await doneAndNext(agent, held);
    assert.deepEqual(next.map((c) => c.DiallerContactsID), [first]);
    assert.equal(next[0]!.bStarted, true, 'progressive: started at hand-out');
    assert.equal(await dialler_held(h, agent), 1, 'one contact left the agent\'s hands as the next arrived');
    assert.deepEqual((await contactChanges(h, first)).map((c) => [c.change, c.user_id]), [['HandedOut', agent.userId], ['AttemptStarted', agent.userId]]);
    // Not in the head, read before it came: the agent's own retry series, read with the result.
    const ownAgain = await insertContact(h, s, { name: 'own retry again', dueRank: 3, nextTry: new Date(now - MINUTE), lastUserId: agent.userId, tries: 1 });
    next = await doneAndNext(agent, next[0]!);
    assert.deepEqual(next.map((c) => c.DiallerContactsID), [ownAgain], 'jtel step 5 before the head\'s step 8');
    next = await doneAndNext(agent, next[0]!);
    assert.deepEqual(next.map((c) => c.DiallerContactsID), [high]);
    next = await doneAndNext(agent, next[0]!);
    assert.deepEqual(next.map((c) => c.DiallerContactsID), [low]);
    assert.deepEqual(await doneAndNext(agent, next[0]!), [], 'nothing left');
    assert.equal(await dialler_held(h, agent), 0);
    assert.equal((await h.app.dialler.runPass()).handedOut, 0);
  });

  test('a contact of the head that left the queue meanwhile is passed over, one whose only number is now on the do-not-call list is closed', async () => {
    const s = await diallerSetup(h, { mode: 'Preview', previewSeconds: 30 });
    const agent = await diallerAgent(h, s);
    const held = await firstContact(h, agent, s);
    const moved = await insertContact(h, s, { name: 'moved back', priority: 9 });
    const blocked = await insertContact(h, s, { name: 'blocked', priority: 8, phones: ['+4930999'] });
    const next = await insertContact(h, s, { name: 'next', priority: 7 });
    await readHead(h, s);
    await h.store.db.updateTable('dialler_contacts').set({ dt_next_try: new Date(h.clock.now() + MINUTE), due_rank: 2 }).where('id', '=', moved).execute();
    await blockNumber(h, s.client.id, '+4930999');
    const after = await doneAndNext(agent, held);
    assert.deepEqual(after, [], 'the blocked contact was the best left: closed, and the engine serves the agent');
    assert.equal((await contactRow(h, blocked)).state, 'Aborted');
    assert.equal((await contactRow(h, moved)).state, 'Waiting');
    await h.app.dialler.runPass();
    const [served] = (await heldBy(agent)).Contacts;
    assert.equal(served!.DiallerContactsID, next);
    assert.equal(served!.HoldKind, 'Preview');
    assert.equal(served!.bStarted, false);
  });

  test('never a contact outside its window: a zone that closed since the head was read is passed over', async () => {
    const windows = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, from: '08:00', to: '10:00' }));
    const s = await diallerSetup(h, { mode: 'Progressive', windows });
    const agent = await diallerAgent(h, s);
    // 09:59:59.900 in Berlin, 08:59:59.900 in London: both open until 10:00 local.
    await atTime(h, '2026-06-15T07:59:59.900Z', async () => {
      const held = await firstContact(h, agent, s);
      const berlin = await insertContact(h, s, { name: 'Berlin', priority: 9 });
      const london = await insertContact(h, s, { name: 'London', priority: 1, zone: 'Europe/London' });
      await readHead(h, s);
      h.clock.advance(HEAD_TTL_MS - 50);
      // 10:00:00.100 in Berlin: closed; the head is still fresh.
      const next = await doneAndNext(agent, held);
      assert.deepEqual(next.map((c) => c.DiallerContactsID), [london]);
      assert.equal((await contactRow(h, berlin)).state, 'Waiting');
    });
  });

  test('nothing with the result when the head is older than its time to live, and the engine serves the agent as before', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const agent = await diallerAgent(h, s);
    const held = await firstContact(h, agent, s);
    const other = await insertContact(h, s);
    await readHead(h, s);
    h.clock.advance(HEAD_TTL_MS + 1);
    try {
      assert.deepEqual(await doneAndNext(agent, held), []);
      await h.app.dialler.runPass();
      assert.deepEqual((await heldBy(agent)).Contacts.map((c) => c.DiallerContactsID), [other]);
    } finally {
      h.clock.advance(-HEAD_TTL_MS - 1);
    }
  });

  test('nothing with the result for a blended agent while an ACD event waits in their group: the ACD side gets its turn', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const agent = await diallerAgent(h, s);
    for (const path of ['/agents/me/acd/login', `/agents/me/groups/${s.groupId}/login`]) {
      const res = await agent.request('POST', path);
      assert.equal(res.statusCode, 200, res.body);
    }
    const held = await firstContact(h, agent, s);
    await insertContact(h, s);
    const created = await s.client.post('/acd/events/create', { AcdEventTypesID: 1, AcdGroupsID: s.groupId, Sender: '+4930999', Subject: 'Voicemail' });
    assert.equal(created.statusCode, 200, created.body);
    await h.app.distributor.runPass();
    await readHead(h, s);
    assert.deepEqual(await doneAndNext(agent, held), []);
    await h.app.distributor.runPass();
    const event = await h.store.db.selectFrom('acd_events').select(['status_id', 'agent_id']).where('id', '=', created.json().records[0].ID).executeTakeFirstOrThrow();
    assert.deepEqual(event, { status_id: 10, agent_id: agent.userId });
  });

  test('nothing with the result for an agent in two campaigns (the engine weighs them) or in a campaign with a cap on lines', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const agent = await diallerAgent(h, s);
    const second = await secondCampaign(h, s, { mode: 'Progressive' });
    await joinCampaign(agent, second.campaignId);
    const held = await firstContact(h, agent, s);
    await insertContact(h, s);
    await insertContact(h, second);
    await readHead(h, s);
    await readHead(h, second);
    assert.deepEqual(await doneAndNext(agent, held), []);

    const capped = await diallerSetup(h, { mode: 'Progressive', maxParallel: 5 });
    const alone = await diallerAgent(h, capped);
    const first = await firstContact(h, alone, capped);
    await insertContact(h, capped);
    await readHead(h, capped);
    assert.deepEqual(await doneAndNext(alone, first), []);
  });

  test('an own contact of the agent in a zone the head does not know leaves the agent to the engine', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive', windows: [] });
    const agent = await diallerAgent(h, s);
    const held = await firstContact(h, agent, s);
    await insertContact(h, s, { name: 'everyone\'s', priority: 9 });
    await readHead(h, s);
    const appointment = await insertContact(h, s, { name: 'own appointment', dueRank: 1, nextTry: new Date(h.clock.now() - MINUTE), boundUserId: agent.userId, zone: 'Asia/Tokyo' });
    assert.deepEqual(await doneAndNext(agent, held), []);
    await h.app.dialler.runPass();
    assert.deepEqual((await heldBy(agent)).Contacts.map((c) => c.DiallerContactsID), [appointment], 'jtel step 1 first');
  });

  test('the result\'s first statement sets generic plans for its transaction, whether or not the contact is there', async () => {
    const s = await diallerSetup(h, { mode: 'Progressive' });
    const contact = await insertContact(h, s);
    for (const id of [contact, 999_999_999]) {
      const mode = await h.store.db.transaction().execute(async (trx) => {
        await lockContact(trx, s.client.id, id, GENERIC_PLANS);
        return (await sql<{ plan_cache_mode: string }>`SELECT current_setting('plan_cache_mode') AS plan_cache_mode`.execute(trx)).rows[0]!.plan_cache_mode;
      });
      assert.equal(mode, 'force_generic_plan', `contact ${id}`);
    }
    const after = await sql<{ mode: string }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(h.store.db);
    assert.equal(after.rows[0]!.mode, 'auto', 'for that transaction only');
  });
});
