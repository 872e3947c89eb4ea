// Spec §8.2: the dialler engine's campaign settings on create, change (PATCH) and clone.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { campaignBody, createCampaign, timeWindowsOf, type CampaignJson } from './fixtures-dialler.ts';
import { createGroup } from './fixtures-groups.ts';
import { propertyParameters } from './fixtures-fast-check.ts';

const NOT_FOUND = { status: 404, error: 'Dialler campaign not found' };
const DEFAULT_DELAYS = { Busy: 10, NoAnswer: 30, AnsweringMachine: 60, Other: 15 };

const JTEL_FIELDS = [
  'ID', 'Name', 'ClientsID', 'LanguagesID', 'ContactPreviewTime', 'nMaxParallelLines',
  'bCloseContactsOnIncomingCallsMatchCallerID', 'dtTo', 'bCallerIDActive', 'AbortOnNoTelNumberResultCodesID',
  'IncomingCallResultCodesID', 'UserData', 'dtCreated', 'dtLastModified',
];
const SETTING_FIELDS = [
  'Mode', 'AcdGroupsID', 'nMaxTries', 'nMaxTriesPerNumber', 'nMaxTriesPerDay', 'RetryDelays', 'TimeZone', 'bRunning',
  'Weight', 'AppointmentFallbackMinutes', 'TimeWindows', 'RestrictedPeriods',
];

const patch = (c: TestClient, id: number, body: unknown) => c.request('PATCH', `/dialler/campaigns/campaign/${id}`, body);

async function patched(c: TestClient, id: number, body: unknown): Promise<CampaignJson> {
  const res = await patch(c, id, body);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(Object.keys(res.json()), ['records', 'count', 'status']);
  assert.equal(res.json().count, 1);
  return res.json().records[0];
}

const read = async (c: TestClient, id: number): Promise<CampaignJson> => (await c.get(`/dialler/campaigns/${id}`)).json().records[0];

/** The engine settings of a campaign record. */
const settingsOf = (record: CampaignJson) => Object.fromEntries(SETTING_FIELDS.map((f) => [f, record[f]]));

/** Every setting away from its default. */
async function fullSettings(c: TestClient, name = `Agents ${Math.random()}`) {
  const group = await createGroup(c, { Name: name });
  return {
    Mode: 'Progressive',
    AcdGroupsID: group.ID as number,
    nMaxTries: 7,
    nMaxTriesPerNumber: 2,
    nMaxTriesPerDay: 1,
    RetryDelays: { Busy: 1, NoAnswer: 2, AnsweringMachine: 3, Other: 525600 },
    TimeZone: 'America/Chicago',
    bRunning: true,
    Weight: 100,
    AppointmentFallbackMinutes: 0,
    // Out of order on purpose: the record lists them in calendar order.
    TimeWindows: [{ Weekday: 5, From: '14:00', To: '24:00' }, { Weekday: 2, From: '13:00', To: '17:00' }, { Weekday: 2, From: '08:00', To: '12:00' }],
    RestrictedPeriods: [
      { From: '2026-12-24', To: '2026-12-26', Name: 'Christmas' },
      { From: '2026-05-01', To: '2026-05-01' },
      { From: '2028-02-29', To: '2028-02-29', Name: null },
    ],
  };
}

const EXPECTED_WINDOWS = [{ Weekday: 2, From: '08:00', To: '12:00' }, { Weekday: 2, From: '13:00', To: '17:00' }, { Weekday: 5, From: '14:00', To: '24:00' }];
const EXPECTED_PERIODS = [
  { From: '2026-05-01', To: '2026-05-01', Name: null },
  { From: '2026-12-24', To: '2026-12-26', Name: 'Christmas' },
  { From: '2028-02-29', To: '2028-02-29', Name: null },
];

/** Bodies that are refused, with the field the 400 must name. */
type Refusal = [title: string, body: (ctx: { otherGroupId: number }) => Record<string, unknown>, field: string];
const REFUSALS: Refusal[] = [
  ['an unknown Mode', () => ({ Mode: 'Automatic' }), 'Mode'],
  ['a Mode in lower case', () => ({ Mode: 'preview' }), 'Mode'],
  ['AcdGroupsID 0', () => ({ AcdGroupsID: 0 }), 'AcdGroupsID'],
  ['an unknown AcdGroupsID', () => ({ AcdGroupsID: 2147483647 }), 'AcdGroupsID'],
  ["another client's group", ({ otherGroupId }) => ({ AcdGroupsID: otherGroupId }), 'AcdGroupsID'],
  ['nMaxTries 0', () => ({ nMaxTries: 0 }), 'nMaxTries'],
  ['nMaxTries 1001', () => ({ nMaxTries: 1001 }), 'nMaxTries'],
  ['nMaxTries as text', () => ({ nMaxTries: '5' }), 'nMaxTries'],
  ['nMaxTriesPerNumber 0', () => ({ nMaxTriesPerNumber: 0 }), 'nMaxTriesPerNumber'],
  ['nMaxTriesPerNumber null', () => ({ nMaxTriesPerNumber: null }), 'nMaxTriesPerNumber'],
  ['nMaxTriesPerDay 1001', () => ({ nMaxTriesPerDay: 1001 }), 'nMaxTriesPerDay'],
  ['nMaxTriesPerDay 1.5', () => ({ nMaxTriesPerDay: 1.5 }), 'nMaxTriesPerDay'],
  ['a negative retry delay', () => ({ RetryDelays: { Busy: -1 } }), 'RetryDelays.Busy'],
  ['a retry delay over a year', () => ({ RetryDelays: { NoAnswer: 525601 } }), 'RetryDelays.NoAnswer'],
  ['a retry delay for an unknown cause', () => ({ RetryDelays: { InvalidNumber: 5 } }), 'RetryDelays.InvalidNumber'],
  ['RetryDelays as a number', () => ({ RetryDelays: 5 }), 'RetryDelays'],
  ['an unknown TimeZone', () => ({ TimeZone: 'Mars/Olympus_Mons' }), 'TimeZone'],
  ['an offset as TimeZone', () => ({ TimeZone: '+01:00' }), 'TimeZone'],
  ['an empty TimeZone', () => ({ TimeZone: '' }), 'TimeZone'],
  ['bRunning as text', () => ({ bRunning: 'yes' }), 'bRunning'],
  ['bRunning null', () => ({ bRunning: null }), 'bRunning'],
  ['Weight 0', () => ({ Weight: 0 }), 'Weight'],
  ['Weight 101', () => ({ Weight: 101 }), 'Weight'],
  ['a negative AppointmentFallbackMinutes', () => ({ AppointmentFallbackMinutes: -1 }), 'AppointmentFallbackMinutes'],
  ['a fractional AppointmentFallbackMinutes', () => ({ AppointmentFallbackMinutes: 2.5 }), 'AppointmentFallbackMinutes'],
  ['a day that is not in the calendar', () => ({ RestrictedPeriods: [{ From: '2026-02-29', To: '2026-03-01' }] }), 'RestrictedPeriods.0.From'],
  ['a period ending before it starts', () => ({ RestrictedPeriods: [{ From: '2026-05-01', To: '2026-05-01' }, { From: '2026-12-26', To: '2026-12-24' }] }), 'RestrictedPeriods.1.To'],
  ['a date without leading zeros', () => ({ RestrictedPeriods: [{ From: '2026-5-1', To: '2026-05-01' }] }), 'RestrictedPeriods.0.From'],
  ['a date with a time', () => ({ RestrictedPeriods: [{ From: '2026-05-01', To: '2026-05-01T10:00' }] }), 'RestrictedPeriods.0.To'],
  ['a period without To', () => ({ RestrictedPeriods: [{ From: '2026-05-01' }] }), 'RestrictedPeriods.0.To'],
  ['an unknown field in a period', () => ({ RestrictedPeriods: [{ From: '2026-05-01', To: '2026-05-01', Holiday: true }] }), 'RestrictedPeriods.0.Holiday'],
  ['367 periods', () => ({ RestrictedPeriods: Array.from({ length: 367 }, () => ({ From: '2026-05-01', To: '2026-05-01' })) }), 'RestrictedPeriods'],
  ['a window ending before it starts', () => ({ TimeWindows: [{ Weekday: 1, From: '10:00', To: '09:00' }] }), 'TimeWindows.0.To'],
];

/** A group of another client, made once per suite. */
function otherClientGroup(h: Harness): () => Promise<number> {
  let id: Promise<number> | undefined;
  return () => (id ??= h.newClient().then(async (other) => (await createGroup(other, { Name: 'Not yours' })).ID));
}

describeStores('dialler campaigns: settings on create', (h) => {
  const otherGroupId = otherClientGroup(h);
  it('gives a minimal campaign the defaults: paused, Preview, 10/5/3 tries, default delays, the client zone', async () => {
    const c = await h.newClient();
    const res = await c.post('/dialler/campaigns/create', { Name: 'Defaults' });
    assert.equal(res.statusCode, 200, res.body);
    const record = res.json().records[0];
    assert.deepEqual(Object.keys(record), [...JTEL_FIELDS, ...SETTING_FIELDS]);
    assert.deepEqual(settingsOf(record), {
      Mode: 'Preview', AcdGroupsID: null, nMaxTries: 10, nMaxTriesPerNumber: 5, nMaxTriesPerDay: 3, RetryDelays: DEFAULT_DELAYS,
      TimeZone: null, bRunning: false, Weight: 1, AppointmentFallbackMinutes: null, TimeWindows: [], RestrictedPeriods: [],
    });
    assert.deepEqual(await read(c, record.ID), record);
    // jtel's compact wire form, nested values included.
    assert.ok(res.body.includes('"RetryDelays":{"Busy":10,"NoAnswer":30,"AnsweringMachine":60,"Other":15},"TimeZone":null,'), res.body);
    assert.ok(res.body.includes('"TimeWindows":[],"RestrictedPeriods":[]}'), res.body);
  });

  it('takes every setting, lists windows and periods in calendar order, and fills left-out retry delays', async () => {
    const c = await h.newClient();
    const settings = await fullSettings(c);
    const record = await createCampaign(c, 'Everything', settings);
    assert.deepEqual(settingsOf(record), { ...settings, TimeWindows: EXPECTED_WINDOWS, RestrictedPeriods: EXPECTED_PERIODS });
    const body = (await c.get(`/dialler/campaigns/${record.ID}`)).body;
    assert.ok(body.includes(`"TimeWindows":${JSON.stringify(EXPECTED_WINDOWS)},"RestrictedPeriods":${JSON.stringify(EXPECTED_PERIODS)}}`), body);
    const partial = await createCampaign(c, 'Some delays', { RetryDelays: { AnsweringMachine: 0 } });
    assert.deepEqual(partial.RetryDelays, { ...DEFAULT_DELAYS, AnsweringMachine: 0 });
    const rows = await h.store.db.selectFrom('dialler_restricted_periods').select(['date_from', 'name']).where('campaign_id', '=', record.ID).execute();
    assert.equal(rows.length, 3);
  });

  it('accepts the bounds: 1 and 1000 tries, delays of 0 and a year, weight 1 and 100, 366 periods', async () => {
    const c = await h.newClient();
    const low = await createCampaign(c, 'Low', {
      nMaxTries: 1, nMaxTriesPerNumber: 1, nMaxTriesPerDay: 1, Weight: 1,
      RetryDelays: { Busy: 0, NoAnswer: 0, AnsweringMachine: 0, Other: 0 },
    });
    assert.deepEqual([low.nMaxTries, low.nMaxTriesPerNumber, low.nMaxTriesPerDay, low.Weight], [1, 1, 1, 1]);
    const periods = Array.from({ length: 366 }, (_, i) => {
      const day = new Date(Date.UTC(2028, 0, 1 + i)).toISOString().slice(0, 10);
      return { From: day, To: day };
    });
    const high = await createCampaign(c, 'High', {
      nMaxTries: 1000, nMaxTriesPerNumber: 1000, nMaxTriesPerDay: 1000, Weight: 100, RestrictedPeriods: periods,
      RetryDelays: { Busy: 525600, NoAnswer: 525600, AnsweringMachine: 525600, Other: 525600 },
    });
    assert.deepEqual([high.nMaxTries, high.Weight, (high.RestrictedPeriods as unknown[]).length], [1000, 100, 366]);
    assert.equal((high.RestrictedPeriods as { To: string }[])[365].To, '2028-12-31', '2028 is a leap year');
  });

  for (const [title, body, field] of REFUSALS) {
    it(`answers 400 naming ${field} for ${title}, and creates nothing`, async () => {
      const c = await h.newClient();
      const res = await c.post('/dialler/campaigns/create', campaignBody('Refused', body({ otherGroupId: await otherGroupId() })));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field, res.body);
      assert.equal((await c.get('/dialler/campaigns')).json().count, 0);
    });
  }
});

describeStores('dialler campaigns: PATCH', (h) => {
  const otherGroupId = otherClientGroup(h);
  it('changes every field it is given and keeps the others; dtLastModified moves', async () => {
    const c = await h.newClient();
    const before = await createCampaign(c, 'Before');
    h.clock.advance(60_000);
    const settings = await fullSettings(c);
    const codes = (await c.get(`/dialler/campaigns/campaign/${before.ID}/resultCodes`)).json().records as { ID: number; ExportKey: string }[];
    const idOf = (key: string) => codes.find((r) => r.ExportKey === key)!.ID;
    const after = await patched(c, before.ID, {
      ...settings, Name: 'After', LanguagesID: 1, ContactPreviewTime: 30, nMaxParallelLines: 2, bCloseContactsOnIncomingCallsMatchCallerID: false,
      dtTo: '2027-01-31T20:30', bCallerIDActive: false, UserData: 'changed', AbortOnNoTelNumberResultCode: 'LATER', IncomingCallResultCode: 'DONE',
    });
    assert.deepEqual(after, {
      ...before, ...settings, Name: 'After', LanguagesID: 1, ContactPreviewTime: 30, nMaxParallelLines: 2,
      bCloseContactsOnIncomingCallsMatchCallerID: false, dtTo: '2027-01-31T20:30:00.000', bCallerIDActive: false, UserData: 'changed',
      AbortOnNoTelNumberResultCodesID: idOf('LATER'), IncomingCallResultCodesID: idOf('DONE'),
      TimeWindows: EXPECTED_WINDOWS, RestrictedPeriods: EXPECTED_PERIODS,
      dtLastModified: '2026-06-15T10:01:00.000',
    });
    assert.deepEqual(await read(c, before.ID), after);

    h.clock.advance(60_000);
    const one = await patched(c, before.ID, { Weight: 7 });
    assert.deepEqual(one, { ...after, Weight: 7, dtLastModified: '2026-06-15T10:02:00.000' });
  });

  it('merges RetryDelays per cause', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Delays', { RetryDelays: { Busy: 1, NoAnswer: 2, AnsweringMachine: 3, Other: 4 } });
    assert.deepEqual((await patched(c, campaign.ID, { RetryDelays: { NoAnswer: 20 } })).RetryDelays, { Busy: 1, NoAnswer: 20, AnsweringMachine: 3, Other: 4 });
    assert.deepEqual((await patched(c, campaign.ID, { RetryDelays: {} })).RetryDelays, { Busy: 1, NoAnswer: 20, AnsweringMachine: 3, Other: 4 });
    assert.deepEqual((await patched(c, campaign.ID, { RetryDelays: { Busy: 0, Other: 40 } })).RetryDelays, { Busy: 0, NoAnswer: 20, AnsweringMachine: 3, Other: 40 });
  });

  it('keeps RetryDelays the fold of every partial change (property)', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Delay fold');
    const delay = fc.integer({ min: 0, max: 525600 });
    const change = fc.record({ Busy: delay, NoAnswer: delay, AnsweringMachine: delay, Other: delay }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 4 }), async (changes) => {
      let model = (await read(c, campaign.ID)).RetryDelays as typeof DEFAULT_DELAYS;
      for (const given of changes) {
        model = { ...model, ...given };
        assert.deepEqual((await patched(c, campaign.ID, { RetryDelays: given })).RetryDelays, model);
      }
    }), propertyParameters(10));
  });

  it('replaces TimeWindows and RestrictedPeriods whole, and an empty list clears them', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Lists', { RestrictedPeriods: [{ From: '2026-08-15', To: '2026-08-15', Name: 'Assumption' }] });
    const windows = await patched(c, campaign.ID, { TimeWindows: [{ Weekday: 7, From: '00:00', To: '24:00' }] });
    assert.deepEqual(windows.TimeWindows, [{ Weekday: 7, From: '00:00', To: '24:00' }]);
    assert.deepEqual(windows.RestrictedPeriods, [{ From: '2026-08-15', To: '2026-08-15', Name: 'Assumption' }], 'left out: kept');
    assert.deepEqual(await timeWindowsOf(h.store.db, campaign.ID), ['7 00:00-24:00']);
    const periods = await patched(c, campaign.ID, { RestrictedPeriods: [{ From: '2026-10-03', To: '2026-10-04' }, { From: '2026-01-01', To: '2026-01-01' }] });
    assert.deepEqual(periods.RestrictedPeriods, [{ From: '2026-01-01', To: '2026-01-01', Name: null }, { From: '2026-10-03', To: '2026-10-04', Name: null }]);
    const cleared = await patched(c, campaign.ID, { TimeWindows: [], RestrictedPeriods: [] });
    assert.deepEqual([cleared.TimeWindows, cleared.RestrictedPeriods], [[], []]);
    const rows = await h.store.db.selectFrom('dialler_restricted_periods').select('id').where('campaign_id', '=', campaign.ID).execute();
    assert.equal(rows.length, 0);
  });

  it('clears every nullable field with null', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Nulls', await fullSettings(c));
    const cleared = await patched(c, campaign.ID, {
      ContactPreviewTime: null, nMaxParallelLines: null, dtTo: null, UserData: null, AbortOnNoTelNumberResultCode: null,
      IncomingCallResultCode: null, AcdGroupsID: null, TimeZone: null, AppointmentFallbackMinutes: null,
    });
    for (const key of ['ContactPreviewTime', 'nMaxParallelLines', 'dtTo', 'UserData', 'AbortOnNoTelNumberResultCodesID',
      'IncomingCallResultCodesID', 'AcdGroupsID', 'TimeZone', 'AppointmentFallbackMinutes']) {
      assert.equal(cleared[key], null, key);
    }
    assert.equal(cleared.Mode, 'Progressive', 'not given: kept');
  });

  it("refers to result codes by the campaign's own ExportKeys only", async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Codes');
    await createCampaign(c, 'Other codes', { ResultCodes: [{ ExportKey: 'ELSEWHERE', DiallerResultCodesTypesID: 1, Content: { 1: 'x' } }],
      AbortOnNoTelNumberResultCode: null, IncomingCallResultCode: null });
    for (const [field, key] of [['AbortOnNoTelNumberResultCode', 'NOPE'], ['IncomingCallResultCode', 'ELSEWHERE']]) {
      const res = await patch(c, campaign.ID, { [field]: key, Weight: 50 });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field);
    }
    assert.deepEqual(await read(c, campaign.ID), campaign, 'a refused change changes nothing');
  });

  it('answers 409 for the Name of another campaign of the client, not for its own or another client\'s', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Mine');
    await createCampaign(a, 'Taken');
    await createCampaign(b, 'Free here');
    const clash = await patch(a, campaign.ID, { Name: 'Taken', Weight: 3 });
    assert.equal(clash.statusCode, 409, clash.body);
    assert.equal(clash.json().status, 409);
    assert.match(clash.json().error, /Taken/);
    assert.deepEqual(await read(a, campaign.ID), campaign);
    assert.equal((await patched(a, campaign.ID, { Name: 'Mine' })).Name, 'Mine');
    assert.equal((await patched(a, campaign.ID, { Name: 'Free here' })).Name, 'Free here');
  });

  it('answers 404 JSON for an unknown campaign and for one of another client, which stays as it was', async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Owned by A');
    for (const [client, id] of [[a, 2147483647], [b, campaign.ID]] as const) {
      const res = await patch(client, id, { bRunning: true });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.deepEqual(await read(a, campaign.ID), campaign);
  });

  it('refuses an empty body, an unknown field and ResultCodes with 400', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Strict');
    const empty = await patch(c, campaign.ID, {});
    assert.equal(empty.statusCode, 400, empty.body);
    assert.equal(empty.json().status, 400);
    for (const [body, field] of [[{ Colour: 'red' }, 'Colour'], [{ ResultCodes: [] }, 'ResultCodes'], [{ Name: '  ' }, 'Name'], [{ LanguagesID: null }, 'LanguagesID']] as const) {
      const res = await patch(c, campaign.ID, body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field);
    }
    assert.deepEqual(await read(c, campaign.ID), campaign);
  });

  for (const [title, body, field] of REFUSALS) {
    it(`answers 400 naming ${field} for ${title}, and changes nothing`, async () => {
      const c = await h.newClient();
      const campaign = await createCampaign(c, 'Unchanged');
      const res = await patch(c, campaign.ID, { ...body({ otherGroupId: await otherGroupId() }), UserData: 'must not stick' });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().details[0].field, field, res.body);
      assert.deepEqual(await read(c, campaign.ID), campaign);
    });
  }

  it('moves only the contacts that take their zone from the campaign, to the new zone or back to the client\'s', async () => {
    const c = await h.newClient({ TimeZone: 'Europe/Berlin' });
    const campaign = await createCampaign(c, 'Zones');
    const other = await createCampaign(c, 'Other zones');
    const now = new Date(h.clock.now());
    const contact = (campaignId: number, name: string, zone: string, source: 'Contact' | 'Country' | 'Campaign') => ({
      client_id: c.id, campaign_id: campaignId, name, time_zone: zone, time_zone_source: source, created_at: now, updated_at: now,
    });
    await h.store.db.insertInto('dialler_contacts').values([
      contact(campaign.ID, 'follows the campaign', 'Europe/Berlin', 'Campaign'),
      contact(campaign.ID, 'has its own zone', 'Asia/Tokyo', 'Contact'),
      contact(campaign.ID, 'from its country', 'Europe/Vienna', 'Country'),
      contact(other.ID, 'another campaign', 'Europe/Berlin', 'Campaign'),
    ]).execute();
    const zones = async () => Object.fromEntries((await h.store.db.selectFrom('dialler_contacts').select(['name', 'time_zone'])
      .where('client_id', '=', c.id).execute()).map((r) => [r.name, r.time_zone]));

    assert.equal((await patched(c, campaign.ID, { TimeZone: 'America/Chicago' })).TimeZone, 'America/Chicago');
    assert.deepEqual(await zones(), {
      'follows the campaign': 'America/Chicago', 'has its own zone': 'Asia/Tokyo', 'from its country': 'Europe/Vienna', 'another campaign': 'Europe/Berlin',
    });
    await patched(c, campaign.ID, { Weight: 2 });
    assert.equal((await zones())['follows the campaign'], 'America/Chicago', 'no TimeZone given: no move');
    assert.equal((await patched(c, campaign.ID, { TimeZone: null })).TimeZone, null);
    assert.deepEqual(await zones(), {
      'follows the campaign': 'Europe/Berlin', 'has its own zone': 'Asia/Tokyo', 'from its country': 'Europe/Vienna', 'another campaign': 'Europe/Berlin',
    });
  });

  it('tells the dialler engine once the change has committed', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Heard');
    const heard: string[] = [];
    const stop = h.store.onChange((payload) => heard.push(payload));
    try {
      await patched(c, campaign.ID, { bRunning: true });
      for (let i = 0; i < 100 && !heard.includes(`${c.id}:`); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(heard.includes(`${c.id}:`), `heard ${JSON.stringify(heard)}`);
      heard.length = 0;
      assert.equal((await patch(c, campaign.ID, { Weight: 0 })).statusCode, 400);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(!heard.includes(`${c.id}:`), 'a refused change is not announced');
    } finally {
      stop();
    }
  });
});

describeStores('dialler campaigns: clone with settings', (h) => {
  it('copies every setting and the restricted periods, paused, without contacts', async () => {
    const c = await h.newClient();
    const settings = await fullSettings(c);
    const source = await createCampaign(c, 'Running source', settings);
    assert.equal(source.bRunning, true);
    const res = await c.post('/dialler/campaigns/clone', { source: 'Running source', destination: 'Template copy', userData: 'copy' });
    assert.equal(res.statusCode, 200, res.body);
    const copy = res.json().records[0];
    assert.deepEqual(Object.keys(copy), [...JTEL_FIELDS, ...SETTING_FIELDS]);
    assert.deepEqual(settingsOf(copy), { ...settingsOf(source), bRunning: false });
    assert.deepEqual(copy.RestrictedPeriods, EXPECTED_PERIODS);
    const count = async (id: number) => (await h.store.db.selectFrom('dialler_restricted_periods').select('id').where('campaign_id', '=', id).execute()).length;
    assert.deepEqual([await count(copy.ID), await count(source.ID)], [3, 3]);
    assert.equal((await read(c, source.ID)).bRunning, true, 'the source keeps running');

    // The copy's lists are its own: changing them leaves the source's alone.
    await patched(c, copy.ID, { RestrictedPeriods: [], TimeWindows: [] });
    assert.deepEqual(settingsOf(await read(c, source.ID)), settingsOf(source));
  });
});
