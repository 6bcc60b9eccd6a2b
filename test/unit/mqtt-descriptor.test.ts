import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../core/config/config-error.ts';
import { mqttDescriptor } from '../../gateways/mqtt/descriptor.ts';
import { loadConfig, parseSections } from '../../gateways/registry.ts';

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

describe('mqtt config section (nats-server keys, limits, flags)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-conf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const confFile = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const mqttOf = (loaded: ReturnType<typeof loadConfig>) => {
    assert.equal(loaded.kind, 'config');
    if (loaded.kind !== 'config') throw new Error('no config');
    return { config: loaded.config, mqtt: parseSections(loaded.config.sections, loaded.config.server.host).mqtt };
  };

  it("mqtt config - a nats-server mqtt {} block loads: meaningful keys apply, consumer tuning is a warning naming file and key", () => {
    const file = confFile('nats.conf', `
port: 4333
mqtt {
  listen: "127.0.0.1:18830"
  authorization { user: "dev", password: "s3cret" }
  ack_wait: "1m"
  max_ack_pending: 100
  js_api_timeout: "5s"
  stream_replicas: 3
  consumer_inactive_threshold: "1h"
  max_keepalive: 30
  max_packet_size: "256KB"
  receive_maximum: 50
}
`);
    const { config, mqtt } = mqttOf(loadConfig(['-c', file], {}));
    assert.equal(mqtt.host, '127.0.0.1');
    assert.equal(mqtt.port, 18830);
    assert.equal(mqtt.maxInflight, 100); // nats-server's max_ack_pending
    assert.equal(mqtt.maxKeepAlive, 30);
    assert.equal(mqtt.maxPacketSize, 256 * 1024);
    assert.equal(mqtt.receiveMaximum, 50);
    assert.deepEqual(mqtt.auth?.users.map((u) => u.user), ['dev']);
    assert.deepEqual(config.warnings.map((w) => w.split('"')[1]).sort(), ['mqtt.ack_wait', 'mqtt.consumer_inactive_threshold', 'mqtt.js_api_timeout', 'mqtt.stream_replicas']);
    for (const w of config.warnings) assert.ok(w.startsWith(`${file}: `), w);
  });

  it('mqtt config - an unknown or bad mqtt key is refused naming the file and the key', () => {
    const unknown = confFile('unknown.conf', 'mqtt { port: 1883, max_sessions: 5 }\n');
    assert.throws(() => loadConfig(['-c', unknown], {}), (e: unknown) => e instanceof ConfigError && e.source === unknown && e.key === 'mqtt.max_sessions' && e.message.includes(unknown));
    const bad = confFile('bad.conf', 'mqtt { max_ack_pending: 70000 }\n');
    assert.throws(() => loadConfig(['-c', bad], {}), (e: unknown) => e instanceof ConfigError && e.source === bad && e.key === 'mqtt.max_ack_pending');
  });

  it('mqtt config - the limits are set by flags and SWITCHBOARD_MQTT_* variables too; a flag wins over the file', () => {
    const file = confFile('limits.conf', 'mqtt { max_inflight: 10, max_queued_messages: 500 }\n');
    const { mqtt } = mqttOf(loadConfig(['-c', file, '--mqtt_max_inflight', '7', '--mqtt_max_packet_size', '4096'], { SWITCHBOARD_MQTT_MAX_QUEUED_BYTES: '1MB', SWITCHBOARD_MQTT_MAX_KEEPALIVE: '60' }));
    assert.equal(mqtt.maxInflight, 7);
    assert.equal(mqtt.maxPacketSize, 4096);
    assert.equal(mqtt.maxQueuedMessages, 500);
    assert.equal(mqtt.maxQueuedBytes, 1024 * 1024);
    assert.equal(mqtt.maxKeepAlive, 60);
    assert.throws(() => loadConfig(['--mqtt_max_inflight', 'lots'], {}), (e: unknown) => e instanceof ConfigError && e.key === '--mqtt_max_inflight');
  });

  it('mqtt config - retain_from_headers is off unless the file, a flag or SWITCHBOARD_MQTT_RETAIN_FROM_HEADERS turns it on', () => {
    assert.equal(mqttOf(loadConfig([], {})).mqtt.retainFromHeaders, undefined); // the gateway's default: off
    const file = confFile('retain.conf', 'mqtt { retain_from_headers: true }\n');
    assert.equal(mqttOf(loadConfig(['-c', file], {})).mqtt.retainFromHeaders, true);
    assert.equal(mqttOf(loadConfig(['-c', file, '--mqtt_retain_from_headers', 'false'], {})).mqtt.retainFromHeaders, false);
    assert.equal(mqttOf(loadConfig([], { SWITCHBOARD_MQTT_RETAIN_FROM_HEADERS: 'true' })).mqtt.retainFromHeaders, true);
    const bad = confFile('retain-bad.conf', 'mqtt { retain_from_headers: "sometimes" }\n');
    assert.throws(() => loadConfig(['-c', bad], {}), (e: unknown) => e instanceof ConfigError && e.key === 'mqtt.retain_from_headers');
  });
});
