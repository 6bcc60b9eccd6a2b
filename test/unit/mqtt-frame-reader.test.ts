// FrameReader: the same packets whether the bytes come whole, one at a time or
// split at every offset; oversize and malformed lengths are refused early.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { FrameReader } from '../../gateways/mqtt/frame-reader.ts';
import { MqttProtocolError } from '../../gateways/mqtt/reason-codes.ts';

const FIXTURE: Packet[] = [
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c1', clean: true, keepalive: 30 },
  { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 7), qos: 1, messageId: 5, retain: false, dup: false },
  { cmd: 'subscribe', messageId: 6, subscriptions: [{ topic: 'x/#', qos: 2 }] },
  { cmd: 'pingreq' },
  { cmd: 'publish', topic: 'short', payload: Buffer.from(''), qos: 0, retain: true, dup: false },
  { cmd: 'disconnect' },
];
const BYTES = Buffer.concat(FIXTURE.map((p) => mqttPacket.generate(p)));

function read(chunks: Buffer[], max = 1 << 20): Packet['cmd'][] {
  const reader = new FrameReader(max);
  const out: Packet['cmd'][] = [];
  for (const c of chunks) reader.push(c, (p) => out.push(p.cmd));
  return out;
}

describe('mqtt frame reader', () => {
  const expected = FIXTURE.map((p) => p.cmd);

  it('mqtt - whole input and one byte at a time give the same packets', () => {
    assert.deepEqual(read([BYTES]), expected);
    assert.deepEqual(read([...BYTES].map((b) => Buffer.from([b]))), expected);
  });

  it('mqtt - a split at every offset gives the same packets', () => {
    for (let i = 1; i < BYTES.length; i++) {
      assert.deepEqual(read([BYTES.subarray(0, i), BYTES.subarray(i)]), expected, `split at ${i}`);
    }
  });

  it('mqtt - an oversize packet is refused from its fixed header (0x95)', () => {
    const reader = new FrameReader(100);
    reader.push(mqttPacket.generate(FIXTURE[0]), () => {});
    const header = mqttPacket.generate(FIXTURE[1]).subarray(0, 4); // only the fixed header
    assert.throws(() => reader.push(header, () => {}), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x95);
  });

  it('mqtt - a first packet other than CONNECT and a 5-byte length are refused', () => {
    assert.throws(() => read([mqttPacket.generate({ cmd: 'pingreq' })]), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x82);
    const connect = mqttPacket.generate(FIXTURE[0]);
    assert.throws(() => read([connect, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x81);
  });

  it('mqtt - a malformed packet on one connection does not disturb the shared decoder for others', () => {
    const connect = mqttPacket.generate(FIXTURE[0]);
    const subscribe = mqttPacket.generate(FIXTURE[2]);
    const broken = Buffer.from(subscribe);
    broken[0] = 0x80; // [MQTT-3.8.1-1] SUBSCRIBE flags must be 0010
    assert.throws(() => read([connect, broken]), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x81);
    const truncated = Buffer.from(subscribe);
    truncated[1] = 3; // declared shorter than its topic: mqtt-packet cannot finish it
    assert.throws(() => read([connect, truncated.subarray(0, 5)]), MqttProtocolError);
    assert.deepEqual(read([connect, subscribe]), ['connect', 'subscribe']);
  });
});
