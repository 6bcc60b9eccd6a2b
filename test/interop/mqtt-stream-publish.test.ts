// MQTT QoS 1/2 publishes to a subject a user stream captures: PUBACK / PUBREC
// come only once the stream stored the message (read back with the official
// JetStream client the moment the ack arrives), and a stream that refuses the
// message is answered with its reason (MQTT 5: 0x97 for a full stream, 0x80
// otherwise) or, for MQTT 3.1.1 which has no failure ack, with a closed
// connection and no ack at all.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { ErrorWithReasonCode, MqttClient } from 'mqtt';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { connectCollecting, connectMqtt, sleep, startSwitchboardMqttJetStream, type SwitchboardMqtt } from '../helpers/mqtt.ts';

/** The reason code a rejected mqtt.js publish carries, or null when it was acknowledged. */
async function publishOutcome(client: MqttClient, topic: string, payload: string, options: Parameters<MqttClient['publishAsync']>[2]): Promise<number | null> {
  try {
    await client.publishAsync(topic, payload, options);
    return null;
  } catch (error) {
    return (error as ErrorWithReasonCode).code;
  }
}

describe('mqtt stream publish', () => {
  const dir = tempStoreDir('mqtt-stream-pub-');
  let sb: SwitchboardMqtt;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const clients: MqttClient[] = [];
  before(async () => {
    sb = await startSwitchboardMqttJetStream(dir);
    nc = await connect({ servers: sb.natsUrl });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await nc?.close();
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function mqttClient(protocolVersion: 4 | 5): Promise<MqttClient> {
    const client = await connectMqtt(sb.mqttUrl, { protocolVersion });
    client.on('error', () => {});
    clients.push(client);
    return client;
  }

  it('mqtt - a QoS 1/2 publish to a stream subject is acknowledged once the stream stored it (v5 and 3.1.1)', async () => {
    // Created after the gateway started: it learns of the stream from the advisory.
    await jsm.streams.add({ name: 'STORED', subjects: ['stored.>'] });
    const { client: sub, inbox } = await connectCollecting(sb.mqttUrl, { protocolVersion: 5 });
    clients.push(sub);
    await sub.subscribeAsync('stored/#', { qos: 1 });
    // A persistent session away while the messages come: they are logged in MQTT_msgs too.
    const session = { protocolVersion: 4 as const, clientId: 'stored-away', clean: false };
    const first = await connectMqtt(sb.mqttUrl, session);
    await first.subscribeAsync('stored/#', { qos: 1 });
    await first.endAsync();

    const sent: string[] = [];
    for (const protocolVersion of [5, 4] as const) {
      const pub = await mqttClient(protocolVersion);
      for (const qos of [1, 2] as const) {
        const topic = `stored/v${protocolVersion}/q${qos}`;
        const payload = `${topic}-payload`;
        await pub.publishAsync(topic, payload, { qos });
        // The ack is in: the stream has the message, read with the official client right now.
        const stored = await jsm.streams.getMessage('STORED', { last_by_subj: topic.replaceAll('/', '.') });
        assert.equal(stored?.string(), payload, `${topic}: stored when acknowledged`);
        // Its public MQTT facts are stored with it; no marker of the gateway's PubAck inbox is (README "Messages").
        assert.equal(stored?.header.get('Mqtt-Qos'), String(qos), `${topic}: its QoS is kept`);
        assert.equal(stored?.header.has('Mqtt-Ack-Reply'), false, `${topic}: no Mqtt-Ack-Reply stored`);
        sent.push(payload);
      }
    }
    assert.equal((await jsm.streams.info('STORED')).state.messages, 4, 'each message stored once');
    await inbox.waitFor(4);
    assert.deepEqual(inbox.payloads(), sent, 'live subscribers get each message once, in order');
    for (const m of inbox.messages) assert.equal(m.packet.properties?.responseTopic, undefined, 'the PubAck inbox is no response topic');
    const { client: back, inbox: queued } = await connectCollecting(sb.mqttUrl, session);
    clients.push(back);
    await queued.waitFor(4);
    await sleep(100);
    assert.deepEqual(queued.payloads(), sent, 'the persistent session gets each logged message once');
  });

  it('mqtt - a stream refusing an MQTT 5 publish answers with a failure reason code (wrong expected sequence: 0x80)', async () => {
    await jsm.streams.add({ name: 'EXPECT', subjects: ['expect.>'] });
    const pub = await mqttClient(5);
    assert.equal(await publishOutcome(pub, 'expect/a', 'one', { qos: 1, properties: { userProperties: { 'Nats-Expected-Last-Sequence': '0' } } }), null);
    const refused = await publishOutcome(pub, 'expect/a', 'two', { qos: 1, properties: { userProperties: { 'Nats-Expected-Last-Sequence': '7' } } });
    assert.equal(refused, 0x80, 'wrong expected last sequence');
    assert.equal(await publishOutcome(pub, 'expect/a', 'three', { qos: 2, properties: { userProperties: { 'Nats-Expected-Last-Sequence': '1' } } }), null);
    assert.equal((await jsm.streams.info('EXPECT')).state.messages, 2);
  });

  it('mqtt - a full stream (max_msgs 1, discard new) refuses the second QoS 1 publish: 0x97 for MQTT 5, a closed connection without ack for 3.1.1', async () => {
    await jsm.streams.add({ name: 'FULL', subjects: ['full.>'], max_msgs: 1, discard: DiscardPolicy.New });
    const v5 = await mqttClient(5);
    assert.equal(await publishOutcome(v5, 'full/v5', 'first', { qos: 1 }), null);
    assert.equal(await publishOutcome(v5, 'full/v5', 'second', { qos: 1 }), 0x97, 'quota exceeded');
    assert.equal(await publishOutcome(v5, 'full/v5', 'third', { qos: 2 }), 0x97, 'quota exceeded on PUBREC too');
    assert.equal(v5.connected, true, 'an MQTT 5 client stays connected');

    const v3 = await mqttClient(4);
    const acks: number[] = [];
    v3.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback') acks.push(packet.messageId ?? 0);
    });
    const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()));
    v3.publish('full/v3', 'refused', { qos: 1 });
    await Promise.race([closed, sleep(3_000).then(() => assert.fail('the 3.1.1 connection was not closed'))]);
    assert.deepEqual(acks, [], 'no PUBACK for a message the stream refused');
    const info = await jsm.streams.info('FULL');
    assert.equal(info.state.messages, 1);
    assert.equal((await jsm.streams.getMessage('FULL', { seq: info.state.first_seq }))?.string(), 'first');
  });
});
