// The one way of recording a change (src/db/changes.ts): a kind's history row and feed message in
// the statement, its notice heard once the change has committed, never when it rolled back.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import {
  announceChanges, changedParties, changeValues, ContactChange, decodeNotice, encodeNotice, noticesOf, recordChanges, type ChangeNotice,
} from '../src/db/changes.ts';
import type { Database } from '../src/db/schema.ts';
import { describeStores } from './helper.ts';
import { propertyParameters } from './fixtures-fast-check.ts';

/** A campaign with one contact, written directly (the dialler's own paths are not under test here). */
async function contactOf(db: Kysely<Database>, clientId: number): Promise<{ campaignId: number; contactId: number }> {
  const { rows: [campaign] } = await sql<{ id: number }>`
    INSERT INTO dialler_campaigns (client_id, name) VALUES (${clientId}, 'Changes test') RETURNING id`.execute(db);
  const { rows: [contact] } = await sql<{ id: number }>`
    INSERT INTO dialler_contacts (client_id, campaign_id, name, time_zone) VALUES (${clientId}, ${campaign!.id}, 'Ada', 'UTC') RETURNING id`.execute(db);
  return { campaignId: campaign!.id, contactId: contact!.id };
}

describeStores('recording a change', (h) => {
  it('writes a contact change: its history row and its feed message, in one statement, heard after commit', async () => {
    const c = await h.newClient();
    // History and feed name the agent without a reference to check: any id will do.
    const userId = 4242;
    const { campaignId, contactId } = await contactOf(h.store.db, c.id);
    const at = new Date('2026-03-01T10:00:00.000Z');
    const heard: string[] = [];
    const off = h.store.onChange((p) => p !== '' && heard.push(p));
    try {
      const written = await h.store.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ client_id: number; agent_id: number | null }>`
          WITH ${recordChanges(ContactChange, changeValues(ContactChange, [{
            client_id: c.id, campaign_id: campaignId, contact_id: contactId, attempt_id: 7, change: 'Dialled', state: 'InProgress',
            user_id: userId, phone_index: 2, phone_number: '+4930123456', cause: 16, result_code_id: null, appointment_at: null,
            comment: 'called back', actor: 'dialler', reason: 'preview accepted', created_at: at,
          }]))}
          ${changedParties(ContactChange)}`.execute(trx);
        await announceChanges(trx, noticesOf(rows, false));
        assert.deepEqual(heard, [], 'nobody hears a change before it commits');
        return rows;
      });
      assert.deepEqual(written, [{ client_id: c.id, agent_id: userId }]);
      assert.deepEqual(heard, [encodeNotice({ clientId: c.id, agentId: userId, distribute: false })], 'heard once, after commit');

      const { rows: [history] } = await sql<Record<string, unknown>>`
        SELECT client_id, campaign_id, contact_id, attempt_id::int AS attempt_id, change, state, user_id, phone_index, phone_number, cause,
          result_code_id, appointment_at, comment, actor, reason, created_at
        FROM dialler_contact_history WHERE contact_id = ${contactId}`.execute(h.store.db);
      assert.deepEqual({ ...history, created_at: new Date(history!.created_at as string).toISOString() }, {
        client_id: c.id, campaign_id: campaignId, contact_id: contactId, attempt_id: 7, change: 'Dialled', state: 'InProgress', user_id: userId,
        phone_index: 2, phone_number: '+4930123456', cause: 16, result_code_id: null, appointment_at: null, comment: 'called back',
        actor: 'dialler', reason: 'preview accepted', created_at: at.toISOString(),
      });
      const { rows: messages } = await sql<{ client_id: number; agent_id: number | null; data: Record<string, unknown>; created_at: Date | string }>`
        SELECT client_id, agent_id, data, created_at FROM push_messages WHERE topic = 'contact' AND client_id = ${c.id}`.execute(h.store.db);
      assert.equal(messages.length, 1);
      assert.deepEqual([messages[0]!.client_id, messages[0]!.agent_id, new Date(messages[0]!.created_at).toISOString()], [c.id, userId, at.toISOString()]);
      assert.deepEqual(messages[0]!.data, {
        DiallerContactsID: contactId, DiallerCampaignsID: campaignId, Change: 'Dialled', State: 'InProgress', UsersID: userId,
        AttemptID: 7, PhoneIndex: 2, Cause: 16, ResultCodesID: null, Actor: 'dialler', Reason: 'preview accepted',
      });
    } finally {
      off();
    }
  });

  it('drops the notices of a transaction that rolls back, with its rows', async () => {
    const c = await h.newClient();
    const { campaignId, contactId } = await contactOf(h.store.db, c.id);
    const heard: string[] = [];
    const off = h.store.onChange((p) => p !== '' && heard.push(p));
    try {
      await assert.rejects(h.store.db.transaction().execute(async (trx) => {
        await sql`WITH ${recordChanges(ContactChange, changeValues(ContactChange, [{
          client_id: c.id, campaign_id: campaignId, contact_id: contactId, attempt_id: null, change: 'Closed', state: 'Done', user_id: null,
          phone_index: null, phone_number: null, cause: null, result_code_id: null, appointment_at: null, comment: null,
          actor: 'api', reason: null, created_at: new Date(),
        }]))} SELECT 1`.execute(trx);
        await announceChanges(trx, [{ clientId: c.id, agentId: null, distribute: true }]);
        throw new Error('changed my mind');
      }), /changed my mind/);
      await announceChanges(h.store.db, [{ clientId: c.id, agentId: 5, distribute: true }]);
      assert.deepEqual(heard, [`${c.id}:5`], 'only the committed change is heard');
      const { rows } = await sql<{ n: number }>`
        SELECT (SELECT count(*) FROM dialler_contact_history WHERE contact_id = ${contactId})
          + (SELECT count(*) FROM push_messages WHERE topic = 'contact' AND client_id = ${c.id}) AS n`.execute(h.store.db);
      assert.equal(Number(rows[0]!.n), 0);
    } finally {
      off();
    }
  });
});

it('a notice reads back as it was sent, and anything else reads as "look everywhere"', () => {
  const notice = fc.record({
    clientId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    agentId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: null }),
    distribute: fc.boolean(),
  });
  fc.assert(fc.property(notice, (n: ChangeNotice) => {
    assert.deepEqual(decodeNotice(encodeNotice(n)), { ...n });
    assert.ok(!encodeNotice(n).includes('\n'), 'one per line in a NOTIFY');
  }), propertyParameters(200));
  for (const payload of ['', 'x:1', '0:', ':5']) assert.equal(decodeNotice(payload), null, payload);
});
