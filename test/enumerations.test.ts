import { it } from 'node:test';
import assert from 'node:assert/strict';
import { describeStores } from './helper.ts';

describeStores('enumerations', (h) => {
  it('lists the 7 event types in jtel form', async () => {
    const c = await h.newClient();
    const res = await c.get('/acd/events/types');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['filter', 'limitStart', 'limitPageSize', 'records', 'count', 'orderBy', 'ascending', 'status']);
    assert.equal(body.count, 7);
    assert.deepEqual(body.records[5], { ShortText: 'AcdEventTypes.WorkFlowConnector', ID: 6 });
    assert.equal(body.orderBy, 'ID');
  });

  it('lists the 11 event statuses', async () => {
    const c = await h.newClient();
    const body = (await c.get('/acd/events/status')).json();
    assert.equal(body.count, 11);
    assert.deepEqual(body.records.map((r: { ID: number }) => r.ID), [0, 1, 2, 4, 10, 20, 30, 40, 98, 99, 100]);
    assert.equal(body.records[10].ShortText, 'AcdEventStatus.Error');
  });
});
