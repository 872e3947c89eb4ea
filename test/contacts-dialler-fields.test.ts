// Spec §8.1/§8.2: a contact's dialler fields (jtel names where jtel has the meaning), the import's
// TimeZone, Priority and ReservedUsersUID, and what an overwrite does to the dialler state.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { createCampaign, importContact } from './fixtures-dialler.ts';
import { createUser } from './fixtures-groups.ts';

type Contact = Record<string, any>;

async function imported(c: TestClient, body: Record<string, unknown>, query = ''): Promise<Contact> {
  const res = await c.post(`/dialler/contacts/import${query}`, body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
}

/** What the dialler would have left on a contact after some work (the engine is not part of this suite). */
async function workedOn(h: Harness, id: number, state: 'Waiting' | 'InProgress' | 'Done' = 'Waiting', userId: number | null = null): Promise<void> {
  await h.store.db.updateTable('dialler_contacts').set({
    n_tries_phone_number1: 2, n_phone_number1_last_cause: 1, n_tries_phone_number2: 1, n_phone_number2_last_cause: 4, b_phone_number2_invalid: true,
    n_tries: 3, state, due_rank: 2, dt_next_try: new Date(Date.UTC(2026, 5, 15, 12, 30)), follow_up_user_id: userId,
    follow_up_at: new Date(Date.UTC(2026, 5, 16, 7, 0)), bound_user_id: userId, last_user_id: userId, result_export_key: 'LATER',
    holder_user_id: state === 'InProgress' ? userId : null, hold_kind: state === 'InProgress' ? 'Preview' : null,
  }).where('id', '=', id).execute();
}

describeStores('dialler contacts: dialler fields', (h) => {
  it('shows a worked-on contact in jtel names: tries, causes, invalid flags, next try in local time, follow-up UID', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Fields');
    const agent = await createUser(c, { UID: 'agent.one' });
    const contact = await imported(c, { Name: 'A', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '0302222' });
    assert.equal(contact.dtNextTry, null, 'never tried: due at once');
    assert.equal(contact.State, 'Waiting');
    await workedOn(h, contact.ID, 'InProgress', agent.ID);
    const after = (await c.get(`/dialler/contacts/${contact.ID}`)).json().records[0];
    assert.deepEqual(
      [after.nTriesPhoneNumber1, after.nPhoneNumber1LastCause, after.bPhoneNumber1Invalid, after.nTriesPhoneNumber2, after.nPhoneNumber2LastCause, after.bPhoneNumber2Invalid],
      [2, 1, false, 1, 4, true],
    );
    assert.equal(after.nTries, 3);
    assert.equal(after.State, 'InProgress');
    assert.equal(after.HeldByUsersID, agent.ID);
    assert.equal(after.dtNextTry, '2026-06-15T14:30:00.000');
    assert.equal(after.FollowUpUsersUID, 'agent.one');
    assert.equal(after.FollowUpDateTime, '2026-06-16T09:00:00.000');
    assert.equal(after.ResultCodesExportKey, 'LATER');
  });

  it('filters and orders the list by the dialler fields', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Filters');
    const other = await createCampaign(c, 'Other');
    const agent = await createUser(c, { UID: 'res.agent' });
    const low = await imported(c, { Name: 'Low', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', Priority: -5 });
    const high = await imported(c, { Name: 'High', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301112', Priority: 900, ReservedUsersUID: 'res.agent' });
    const done = await imported(c, { Name: 'Done', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301113' });
    await imported(c, { Name: 'Elsewhere', DiallerCampaignsID: other.ID, PhoneNumber1: '0301114' });
    await workedOn(h, done.ID, 'Done', agent.ID);
    const names = async (query: string) => (await c.get(`/dialler/contacts?${query}`)).json().records.map((r: Contact) => r.Name);
    assert.deepEqual(await names(`State=Waiting&diallerCampaignsID=${campaign.ID}&orderBy=Priority&ascending=false`), ['High', 'Low']);
    assert.deepEqual(await names('ReservedUsersUID=res.agent'), ['High']);
    assert.deepEqual(await names('State=Done'), ['Done']);
    assert.deepEqual(await names(`diallerCampaignsID=${campaign.ID}&orderBy=dtNextTry`), ['Done', 'Low', 'High'], 'due at once (null) sorts last ascending, like any null');
    assert.deepEqual(await names('bPhoneNumber2Invalid=true'), ['Done']);
    assert.deepEqual(await names('nTriesPhoneNumber1=2&FollowUpUsersUID=res.agent'), ['Done']);
    assert.equal((await c.get('/dialler/contacts?State=Waiting&nTries=abc')).statusCode, 400);
    assert.equal(low.Priority, -5);
    assert.equal(high.ReservedUsersUID, 'res.agent');
  });

  it('resolves the zone: the contact\'s own, else its first number\'s country\'s, else the campaign\'s, else the client\'s', async () => {
    const c = await h.newClient({ TimeZone: 'Europe/London' });
    const campaign = await createCampaign(c, 'Zones');
    const own = await imported(c, { Name: 'Own', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', TimeZone: 'America/Chicago' });
    assert.deepEqual([own.TimeZone, own.TimeZoneSource], ['America/Chicago', 'Contact']);
    const country = await imported(c, { Name: 'Country', DiallerCampaignsID: campaign.ID, PhoneNumber2: '+43 1 234567', PhoneNumber3: '+1 212 5550100' });
    assert.deepEqual([country.TimeZone, country.TimeZoneSource], ['Europe/Vienna', 'Country']);
    const fallback = await imported(c, { Name: 'Client', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111' });
    assert.equal(fallback.TimeZone, 'Europe/London');
    await h.store.db.updateTable('dialler_campaigns').set({ time_zone: 'Asia/Tokyo' }).where('id', '=', campaign.ID).execute();
    const ofCampaign = await imported(c, { Name: 'Campaign', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111' });
    assert.deepEqual([ofCampaign.TimeZone, ofCampaign.TimeZoneSource], ['Asia/Tokyo', 'Campaign']);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['an unknown time zone', { TimeZone: 'Europe/Atlantis' }, 'TimeZone'],
    ['a priority over 1000', { Priority: 1001 }, 'Priority'],
    ['a priority under -1000', { Priority: -1001 }, 'Priority'],
    ['a fractional priority', { Priority: 1.5 }, 'Priority'],
    ['a UID no user of the client has', { ReservedUsersUID: 'nobody' }, 'ReservedUsersUID'],
  ];
  for (const [title, patch, field] of invalid) {
    it(`answers 400 naming the field for ${title}`, async () => {
      const c = await h.newClient();
      const campaign = await createCampaign(c, 'Strict');
      const res = await importContact(c, { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234', ...patch });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field);
      assert.equal((await c.get('/dialler/contacts')).json().count, 0);
    });
  }

  it("refuses another client's user as ReservedUsersUID", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    await createUser(b, { UID: 'b.agent' });
    const campaign = await createCampaign(a, 'Mine');
    const res = await importContact(a, { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234', ReservedUsersUID: 'b.agent' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].field, 'ReservedUsersUID');
  });

  it('imports numbers on the do-not-call list and names their fields in a header', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'DNC');
    await h.store.db.insertInto('dialler_do_not_call').values([
      { client_id: c.id, number: '0302222', b_prefix: false, created_at: new Date() },
      { client_id: c.id, number: '0309', b_prefix: true, created_at: new Date() },
    ]).execute();
    const res = await importContact(c, { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '030-2222', PhoneNumber4: '03099' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['switchboard-do-not-call'], 'PhoneNumber2,PhoneNumber4');
    const clean = await importContact(c, { Name: 'Y', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111' });
    assert.equal(clean.headers['switchboard-do-not-call'], undefined);
  });
});

describeStores('dialler contacts: overwrite and the dialler state', (h) => {
  async function setUp() {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Overwrite');
    const agent = await createUser(c, { UID: `agent-${Math.random()}` });
    const first = await imported(c, { Name: 'Old', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '0302222', UserData: 'K' });
    return { c, campaign, agent, first };
  }

  it('keeps the dialler state without reset, but starts a changed number over', async () => {
    const { c, campaign, agent, first } = await setUp();
    await workedOn(h, first.ID, 'Waiting', agent.ID);
    const after = await imported(c, { Name: 'New', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '0303333', UserData: 'K', Priority: 3 }, '?overwriteDuplicates=true');
    assert.equal(after.ID, first.ID);
    assert.deepEqual([after.Name, after.Priority, after.nTries, after.State, after.dtNextTry], ['New', 3, 3, 'Waiting', '2026-06-15T14:30:00.000']);
    assert.deepEqual([after.nTriesPhoneNumber1, after.nPhoneNumber1LastCause], [2, 1], 'same number: its history stays');
    assert.deepEqual([after.nTriesPhoneNumber2, after.nPhoneNumber2LastCause, after.bPhoneNumber2Invalid], [0, null, false], 'new number: starts over');
    assert.equal(after.FollowUpUsersUID, agent.UID);
  });

  it('with resetDiallerState=true starts the contact over', async () => {
    const { c, campaign, agent, first } = await setUp();
    await workedOn(h, first.ID, 'Done', agent.ID);
    const after = await imported(c, { Name: 'Again', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', UserData: 'K' }, '?overwriteDuplicates=true&resetDiallerState=true');
    assert.equal(after.ID, first.ID);
    assert.deepEqual(
      [after.State, after.nTries, after.nTriesPhoneNumber1, after.nPhoneNumber1LastCause, after.bPhoneNumber2Invalid, after.dtNextTry, after.FollowUpUsersUID, after.FollowUpDateTime, after.ResultCodesExportKey, after.ClosedReason],
      ['Waiting', 0, 0, null, false, null, null, null, null, null],
    );
    const row = await h.store.db.selectFrom('dialler_contacts').select(['due_rank', 'bound_user_id', 'last_user_id', sql<boolean>`dt_next_try = '-infinity'`.as('atOnce')])
      .where('id', '=', first.ID).executeTakeFirstOrThrow();
    assert.deepEqual(row, { due_rank: 4, bound_user_id: null, last_user_id: null, atOnce: true });
  });

  it('answers 409 for a reset of a contact in progress and changes nothing', async () => {
    const { c, campaign, agent, first } = await setUp();
    await workedOn(h, first.ID, 'InProgress', agent.ID);
    const before = (await c.get(`/dialler/contacts/${first.ID}`)).json();
    const res = await importContact(c, { Name: 'Again', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0309999', UserData: 'K' }, true);
    assert.equal(res.statusCode, 200, 'without reset an overwrite is allowed');
    await h.store.db.updateTable('dialler_contacts').set({ name: 'Old', phone_number1: '0301111' }).where('id', '=', first.ID).execute();
    const reset = await c.post('/dialler/contacts/import?overwriteDuplicates=true&resetDiallerState=true', { Name: 'Again', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0309999', UserData: 'K' });
    assert.equal(reset.statusCode, 409, reset.body);
    assert.match(reset.json().error, /in progress/);
    const now = (await c.get(`/dialler/contacts/${first.ID}`)).json();
    assert.equal(now.records[0].State, 'InProgress');
    assert.equal(now.records[0].Name, before.records[0].Name);
    assert.equal(now.records[0].PhoneNumber1, '0301111');
  });

  it('ignores resetDiallerState when nothing is overwritten', async () => {
    const { c, campaign } = await setUp();
    const added = await imported(c, { Name: 'Fresh', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', UserData: 'K2' }, '?overwriteDuplicates=true&resetDiallerState=true');
    assert.equal(added.State, 'Waiting');
    const bad = await c.post('/dialler/contacts/import?resetDiallerState=maybe', { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111' });
    assert.equal(bad.json().details[0].field, 'resetDiallerState');
  });
});
