import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/config/config-error.ts';
import { mqttDescriptor } from '../../gateways/mqtt/descriptor.ts';

const parse = (raw: unknown) => mqttDescriptor.parse(raw, '127.0.0.1');

describe('mqtt descriptor', () => {
  it('mqtt descriptor - max_queued_messages and max_queued_bytes reach the MQTT section; bad values name the key', () => {
    const mqtt = parse({ port: 0, max_queued_messages: 5000, max_queued_bytes: '1048576' });
    assert.equal(mqtt.maxQueuedMessages, 5000);
    assert.equal(mqtt.maxQueuedBytes, 1_048_576);
    assert.equal(parse(undefined).maxQueuedMessages, undefined); // the gateway's default
    assert.throws(() => parse({ max_queued_messages: 0 }), (e: unknown) => e instanceof ConfigError && /mqtt\.max_queued_messages/.test(e.message));
    assert.throws(() => parse({ max_queued: 1 }), (e: unknown) => e instanceof ConfigError && /mqtt\.max_queued/.test(e.message));
  });
});
