// An event created while its group or user is being deleted: the answer is the 404 the request
// would have had a moment later (or the create wins), never a 500, and no event is left naming a
// group or user that is gone (events have no foreign keys: creates lock what they name, migration
// 009). Deleting a client (an operator's act, no API) takes its events along.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeStores } from './helper.ts';
import { addGroup, addUser, callback } from './fixtures-events.ts';

describeStores('ACD event create racing deletes', (h) => {
  it('answers 200, 404 or 409 when the group or the user goes away meanwhile', async () => {
    const c = await h.newClient();
    const seen = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const groupId = await addGroup(h.store.db, c.id);
      const userId = await addUser(h.store.db, c.id, [groupId]);
      const [created, deletedUser, deletedGroup] = await Promise.all([
        c.post('/acd/events/create', { ...callback(groupId), UsersID: userId }),
        c.request('DELETE', `/users/user/${userId}`),
        c.request('DELETE', `/acd/groups/group/${groupId}`),
      ]);
      for (const res of [created, deletedUser, deletedGroup]) {
        assert.ok([200, 404, 409].includes(res.statusCode), `${res.statusCode} ${res.body}`);
        assert.equal(typeof res.json().status, 'number');
      }
      seen.add(created.statusCode);
    }
    assert.ok(seen.size >= 1);
    const { rows } = await sql<{ id: number }>`
      SELECT e.id FROM acd_events e
      WHERE e.client_id = ${c.id} AND (
        (e.group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM acd_groups g WHERE g.id = e.group_id))
        OR (e.queue_group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM acd_groups g WHERE g.id = e.queue_group_id))
        OR (e.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id)))`.execute(h.store.db);
    assert.deepEqual(rows, [], 'events naming a group or user that is gone');
  });

  it('a client deleted by an operator takes its events and their history along, and no one else\'s', async () => {
    const gone = await h.newClient();
    const kept = await h.newClient();
    const events: number[] = [];
    for (const c of [gone, kept]) {
      const groupId = await addGroup(h.store.db, c.id);
      const res = await c.post('/acd/events/create', callback(groupId));
      assert.equal(res.statusCode, 200, res.body);
      events.push(res.json().records[0].ID);
    }
    await sql`DELETE FROM clients WHERE id = ${gone.id}`.execute(h.store.db);
    const left = await sql<{ id: number; history: number }>`
      SELECT e.id, (SELECT count(*)::int FROM acd_event_history x WHERE x.event_id = e.id) AS history
      FROM acd_events e WHERE e.id = ANY(${events}::int[])`.execute(h.store.db);
    assert.deepEqual(left.rows, [{ id: events[1], history: 1 }]);
    const orphans = await sql<{ n: number }>`SELECT count(*)::int AS n FROM acd_event_history WHERE event_id = ${events[0]}`.execute(h.store.db);
    assert.equal(orphans.rows[0]!.n, 0);
  });
});
