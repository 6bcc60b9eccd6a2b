// The hand-written hot-path codec agrees with mqtt-packet, both directions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket, { type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';
import { encodeAck, encodePublish, fastDecode } from '../../gateways/mqtt/fast-codec.ts';

function parse(bytes: Buffer, protocolVersion: 4 | 5): Packet {
  const parser = mqttPacket.parser({ protocolVersion });
  let out: Packet | null = null;
  parser.on('packet', (p: Packet) => (out = p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  parser.parse(bytes);
  assert.ok(out !== null);
  return out;
}

function bodyStart(frame: Buffer): number {
  let i = 1;
  while (frame[i] & 0x80) i++;
  return i + 1;
}

const PUBLISHES: IPublishPacket[] = [
  { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false },
  { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(0), qos: 1, retain: true, dup: false, messageId: 7 },
  { cmd: 'publish', topic: 'ünï/cødé', payload: Buffer.alloc(300, 1), qos: 2, retain: false, dup: true, messageId: 65535 },
  { cmd: 'publish', topic: 'big', payload: Buffer.alloc(20_000, 2), qos: 1, retain: false, dup: false, messageId: 1 },
];

describe('mqtt fast codec', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`mqtt - PUBLISH without properties decodes and encodes like mqtt-packet (v${protocolVersion})`, () => {
      for (const p of PUBLISHES) {
        const bytes = mqttPacket.generate(p, { protocolVersion });
        const fast = fastDecode(bytes, bodyStart(bytes), protocolVersion) as IPublishPacket;
        assert.ok(fast !== null);
        assert.equal(fast.topic, p.topic);
        assert.deepEqual(Buffer.from(fast.payload as Buffer), p.payload);
        assert.deepEqual([fast.qos, fast.retain, fast.dup, fast.messageId], [p.qos, p.retain, p.dup, p.messageId]);
        const ours = encodePublish(p.topic, p.payload as Buffer, p.qos, p.retain, p.dup, p.messageId ?? 0, protocolVersion);
        const back = parse(ours, protocolVersion) as IPublishPacket;
        assert.equal(back.topic, p.topic);
        assert.deepEqual(back.payload, p.payload);
        assert.deepEqual([back.qos, back.retain, back.dup, back.messageId], [p.qos, p.retain, p.dup, p.qos > 0 ? p.messageId : undefined]);
      }
    });
  }

  it('mqtt - a v5 PUBLISH with a Topic Alias encodes byte for byte as mqtt-packet does', () => {
    for (const p of PUBLISHES) {
      for (const [topic, alias] of [[p.topic, 1], ['', 300], ['', 65535]] as const) {
        const expected = mqttPacket.generate({ ...p, topic, properties: { topicAlias: alias } }, { protocolVersion: 5 });
        const ours = encodePublish(topic, p.payload as Buffer, p.qos, p.retain, p.dup, p.messageId ?? 0, 5, alias);
        assert.deepEqual(ours, expected);
        const back = parse(ours, 5) as IPublishPacket;
        assert.deepEqual([back.topic, back.properties?.topicAlias], [topic, alias]);
      }
    }
  });

  it('mqtt - acks and PINGREQ match; v5 PUBLISH with properties is left to mqtt-packet', () => {
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
      const bytes = mqttPacket.generate({ cmd, messageId: 513 } as Packet, { protocolVersion: 4 });
      assert.deepEqual(encodeAck(cmd, 513), bytes);
      assert.deepEqual(fastDecode(bytes, 2, 4), { cmd, messageId: 513 });
    }
    assert.deepEqual(fastDecode(Buffer.from([0xc0, 0]), 2, 4), { cmd: 'pingreq' });
    const withProps = mqttPacket.generate({ ...PUBLISHES[0], properties: { contentType: 'x' } }, { protocolVersion: 5 });
    assert.equal(fastDecode(withProps, bodyStart(withProps), 5), null);
    assert.equal(fastDecode(Buffer.from([0x60, 2, 0, 1]), 2, 4), null); // PUBREL with wrong flags: full parser decides
  });

  it('mqtt - CONNECT without will or properties decodes as mqtt-packet does; anything else is left to it', () => {
    const plain: IConnectPacket[] = [
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'sensor-1' },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId: '' },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 30, clientId: 'çlïent', username: 'ü', password: Buffer.from([0, 255, 1]) },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: false, keepalive: 65535, clientId: 'v5', username: 'u' },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 10, clientId: 'v5p', username: 'u', password: Buffer.alloc(0) },
    ];
    for (const p of plain) {
      const bytes = mqttPacket.generate(p, { protocolVersion: p.protocolVersion });
      const expected = parse(bytes, p.protocolVersion as 4 | 5) as IConnectPacket;
      const fast = fastDecode(bytes, bodyStart(bytes), 4) as IConnectPacket;
      assert.ok(fast !== null, `fast path for ${p.clientId}`);
      for (const field of ['protocolId', 'protocolVersion', 'clean', 'keepalive', 'clientId', 'username', 'password', 'will', 'properties'] as const) {
        assert.deepEqual(fast[field], expected[field], `${field} of ${JSON.stringify(p.clientId)}`);
      }
    }
    const others: IConnectPacket[] = [
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'w', will: { topic: 'a/b', payload: Buffer.from('x'), qos: 1, retain: false } },
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, keepalive: 60, clientId: 'p', properties: { sessionExpiryInterval: 60 } },
      { cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: true, keepalive: 60, clientId: 'old' },
    ];
    for (const p of others) {
      const bytes = mqttPacket.generate(p, { protocolVersion: p.protocolVersion === 5 ? 5 : 4 });
      assert.equal(fastDecode(bytes, bodyStart(bytes), 4), null, p.clientId);
    }
    const good = mqttPacket.generate(plain[2], { protocolVersion: 4 });
    const start = bodyStart(good);
    const reserved = Buffer.from(good);
    reserved[start + 7] |= 1; // [MQTT-3.1.2-3]
    const truncated = good.subarray(0, good.length - 1);
    const trailing = Buffer.concat([good, Buffer.from([0])]);
    const badUtf8 = Buffer.from(mqttPacket.generate(plain[0], { protocolVersion: 4 }));
    badUtf8[bodyStart(badUtf8) + 12] = 0xff;
    for (const bytes of [reserved, truncated, trailing, badUtf8]) assert.equal(fastDecode(bytes, start, 4), null);
  });
});
