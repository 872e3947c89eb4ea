// Spec §8.2: why a contact is not dialled, per contact and per campaign, from the stored state;
// and a contact's dialler history.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { createCampaign } from './fixtures-dialler.ts';
import { forgetCampaignConfig } from '../src/dialler/sql/campaign-config.ts';
import { WHY_NOT_REASONS } from '../src/domain/dialler-schedule.ts';

const MINUTE = 60_000;

async function insertContact(h: Harness, c: TestClient, campaignId: number, cols: Record<string, unknown> = {}): Promise<number> {
  const now = new Date(h.clock.now());
  const row = await h.store.db.insertInto('dialler_contacts').values({
    client_id: c.id, campaign_id: campaignId, name: 'Contact', phone_number1: '0301234567', time_zone: 'Europe/Berlin',
    created_at: now, updated_at: now, ...cols,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

async function setCampaign(h: Harness, id: number, cols: Record<string, unknown>): Promise<void> {
  await h.store.db.updateTable('dialler_campaigns').set(cols).where('id', '=', id).execute();
  forgetCampaignConfig(h.store.db, id);
}

async function newUser(c: TestClient, uid: string): Promise<number> {
  const res = await c.post('/users/create', { UID: uid });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0].ID;
}

async function running(h: Harness, c: TestClient, name: string): Promise<number> {
  const campaign = await createCampaign(c, name);
  await setCampaign(h, campaign.ID, { b_running: true });
  return campaign.ID;
}

const whyNot = async (c: TestClient, id: number, query = '') => {
  const res = await c.get(`/dialler/contacts/${id}/whyNot${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
};

describeStores('dialler why not dialled', (h) => {
  // 2026-06-15 10:00 Berlin, a Monday: the standard windows are open (08:00-12:00).
  const later = (minutes: number) => new Date(h.clock.now() + minutes * MINUTE);

  /** Columns that put a contact of a running campaign in each reason (and Callable). */
  const setups = (agent: number): [string, Record<string, unknown>][] => [
    ['Callable', {}],
    ['Done', { state: 'Done', closed_reason: 'Result' }],
    ['Aborted', { state: 'Aborted', closed_reason: 'IncomingCall' }],
    ['TriesExhausted', { state: 'Aborted', closed_reason: 'TriesExhausted' }],
    ['NoValidNumber', { state: 'Aborted', closed_reason: 'NoNumber' }],
    ['NoValidNumber', { b_phone_number1_invalid: true }],
    ['NoValidNumber', { n_tries_phone_number1: 5, phone_number2: '0307654321', b_phone_number2_invalid: true }],
    ['NeverOpen', { state: 'Aborted', closed_reason: 'NeverOpen' }],
    ['InProgress', { state: 'InProgress', hold_kind: 'Manual', holder_user_id: agent }],
    ['RetryDelay', { due_rank: 3, dt_next_try: later(30), n_tries_day: 1, tries_day: '2026-06-15' }],
    ['RetryDelay', { due_rank: 3, dt_next_try: later(30), n_tries_day: 3, tries_day: '2026-06-14' }],
    ['DailyCap', { due_rank: 3, dt_next_try: later(24 * 60), n_tries_day: 3, tries_day: '2026-06-15' }],
    ['DelayPending', { due_rank: 2, dt_next_try: later(90) }],
    ['AppointmentPending', { due_rank: 1, dt_next_try: later(120) }],
    ['WindowClosed', { time_zone: 'America/New_York' }],
    ['Callable', { due_rank: 3, dt_next_try: later(-5) }],
    ['Callable', { due_rank: 1, dt_next_try: later(-5), bound_user_id: agent }],
  ];

  it('answers every reason from the columns, and the campaign counts agree with the contacts on a mixed campaign', async () => {
    const c = await h.newClient();
    const agent = await newUser(c, 'why-agent');
    const campaignId = await running(h, c, 'Mixed');
    const contacts: [string, number][] = [];
    for (const [reason, cols] of setups(agent)) contacts.push([reason, await insertContact(h, c, campaignId, cols)]);

    const expected: Record<string, number> = Object.fromEntries(['Callable', ...WHY_NOT_REASONS].map((r) => [r, 0]));
    for (const [reason, id] of contacts) {
      const answer = await whyNot(c, id);
      assert.deepEqual(Object.keys(answer), ['DiallerContactsID', 'bCallable', 'Reason', 'dtCallableFrom', 'TimeZone', 'dtCallableFromClient', 'DoNotCall']);
      assert.equal(answer.Reason ?? 'Callable', reason, `contact ${id}: ${JSON.stringify(answer)}`);
      assert.equal(answer.bCallable, reason === 'Callable');
      expected[answer.Reason ?? 'Callable']++;
    }
    const res = await c.get(`/dialler/campaigns/campaign/${campaignId}/whyNot`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      records: [{
        DiallerCampaignsID: campaignId, Total: contacts.length,
        ByState: { Waiting: 11, InProgress: 1, Done: 1, Aborted: 4 },
        ByReason: expected,
      }],
      count: 1, status: 200,
    });
  });

  it('says from when, in the contact\'s zone and the client\'s', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    const campaignId = await running(h, c, 'When');
    const retry = await insertContact(h, c, campaignId, { due_rank: 3, dt_next_try: later(30) });
    assert.deepEqual(await whyNot(c, retry), {
      DiallerContactsID: retry, bCallable: false, Reason: 'RetryDelay', dtCallableFrom: '2026-06-15T10:30:00.000', TimeZone: 'Europe/Berlin',
      dtCallableFromClient: '2026-06-15T04:30:00.000', DoNotCall: [],
    });
    // 04:00 in New York: the window opens at 08:00 there.
    const early = await insertContact(h, c, campaignId, { time_zone: 'America/New_York' });
    assert.deepEqual(await whyNot(c, early), {
      DiallerContactsID: early, bCallable: false, Reason: 'WindowClosed', dtCallableFrom: '2026-06-15T08:00:00.000', TimeZone: 'America/New_York',
      dtCallableFromClient: '2026-06-15T08:00:00.000', DoNotCall: [],
    });
    // Due at 12:10 Berlin, after the morning window: callable when the afternoon one opens.
    const lunch = await insertContact(h, c, campaignId, { due_rank: 2, dt_next_try: later(130) });
    assert.equal((await whyNot(c, lunch)).dtCallableFrom, '2026-06-15T13:00:00.000');
    const callable = await whyNot(c, await insertContact(h, c, campaignId));
    assert.deepEqual([callable.bCallable, callable.Reason, callable.dtCallableFrom], [true, null, '2026-06-15T10:00:00.000']);
    const closed = await whyNot(c, await insertContact(h, c, campaignId, { state: 'Done', closed_reason: 'Result' }));
    assert.deepEqual([closed.Reason, closed.dtCallableFrom, closed.dtCallableFromClient], ['Done', null, null]);
  });

  it('answers the campaign-wide reasons: paused, ended, restricted period', async () => {
    const c = await h.newClient();
    const paused = (await createCampaign(c, 'Paused')).ID;
    const ended = await running(h, c, 'Ended');
    await setCampaign(h, ended, { dt_to: later(-1) });
    const restricted = await running(h, c, 'Restricted');
    await h.store.db.insertInto('dialler_restricted_periods').values({ campaign_id: restricted, date_from: '2026-06-15', date_to: '2026-06-16' }).execute();
    forgetCampaignConfig(h.store.db, restricted);
    for (const [campaignId, reason] of [[paused, 'CampaignPaused'], [ended, 'CampaignEnded'], [restricted, 'RestrictedPeriod']] as const) {
      const id = await insertContact(h, c, campaignId);
      await insertContact(h, c, campaignId, { state: 'Done', closed_reason: 'Result' });
      assert.equal((await whyNot(c, id)).Reason, reason);
      const counts = (await c.get(`/dialler/campaigns/campaign/${campaignId}/whyNot`)).json().records[0];
      assert.equal(counts.ByReason[reason], 1, reason);
      assert.equal(counts.ByReason.Done, 1);
      assert.equal(counts.Total, 2);
    }
    // Restricted through Tuesday; the next window after that is Saturday's (Monday and Saturday only).
    assert.equal((await whyNot(c, await insertContact(h, c, restricted))).dtCallableFrom, '2026-06-20T10:00:00.000');
  });

  it('asked for an agent, a contact bound to another is not callable for them until its fallback', async () => {
    const c = await h.newClient();
    const [owner, someone] = [await newUser(c, 'owner'), await newUser(c, 'someone')];
    const campaignId = await running(h, c, 'Bound');
    const id = await insertContact(h, c, campaignId, { due_rank: 2, dt_next_try: later(-1), bound_user_id: owner, bound_until: later(60) });
    assert.equal((await whyNot(c, id, `?UsersID=${owner}`)).bCallable, true);
    assert.equal((await whyNot(c, id)).bCallable, true);
    const forOther = await whyNot(c, id, `?UsersID=${someone}`);
    assert.deepEqual([forOther.bCallable, forOther.Reason, forOther.dtCallableFrom], [false, 'BoundToOtherAgent', '2026-06-15T11:00:00.000']);
  });

  it('shows the numbers on the do-not-call list; the campaign counts leave the list to the hand-out', async () => {
    const c = await h.newClient();
    const campaignId = await running(h, c, 'Blocked');
    await c.post('/dialler/doNotCall/create', { Number: '030', bPrefix: true });
    const all = await insertContact(h, c, campaignId, { phone_number1: '0301234567', phone_number2: '0307654321' });
    const some = await insertContact(h, c, campaignId, { phone_number1: '0301234567', phone_number2: '0891234567' });
    assert.deepEqual(await whyNot(c, all).then((a) => [a.Reason, a.DoNotCall]), ['NoValidNumber', ['0301234567', '0307654321']]);
    assert.deepEqual(await whyNot(c, some).then((a) => [a.bCallable, a.DoNotCall]), [true, ['0301234567']]);
    const counts = (await c.get(`/dialler/campaigns/campaign/${campaignId}/whyNot`)).json().records[0];
    assert.equal(counts.ByReason.Callable, 2);
  });

  it('keeps each client to its own contacts, campaigns and users', async () => {
    const c = await h.newClient();
    const other = await h.newClient();
    const campaignId = await running(h, c, 'Mine');
    const id = await insertContact(h, c, campaignId);
    const theirUser = await newUser(other, 'theirs');
    const CONTACT = { status: 404, error: 'Dialler contact not found' };
    assert.deepEqual((await other.get(`/dialler/contacts/${id}/whyNot`)).json(), CONTACT);
    assert.deepEqual((await other.get(`/dialler/contacts/${id}/history`)).json(), CONTACT);
    assert.deepEqual((await other.get(`/dialler/campaigns/campaign/${campaignId}/whyNot`)).json(), { status: 404, error: 'Dialler campaign not found' });
    assert.equal((await c.get(`/dialler/contacts/${id}/whyNot?UsersID=${theirUser}`)).statusCode, 404);
    assert.deepEqual((await c.get('/dialler/contacts/2147483647/whyNot')).json(), CONTACT);
    assert.deepEqual((await c.get('/dialler/contacts/2147483647/history')).json(), CONTACT);
  });

  it('answers a contact\'s history in order, times in the client zone', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    const agent = await newUser(c, 'history-agent');
    const campaignId = await running(h, c, 'History');
    const id = await insertContact(h, c, campaignId, { phone_number2: '+49301234567' });
    assert.deepEqual((await c.get(`/dialler/contacts/${id}/history`)).json(), { records: [], count: 0, status: 200 });
    await sql`INSERT INTO dialler_contact_history (client_id, campaign_id, contact_id, attempt_id, change, state, user_id, phone_index,
        phone_number, cause, result_code_id, appointment_at, comment, actor, reason, created_at)
      VALUES (${c.id}, ${campaignId}, ${id}, 7, 'Result', 'Waiting', ${agent}, 0, '0301234567', 2, NULL, ${later(60)}, 'no one there',
        ${`agent ${agent}`}, NULL, ${later(-10)})`.execute(h.store.db);
    await c.post('/dialler/incomingCall', { CallerID: '0301234567' });
    const res = await c.get(`/dialler/contacts/${id}/history`);
    assert.equal(res.statusCode, 200, res.body);
    const records = res.json().records;
    assert.equal(res.json().count, 2);
    assert.deepEqual(records[0], {
      ID: records[0].ID, DiallerContactsID: id, DiallerCampaignsID: campaignId, AttemptID: '7', Change: 'Result', State: 'Waiting',
      UsersID: agent, PhoneIndex: 1, PhoneNumber: '0301234567', SystemCause: 'NoAnswer', ResultCodesID: null,
      dtAppointment: '2026-06-15T05:00:00.000', Comment: 'no one there', Actor: `agent ${agent}`, Reason: null, dtCreated: '2026-06-15T03:50:00.000',
    });
    assert.deepEqual([records[1].Change, records[1].State, records[1].PhoneIndex, records[1].PhoneNumber, records[1].SystemCause, records[1].dtCreated],
      ['IncomingCall', 'Done', 1, '0301234567', null, '2026-06-15T04:00:00.000']);
    assert.ok(records[1].ID > records[0].ID);
  });
});
