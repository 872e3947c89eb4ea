// Spec §5.1/§5.2 reads of dialler campaigns and result codes, and §6 campaign provisioning.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { campaignBody, createCampaign, relatedRows, timeWindowsOf } from './fixtures-dialler.ts';

const NOT_FOUND = { status: 404, error: 'Dialler campaign not found' };

const CAMPAIGN_FIELDS = [
  'ID', 'Name', 'ClientsID', 'LanguagesID', 'ContactPreviewTime', 'nMaxParallelLines',
  'bCloseContactsOnIncomingCallsMatchCallerID', 'dtTo', 'bCallerIDActive', 'AbortOnNoTelNumberResultCodesID',
  'IncomingCallResultCodesID', 'UserData', 'dtCreated', 'dtLastModified',
  // [ours] the dialler engine's settings, after jtel's fields (test/campaigns-settings.test.ts).
  'Mode', 'AcdGroupsID', 'nMaxTries', 'nMaxTriesPerNumber', 'nMaxTriesPerDay', 'RetryDelays', 'TimeZone', 'bRunning',
  'Weight', 'AppointmentFallbackMinutes', 'TimeWindows', 'RestrictedPeriods',
];

const RESULT_CODE_FIELDS = [
  'ID', 'DiallerCampaignsID', 'ShortText', 'Content', 'ExportKey', 'bDone', 'bAborted', 'bDelay', 'bAppointment',
  'bAgentBound', 'TimeOffset', 'bAllowDelete', 'DiallerResultCodesTypesID', 'DiallerResultCodesTypesShortText',
  'DiallerResultCodesTypesContent',
];

describeStores('dialler campaigns: reads', (h) => {
  it('answers a campaign with exactly the jtel fields, timestamps in the client zone', async () => {
    const c = await h.newClient({ TimeZone: 'America/New_York' });
    const created = await createCampaign(c, 'Winter sale');
    const res = await c.get(`/dialler/campaigns/${created.ID}`);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    assert.equal(body.status, 200);
    const record = body.records[0];
    assert.deepEqual(Object.keys(record), CAMPAIGN_FIELDS);
    const codes = (await c.get(`/dialler/campaigns/campaign/${created.ID}/resultCodes`)).json().records;
    const idOf = (key: string) => codes.find((r: { ExportKey: string }) => r.ExportKey === key).ID;
    assert.deepEqual(record, {
      ID: created.ID, Name: 'Winter sale', ClientsID: c.id, LanguagesID: 2, ContactPreviewTime: 5, nMaxParallelLines: 10,
      bCloseContactsOnIncomingCallsMatchCallerID: true, dtTo: '2026-12-31T18:00:00.000', bCallerIDActive: true,
      AbortOnNoTelNumberResultCodesID: idOf('NOTEL'), IncomingCallResultCodesID: idOf('INCOMING'), UserData: 'source user data',
      // The pinned clock is 08:00 UTC: 04:00 in New York in June.
      dtCreated: '2026-06-15T04:00:00.000', dtLastModified: '2026-06-15T04:00:00.000',
      Mode: 'Preview', AcdGroupsID: null, nMaxTries: 10, nMaxTriesPerNumber: 5, nMaxTriesPerDay: 3,
      RetryDelays: { Busy: 10, NoAnswer: 30, AnsweringMachine: 60, Other: 15 }, TimeZone: null, bRunning: false, Weight: 1,
      AppointmentFallbackMinutes: null,
      TimeWindows: [{ Weekday: 1, From: '08:00', To: '12:00' }, { Weekday: 1, From: '13:00', To: '18:30' }, { Weekday: 6, From: '10:00', To: '24:00' }],
      RestrictedPeriods: [],
    });
    const row = await h.store.db.selectFrom('dialler_campaigns').select('dt_to').where('id', '=', created.ID).executeTakeFirstOrThrow();
    assert.equal(new Date(row.dt_to!).toISOString(), '2026-12-31T23:00:00.000Z', 'dtTo is local time of the client');
  });

  it('answers the same campaign under /dialler/campaigns/campaign/{id}', async () => {
    const c = await h.newClient();
    const created = await createCampaign(c, 'Both paths');
    const a = await c.get(`/dialler/campaigns/${created.ID}`);
    const b = await c.get(`/dialler/campaigns/campaign/${created.ID}`);
    assert.equal(b.statusCode, 200);
    assert.deepEqual(b.json(), a.json());
  });

  it('answers an unknown campaign with exactly the jtel 404 body, on both paths', async () => {
    const c = await h.newClient();
    for (const path of ['/dialler/campaigns/999999', '/dialler/campaigns/campaign/999999']) {
      const res = await c.get(path);
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    const bad = await c.get('/dialler/campaigns/campaign/abc');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().details[0].field, 'DiallerCampaignsID');
  });

  it('lists all campaigns of the client ordered by Name, with the list envelope', async () => {
    const c = await h.newClient();
    const other = await h.newClient();
    await createCampaign(other, 'Alpha of another client');
    for (const name of ['Charlie', 'Alpha', 'Bravo']) await createCampaign(c, name);
    const res = await c.get('/dialler/campaigns');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.equal(body.count, 3);
    assert.equal(body.orderBy, 'Name');
    assert.equal(body.ascending, true);
    assert.equal(body.filter, '');
    assert.ok(body.records.every((r: { ClientsID: number }) => r.ClientsID === c.id));
    assert.deepEqual(body.records.map((r: { Name: string }) => r.Name), ['Alpha', 'Bravo', 'Charlie']);
    const desc = (await c.get('/dialler/campaigns?ascending=false&limitPageSize=2')).json();
    assert.equal(desc.count, 2);
    assert.deepEqual(desc.records.map((r: { Name: string }) => r.Name), ['Charlie', 'Bravo']);
    const filtered = (await c.get('/dialler/campaigns?Name=Bravo')).json();
    assert.deepEqual(filtered.records.map((r: { Name: string }) => r.Name), ['Bravo']);
    assert.equal(filtered.filter, 'Name=Bravo');
    assert.equal((await c.get('/dialler/campaigns?orderBy=Nope')).statusCode, 400);
  });

  it('finds campaigns whose Name contains the text, case-insensitive, wildcards taken literally', async () => {
    const c = await h.newClient();
    for (const name of ['Summer 2026', 'summer promo', 'Winter', '100% off', 'a_b']) await createCampaign(c, name);
    const found = await c.get('/dialler/campaigns/campaign?name=SUMMER');
    assert.equal(found.statusCode, 200);
    assert.deepEqual(Object.keys(found.json()), ['records', 'count', 'status']);
    assert.deepEqual(found.json().records.map((r: { Name: string }) => r.Name).sort(), ['Summer 2026', 'summer promo']);
    assert.equal(found.json().count, 2);
    const percent = await c.get(`/dialler/campaigns/campaign?name=${encodeURIComponent('%')}`);
    assert.deepEqual(percent.json().records.map((r: { Name: string }) => r.Name), ['100% off']);
    const underscore = await c.get('/dialler/campaigns/campaign?name=_');
    assert.deepEqual(underscore.json().records.map((r: { Name: string }) => r.Name), ['a_b']);
    const none = await c.get('/dialler/campaigns/campaign?name=Autumn');
    assert.equal(none.statusCode, 404);
    assert.deepEqual(none.json(), NOT_FOUND);
    const missing = await c.get('/dialler/campaigns/campaign');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().details[0].field, 'name');
    assert.equal((await c.get('/dialler/campaigns/campaign?name=')).statusCode, 400);
  });

  it("never shows another client's campaigns", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Private campaign of A');
    assert.deepEqual((await b.get(`/dialler/campaigns/${campaign.ID}`)).json(), NOT_FOUND);
    assert.equal((await b.get(`/dialler/campaigns/campaign/${campaign.ID}`)).statusCode, 404);
    assert.equal((await b.get('/dialler/campaigns/campaign?name=Private')).statusCode, 404);
    assert.equal((await b.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes`)).statusCode, 404);
    assert.equal((await b.get('/dialler/campaigns')).json().count, 0);
  });

  it('answers result codes in the requested language with the jtel fields and flags', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Codes');
    const english = await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes`);
    assert.equal(english.statusCode, 200);
    const body = english.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 5);
    const [done, abort, delay, appointment] = body.records;
    assert.deepEqual(Object.keys(done), RESULT_CODE_FIELDS);
    assert.deepEqual(done, {
      ID: done.ID, DiallerCampaignsID: campaign.ID, ShortText: `DiallerCampaignsResultCodes.${done.ID}`, Content: 'Completed',
      ExportKey: 'DONE', bDone: true, bAborted: false, bDelay: false, bAppointment: false, bAgentBound: null, TimeOffset: null,
      bAllowDelete: true, DiallerResultCodesTypesID: 1, DiallerResultCodesTypesShortText: 'DiallerResultCodesTypes.1',
      DiallerResultCodesTypesContent: 'Completion',
    });
    assert.deepEqual([abort.bDone, abort.bAborted, abort.bDelay, abort.bAppointment, abort.bAllowDelete], [false, true, false, false, false]);
    assert.deepEqual([delay.bDone, delay.bAborted, delay.bDelay, delay.bAppointment, delay.TimeOffset, delay.bAgentBound], [false, false, true, false, 90, true]);
    assert.deepEqual([appointment.bDone, appointment.bAborted, appointment.bDelay, appointment.bAppointment], [false, false, false, true]);
    assert.deepEqual(body.records.map((r: { DiallerResultCodesTypesContent: string }) => r.DiallerResultCodesTypesContent),
      ['Completion', 'Abort', 'Delay', 'Appointment', 'Completion']);
    assert.deepEqual(body.records.map((r: { DiallerResultCodesTypesShortText: string }) => r.DiallerResultCodesTypesShortText),
      ['DiallerResultCodesTypes.1', 'DiallerResultCodesTypes.2', 'DiallerResultCodesTypes.3', 'DiallerResultCodesTypes.4', 'DiallerResultCodesTypes.1']);

    const german = (await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes?languagesID=2`)).json();
    assert.deepEqual(german.records.map((r: { Content: string }) => r.Content),
      ['Abgeschlossen', 'Keine Nummer', 'Wiedervorlage später', 'Termin vereinbart', 'Rückruf erhalten']);
    assert.deepEqual(german.records.map((r: { DiallerResultCodesTypesContent: string }) => r.DiallerResultCodesTypesContent),
      ['Abschluss', 'Abbruch', 'Wiedervorlage', 'Termin', 'Abschluss']);
    const explicitEnglish = (await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes?languagesID=1`)).json();
    assert.deepEqual(explicitEnglish, body);
  });

  it('falls back to the other language when a code has no text in the requested one', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Fallback');
    const english = (await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes?languagesID=1`)).json();
    const incoming = english.records.find((r: { ExportKey: string }) => r.ExportKey === 'INCOMING');
    assert.equal(incoming.Content, 'Rückruf erhalten');
    assert.equal(incoming.DiallerResultCodesTypesContent, 'Completion');
  });

  it('refuses a languagesID other than 1 or 2, and an unknown campaign', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Languages');
    for (const value of ['0', '3', 'de', '1.5']) {
      const res = await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes?languagesID=${value}`);
      assert.equal(res.statusCode, 400, value);
      assert.equal(res.json().details[0].field, 'languagesID');
    }
    const unknown = await c.get('/dialler/campaigns/campaign/999999/resultCodes');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), NOT_FOUND);
  });
});

describeStores('dialler campaigns: create', (h) => {
  it('creates a campaign with result codes, references by ExportKey and time windows', async () => {
    const c = await h.newClient();
    const res = await c.post('/dialler/campaigns/create', campaignBody('Provisioned'));
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().count, 1);
    const campaign = res.json().records[0];
    const rows = await relatedRows(h.store.db, campaign.ID);
    assert.deepEqual(rows, { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 0 });
    assert.deepEqual(await timeWindowsOf(h.store.db, campaign.ID), ['1 08:00-12:00', '1 13:00-18:30', '6 10:00-24:00']);
    const codes = (await c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes`)).json().records;
    assert.equal(codes.find((r: { ID: number }) => r.ID === campaign.AbortOnNoTelNumberResultCodesID).ExportKey, 'NOTEL');
    assert.equal(codes.find((r: { ID: number }) => r.ID === campaign.IncomingCallResultCodesID).ExportKey, 'INCOMING');
  });

  it('applies defaults to a minimal campaign', async () => {
    const c = await h.newClient();
    const res = await c.post('/dialler/campaigns/create', { Name: 'Minimal' });
    assert.equal(res.statusCode, 200, res.body);
    const record = res.json().records[0];
    assert.equal(record.LanguagesID, 1);
    assert.equal(record.bCallerIDActive, false);
    assert.equal(record.bCloseContactsOnIncomingCallsMatchCallerID, false);
    for (const key of ['ContactPreviewTime', 'nMaxParallelLines', 'dtTo', 'AbortOnNoTelNumberResultCodesID', 'IncomingCallResultCodesID', 'UserData']) {
      assert.equal(record[key], null, key);
    }
    assert.deepEqual((await c.get(`/dialler/campaigns/campaign/${record.ID}/resultCodes`)).json(), { records: [], count: 0, status: 200 });
  });

  it('answers 409 for a second campaign with the same Name in the client, not in another client', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    await createCampaign(a, 'Same name');
    const again = await a.post('/dialler/campaigns/create', campaignBody('Same name'));
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().status, 409);
    assert.match(again.json().error, /Same name/);
    assert.equal((await b.post('/dialler/campaigns/create', campaignBody('Same name'))).statusCode, 200);
  });

  it('creates exactly one campaign when two identical creates race', async () => {
    const c = await h.newClient();
    const results = await Promise.all([1, 2, 3].map(() => c.post('/dialler/campaigns/create', campaignBody('Raced'))));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409, 409]);
    const rows = await h.store.db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', c.id).execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(await relatedRows(h.store.db, rows[0].id), { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 0 });
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['unknown abort code', { AbortOnNoTelNumberResultCode: 'NOPE' }, 'AbortOnNoTelNumberResultCode'],
    ['unknown incoming code', { IncomingCallResultCode: 'NOPE' }, 'IncomingCallResultCode'],
    ['duplicate ExportKey', { ResultCodes: [
      { ExportKey: 'A', DiallerResultCodesTypesID: 1, Content: { 1: 'a' } },
      { ExportKey: 'A', DiallerResultCodesTypesID: 2, Content: { 1: 'b' } },
    ], AbortOnNoTelNumberResultCode: null, IncomingCallResultCode: null }, 'ResultCodes.1.ExportKey'],
    ['TimeOffset on a Done code', { ResultCodes: [{ ExportKey: 'A', DiallerResultCodesTypesID: 1, TimeOffset: 5, Content: { 1: 'a' } }],
      AbortOnNoTelNumberResultCode: null, IncomingCallResultCode: null }, 'ResultCodes.0.TimeOffset'],
    ['unknown type', { ResultCodes: [{ ExportKey: 'A', DiallerResultCodesTypesID: 5, Content: { 1: 'a' } }] }, 'ResultCodes.0.DiallerResultCodesTypesID'],
    ['no text', { ResultCodes: [{ ExportKey: 'A', DiallerResultCodesTypesID: 1, Content: {} }] }, 'ResultCodes.0.Content'],
    ['text in language 3', { ResultCodes: [{ ExportKey: 'A', DiallerResultCodesTypesID: 1, Content: { 3: 'x' } }] }, 'ResultCodes.0.Content.3'],
    ['window ending before it starts', { TimeWindows: [{ Weekday: 2, From: '18:00', To: '09:00' }] }, 'TimeWindows.0.To'],
    ['empty window', { TimeWindows: [{ Weekday: 2, From: '09:00', To: '09:00' }] }, 'TimeWindows.0.To'],
    ['malformed From', { TimeWindows: [{ Weekday: 2, From: '9:00', To: '10:00' }] }, 'TimeWindows.0.From'],
    ['impossible To', { TimeWindows: [{ Weekday: 2, From: '09:00', To: '24:30' }] }, 'TimeWindows.0.To'],
    ['weekday 8', { TimeWindows: [{ Weekday: 8, From: '09:00', To: '10:00' }] }, 'TimeWindows.0.Weekday'],
    ['overlapping windows', { TimeWindows: [{ Weekday: 3, From: '09:00', To: '12:00' }, { Weekday: 3, From: '11:00', To: '14:00' }] }, 'TimeWindows.1'],
    ['impossible dtTo', { dtTo: '2026-02-30T10:00' }, 'dtTo'],
    ['malformed dtTo', { dtTo: '31.12.2026' }, 'dtTo'],
    ['LanguagesID 3', { LanguagesID: 3 }, 'LanguagesID'],
    ['blank Name', { Name: '   ' }, 'Name'],
    ['unknown field', { Colour: 'red' }, 'Colour'],
    ['string for a number', { nMaxParallelLines: '10' }, 'nMaxParallelLines'],
  ];
  for (const [title, patch, fieldName] of invalid) {
    it(`answers 400 naming the field for ${title}, and creates nothing`, async () => {
      const c = await h.newClient();
      const res = await c.post('/dialler/campaigns/create', campaignBody('Invalid', patch));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().status, 400);
      assert.equal(res.json().details[0].field, fieldName, res.body);
      const rows = await h.store.db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', c.id).execute();
      assert.equal(rows.length, 0);
    });
  }

  it('accepts adjacent windows and the same hours on different days', async () => {
    const c = await h.newClient();
    const windows = [{ Weekday: 3, From: '09:00', To: '12:00' }, { Weekday: 3, From: '12:00', To: '14:00' }, { Weekday: 4, From: '09:00', To: '12:00' }];
    const res = await c.post('/dialler/campaigns/create', { Name: 'Adjacent', TimeWindows: windows });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await timeWindowsOf(h.store.db, res.json().records[0].ID), ['3 09:00-12:00', '3 12:00-14:00', '4 09:00-12:00']);
  });
});
