// Spec §8.1: an incoming call whose caller ID matches one of a contact's numbers closes the contact
// with the campaign's IncomingCallResultCodesID, where bCloseContactsOnIncomingCallsMatchCallerID.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { propertyParameters } from './fixtures-fast-check.ts';
import { createCampaign, type CampaignJson } from './fixtures-dialler.ts';
import { callerIdForms, matchesCallerId } from '../src/dialler/incoming-call.ts';
import { forgetCampaignConfig } from '../src/dialler/sql/campaign-config.ts';

/** A contact row written directly (the import's rules are not what is tested here). */
async function insertContact(h: Harness, c: TestClient, campaignId: number, cols: Record<string, unknown> = {}): Promise<number> {
  const now = new Date(h.clock.now());
  const row = await h.store.db.insertInto('dialler_contacts').values({
    client_id: c.id, campaign_id: campaignId, name: 'Contact', time_zone: 'Europe/Berlin', created_at: now, updated_at: now, ...cols,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

async function setCampaign(h: Harness, id: number, cols: Record<string, unknown>): Promise<void> {
  await h.store.db.updateTable('dialler_campaigns').set(cols).where('id', '=', id).execute();
  forgetCampaignConfig(h.store.db, id);
}

async function contactState(h: Harness, id: number) {
  return h.store.db.selectFrom('dialler_contacts')
    .select(['state', 'closed_reason', 'result_code_id', 'result_export_key']).where('id', '=', id).executeTakeFirstOrThrow();
}

function codeId(campaign: CampaignJson, c: TestClient, key: string): Promise<number> {
  return c.get(`/dialler/campaigns/campaign/${campaign.ID}/resultCodes`).then((r) => r.json().records.find((x: { ExportKey: string }) => x.ExportKey === key).ID);
}

describeStores('dialler incoming call', (h) => {
  it('closes every waiting contact with a matching number, in the campaigns that close on incoming calls only', async () => {
    const c = await h.newClient();
    const closing = await createCampaign(c, 'Closing');
    const aborting = await createCampaign(c, 'Aborting');
    await setCampaign(h, aborting.ID, { incoming_call_result_code_id: await codeId(aborting, c, 'NOTEL') });
    const flagOff = await createCampaign(c, 'Flag off', { bCloseContactsOnIncomingCallsMatchCallerID: false });
    const noCode = await createCampaign(c, 'No code');
    await setCampaign(h, noCode.ID, { incoming_call_result_code_id: null });
    const other = await h.newClient();
    const othersCampaign = await createCampaign(other, 'Closing');

    const international = await insertContact(h, c, closing.ID, { phone_number1: '+49301234567' });
    const national = await insertContact(h, c, closing.ID, { phone_number1: '0409999999', phone_number3: '0301234567' });
    const exitPrefix = await insertContact(h, c, aborting.ID, { phone_number2: '0049301234567' });
    const unrelated = await insertContact(h, c, closing.ID, { phone_number1: '0301234568' });
    const inProgress = await insertContact(h, c, closing.ID, { phone_number1: '0301234567', state: 'InProgress', hold_kind: 'Manual' });
    const done = await insertContact(h, c, closing.ID, { phone_number1: '0301234567', state: 'Done', closed_reason: 'Result' });
    const untouched = [
      await insertContact(h, c, flagOff.ID, { phone_number1: '0301234567' }),
      await insertContact(h, c, noCode.ID, { phone_number1: '0301234567' }),
      await insertContact(h, other, othersCampaign.ID, { phone_number1: '0301234567' }),
    ];

    const res = await c.post('/dialler/incomingCall', { CallerID: '+49 30 1234567' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { records: [{ ClosedContactIDs: [international, national, exitPrefix] }], count: 1, status: 200 });

    const incoming = await codeId(closing, c, 'INCOMING');
    for (const id of [international, national]) {
      assert.deepEqual(await contactState(h, id), { state: 'Done', closed_reason: 'IncomingCall', result_code_id: incoming, result_export_key: 'INCOMING' });
    }
    assert.deepEqual(await contactState(h, exitPrefix), {
      state: 'Aborted', closed_reason: 'IncomingCall', result_code_id: await codeId(aborting, c, 'NOTEL'), result_export_key: 'NOTEL',
    });
    for (const id of [unrelated, ...untouched]) assert.equal((await contactState(h, id)).state, 'Waiting', `contact ${id}`);
    assert.equal((await contactState(h, inProgress)).state, 'InProgress');
    assert.deepEqual(await contactState(h, done), { state: 'Done', closed_reason: 'Result', result_code_id: null, result_export_key: null });

    const { rows } = await sql<{ contact_id: number; change: string; state: string; phone_index: number; phone_number: string; result_code_id: number }>`
      SELECT contact_id, change, state, phone_index, phone_number, result_code_id FROM dialler_contact_history
      WHERE client_id = ${c.id} ORDER BY id`.execute(h.store.db);
    assert.deepEqual(rows, [
      { contact_id: international, change: 'IncomingCall', state: 'Done', phone_index: 0, phone_number: '+49301234567', result_code_id: incoming },
      { contact_id: national, change: 'IncomingCall', state: 'Done', phone_index: 2, phone_number: '0301234567', result_code_id: incoming },
      { contact_id: exitPrefix, change: 'IncomingCall', state: 'Aborted', phone_index: 1, phone_number: '0049301234567', result_code_id: await codeId(aborting, c, 'NOTEL') },
    ]);

    // Closed now: a second call changes nothing.
    assert.deepEqual((await c.post('/dialler/incomingCall', { CallerID: '0301234567' })).json().records[0], { ClosedContactIDs: [] });
  });

  it('matches a national caller ID against international numbers and refuses malformed caller IDs', async () => {
    const c = await h.newClient();
    const campaign = await createCampaign(c, 'National');
    const plus = await insertContact(h, c, campaign.ID, { phone_number6: '+49301234567' });
    const exit = await insertContact(h, c, campaign.ID, { phone_number1: '0049301234567' });
    const bare = await insertContact(h, c, campaign.ID, { phone_number1: '49301234567' });
    assert.deepEqual((await c.post('/dialler/incomingCall', { CallerID: '030/1234567' })).json().records[0], { ClosedContactIDs: [plus, exit] });
    assert.equal((await contactState(h, bare)).state, 'Waiting');
    for (const CallerID of ['anonymous', '+49 30 12x', '   ']) {
      const res = await c.post('/dialler/incomingCall', { CallerID });
      assert.equal(res.statusCode, 400, CallerID);
      assert.equal(res.json().details[0].field, 'CallerID');
    }
    assert.equal((await c.post('/dialler/incomingCall', { CallerID: 301234567 })).statusCode, 400);
  });
});

// Numbers in the spellings a trunk or an import may use, over a small pool of digits so that
// matches are frequent.
const spelling = fc.tuple(
  fc.constantFrom('+', '00', '0', ''),
  fc.constantFrom('', '4', '49', '1', '39', '390'),
  fc.constantFrom('301234567', '1234567', '61234567', '0301234567', '12345'),
).map(([prefix, cc, rest]) => `${prefix}${cc}${rest}`).filter((n) => /^\+?[0-9]{3,20}$/.test(n) && !/^\+0/.test(n));

it('matches symmetrically, and the SQL forms select exactly what the rule matches', () => {
  fc.assert(fc.property(spelling, spelling, (caller, number) => {
    assert.equal(matchesCallerId(caller, number), matchesCallerId(number, caller));
    const { exact, pattern } = callerIdForms(caller);
    const bySql = exact.includes(number) || (pattern !== null && new RegExp(pattern).test(number));
    assert.equal(bySql, matchesCallerId(caller, number), `${caller} vs ${number}`);
  }), propertyParameters(500));
});

it('documents the rule by example', () => {
  const cases: [string, string, boolean][] = [
    ['+49301234567', '+49301234567', true],
    ['+49301234567', '0049301234567', true],
    ['+49301234567', '0301234567', true],
    ['0301234567', '+49301234567', true],
    ['0301234567', '0301234567', true],
    ['+39061234567', '061234567', true],
    ['49301234567', '+49301234567', false],
    ['0301234567', '0301234568', false],
    ['+4912345', '012345', false],
  ];
  for (const [a, b, expected] of cases) assert.equal(matchesCallerId(a, b), expected, `${a} vs ${b}`);
});
