// A Switchboard built from a config whose mqtt {} block uses nats-server's and
// mosquitto's keys: MQTT clients log in as the block's users, and get its
// limits (Server Keep Alive, Receive Maximum, Maximum Packet Size) in CONNACK.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../core/config/switchboard-config.ts';
import { silentLogger } from '../../core/server/logger.ts';
import { createApp, type App } from '../../gateways/main.ts';
import { configExtensions } from '../../gateways/registry.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

describe('mqtt config', () => {
  let app: App;
  let port: number;
  before(async () => {
    const config = buildConfig({
      host: '127.0.0.1', port: 0, monitor: false, jetstream: false,
      mqtt: { port: 0, authorization: { user: 'dev', password: 's3cret' }, ack_wait: '30s', max_keepalive: 20, receive_maximum: 8, max_packet_size: '64KB' },
    }, () => 'test.conf', configExtensions());
    assert.deepEqual(config.warnings.map((w) => w.split(':')[0]), ['test.conf']); // ack_wait, naming the file
    app = createApp(config, silentLogger());
    await app.start();
    port = app.gateways.components.get('mqtt')?.listener?.boundPort() ?? 0;
  });
  after(async () => {
    await app.stop();
  });

  it('mqtt config - mqtt.authorization users log in over MQTT, others are refused; the limits are in CONNACK', async () => {
    const good = await RawMqtt.open(port, 5);
    const connack = (await good.connect(5, { username: 'dev', password: Buffer.from('s3cret'), keepalive: 0 })) as {
      reasonCode?: number; properties?: { serverKeepAlive?: number; receiveMaximum?: number; maximumPacketSize?: number };
    };
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.properties?.serverKeepAlive, 20);
    assert.equal(connack.properties?.receiveMaximum, 8);
    assert.equal(connack.properties?.maximumPacketSize, 64 * 1024);
    good.destroy();
    const bad = await RawMqtt.open(port, 5);
    assert.equal(((await bad.connect(5, { username: 'dev', password: Buffer.from('wrong') })) as { reasonCode?: number }).reasonCode, 0x86);
    await bad.waitClosed();
    const anonymous = await RawMqtt.open(port, 5);
    assert.equal(((await anonymous.connect(5)) as { reasonCode?: number }).reasonCode, 0x87);
    await anonymous.waitClosed();
  });
});
