// The run summary's target for a test, from its suite and test names (test/helpers/test-targets.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyTarget } from '../helpers/test-targets.ts';

describe('test targets', () => {
  it('test targets - a "(target)" suffix of a suite names the target', () => {
    assert.equal(classifyTarget(['limits (nats-server)', 'limits - a wrong token']), 'nats-server');
    assert.equal(classifyTarget(['http kv (cluster)', 'http kv - put']), 'cluster');
    assert.equal(classifyTarget(['cluster failover (nats-server cluster)', 'cluster failover - kill the leader']), 'cluster');
    assert.equal(classifyTarget(['mqtt differential (mosquitto)', 'mqtt - QoS']), 'mosquitto');
    assert.equal(classifyTarget(['nats protocol (switchboard)', 'protocol - PING']), 'embedded');
    assert.equal(classifyTarget(['broker contract (nats-broker on nats-server)', 'broker - publish']), 'nats-server');
  });

  it('test targets - without a known suffix, a peer named in the path counts; otherwise embedded', () => {
    assert.equal(classifyTarget(['websocket gateway in headless chromium', 'websocket - a page']), 'chromium');
    assert.equal(classifyTarget(['mqtt with mosquitto clients', 'mqtt - mosquitto_pub QoS 0/1/2']), 'mosquitto');
    assert.equal(classifyTarget(['cluster config', 'cluster config - no nats_url is embedded mode']), 'embedded');
    assert.equal(classifyTarget(['kafka bridge outage (embedded)', 'kafka outage - buffered (nats-server)']), 'embedded');
  });
});
