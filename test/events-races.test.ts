// An event created while its group or user is being deleted: the answer is the 404 the request
// would have had a moment later (or the create wins), never a 500.
import { it } from 'node:test';
import assert from 'node:assert/strict';
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
  });
});
