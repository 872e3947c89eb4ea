// Spec §5.3: dialler contacts — list, single, and the one-contact import.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { createCampaign, importContact } from './fixtures-dialler.ts';

const CONTACT_FIELDS = [
  'ID', 'DiallerCampaignsID', 'Name', 'FirstName', 'Email', 'PhoneNumber1', 'PhoneNumber2', 'PhoneNumber3',
  'PhoneNumber4', 'PhoneNumber5', 'PhoneNumber6', 'UserData', 'TimeZone', 'TimeZoneSource', 'Priority', 'State', 'nTries',
  ...[1, 2, 3, 4, 5, 6].map((n) => `nTriesPhoneNumber${n}`), ...[1, 2, 3, 4, 5, 6].map((n) => `nPhoneNumber${n}LastCause`),
  ...[1, 2, 3, 4, 5, 6].map((n) => `bPhoneNumber${n}Invalid`), 'dtNextTry', 'ReservedUsersUID', 'FollowUpUsersUID', 'FollowUpDateTime',
  'ResultCodesID', 'ResultCodesExportKey', 'ClosedReason', 'HeldByUsersID', 'dtCreated', 'dtLastModified',
];
/** What a never-tried contact carries besides its own fields. */
const FRESH_STATE = {
  Priority: 0, State: 'Waiting', nTries: 0,
  ...Object.fromEntries([1, 2, 3, 4, 5, 6].flatMap((n) => [[`nTriesPhoneNumber${n}`, 0], [`nPhoneNumber${n}LastCause`, null], [`bPhoneNumber${n}Invalid`, false]])),
  dtNextTry: null, ReservedUsersUID: null, FollowUpUsersUID: null, FollowUpDateTime: null, ResultCodesID: null, ResultCodesExportKey: null,
  ClosedReason: null, HeldByUsersID: null,
};
const CAMPAIGN_NOT_FOUND = { status: 404, error: 'Dialler campaign not found' };
const CONTACT_NOT_FOUND = { status: 404, error: 'Dialler contact not found' };

describeStores('dialler contacts: import', (h) => {
  it('imports a contact into a campaign by ID and answers it; phone numbers lose their separators', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Import');
    const res = await importContact(c, {
      Name: 'Doe', FirstName: 'Jane', Email: 'jane@example.com', DiallerCampaignsID: campaign.ID,
      PhoneNumber1: '+49 (89) 123-456/7', PhoneNumber3: '089.1234567', UserData: 'CRM-1',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    const contact = body.records[0];
    assert.deepEqual(Object.keys(contact), CONTACT_FIELDS);
    assert.deepEqual(contact, {
      ID: contact.ID, DiallerCampaignsID: campaign.ID, Name: 'Doe', FirstName: 'Jane', Email: 'jane@example.com',
      PhoneNumber1: '+49891234567', PhoneNumber2: null, PhoneNumber3: '0891234567', PhoneNumber4: null, PhoneNumber5: null,
      PhoneNumber6: null, UserData: 'CRM-1', TimeZone: 'Europe/Berlin', TimeZoneSource: contact.TimeZoneSource, ...FRESH_STATE, dtCreated: '2026-06-15T10:00:00.000', dtLastModified: '2026-06-15T10:00:00.000',
    });
    assert.deepEqual((await c.get(`/dialler/contacts/${contact.ID}`)).json(), body);
  });

  it('finds the campaign by exact name; both given must agree', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'By name');
    const other = await createCampaign(c, 'Other');
    const byName = await importContact(c, { Name: 'A', DiallerCampaignsName: 'By name', PhoneNumber2: '0301234' });
    assert.equal(byName.statusCode, 200);
    assert.equal(byName.json().records[0].DiallerCampaignsID, campaign.ID);
    const both = await importContact(c, { Name: 'B', DiallerCampaignsID: campaign.ID, DiallerCampaignsName: 'By name', PhoneNumber1: '0301234' });
    assert.equal(both.statusCode, 200);
    const mismatch = await importContact(c, { Name: 'C', DiallerCampaignsID: other.ID, DiallerCampaignsName: 'By name', PhoneNumber1: '0301234' });
    assert.equal(mismatch.statusCode, 400);
    assert.equal(mismatch.json().details[0].field, 'DiallerCampaignsName');
    for (const name of ['By', 'by name', 'Unknown']) {
      const res = await importContact(c, { Name: 'D', DiallerCampaignsName: name, PhoneNumber1: '0301234' });
      assert.equal(res.statusCode, 404, name);
      assert.deepEqual(res.json(), CAMPAIGN_NOT_FOUND);
    }
    const unknownId = await importContact(c, { Name: 'E', DiallerCampaignsID: 999999, PhoneNumber1: '0301234' });
    assert.deepEqual(unknownId.json(), CAMPAIGN_NOT_FOUND);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['no Name', { PhoneNumber1: '0301234' }, 'Name'],
    ['blank Name', { Name: '  ', PhoneNumber1: '0301234' }, 'Name'],
    ['no campaign', { Name: 'X', PhoneNumber1: '0301234', DiallerCampaignsID: undefined }, 'DiallerCampaignsID'],
    ['no phone number', { Name: 'X' }, 'PhoneNumber1'],
    ['only blank or null phone numbers', { Name: 'X', PhoneNumber1: ' ', PhoneNumber4: null, PhoneNumber6: '' }, 'PhoneNumber1'],
    ['letters in a phone number', { Name: 'X', PhoneNumber1: '0301234', PhoneNumber3: '0800-FLOWERS' }, 'PhoneNumber3'],
    ['a second +', { Name: 'X', PhoneNumber2: '+49+301234' }, 'PhoneNumber2'],
    ['too short a number', { Name: 'X', PhoneNumber1: '12' }, 'PhoneNumber1'],
    ['an international number over 15 digits', { Name: 'X', PhoneNumber1: '+4930123456789012' }, 'PhoneNumber1'],
    ['a phone number as a JSON number', { Name: 'X', PhoneNumber1: 4930123456 }, 'PhoneNumber1'],
    ['a bad e-mail address', { Name: 'X', PhoneNumber1: '0301234', Email: 'jane at example' }, 'Email'],
    ['a string campaign ID', { Name: 'X', PhoneNumber1: '0301234', DiallerCampaignsID: '1' }, 'DiallerCampaignsID'],
    ['an unknown field', { Name: 'X', PhoneNumber1: '0301234', PhoneNumber7: '0301234' }, 'PhoneNumber7'],
  ];
  for (const [title, patch, fieldName] of invalid) {
    it(`answers 400 naming the field for ${title}`, async () => {
      const c = await h.newClient();
      const campaign = await createCampaign(c, 'Strict');
      const res = await importContact(c, { DiallerCampaignsID: campaign.ID, ...patch });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, fieldName, res.body);
      assert.equal((await c.get('/dialler/contacts')).json().count, 0);
    });
  }

  it('with overwriteDuplicates=true replaces the contact of the same campaign with the same UserData', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Overwrite');
    const first = (await importContact(c, {
      Name: 'Old', FirstName: 'Jane', Email: 'old@example.com', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '0302222', UserData: 'K-1',
    })).json().records[0];
    h.clock.advance(3_600_000);
    const res = await importContact(c, { Name: 'New', DiallerCampaignsID: campaign.ID, PhoneNumber3: '0303333', UserData: 'K-1' }, true);
    assert.equal(res.statusCode, 200);
    const replaced = res.json().records[0];
    assert.equal(replaced.ID, first.ID);
    assert.deepEqual(
      [replaced.Name, replaced.FirstName, replaced.Email, replaced.PhoneNumber1, replaced.PhoneNumber2, replaced.PhoneNumber3],
      ['New', null, null, null, null, '0303333'],
    );
    assert.equal(replaced.dtCreated, '2026-06-15T10:00:00.000');
    assert.equal(replaced.dtLastModified, '2026-06-15T11:00:00.000');
    assert.equal((await c.get('/dialler/contacts')).json().count, 1);
  });

  it('adds a new contact with overwriteDuplicates=false, without the parameter, without UserData, or in another campaign', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Adds');
    const other = await createCampaign(c, 'Elsewhere');
    const base = { Name: 'Doe', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234', UserData: 'SAME' };
    assert.equal((await importContact(c, base)).statusCode, 200);
    assert.equal((await importContact(c, base, false)).statusCode, 200);
    assert.equal((await importContact(c, base)).statusCode, 200);
    assert.equal((await importContact(c, { ...base, DiallerCampaignsID: other.ID }, true)).statusCode, 200);
    assert.equal((await importContact(c, { ...base, UserData: null }, true)).statusCode, 200);
    assert.equal((await importContact(c, { ...base, UserData: null }, true)).statusCode, 200);
    assert.equal((await c.get('/dialler/contacts')).json().count, 6);
    // Several contacts share the key now: an overwrite replaces the oldest and leaves the rest.
    const ids = (await c.get(`/dialler/contacts?diallerCampaignsID=${campaign.ID}&UserData=SAME`)).json().records.map((r: { ID: number }) => r.ID);
    const over = (await importContact(c, { ...base, Name: 'Replaced' }, true)).json().records[0];
    assert.equal(over.ID, Math.min(...ids));
    assert.equal((await c.get('/dialler/contacts')).json().count, 6);
  });

  it('refuses an overwriteDuplicates that is not true or false', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Flag');
    const res = await c.post('/dialler/contacts/import?overwriteDuplicates=yes', { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].field, 'overwriteDuplicates');
  });

  it('keeps one contact when overwriting imports of the same key race', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      importContact(c, { Name: `Racer ${i}`, DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234', UserData: 'RACE' }, true)));
    assert.ok(results.every((r) => r.statusCode === 200));
    assert.equal(new Set(results.map((r) => r.json().records[0].ID)).size, 1);
    assert.equal((await c.get('/dialler/contacts')).json().count, 1);
  });

  it("cannot import into another client's campaign", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Owned');
    assert.deepEqual((await importContact(b, { Name: 'X', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234' })).json(), CAMPAIGN_NOT_FOUND);
    assert.deepEqual((await importContact(b, { Name: 'X', DiallerCampaignsName: 'Owned', PhoneNumber1: '0301234' })).json(), CAMPAIGN_NOT_FOUND);
    const rows = await h.store.db.selectFrom('dialler_contacts').select('id').where('campaign_id', '=', campaign.ID).execute();
    assert.equal(rows.length, 0);
  });
});

describeStores('dialler contacts: reads', (h) => {
  it('lists the contacts of the client, or of one campaign with diallerCampaignsID', async () => {
    const c = await h.newClient();
    const first = await createCampaign(c, 'First');
    const second = await createCampaign(c, 'Second');
    for (const [name, campaign] of [['A', first], ['B', second], ['C', first]] as const) {
      assert.equal((await importContact(c, { Name: name, DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234' })).statusCode, 200);
    }
    const all = (await c.get('/dialler/contacts')).json();
    assert.deepEqual(Object.keys(all), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.equal(all.orderBy, 'ID');
    assert.deepEqual(all.records.map((r: { Name: string }) => r.Name), ['A', 'B', 'C']);
    const ofFirst = (await c.get(`/dialler/contacts?diallerCampaignsID=${first.ID}`)).json();
    assert.deepEqual(ofFirst.records.map((r: { Name: string }) => r.Name), ['A', 'C']);
    assert.equal(ofFirst.count, 2);
    assert.equal(ofFirst.filter, `DiallerCampaignsID=${first.ID}`);
    const combined = (await c.get(`/dialler/contacts?diallerCampaignsID=${first.ID}&Name=C&orderBy=Name`)).json();
    assert.deepEqual(combined.records.map((r: { Name: string }) => r.Name), ['C']);
    assert.equal(combined.filter, `DiallerCampaignsID=${first.ID}&Name=C`);
  });

  it('answers 404 for an unknown or foreign campaign in diallerCampaignsID, 400 for a malformed one', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'A only');
    assert.deepEqual((await a.get('/dialler/contacts?diallerCampaignsID=999999')).json(), CAMPAIGN_NOT_FOUND);
    const foreign = await b.get(`/dialler/contacts?diallerCampaignsID=${campaign.ID}`);
    assert.equal(foreign.statusCode, 404);
    assert.deepEqual(foreign.json(), CAMPAIGN_NOT_FOUND);
    const malformed = await a.get('/dialler/contacts?diallerCampaignsID=abc');
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().details[0].field, 'diallerCampaignsID');
  });

  it("answers 404 JSON for an unknown contact and never shows another client's contacts", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Secret');
    const contact = (await importContact(a, { Name: 'Hidden', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301234' })).json().records[0];
    const unknown = await a.get('/dialler/contacts/999999');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), CONTACT_NOT_FOUND);
    assert.deepEqual((await b.get(`/dialler/contacts/${contact.ID}`)).json(), CONTACT_NOT_FOUND);
    assert.equal((await b.get('/dialler/contacts')).json().count, 0);
    assert.equal((await b.get(`/dialler/contacts?DiallerCampaignsID=${campaign.ID}`)).json().count, 0);
  });
});
