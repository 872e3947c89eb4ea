// Spec §8.2: bulk import of contacts (CSV, jtel's legacy semicolon format, NDJSON), streamed, with
// a per-row report; duplicates by UserData as sequential single imports would treat them; and the
// export, which imports again as it is.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describeStores, type TestClient } from './helper.ts';
import { createCampaign } from './fixtures-dialler.ts';
import { createUser } from './fixtures-groups.ts';
import { propertyParameters } from './fixtures-fast-check.ts';
import { importBatchSize } from '../src/modules/contacts/bulk-import.ts';
import { exportBatchSize } from '../src/modules/contacts/export.ts';
import { readRows } from '../src/modules/contacts/file-formats.ts';

type Contact = Record<string, any>;
const CSV = { 'content-type': 'text/csv' };
const NDJSON = { 'content-type': 'application/x-ndjson' };

async function bulk(c: TestClient, query: string, body: string | Buffer, headers: Record<string, string> = CSV) {
  return c.request('POST', `/dialler/contacts/import/bulk?${query}`, body, headers);
}

async function report(c: TestClient, query: string, body: string | Buffer, headers: Record<string, string> = CSV) {
  const res = await bulk(c, query, body, headers);
  assert.equal(res.statusCode, 200, res.body);
  const json = res.json();
  assert.deepEqual(Object.keys(json), ['records', 'count', 'status']);
  return json.records[0];
}

async function contactsOf(c: TestClient, campaignId: number): Promise<Contact[]> {
  return (await c.get(`/dialler/contacts?diallerCampaignsID=${campaignId}`)).json().records;
}

/** The fields two imports of the same rows must agree on (not the ids, campaign or times). */
const comparable = (r: Contact): Contact => {
  const { ID: _id, DiallerCampaignsID: _campaign, dtCreated: _created, dtLastModified: _modified, ...rest } = r;
  return rest;
};

describeStores('dialler contacts: bulk import', (h) => {
  const batch = importBatchSize.rows;
  before(() => { importBatchSize.rows = 3; });
  after(() => { importBatchSize.rows = batch; });

  it('imports CSV with a BOM, quoted fields and CRLF, and reports per row', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'CSV');
    const file = '\ufeffName,FirstName,PhoneNumber1,PhoneNumber2,UserData,Priority,TimeZone\r\n'
      + '"Doe, Jane",Jane,+49 30 1111,,A-1,5,Europe/Vienna\r\n'
      + '"Said ""Hi""","multi\nline",0302222,0303333,A-2,,\r\n'
      + 'Ünal,Ökan,0304444,,,-7,\r\n';
    const r = await report(c, `diallerCampaignsID=${campaign.ID}`, file);
    assert.deepEqual(r, { Rows: 3, Imported: 3, Overwritten: 0, Rejected: 0, Errors: [], DoNotCall: 0, DoNotCallRows: [] });
    const rows = await contactsOf(c, campaign.ID);
    assert.deepEqual(rows.map((x) => [x.Name, x.FirstName, x.PhoneNumber1, x.PhoneNumber2, x.UserData, x.Priority, x.TimeZone]), [
      ['Doe, Jane', 'Jane', '+49301111', null, 'A-1', 5, 'Europe/Vienna'],
      ['Said "Hi"', 'multi\nline', '0302222', '0303333', 'A-2', 0, 'Europe/Berlin'],
      ['Ünal', 'Ökan', '0304444', null, null, -7, 'Europe/Berlin'],
    ]);
  });

  it("imports jtel's legacy semicolon format and NDJSON (known by its content type), choosing the campaign by name", async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Legacy');
    const semicolon = 'Name;PhoneNumber1;Priority;Email\nMüller; 030 1111;12;m@example.com\n"A;B";0302222;;\n';
    const r1 = await report(c, 'diallerCampaignsName=Legacy&format=semicolon', semicolon);
    assert.equal(r1.Imported, 2, JSON.stringify(r1));
    const ndjson = '{"Name":"N1","PhoneNumber3":"0305555","Priority":-1000}\n\n{"Name":"N2","PhoneNumber1":"0306666","UserData":null}\r\n';
    const r2 = await report(c, `diallerCampaignsID=${campaign.ID}`, ndjson, NDJSON);
    assert.deepEqual([r2.Rows, r2.Imported, r2.Rejected], [2, 2, 0]);
    const rows = await contactsOf(c, campaign.ID);
    assert.deepEqual(rows.map((x) => [x.Name, x.Priority]), [['Müller', 12], ['A;B', 0], ['N1', -1000], ['N2', 0]]);
    assert.equal(rows[0]!.Email, 'm@example.com');
  });

  it('refuses bad rows with their row number, field and reason, and imports the rest', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Errors');
    await createUser(c, { UID: 'known' });
    const file = [
      'Name,PhoneNumber1,PhoneNumber2,Priority,TimeZone,ReservedUsersUID,Email',
      'Ok,0301111,,,,known,',
      ',0301111,,,,,',
      'NoNumber,,,,,,',
      'Letters,0800-FLOWERS,,,,,',
      'Prio,0301111,,1001,,,',
      'Prio2,0301111,,high,,,',
      'Zone,0301111,,,Nowhere/City,,',
      'Uid,0301111,,,,stranger,',
      'Mail,0301111,,,,,not-an-address',
      'Short,0301111',
      'Fine,0302222,0303333,1000,UTC,,',
    ].join('\n');
    const r = await report(c, `diallerCampaignsID=${campaign.ID}`, file);
    assert.deepEqual([r.Rows, r.Imported, r.Overwritten, r.Rejected], [11, 2, 0, 9]);
    assert.deepEqual(r.Errors.map((e: Contact) => [e.Row, e.Field]), [
      [2, 'Name'], [3, 'PhoneNumber1'], [4, 'PhoneNumber1'], [5, 'Priority'], [6, 'Priority'], [7, 'TimeZone'],
      [8, 'ReservedUsersUID'], [9, 'Email'], [10, null],
    ]);
    assert.ok(r.Errors.every((e: Contact) => typeof e.Reason === 'string' && e.Reason.length > 0));
    const nd = '{"Name":"A","PhoneNumber1":"0301111"}\n{"Name":"B","PhoneNumber1":4930123}\nnot json\n[1]\n{"Name":"C","PhoneNumber1":"0301111","Extra":1}\n';
    const r2 = await report(c, `diallerCampaignsID=${campaign.ID}&format=ndjson`, nd, NDJSON);
    assert.deepEqual(r2.Errors.map((e: Contact) => [e.Row, e.Field]), [[2, 'PhoneNumber1'], [3, null], [4, null], [5, 'Extra']]);
    assert.equal(r2.Imported, 1);
  });

  it('answers 400 for a header naming an unknown or repeated field, before importing anything', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Header');
    for (const [header, field] of [['Name,PhoneNumber1,Phone7', 'Phone7'], ['Name,PhoneNumber1,Name', 'Name']] as const) {
      const res = await bulk(c, `diallerCampaignsID=${campaign.ID}`, `${header}\nA,0301111,x\n`);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field);
    }
    assert.equal((await contactsOf(c, campaign.ID)).length, 0);
  });

  it('answers 404 for an unknown campaign, 400 without one, 415 for a JSON body', async () => {
    const c = await h.newClient();
    await createCampaign(c, 'Known');
    assert.equal((await bulk(c, 'diallerCampaignsID=999999', 'Name,PhoneNumber1\n')).statusCode, 404);
    assert.equal((await bulk(c, 'diallerCampaignsName=Unknown', 'Name,PhoneNumber1\n')).statusCode, 404);
    const none = await bulk(c, 'format=csv', 'Name,PhoneNumber1\n');
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().details[0].field, 'diallerCampaignsID');
    const json = await c.request('POST', '/dialler/contacts/import/bulk?diallerCampaignsName=Known', { Name: 'X' });
    assert.equal(json.statusCode, 415);
    assert.equal((await bulk(c, 'diallerCampaignsName=Known&format=xml', 'x')).statusCode, 400);
  });

  it('stops at malformed quoting: the rows before it are imported and the report names the fault', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Broken');
    const rows = Array.from({ length: 7 }, (_, i) => `R${i},030111${i}`);
    const r = await report(c, `diallerCampaignsID=${campaign.ID}`, `Name,PhoneNumber1\n${rows.join('\n')}\n"open,0301111\n`);
    assert.equal(r.Imported, 7);
    assert.equal(r.Rows, 8);
    const last = r.Errors.at(-1);
    assert.equal(last.Row, 8);
    assert.match(last.Reason, /reading stopped/);
    assert.equal((await contactsOf(c, campaign.ID)).length, 7);
    const bytes = Buffer.concat([Buffer.from('Name,PhoneNumber1\nA,0301111\nB'), Buffer.from([0xff, 0xfe]), Buffer.from(',0302222\n')]);
    const r2 = await report(c, `diallerCampaignsID=${campaign.ID}`, bytes);
    assert.match(r2.Errors.at(-1).Reason, /UTF-8/);
  });

  it('overwrites by UserData within and across batches as sequential single imports would', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Dupes');
    await report(c, `diallerCampaignsID=${campaign.ID}`, 'Name,PhoneNumber1,UserData\nFirst,0301111,K\n');
    // Batches of 3: K appears in batch 1 and 2, L twice in batch 1 (new there), M only without overwrite.
    const file = 'Name,PhoneNumber1,UserData\nK2,0302222,K\nL1,0303333,L\nL2,0304444,L\nK3,0305555,K\nM1,0306666,\nL3,0307777,L\n';
    const r = await report(c, `diallerCampaignsID=${campaign.ID}&overwriteDuplicates=true`, file);
    assert.deepEqual([r.Rows, r.Imported, r.Overwritten], [6, 2, 4]);
    const rows = await contactsOf(c, campaign.ID);
    assert.deepEqual(rows.map((x) => [x.Name, x.UserData]), [['K3', 'K'], ['L3', 'L'], ['M1', null]]);
    const r2 = await report(c, `diallerCampaignsID=${campaign.ID}`, file);
    assert.deepEqual([r2.Imported, r2.Overwritten], [6, 0], 'without overwriteDuplicates every row adds');
  });

  it('agrees with single imports on any sequence of rows (overwrite, reset, worked-on contacts)', async () => {
    const c = await h.newClient();
    const row = fc.record({
      Name: fc.constantFrom('A', 'B', 'C'),
      PhoneNumber1: fc.constantFrom('0301111', '0302222', 'bad', undefined),
      PhoneNumber2: fc.constantFrom('0303333', '0304444', undefined),
      UserData: fc.constantFrom('K1', 'K2', 'K3', undefined),
      Priority: fc.constantFrom(0, 7, 2000),
    }, { requiredKeys: ['Name'] });
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 10 }), fc.boolean(), fc.boolean(), async (rows, overwrite, reset) => {
      run++;
      const campaigns = [await createCampaign(c, `Single ${run}`), await createCampaign(c, `Bulk ${run}`)];
      for (const campaign of campaigns) {
        for (const key of ['K1', 'K2']) {
          const res = await c.post('/dialler/contacts/import', { Name: 'Pre', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0301111', PhoneNumber2: '0303333', UserData: key });
          const id = res.json().records[0].ID;
          await h.store.db.updateTable('dialler_contacts').set({ n_tries_phone_number1: 1, n_tries_phone_number2: 2, n_tries: 3, state: key === 'K2' ? 'InProgress' : 'Done' })
            .where('id', '=', id).execute();
        }
      }
      const query = `overwriteDuplicates=${overwrite}&resetDiallerState=${reset}`;
      const singleErrors: number[] = [];
      for (const [i, body] of rows.entries()) {
        const res = await c.post(`/dialler/contacts/import?${query}`, { ...body, DiallerCampaignsID: campaigns[0]!.ID });
        if (res.statusCode !== 200) singleErrors.push(i + 1);
      }
      const r = await report(c, `diallerCampaignsID=${campaigns[1]!.ID}&format=ndjson&${query}`, rows.map((x) => JSON.stringify(x)).join('\n'), NDJSON);
      assert.deepEqual(r.Errors.map((e: Contact) => e.Row), singleErrors);
      const [single, viaFile] = [await contactsOf(c, campaigns[0]!.ID), await contactsOf(c, campaigns[1]!.ID)];
      assert.deepEqual(viaFile.map(comparable), single.map(comparable));
    }), propertyParameters(8));
  });

  it('ends the import at a batch the database refuses: the batches before it stay, none after it is written', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Refused batch');
    // Batches of 3: the second holds the row the database refuses; the third is read while the second is written.
    await sql`CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`.execute(h.store.db);
    await sql`CREATE TRIGGER test_refuse_boom BEFORE INSERT ON dialler_contacts FOR EACH ROW WHEN (NEW.name = 'Boom') EXECUTE FUNCTION test_refuse_boom()`.execute(h.store.db);
    try {
      const names = ['A1', 'A2', 'A3', 'B1', 'Boom', 'B3', 'C1', 'C2', 'C3', 'D1'];
      const res = await bulk(c, `diallerCampaignsID=${campaign.ID}`, `Name,PhoneNumber1\n${names.map((n) => `${n},0301111`).join('\n')}\n`);
      assert.equal(res.statusCode, 500);
      assert.deepEqual(res.json(), { status: 500, error: 'Internal server error' });
      assert.deepEqual((await contactsOf(c, campaign.ID)).map((x) => x.Name), ['A1', 'A2', 'A3']);
    } finally {
      await sql`DROP TRIGGER test_refuse_boom ON dialler_contacts`.execute(h.store.db);
      await sql`DROP FUNCTION test_refuse_boom()`.execute(h.store.db);
    }
  });

  it('refuses, with resetDiallerState, rows whose contact is in progress', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Reset');
    await report(c, `diallerCampaignsID=${campaign.ID}`, 'Name,PhoneNumber1,UserData\nBusy,0301111,B\nIdle,0302222,I\n');
    await h.store.db.updateTable('dialler_contacts').set({ state: 'InProgress' }).where('campaign_id', '=', campaign.ID).where('user_data', '=', 'B').execute();
    await h.store.db.updateTable('dialler_contacts').set({ state: 'Done', n_tries: 4 }).where('campaign_id', '=', campaign.ID).where('user_data', '=', 'I').execute();
    const r = await report(c, `diallerCampaignsID=${campaign.ID}&overwriteDuplicates=true&resetDiallerState=true`, 'Name,PhoneNumber1,UserData\nBusy2,0301111,B\nIdle2,0302222,I\n');
    assert.deepEqual([r.Overwritten, r.Rejected], [1, 1]);
    assert.deepEqual([r.Errors[0].Row, r.Errors[0].Field], [1, 'UserData']);
    assert.match(r.Errors[0].Reason, /in progress/);
    const rows = await contactsOf(c, campaign.ID);
    assert.deepEqual(rows.map((x) => [x.Name, x.State, x.nTries]), [['Busy', 'InProgress', 0], ['Idle2', 'Waiting', 0]]);
  });

  it('counts and names the rows whose numbers are on the do-not-call list, importing them', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'DNC');
    await h.store.db.insertInto('dialler_do_not_call').values({ client_id: c.id, number: '0309', b_prefix: true, created_at: new Date() }).execute();
    const r = await report(c, `diallerCampaignsID=${campaign.ID}`, 'Name,PhoneNumber1,PhoneNumber2\nA,0301111,0309999\nB,0301111,\nC,0309123,0309124\n');
    assert.equal(r.Imported, 3);
    assert.equal(r.DoNotCall, 2);
    assert.deepEqual(r.DoNotCallRows.map((e: Contact) => [e.Row, e.Field]), [[1, 'PhoneNumber2'], [3, 'PhoneNumber1'], [3, 'PhoneNumber2']]);
  });
});

describeStores('dialler contacts: export', (h) => {
  const batch = exportBatchSize.rows;
  before(() => { exportBatchSize.rows = 2; });
  after(() => { exportBatchSize.rows = batch; });

  for (const format of ['csv', 'semicolon', 'ndjson'] as const) {
    it(`exports every field as ${format} and imports the file again as it is`, async () => {
      const c = await h.newClient();
      const source = await createCampaign(c, 'Source');
      const target = await createCampaign(c, 'Target');
      await createUser(c, { UID: 'res;"agent"' });
      const contacts = [
        { Name: 'Comma, "quoted"', FirstName: 'line\nbreak', PhoneNumber1: '+49 30 1111', UserData: 'U;1', Priority: 9, TimeZone: 'America/New_York', ReservedUsersUID: 'res;"agent"' },
        { Name: ' spaced ', PhoneNumber2: '0302222', Email: 'a@example.com' },
        { Name: 'Plain', PhoneNumber6: '0306666', Priority: -3 },
        { Name: 'Austrian', PhoneNumber1: '+43 1 234567' },
      ];
      for (const body of contacts) assert.equal((await c.post('/dialler/contacts/import', { ...body, DiallerCampaignsID: source.ID })).statusCode, 200);
      await h.store.db.updateTable('dialler_contacts').set({ n_tries: 2, state: 'Done' }).where('campaign_id', '=', source.ID).where('name', '=', 'Plain').execute();
      const file = await c.get(`/dialler/contacts/export?diallerCampaignsID=${source.ID}&format=${format}`);
      assert.equal(file.statusCode, 200);
      assert.match(String(file.headers['content-type']), format === 'ndjson' ? /application\/x-ndjson/ : /text\/csv/);
      const r = await report(c, `diallerCampaignsName=Target&format=${format}`, file.body, format === 'ndjson' ? NDJSON : CSV);
      assert.deepEqual([r.Rows, r.Imported, r.Rejected], [4, 4, 0], JSON.stringify(r.Errors));
      const imported = (await contactsOf(c, source.ID)).map(comparable).map((x): Contact => ({ ...x, State: 'Waiting', nTries: 0 }));
      assert.deepEqual((await contactsOf(c, target.ID)).map(comparable), imported, 'the dialler state is not imported');
      assert.deepEqual(imported.map((x) => x.TimeZoneSource), ['Contact', 'Campaign', 'Campaign', 'Country'], 'a zone we derived is derived again');
    });
  }

  it('answers an empty campaign with the header only, and 404 for an unknown one', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Empty');
    const file = await c.get(`/dialler/contacts/export?diallerCampaignsID=${campaign.ID}`);
    assert.equal(file.body.split('\r\n').filter(Boolean).length, 1);
    assert.match(file.body, /^ID,DiallerCampaignsID,Name,/);
    assert.equal((await c.get(`/dialler/contacts/export?diallerCampaignsID=${campaign.ID}&format=ndjson`)).body, '');
    assert.equal((await c.get('/dialler/contacts/export?diallerCampaignsID=999999')).statusCode, 404);
  });
});

it('stops reading a file beyond the byte limit', async () => {
  const body = Readable.from([Buffer.from('Name,PhoneNumber1\n'), Buffer.from('A,0301111\n'.repeat(10))]);
  const rows: unknown[] = [];
  await assert.rejects(async () => {
    for await (const row of readRows(body, 'csv', new Set(['Name', 'PhoneNumber1']), 50)) rows.push(row);
  }, (error: { status?: number }) => error.status === 413);
});
