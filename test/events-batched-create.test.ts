// Creates that arrive together share one statement (src/modules/events/guarded-create.ts). Each
// request must still get exactly its own answer: its own record when valid, its own 4xx when not,
// and a batch holding an invalid create must not take the valid ones down with it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores, recordStatements } from './helper.ts';
import { addGroup, callback, eventRowCounts, eventTenant } from './fixtures-events.ts';

describeStores('ACD event creates arriving together', (h) => {
  it('answer each request with its own record or error, whatever they are batched with', async () => {
    const berlin = await eventTenant(h, { TimeZone: 'Europe/Berlin' });
    const tokyo = await eventTenant(h, { TimeZone: 'Asia/Tokyo' });
    const foreignGroup = await addGroup(h.store.db, tokyo.client.id);
    const { statements, restore } = recordStatements(h.store.db, 'INSERT INTO acd_events');
    const before = await eventRowCounts(h.store.db);
    try {
      const requests = Array.from({ length: 48 }, (_, i) => {
        const t = i % 3 === 0 ? tokyo : berlin;
        // Every 7th names a group of the other client (404), every 11th a user who is no member (409).
        const body = callback(i % 7 === 6 ? foreignGroup : t.groupId, {
          Subject: `Request ${i}`, UserData: `ud-${i}`, Priority: i % 90,
          ...(i % 11 === 10 ? { UsersID: 999_999_999 } : {}),
          ...(i % 5 === 4 && i % 7 !== 6 ? { AcdGroupsID: null, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId } : {}),
        });
        const client = i % 7 === 6 ? berlin.client : t.client;
        return { i, client, body, expected: i % 7 === 6 ? 404 : i % 11 === 10 ? 404 : 200 };
      });
      const answers = await Promise.all(requests.map((r) => r.client.post('/acd/events/create', r.body)));
      let created = 0;
      for (const [k, res] of answers.entries()) {
        const r = requests[k]!;
        assert.equal(res.statusCode, r.expected, `request ${r.i}: ${res.body}`);
        if (res.statusCode !== 200) continue;
        created++;
        const { Result_, ...record } = res.json().records[0];
        assert.equal(Result_, 'CREATED');
        assert.deepEqual([record.Subject, record.UserData, record.Priority], [`Request ${r.i}`, `ud-${r.i}`, r.i % 90], `request ${r.i} got its own record`);
        // Its client's event, with times in its client's zone: as GET shows it to that client.
        const stored = await r.client.get(`/acd/events/event/${record.ID}`);
        assert.deepEqual(stored.json().records[0], record, `request ${r.i}`);
      }
      const after = await eventRowCounts(h.store.db);
      assert.equal(after.events - before.events, created, 'each valid create stored once, the invalid ones not at all');
      assert.equal(after.history - before.history, created);
      // PGlite answers each statement before the next request reaches the store: nothing waits to
      // be batched there. On PostgreSQL the statements are in flight while requests arrive.
      if (h.kind === 'postgres') assert.ok(statements.length < requests.length, `creates shared statements (${statements.length} statements for ${requests.length} creates)`);
    } finally {
      restore();
    }
  });
});
