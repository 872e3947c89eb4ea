// Webhook settings: the configuration, and which addresses count as private.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { isPrivateAddress } from '../src/webhooks/safety.ts';

test('configuration: SWITCHBOARD_WEBHOOKS_* settings, checked at start', () => {
  assert.equal(loadConfig({}).webhooksAllowPrivate, false);
  assert.equal(loadConfig({ SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE: '1' }).webhooksAllowPrivate, true);
  assert.throws(() => loadConfig({ SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE: 'yes' }), /SWITCHBOARD_WEBHOOKS_ALLOW_PRIVATE/);
  assert.equal(loadConfig({}).webhooksTimeoutMs, 10_000);
  assert.throws(() => loadConfig({ SWITCHBOARD_WEBHOOKS_TIMEOUT_MS: '0' }), /SWITCHBOARD_WEBHOOKS_TIMEOUT_MS/);
  assert.equal(loadConfig({ SWITCHBOARD_WEBHOOKS_SECRET_KEY: 'k' }).webhooksSecretKey, 'k');
});

test('private addresses: loopback, private, link-local, unique-local, unspecified, mapped; public ones pass', () => {
  for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', '::', 'fe80::1', 'fd12::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
});
