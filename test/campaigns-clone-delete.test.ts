// Spec §5.1: cloning and deleting dialler campaigns with their related data.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';
import { createCampaign, importContact, relatedRows, timeWindowsOf } from './fixtures-dialler.ts';

const NOT_FOUND = { status: 404, error: 'Dialler campaign not found' };

type Code = { ID: number; DiallerCampaignsID: number; ShortText: string; [field: string]: unknown };

/** Result codes without the fields that must differ between a campaign and its copy. */
const comparable = (codes: Code[]) => codes.map(({ ID: _id, DiallerCampaignsID: _c, ShortText: _s, ...rest }) => rest);

describeStores('dialler campaigns: clone', (h) => {
  it('copies settings, result codes with every translation and time windows, not contacts', async () => {
    const c = await h.newClient();
    const source = await createCampaign(c, 'Source');
    const contact = await importContact(c, { Name: 'Doe', DiallerCampaignsID: source.ID, PhoneNumber1: '+49 89 1234567' });
    assert.equal(contact.statusCode, 200);
    h.clock.advance(60_000);
    const res = await c.post('/dialler/campaigns/clone', { source: 'Source', destination: 'Copy', userData: 'copied by test' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['records', 'count', 'status']);
    assert.equal(body.count, 1);
    const copy = body.records[0];
    assert.notEqual(copy.ID, source.ID);
    assert.equal(copy.Name, 'Copy');
    assert.equal(copy.UserData, 'copied by test');
    for (const key of ['ClientsID', 'LanguagesID', 'ContactPreviewTime', 'nMaxParallelLines', 'bCloseContactsOnIncomingCallsMatchCallerID', 'dtTo', 'bCallerIDActive']) {
      assert.deepEqual(copy[key], source[key], key);
    }
    assert.notEqual(copy.dtCreated, source.dtCreated, 'the copy is created now');
    assert.deepEqual((await c.get(`/dialler/campaigns/${copy.ID}`)).json(), body);

    for (const language of [1, 2]) {
      const from = (await c.get(`/dialler/campaigns/campaign/${source.ID}/resultCodes?languagesID=${language}`)).json().records;
      const to = (await c.get(`/dialler/campaigns/campaign/${copy.ID}/resultCodes?languagesID=${language}`)).json().records;
      assert.deepEqual(comparable(to), comparable(from), `language ${language}`);
      assert.ok(to.every((r: Code) => r.DiallerCampaignsID === copy.ID && r.ShortText === `DiallerCampaignsResultCodes.${r.ID}`));
    }
    const [sourceRows, copyRows] = [await relatedRows(h.store.db, source.ID), await relatedRows(h.store.db, copy.ID)];
    assert.deepEqual(copyRows, { ...sourceRows, contacts: 0 });
    assert.equal(sourceRows.contacts, 1);
    assert.deepEqual(await timeWindowsOf(h.store.db, copy.ID), await timeWindowsOf(h.store.db, source.ID));
    assert.equal((await c.get(`/dialler/contacts?diallerCampaignsID=${copy.ID}`)).json().count, 0);
  });

  it("points the copy's references at the copy's own result codes", async () => {
    const c = await h.newClient();
    const source = await createCampaign(c, 'Referenced');
    const copy = (await c.post('/dialler/campaigns/clone', { source: 'Referenced', destination: 'Referenced copy', userData: '' })).json().records[0];
    const sourceCodes = (await c.get(`/dialler/campaigns/campaign/${source.ID}/resultCodes`)).json().records as Code[];
    const copyCodes = (await c.get(`/dialler/campaigns/campaign/${copy.ID}/resultCodes`)).json().records as Code[];
    const byId = new Map(copyCodes.map((r) => [r.ID, r]));
    for (const key of ['AbortOnNoTelNumberResultCodesID', 'IncomingCallResultCodesID'] as const) {
      assert.notEqual(copy[key], null, key);
      assert.notEqual(copy[key], source[key], key);
      assert.ok(byId.has(copy[key]), `${key} is one of the copy's codes`);
      assert.ok(!sourceCodes.some((r) => r.ID === copy[key]), `${key} is none of the source's codes`);
      const sourceKey = sourceCodes.find((r) => r.ID === source[key])!.ExportKey;
      assert.equal(byId.get(copy[key])!.ExportKey, sourceKey, `${key} keeps its meaning`);
    }
    assert.equal(copy.UserData, '');
  });

  it('copies a campaign without references or codes as such', async () => {
    const c = await h.newClient();
    await c.post('/dialler/campaigns/create', { Name: 'Bare' });
    const res = await c.post('/dialler/campaigns/clone', { source: 'Bare', destination: 'Bare copy', userData: 'x' });
    assert.equal(res.statusCode, 200);
    const copy = res.json().records[0];
    assert.equal(copy.AbortOnNoTelNumberResultCodesID, null);
    assert.equal(copy.IncomingCallResultCodesID, null);
    assert.deepEqual(await relatedRows(h.store.db, copy.ID), { campaigns: 1, resultCodes: 0, texts: 0, timeWindows: 0, contacts: 0 });
  });

  it('answers 404 for a missing source, matching names exactly', async () => {
    const c = await h.newClient();
    await createCampaign(c, 'Exact source');
    for (const source of ['Nothing', 'Exact', 'exact source', 'Exact source ']) {
      const res = await c.post('/dialler/campaigns/clone', { source, destination: `Copy of ${source.trim()}`, userData: '' });
      assert.equal(res.statusCode, 404, source);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.equal((await c.get('/dialler/campaigns')).json().count, 1);
  });

  it('answers 409 when the destination exists, including the source itself', async () => {
    const c = await h.newClient();
    await createCampaign(c, 'One');
    await createCampaign(c, 'Two');
    for (const destination of ['Two', 'One']) {
      const res = await c.post('/dialler/campaigns/clone', { source: 'One', destination, userData: '' });
      assert.equal(res.statusCode, 409, destination);
      assert.equal(res.json().status, 409);
    }
    assert.equal((await c.get('/dialler/campaigns')).json().count, 2);
  });

  it('lets exactly one of two concurrent clones to the same destination win', async () => {
    const c = await h.newClient();
    await createCampaign(c, 'Race source');
    const body = { source: 'Race source', destination: 'Race target', userData: '' };
    const results = await Promise.all([c.post('/dialler/campaigns/clone', body), c.post('/dialler/campaigns/clone', body)]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409]);
    const loser = results.find((r) => r.statusCode === 409)!;
    assert.equal(loser.json().status, 409);
    const targets = await h.store.db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', c.id).where('name', '=', 'Race target').execute();
    assert.equal(targets.length, 1);
    assert.deepEqual(await relatedRows(h.store.db, targets[0].id), { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 0 });
    const orphans = await h.store.db.selectFrom('dialler_result_codes as r').leftJoin('dialler_campaigns as c', 'c.id', 'r.campaign_id')
      .select('r.id').where('c.id', 'is', null).execute();
    assert.equal(orphans.length, 0);
  });

  it("cannot clone another client's campaign, even by its exact name", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    await createCampaign(a, 'Owned by A');
    const res = await b.post('/dialler/campaigns/clone', { source: 'Owned by A', destination: 'Stolen', userData: '' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), NOT_FOUND);
    assert.equal((await b.get('/dialler/campaigns')).json().count, 0);
    // A's names do not block B's destinations either.
    await createCampaign(b, 'B source');
    assert.equal((await b.post('/dialler/campaigns/clone', { source: 'B source', destination: 'Owned by A', userData: '' })).statusCode, 200);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['missing source', { destination: 'd', userData: '' }, 'source'],
    ['missing destination', { source: 's', userData: '' }, 'destination'],
    ['missing userData', { source: 's', destination: 'd' }, 'userData'],
    ['empty source', { source: '', destination: 'd', userData: '' }, 'source'],
    ['blank destination', { source: 's', destination: ' ', userData: '' }, 'destination'],
    ['numeric userData', { source: 's', destination: 'd', userData: 5 }, 'userData'],
    ['too long userData', { source: 's', destination: 'd', userData: 'x'.repeat(257) }, 'userData'],
    ['unknown field', { source: 's', destination: 'd', userData: '', sourceAcdEventTypesID: 1 }, 'sourceAcdEventTypesID'],
  ];
  for (const [title, body, fieldName] of invalid) {
    it(`answers 400 for ${title}`, async () => {
      const c = await h.newClient();
      const res = await c.post('/dialler/campaigns/clone', body);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().details[0].field, fieldName);
    });
  }
});

describeStores('dialler campaigns: delete', (h) => {
  it('deletes a campaign by ID with its result codes, texts, time windows and contacts', async () => {
    const c = await h.newClient();
    const doomed = await createCampaign(c, 'Doomed');
    const kept = await createCampaign(c, 'Kept');
    for (const campaign of [doomed, kept]) {
      const res = await importContact(c, { Name: 'Doe', DiallerCampaignsID: campaign.ID, PhoneNumber1: '0891234567' });
      assert.equal(res.statusCode, 200);
    }
    const codeIds = (await c.get(`/dialler/campaigns/campaign/${doomed.ID}/resultCodes`)).json().records.map((r: Code) => r.ID);
    const res = await c.request('DELETE', `/dialler/campaigns/campaign/${doomed.ID}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    assert.deepEqual(await relatedRows(h.store.db, doomed.ID), { campaigns: 0, resultCodes: 0, texts: 0, timeWindows: 0, contacts: 0 });
    const texts = await h.store.db.selectFrom('dialler_result_code_texts').select('result_code_id').where('result_code_id', 'in', codeIds).execute();
    assert.equal(texts.length, 0);
    assert.deepEqual((await c.get(`/dialler/campaigns/${doomed.ID}`)).json(), NOT_FOUND);
    assert.deepEqual(await relatedRows(h.store.db, kept.ID), { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 1 });
  });

  it('answers 404 for an unknown ID', async () => {
    const c = await h.newClient();
    const res = await c.request('DELETE', '/dialler/campaigns/campaign/999999');
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), NOT_FOUND);
  });

  it('deletes by exact name only: a partial or differently cased name deletes nothing', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'Spring campaign');
    for (const name of ['Spring', 'spring campaign', 'Spring campaign 2', 'pring campaign', '%']) {
      const res = await c.request('DELETE', `/dialler/campaigns/campaign?name=${encodeURIComponent(name)}`);
      assert.equal(res.statusCode, 404, name);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.equal((await relatedRows(h.store.db, campaign.ID)).campaigns, 1);
    const res = await c.request('DELETE', `/dialler/campaigns/campaign?name=${encodeURIComponent('Spring campaign')}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 200 });
    assert.deepEqual(await relatedRows(h.store.db, campaign.ID), { campaigns: 0, resultCodes: 0, texts: 0, timeWindows: 0, contacts: 0 });
  });

  it('answers 400 for delete by name without a name', async () => {
    const c = await h.newClient();
    for (const path of ['/dialler/campaigns/campaign', '/dialler/campaigns/campaign?name=']) {
      const res = await c.request('DELETE', path);
      assert.equal(res.statusCode, 400, path);
      assert.equal(res.json().details[0].field, 'name');
    }
  });

  it("cannot delete another client's campaign by ID or by name", async () => {
    const a = await h.newClient();
    const b = await h.newClient();
    const campaign = await createCampaign(a, 'Protected');
    assert.deepEqual((await b.request('DELETE', `/dialler/campaigns/campaign/${campaign.ID}`)).json(), NOT_FOUND);
    assert.deepEqual((await b.request('DELETE', '/dialler/campaigns/campaign?name=Protected')).json(), NOT_FOUND);
    assert.deepEqual(await relatedRows(h.store.db, campaign.ID), { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 0 });
  });

  it('deletes a clone without touching its source, and the other way round', async () => {
    const c = await h.newClient();
    const source = await createCampaign(c, 'Original');
    const copy = (await c.post('/dialler/campaigns/clone', { source: 'Original', destination: 'Duplicate', userData: '' })).json().records[0];
    assert.equal((await c.request('DELETE', `/dialler/campaigns/campaign/${source.ID}`)).statusCode, 200);
    const still = (await c.get(`/dialler/campaigns/${copy.ID}`)).json().records[0];
    assert.equal(still.AbortOnNoTelNumberResultCodesID, copy.AbortOnNoTelNumberResultCodesID);
    assert.deepEqual(await relatedRows(h.store.db, copy.ID), { campaigns: 1, resultCodes: 5, texts: 9, timeWindows: 3, contacts: 0 });
  });
});
