// The body generator of the endpoint properties must make independent bodies: a value it hands
// out more than once (edge's `{}`) must never be written into, nor end up inside itself.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mutate, Raw } from './fixtures-properties.ts';

it('mutate copies the values it puts in, so bodies share nothing and never become circular', () => {
  const shared = {};
  const raw = new Raw('1e400');
  const body = mutate({ Skills: { '1': 5 }, Name: 'x' }, [[['Skills'], shared], [['Skills', '007'], shared], [['Name'], raw]]);
  assert.deepEqual(shared, {}, 'the handed-out value is untouched');
  assert.equal(JSON.stringify(body.Skills), '{"007":{}}');
  assert.equal(body.Name, raw, 'raw number literals stay what they are');
});

it('mutate names an array element only by a small index', () => {
  const body = mutate({ Skills: { '1': 5 } }, [[['Skills'], []], [['Skills', '2147483648'], { '7': 5 }], [['Skills', '1'], 3]]);
  assert.equal(JSON.stringify(body.Skills), '[null,3]');
});
