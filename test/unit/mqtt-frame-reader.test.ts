// FrameReader: the same packets whether the bytes come whole, one at a time or
// split at every offset; oversize and malformed lengths are refused early.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { FrameReader, type FrameLimits } from '../../gateways/mqtt/frame-reader.ts';
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

function limits(maxPacketSize: number, maxConnectPacketSize = maxPacketSize): FrameLimits {
  return { maxPacketSize, maxConnectPacketSize };
}

/** Every packet next() gives after each push. */
function drain(reader: FrameReader, chunk: Buffer): Packet[] {
  reader.push(chunk);
  const out: Packet[] = [];
  for (let p = reader.next(); p !== null; p = reader.next()) out.push(p);
  return out;
}

function read(chunks: Buffer[], max = 1 << 20): Packet['cmd'][] {
  const reader = new FrameReader(limits(max));
  return chunks.flatMap((c) => drain(reader, c).map((p) => p.cmd));
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
    const reader = new FrameReader(limits(100));
    drain(reader, mqttPacket.generate(FIXTURE[0]));
    const header = mqttPacket.generate(FIXTURE[1]).subarray(0, 4); // only the fixed header
    assert.throws(() => drain(reader, header), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x95);
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

  it('mqtt - a CONNECT over the first-packet limit is refused from its fixed header; later packets get the full limit', () => {
    const reader = new FrameReader(limits(4096, 64));
    const bigConnect = mqttPacket.generate({ ...FIXTURE[0], clientId: 'c'.repeat(100) } as Packet);
    assert.throws(() => drain(reader, bigConnect.subarray(0, 2)), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x95);
    const ok = new FrameReader(limits(4096, 64));
    const publish = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(1000), qos: 0, retain: false, dup: false });
    assert.deepEqual(drain(ok, Buffer.concat([mqttPacket.generate(FIXTURE[0]), publish])).map((p) => p.cmd), ['connect', 'publish']);
  });

  it('mqtt - a declared length holds no memory: what is held follows the bytes received', () => {
    const reader = new FrameReader(limits(1 << 20));
    drain(reader, mqttPacket.generate(FIXTURE[0]));
    // A PUBLISH declaring ~1 MiB, sent a byte at a time: the reader never holds much more than it got.
    const big = mqttPacket.generate({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(1_000_000, 3), qos: 0, retain: false, dup: false });
    let received = 0;
    let maxHeld = 0;
    const out: Packet[] = [];
    for (let at = 0; at < big.length; at += 1 + (at % 97)) {
      const piece = big.subarray(at, Math.min(big.length, at + 1 + (at % 97)));
      received += piece.length;
      out.push(...drain(reader, piece));
      maxHeld = Math.max(maxHeld, reader.bufferedBytes);
      assert.ok(reader.bufferedBytes <= Math.max(256, 2 * received), `held ${reader.bufferedBytes} after ${received} bytes`);
    }
    assert.equal(out.length, 1);
    assert.deepEqual((out[0] as { payload: Buffer }).payload, Buffer.alloc(1_000_000, 3));
    assert.equal(reader.bufferedBytes, 0, 'nothing is held once the packet is out');
  });

  it('mqtt - push() only stores: packets are decoded one per next(), errors surface there', () => {
    const reader = new FrameReader(limits(1 << 20));
    const broken = mqttPacket.generate(FIXTURE[2]);
    broken[0] = 0x80; // [MQTT-3.8.1-1] SUBSCRIBE flags must be 0010
    reader.push(Buffer.concat([mqttPacket.generate(FIXTURE[0]), mqttPacket.generate(FIXTURE[3]), broken]));
    assert.equal(reader.next()?.cmd, 'connect');
    assert.ok(reader.bufferedBytes > 0, 'the rest waits as bytes');
    assert.equal(reader.next()?.cmd, 'pingreq');
    assert.throws(() => reader.next(), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === 0x81);
  });
});
