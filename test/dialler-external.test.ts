// The external dialler's side of the engine (spec §8.2): leases of contacts claimed with the client
// token, their renewal, expiry and release, results posted by the telephony system, and who may
// reach which routes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStores, type Harness, type TestClient } from './helper.ts';
import { asClient, newAgent } from './fixtures-agents.ts';
import {
  atTime, contactChanges, contactRow, diallerAgent, diallerSetup, insertContact, msOf, setRules, type DiallerSetup,
} from './fixtures-dialler-engine.ts';

const MINUTE = 60_000;

interface LeasedContact {
  DiallerContactsID: number; DiallerCampaignsID: number; AttemptID: string; HoldKind: string;
  PhoneIndex: number; PhoneNumber: string; bStarted: boolean; dtPreviewEnds: string | null;
}
interface Lease { LeaseID: string; dtExpires: string; Contacts: LeasedContact[] }

function claimAs(c: TestClient, campaignId: number, Count: number, LeaseSeconds = 60) {
  return c.post(`/dialler/campaigns/campaign/${campaignId}/leases`, { Count, LeaseSeconds });
}

async function claim(s: DiallerSetup, Count: number, LeaseSeconds = 60): Promise<Lease> {
  const res = await claimAs(s.client, s.campaignId, Count, LeaseSeconds);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
}

function dialledResult(c: TestClient, contactId: number, body: Record<string, unknown>) {
  return c.post(`/dialler/contacts/${contactId}/result`, body);
}

async function externalCampaign(h: Harness, maxParallel: number | null = null) {
  return diallerSetup(h, { mode: 'External', maxParallel });
}

describeStores('dialler: external dialler', (h) => {
  test('a claim hands out callable contacts in jtel order, never more than asked nor than the free lines, and never twice', async () => {
    const s = await externalCampaign(h, 3);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertContact(h, s, { phones: [`+493010${i}`], priority: 10 - i }));

    const first = await claim(s, 2, 60);
    assert.equal(first.dtExpires, '2026-06-15T10:01:00.000');
    assert.deepEqual(first.Contacts.map((c) => c.DiallerContactsID), [ids[0], ids[1]], 'highest priority first');
    for (const [i, c] of first.Contacts.entries()) {
      assert.match(c.AttemptID, /^[1-9][0-9]*$/);
      assert.equal(c.PhoneNumber, `+493010${i}`);
      assert.equal(c.PhoneIndex, 1);
      assert.equal(c.HoldKind, 'External');
      assert.equal(c.bStarted, true, 'the dialler dials at once');
      assert.equal(c.dtPreviewEnds, null);
    }

    const second = await claim(s, 5, 60);
    assert.equal(second.Contacts.length, 1, 'nMaxParallelLines 3 leaves one line');
    assert.equal(second.Contacts[0].DiallerContactsID, ids[2]);
    assert.notEqual(second.LeaseID, first.LeaseID);
    assert.equal((await claim(s, 5, 60)).Contacts.length, 0, 'all lines in use');

    const attempts = [...first.Contacts, ...second.Contacts].map((c) => c.AttemptID);
    assert.equal(new Set(attempts).size, 3);
    for (const id of ids.slice(0, 3)) {
      const row = await contactRow(h, id);
      assert.equal(row.state, 'InProgress');
      assert.equal(row.hold_kind, 'External');
      assert.equal(row.holder_user_id, null);
    }
    for (const id of ids.slice(3)) assert.equal((await contactRow(h, id)).state, 'Waiting');
    assert.deepEqual((await contactChanges(h, ids[0])).map((c) => [c.change, c.reason]), [['HandedOut', `lease ${first.LeaseID}`]]);
  });

  test('without a line limit a claim still gets no more than Count', async () => {
    const s = await externalCampaign(h);
    for (let i = 0; i < 4; i++) await insertContact(h, s, { phones: [`+493020${i}`] });
    const lease = await claim(s, 3);
    assert.equal(lease.Contacts.length, 3);
    const rest = await claim(s, 3);
    assert.equal(rest.Contacts.length, 1);
    assert.ok(!lease.Contacts.some((c) => c.DiallerContactsID === rest.Contacts[0].DiallerContactsID));
  });

  test('renewing moves the expiry; a lease that runs out returns its contacts untouched, and a late result for it is 409', async () => {
    const s = await externalCampaign(h);
    const ids = [await insertContact(h, s), await insertContact(h, s)];
    const start = h.clock.now();
    const lease = await claim(s, 2, 60);

    const renewed = await s.client.post(`/dialler/leases/${lease.LeaseID}/renew`, { LeaseSeconds: 300 });
    assert.equal(renewed.statusCode, 200, renewed.body);
    assert.deepEqual(renewed.json().records[0], { LeaseID: lease.LeaseID, nContacts: 2 });
    for (const id of ids) assert.equal(msOf((await contactRow(h, id)).hold_until), start + 300_000);

    await atTime(h, new Date(start + 120_000).toISOString(), () => h.app.dialler.runPass());
    for (const id of ids) assert.equal((await contactRow(h, id)).state, 'InProgress', 'the first 60 s no longer count');

    await atTime(h, new Date(start + 301_000).toISOString(), () => h.app.dialler.runPass());
    for (const id of ids) {
      const row = await contactRow(h, id);
      assert.equal(row.state, 'Waiting');
      assert.equal(row.n_tries, 0, 'no try counted');
      assert.equal(row.n_tries_phone_number1, 0);
      assert.equal(msOf(row.dt_next_try), -Infinity, 'due as before');
      assert.equal(row.lease_id, null);
      assert.equal(row.attempt_id, null);
      const changes = await contactChanges(h, id);
      assert.deepEqual(changes.map((c) => c.change), ['HandedOut', 'LeaseExpired']);
      assert.equal(changes[1].reason, `lease ${lease.LeaseID} ran out`);
    }
    const late = await dialledResult(s.client, ids[0], { AttemptID: lease.Contacts[0].AttemptID, SystemCause: 'Busy' });
    assert.equal(late.statusCode, 409, late.body);
    assert.equal((await contactRow(h, ids[0])).n_tries, 0);
    const renewGone = await s.client.post(`/dialler/leases/${lease.LeaseID}/renew`, { LeaseSeconds: 60 });
    assert.equal(renewGone.statusCode, 409, renewGone.body);
  });

  test('release gives every unresulted contact of the lease back untouched; they can be claimed again', async () => {
    const s = await externalCampaign(h);
    const ids = [await insertContact(h, s), await insertContact(h, s), await insertContact(h, s)];
    const lease = await claim(s, 3);
    const [done] = lease.Contacts;
    const res = await dialledResult(s.client, done.DiallerContactsID, { AttemptID: done.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(res.statusCode, 200, res.body);

    const released = await s.client.post(`/dialler/leases/${lease.LeaseID}/release`);
    assert.equal(released.statusCode, 200, released.body);
    assert.deepEqual(released.json().records[0], { LeaseID: lease.LeaseID, nContacts: 2 });
    for (const c of lease.Contacts.slice(1)) {
      const row = await contactRow(h, c.DiallerContactsID);
      assert.equal(row.state, 'Waiting');
      assert.equal(row.n_tries, 0);
      assert.equal(msOf(row.dt_next_try), -Infinity);
      assert.deepEqual((await contactChanges(h, c.DiallerContactsID)).map((x) => x.change), ['HandedOut', 'Released']);
    }
    assert.equal((await contactRow(h, done.DiallerContactsID)).state, 'Done', 'a resulted contact stays closed');
    const again = await s.client.post(`/dialler/leases/${lease.LeaseID}/release`);
    assert.equal(again.json().records[0].nContacts, 0);

    const next = await claim(s, 5);
    assert.deepEqual(next.Contacts.map((c) => c.DiallerContactsID).sort(), ids.filter((id) => id !== done.DiallerContactsID).sort());
    assert.ok(next.Contacts.every((c) => !lease.Contacts.some((old) => old.AttemptID === c.AttemptID)), 'new attempts');
  });

  test('a result with SystemCause Busy schedules the retry on the next number; a result code by ExportKey closes', async () => {
    const s = await externalCampaign(h);
    const id = await insertContact(h, s, { phones: ['+4930111', '+4930222'] });
    const [first] = (await claim(s, 1)).Contacts;
    assert.equal(first.PhoneNumber, '+4930111');
    const busy = await dialledResult(s.client, id, { AttemptID: first.AttemptID, SystemCause: 'Busy' });
    assert.equal(busy.statusCode, 200, busy.body);
    assert.deepEqual(busy.json().records[0], { DiallerContactsID: id, bRepeated: false, Next: null });
    let row = await contactRow(h, id);
    assert.equal(row.state, 'Waiting');
    assert.equal(row.due_rank, 3);
    assert.equal(row.next_phone_index, 1);
    assert.equal(row.n_tries, 1);
    assert.equal(row.n_tries_phone_number1, 1);
    assert.equal(row.n_phone_number1_last_cause, 1);
    assert.equal(msOf(row.dt_next_try), h.clock.now() + 10 * MINUTE, 'the campaign\'s Busy delay');
    assert.equal((await claim(s, 1)).Contacts.length, 0, 'not due yet');

    await atTime(h, new Date(h.clock.now() + 10 * MINUTE).toISOString(), async () => {
      const [second] = (await claim(s, 1)).Contacts;
      assert.equal(second.DiallerContactsID, id);
      assert.equal(second.PhoneIndex, 2);
      assert.equal(second.PhoneNumber, '+4930222');
      assert.notEqual(second.AttemptID, first.AttemptID);
      const unknown = await dialledResult(s.client, id, { AttemptID: second.AttemptID, ResultCodesExportKey: 'NOPE' });
      assert.equal(unknown.statusCode, 400, unknown.body);
      assert.match(unknown.body, /ResultCodesExportKey/);
      const done = await dialledResult(s.client, id, { AttemptID: second.AttemptID, ResultCodesExportKey: 'DONE' });
      assert.equal(done.statusCode, 200, done.body);
      const repeated = await dialledResult(s.client, id, { AttemptID: second.AttemptID, ResultCodesExportKey: 'DONE' });
      assert.equal(repeated.json().records[0].bRepeated, true);
    });
    row = await contactRow(h, id);
    assert.equal(row.state, 'Done');
    assert.equal(row.result_export_key, 'DONE');
    assert.equal(row.result_code_id, s.codes.DONE);
    assert.equal(row.n_tries_phone_number2, 1);
    assert.deepEqual((await contactChanges(h, id)).map((c) => c.change), ['HandedOut', 'Result', 'HandedOut', 'Result']);
  });

  test('only a running External campaign within its dates leases contacts (409 otherwise)', async () => {
    for (const [what, settings, rules] of [
      ['preview', { mode: 'Preview' as const }, {}],
      ['manual', { mode: 'Manual' as const }, {}],
      ['paused', { mode: 'External' as const, running: false }, {}],
      ['past dtTo', { mode: 'External' as const }, { endsAt: new Date(h.clock.now() - MINUTE) }],
    ] as const) {
      const s = await diallerSetup(h, settings);
      await setRules(h, s.campaignId, rules);
      const id = await insertContact(h, s);
      const res = await claimAs(s.client, s.campaignId, 1);
      assert.equal(res.statusCode, 409, `${what}: ${res.body}`);
      assert.equal((await contactRow(h, id)).state, 'Waiting', what);
    }
  });

  test('agent routes refuse the client token and the external dialler\'s routes refuse an agent token (403)', async () => {
    const s = await externalCampaign(h);
    const id = await insertContact(h, s);
    const agent = await diallerAgent(h, s);
    const [leased] = (await claim(s, 1)).Contacts;
    const client = asClient(s.client);
    for (const [method, path] of [
      ['GET', '/agents/me/dialler'],
      ['POST', `/agents/me/dialler/contacts/${id}/start`],
      ['POST', `/agents/me/dialler/contacts/${id}/release`],
    ] as const) {
      const res = await client(method, path, method === 'POST' ? {} : undefined);
      assert.equal(res.statusCode, 403, `${path}: ${res.body}`);
    }
    const asAgent = [
      await agent.request('POST', `/dialler/campaigns/campaign/${s.campaignId}/leases`, { Count: 1, LeaseSeconds: 60 }),
      await agent.request('POST', `/dialler/contacts/${id}/result`, { AttemptID: leased.AttemptID, ResultCodesExportKey: 'DONE' }),
    ];
    for (const res of asAgent) assert.equal(res.statusCode, 403, res.body);
    const agentResult = await agent.request('POST', `/agents/me/dialler/contacts/${id}/result`, { AttemptID: leased.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(agentResult.statusCode, 409, 'the dialler\'s contact is not in the agent\'s hands');
    const row = await contactRow(h, id);
    assert.equal(row.state, 'InProgress');
    assert.equal(String(row.attempt_id), leased.AttemptID);
  });

  test('tenancy: another client\'s campaign, lease and contacts are out of reach', async () => {
    const a = await externalCampaign(h);
    const idA = await insertContact(h, a);
    const b = await externalCampaign(h);
    const idB = await insertContact(h, b);
    const lease = await claim(a, 5);
    const [leased] = lease.Contacts;

    assert.equal((await claimAs(b.client, a.campaignId, 5)).statusCode, 404);
    const result = await dialledResult(b.client, idA, { AttemptID: leased.AttemptID, ResultCodesExportKey: 'DONE' });
    assert.equal(result.statusCode, 404, result.body);
    const renew = await b.client.post(`/dialler/leases/${lease.LeaseID}/renew`, { LeaseSeconds: 600 });
    assert.equal(renew.statusCode, 409, renew.body);
    const release = await b.client.post(`/dialler/leases/${lease.LeaseID}/release`);
    assert.ok(release.statusCode === 409 || (release.statusCode === 200 && release.json().records[0].nContacts === 0), release.body);
    const agentB = await newAgent(h, b.client);
    const start = await agentB.request('POST', `/agents/me/dialler/contacts/${idA}/start`, {});
    assert.equal(start.statusCode, 404, start.body);

    const rowA = await contactRow(h, idA);
    assert.equal(rowA.state, 'InProgress');
    assert.equal(rowA.lease_id, lease.LeaseID);
    assert.equal(msOf(rowA.hold_until), h.clock.now() + 60_000, 'the foreign renewal moved nothing');
    const own = await claim(b, 5);
    assert.deepEqual(own.Contacts.map((c) => c.DiallerContactsID), [idB], 'b gets only its own contact');
  });
});
