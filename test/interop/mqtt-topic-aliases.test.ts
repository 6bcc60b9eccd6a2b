// Outbound topic aliases (MQTT 5 §3.3.2.3.4): the server aliases the topics
// it sends to a client that announced a Topic Alias Maximum. Checked on the
// wire with a raw client (what each PUBLISH carries) and with mqtt.js v5
// (that a real client resolves them), and against mosquitto 2.0, which sends
// no aliases at all: the messages a client sees are the same.

import assert from 'node:assert/strict';
import type { IPublishPacket } from 'mqtt-packet';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connectMqtt, Inbox, sleep, startMosquitto, startSwitchboardMqtt, type MqttTarget, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

/** A raw v5 subscriber to `filter` (QoS 1) announcing `properties` in CONNECT. */
async function rawSubscriber(port: number, filter: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<RawMqtt> {
  const raw = await RawMqtt.open(port, 5);
  await raw.connect(5, { properties, ...extra } as never);
  raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] }, 5);
  await raw.next('suback');
  return raw;
}

/** The next `n` PUBLISHes as `topic#alias` (alias `-` when absent), acknowledging QoS 1 ones. */
async function wire(raw: RawMqtt, n: number, ack = true): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = (await raw.next('publish')) as IPublishPacket;
    if (ack && p.qos === 1) raw.write({ cmd: 'puback', messageId: p.messageId }, 5);
    seen.push(`${p.topic}#${p.properties?.topicAlias ?? '-'}`);
  }
  return seen;
}

describe('mqtt outbound topic aliases', () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt({ topicAliasMaximum: 3 });
  });
  after(async () => {
    await sb.stop();
  });

  it('mqtt - the first PUBLISH of a topic carries topic and alias, later ones only the alias', async () => {
    const raw = await rawSubscriber(sb.port, 'ta1/#', { topicAliasMaximum: 2 });
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await pub.publishAsync('ta1/a', '1');
    await pub.publishAsync('ta1/a', '2', { qos: 1 });
    await pub.publishAsync('ta1/b', '3');
    // Properties (a user property) go through mqtt-packet's encoder: aliased just the same.
    await pub.publishAsync('ta1/b', '4', { qos: 1, properties: { userProperties: { k: 'v' }, contentType: 'text/plain' } });
    await pub.publishAsync('ta1/a', '5');
    // Both aliases taken: ta1/c gets the least recently used one (ta1/b's 2), then ta1/b gets ta1/a's 1.
    await pub.publishAsync('ta1/c', '6');
    await pub.publishAsync('ta1/b', '7');
    assert.deepEqual(await wire(raw, 7), ['ta1/a#1', '#1', 'ta1/b#2', '#2', '#1', 'ta1/c#2', 'ta1/b#1']);
    await pub.endAsync();
    raw.destroy();
  });

  it('mqtt - no alias to a client that announced no Topic Alias Maximum, or 0, or speaks 3.1.1', async () => {
    const none = await rawSubscriber(sb.port, 'ta2/#', {});
    const zero = await rawSubscriber(sb.port, 'ta2/#', { topicAliasMaximum: 0 });
    const v4 = await RawMqtt.open(sb.port, 4);
    await v4.connect(4);
    v4.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ta2/#', qos: 1 }] }, 4);
    await v4.next('suback');
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    for (const payload of ['1', '2']) await pub.publishAsync('ta2/t', payload);
    for (const raw of [none, zero, v4]) assert.deepEqual(await wire(raw, 2), ['ta2/t#-', 'ta2/t#-']); // [MQTT-3.1.2-27]
    await pub.endAsync();
    for (const raw of [none, zero, v4]) raw.destroy();
  });

  it("mqtt - aliases stay within both the client's maximum and the server's", async () => {
    const raw = await rawSubscriber(sb.port, 'ta3/#', { topicAliasMaximum: 1000 });
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    for (let i = 0; i < 6; i++) await pub.publishAsync(`ta3/${i}`, 'x');
    const seen = await wire(raw, 6);
    const aliases = seen.map((s) => Number(s.split('#')[1]));
    assert.deepEqual(aliases, [1, 2, 3, 1, 2, 3]); // the server's topicAliasMaximum, 3 [MQTT-3.3.2-11]
    assert.ok(seen.every((s) => !s.startsWith('#')), 'every topic was new, so each carries its name');
    await pub.endAsync();
    raw.destroy();
  });

  it('mqtt - a PUBLISH too large for the client is not sent and sets no alias', async () => {
    const raw = await rawSubscriber(sb.port, 'ta4/#', { topicAliasMaximum: 5, maximumPacketSize: 200 });
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await pub.publishAsync('ta4/t', Buffer.alloc(500, 1));
    await pub.publishAsync('ta4/t', 'small');
    assert.deepEqual(await wire(raw, 1), ['ta4/t#1']);
    await pub.endAsync();
    raw.destroy();
  });

  it('mqtt - a new network connection starts with no aliases, also for resent in-flight messages', async () => {
    const session = { clientId: 'ta5-sub', clean: false };
    const first = await rawSubscriber(sb.port, 'ta5/#', { topicAliasMaximum: 5, sessionExpiryInterval: 60 }, session);
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await pub.publishAsync('ta5/t', 'acked', { qos: 1 });
    await pub.publishAsync('ta5/t', 'unacked', { qos: 1 });
    const [acked, unacked] = [(await first.next('publish')) as IPublishPacket, (await first.next('publish')) as IPublishPacket];
    first.write({ cmd: 'puback', messageId: acked.messageId }, 5);
    assert.deepEqual([acked.topic, unacked.topic, unacked.properties?.topicAlias], ['ta5/t', '', 1]);
    await sleep(50); // the PUBACK is in before the connection goes
    first.destroy();
    const second = await RawMqtt.open(sb.port, 5);
    await second.connect(5, { ...session, properties: { topicAliasMaximum: 5, sessionExpiryInterval: 60 } } as never);
    const resent = (await second.next('publish')) as IPublishPacket;
    // [MQTT-3.3.2-7] the old connection's mapping is gone, so the resend names its topic.
    assert.deepEqual([resent.topic, resent.properties?.topicAlias, resent.dup, resent.payload.toString()], ['ta5/t', 1, true, 'unacked']);
    second.write({ cmd: 'puback', messageId: resent.messageId }, 5);
    await pub.endAsync();
    second.destroy();
  });
});

// The same traffic through mqtt.js v5 announcing a Topic Alias Maximum: the client resolves
// every alias. mosquitto 2.0.11 sends none (it takes aliases inbound only), so
// there the wire has plain topics; what the application sees is identical.
const targets: Array<{ name: string; peers?: readonly ['mosquitto']; aliases: boolean; start: () => Promise<MqttTarget> }> = [
  { name: 'switchboard', aliases: true, start: () => startSwitchboardMqtt() },
  { name: 'mosquitto', peers: ['mosquitto'], aliases: false, start: () => startMosquitto() },
];

for (const target of targets) {
  describe(`mqtt outbound topic aliases (${target.name})`, { peers: target.peers }, () => {
    let t: MqttTarget;
    before(async () => {
      t = await target.start();
    });
    after(async () => {
      await t.stop();
    });

    it('mqtt - mqtt.js v5 announcing a Topic Alias Maximum receives every topic resolved', async () => {
      const sub = await connectMqtt(t.mqttUrl, { protocolVersion: 5, properties: { topicAliasMaximum: 2 } });
      const inbox = new Inbox(sub);
      const aliasesOnWire: number[] = [];
      sub.on('packetreceive', (p) => {
        if (p.cmd === 'publish' && p.properties?.topicAlias !== undefined) aliasesOnWire.push(p.properties.topicAlias);
      });
      await sub.subscribeAsync('tjs/#', { qos: 1 });
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const sent = ['tjs/a', 'tjs/b', 'tjs/a', 'tjs/c', 'tjs/a', 'tjs/b', 'tjs/b'];
      for (const [i, topic] of sent.entries()) await pub.publishAsync(topic, String(i), { qos: (i % 2) as 0 | 1 });
      await inbox.waitFor(sent.length);
      assert.deepEqual(inbox.messages.map((m) => `${m.topic}:${m.payload}`), sent.map((topic, i) => `${topic}:${i}`));
      if (target.aliases) assert.deepEqual(aliasesOnWire, [1, 2, 1, 2, 1, 2, 2]);
      else assert.deepEqual(aliasesOnWire, []);
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });
  });
}
