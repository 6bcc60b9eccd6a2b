// Bad input gets the right reason code (v5) or a closed connection (3.1.1), and
// never affects other clients.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectMqtt, Inbox, startSwitchboardMqtt, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

describe('mqtt bad input', () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt({ maxPacketSize: 4096, topicAliasMaximum: 10 });
  });
  after(async () => {
    await sb.stop();
  });

  it('mqtt - garbage closes only the offending connection', async () => {
    const good = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    const inbox = new Inbox(good);
    await good.subscribeAsync('still/alive');
    const raw = await RawMqtt.open(sb.port);
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])); // [MQTT-1.5.5-1] 5-byte length
    await raw.waitClosed();
    const raw2 = await RawMqtt.open(sb.port);
    raw2.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await raw2.waitClosed();
    await good.publishAsync('still/alive', 'yes');
    await inbox.waitFor(1);
    await good.endAsync();
  });

  it('mqtt - a packet before CONNECT closes the connection', async () => {
    const raw = await RawMqtt.open(sb.port);
    raw.write({ cmd: 'pingreq' }); // [MQTT-3.1.0-1]
    await raw.waitClosed();
  });

  it('mqtt - a second CONNECT closes the connection', async () => {
    const raw = await RawMqtt.open(sb.port);
    await raw.connect(4);
    raw.write({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'x', clean: true, keepalive: 0 });
    await raw.waitClosed(); // [MQTT-3.1.0-2]
  });

  it('mqtt - an unsupported protocol level gets CONNACK 0x01', async () => {
    const raw = await RawMqtt.open(sb.port);
    raw.write({ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'old', clean: true, keepalive: 0 }, 4);
    const connack = await raw.next('connack'); // [MQTT-3.1.2-2]
    assert.equal((connack as { returnCode?: number }).returnCode, 1);
    await raw.waitClosed();
  });

  it('mqtt - 3.1.1 empty client id with clean session 0 gets CONNACK 0x02', async () => {
    const raw = await RawMqtt.open(sb.port);
    // mqtt-packet refuses to encode this, so the bytes are written by hand: flags 0x00 = CleanSession 0.
    raw.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]));
    const connack = await raw.next('connack'); // [MQTT-3.1.3-8]
    assert.equal((connack as { returnCode?: number }).returnCode, 2);
    await raw.waitClosed();
  });

  it('mqtt - v5 oversize packet gets DISCONNECT 0x95', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    const connack = await raw.connect(5);
    assert.equal((connack as { properties?: { maximumPacketSize?: number } }).properties?.maximumPacketSize, 4096);
    raw.write({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false }, 5);
    const d = await raw.next('disconnect');
    assert.equal((d as { reasonCode?: number }).reasonCode, 0x95);
    await raw.waitClosed();
  });

  it('mqtt - v5 topic alias over the maximum gets DISCONNECT 0x94', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    await raw.connect(5);
    raw.write({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 11 } }, 5);
    const d = await raw.next('disconnect'); // [MQTT-3.3.2-9]
    assert.equal((d as { reasonCode?: number }).reasonCode, 0x94);
    await raw.waitClosed();
  });

  it('mqtt - v5 wildcard in a PUBLISH topic gets DISCONNECT 0x90', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    await raw.connect(5);
    raw.write({ cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, 5);
    const d = await raw.next('disconnect'); // [MQTT-3.3.2-2]
    assert.equal((d as { reasonCode?: number }).reasonCode, 0x90);
    await raw.waitClosed();
  });

  it('mqtt - 3.1.1 wildcard in a PUBLISH topic closes the connection', async () => {
    const raw = await RawMqtt.open(sb.port, 4);
    await raw.connect(4);
    raw.write({ cmd: 'publish', topic: 'a/#', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, 4);
    await raw.waitClosed();
  });

  it('mqtt - invalid topic filters get 0x80 (3.1.1) / 0x8F (5) in SUBACK', async () => {
    for (const version of [4, 5] as const) {
      const raw = await RawMqtt.open(sb.port, version);
      await raw.connect(version);
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }, { topic: 'ok/+', qos: 1 }, { topic: '$share/g', qos: 0 }] }, version);
      const suback = (await raw.next('suback')) as { granted: number[] };
      assert.deepEqual(suback.granted, version === 5 ? [0x8f, 1, 0x8f] : [0x80, 1, 0x80]);
      raw.destroy();
    }
  });

  it('mqtt - v5 Receive Maximum 0 is refused with CONNACK 0x82', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    const connack = (await raw.connect(5, { properties: { receiveMaximum: 0 } })) as { reasonCode?: number };
    assert.equal(connack.reasonCode, 0x82); // MQTT 5 §3.1.2.11.3
    await raw.waitClosed();
  });

  it('mqtt - a QoS 1 PUBLISH with packet identifier 0 closes the connection', async () => {
    const raw = await RawMqtt.open(sb.port, 4);
    await raw.connect(4);
    raw.write(Buffer.from([0x32, 6, 0, 1, 0x74, 0, 0, 0x78])); // [MQTT-2.3.1-1] (bytes by hand: encoders refuse id 0)
    await raw.waitClosed();
  });

  it('mqtt - v5 server shutdown sends DISCONNECT 0x8B', async () => {
    const own = await startSwitchboardMqtt();
    const raw = await RawMqtt.open(own.port, 5);
    await raw.connect(5);
    await own.stop();
    const d = await raw.next('disconnect');
    assert.equal((d as { reasonCode?: number }).reasonCode, 0x8b);
  });
});
