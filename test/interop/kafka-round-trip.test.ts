// Kafka bridge round trips against librdkafka's mock cluster, with kcat and
// kafkajs as the Kafka clients and nats.js as the NATS client: keys, every
// header (repeats included), timestamp, partition and offset compared byte for byte.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { headers as natsHeaders, type Msg } from '@nats-io/transport-node';
// kafkajs as the bridge loads it (with its produce-path stand-ins), so the bridge under test runs as in the server.
import { kafkajs } from '../../connectors/kafka/kafkajs-loader.ts';
import { kcatConsume, kcatProduce } from '../helpers/kafka-mock.ts';
import { kafkaTargets, waitFor, waitForRunning, type KafkaFixture } from '../helpers/kafka-fixture.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';

const { Kafka, logLevel } = kafkajs();

/** Poll (bounded) until `groupId` has committed the end of every partition of `topic`. */
async function committedAtEnd(fx: KafkaFixture, groupId: string, topic: string): Promise<void> {
  const admin = new Kafka({ brokers: fx.proxy.brokers, clientId: 'commit-check', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (committed.partitions.every((p) => p.offset === ends.get(p.partition))) return;
      assert.ok(Date.now() < deadline, `${groupId} never committed the end of ${topic}: ${JSON.stringify(committed.partitions)} vs ${JSON.stringify([...ends])}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

function collect(fx: KafkaFixture, subject: string): Msg[] {
  const got: Msg[] = [];
  fx.nc.subscribe(subject, { callback: (_error, msg) => void got.push(msg) });
  return got;
}

function headerPairs(msg: Msg): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, values] of msg.headers ?? []) for (const value of values) out.push([key, value]);
  return out;
}

for (const target of kafkaTargets()) {
  describe(`kafka bridge round trips (${target.name})`, { peers: ['kcat', ...(target.peers ?? [])] }, () => {
    let fx: KafkaFixture;
    before(async () => {
      fx = await target.start();
    });
    after(async () => {
      await fx?.stop();
    });

    it('kafka bridge - Kafka to NATS keeps key, repeated headers, timestamp, partition and offset (kcat producer)', async () => {
      const got = collect(fx, 'kafka.>');
      await fx.nc.flush();
      const bridge = fx.bridge([{ name: 'in', direction: 'kafka-to-nats', topics: ['sensors'], groupId: 'g-in', subject: 'kafka.{topic}.{key}' }]);
      await bridge.start();
      await waitForRunning(bridge);
      kcatProduce(fx.mock.bootstrap, 'sensors', { key: 'device 7/ä.x', value: 'temp=21.5\nline two', headers: [['unit', 'celsius'], ['tag', 'a'], ['tag', 'b']] });
      await waitFor(() => got.length === 1, 20_000, 'the record on NATS');
      const msg = got[0];
      // Space, '/', 'ä' and '.' are escaped by the documented %HH rule; the exact key is in Kafka-Key.
      assert.equal(msg.subject, 'kafka.sensors.device%207/%C3%A4%2Ex');
      assert.equal(Buffer.from(msg.data).toString('utf8'), 'temp=21.5\nline two');
      const pairs = headerPairs(msg);
      assert.deepEqual(pairs.filter(([k]) => !k.startsWith('Kafka-')), [['unit', 'celsius'], ['tag', 'a'], ['tag', 'b']]);
      assert.equal(msg.headers?.get('Kafka-Key'), 'device 7/ä.x');
      assert.equal(msg.headers?.get('Kafka-Topic'), 'sensors');
      const fromKcat = kcatConsume(fx.mock.bootstrap, 'sensors', 1)[0];
      assert.equal(msg.headers?.get('Kafka-Partition'), String(fromKcat.partition));
      assert.equal(msg.headers?.get('Kafka-Offset'), String(fromKcat.offset));
      assert.equal(msg.headers?.get('Kafka-Timestamp'), String(fromKcat.ts));
      assert.equal(bridge.metrics().mappings[0].messages, 1);
      await bridge.stop();
    });

    it('kafka bridge - binary keys, binary header values and names, tombstones survive Kafka to NATS to Kafka (kafkajs)', async () => {
      const kafka = new Kafka({ brokers: fx.proxy.brokers, clientId: 'test-client', logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      const bridge = fx.bridge([
        { name: 'bin-in', direction: 'kafka-to-nats', topics: ['bin'], groupId: 'g-bin', subject: 'bin.{partition}.{key}' },
        // Forward a Kafka-origin message on purpose (another topic), to check the reverse translation.
        { name: 'bin-out', direction: 'nats-to-kafka', subject: 'bin.>', topic: 'bin-copy', forwardKafkaOrigin: true },
      ]);
      await bridge.start();
      await waitForRunning(bridge);
      const key = Buffer.from([0x00, 0xff, 0x2e, 0x20, 0x41]);
      const sent = [
        { key, value: Buffer.from([1, 2, 3, 0, 255]), timestamp: '1700000000123', headers: { raw: Buffer.from([0xc3, 0x28]), 'Kafka-Key': Buffer.from('spoof'), 'a:b': Buffer.from('colon'), ' pad': Buffer.from(' x ') } },
        { key: Buffer.from('plain'), value: null, headers: { multi: [Buffer.from('1'), Buffer.from('2'), Buffer.from('1')] } },
      ];
      await producer.send({ topic: 'bin', messages: sent, acks: -1 });
      const consumer = kafka.consumer({ groupId: 'check-bin', maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topics: ['bin-copy'], fromBeginning: true });
      const copies: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, unknown>; timestamp: string }> = [];
      await consumer.run({ eachMessage: async ({ message }) => void copies.push({ key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp }) });
      await waitFor(() => copies.length === 2, 30_000, 'both records back in Kafka');
      await consumer.disconnect();
      await producer.disconnect();
      const byKey = (k: Buffer) => copies.find((c) => c.key !== null && c.key.equals(k));
      const first = byKey(key);
      assert.ok(first, 'binary key kept byte for byte');
      assert.deepEqual(first.value, sent[0].value);
      assert.deepEqual(first.headers, sent[0].headers);
      assert.equal(first.timestamp, '1700000000123', 'the Kafka timestamp goes through Kafka-Timestamp and back');
      const second = byKey(Buffer.from('plain'));
      assert.ok(second);
      assert.equal(second.value, null, 'a tombstone stays a tombstone');
      assert.deepEqual(second.headers.multi, [Buffer.from('1'), Buffer.from('2'), Buffer.from('1')]);
      const out = bridge.metrics().mappings.find((m) => m.name === 'bin-out');
      assert.equal(out?.messages, 2);
      await bridge.stop();
    });

    it('kafka bridge - NATS to Kafka: topic and key from subject tokens, multi-value headers as repeated Kafka headers (kcat reads)', async () => {
      const bridge = fx.bridge([{ name: 'out', direction: 'nats-to-kafka', subject: 'app.*.*', topic: 'orders-{2}', key: '{3}' }]);
      await bridge.start();
      await waitForRunning(bridge);
      const h = natsHeaders();
      h.append('trace', 'abc');
      h.append('x-multi', 'one');
      h.append('x-multi', 'two, with comma');
      h.append('x-multi', 'one');
      fx.nc.publish('app.eu.cust%2042', 'order #1', { headers: h });
      fx.nc.publish('app.eu.cust-43', 'order #2');
      await fx.nc.flush();
      await waitFor(() => bridge.metrics().mappings[0].messages === 2, 20_000, 'two Kafka acks');
      const records = kcatConsume(fx.mock.bootstrap, 'orders-eu', 2).sort((a, b) => String(a.payload).localeCompare(String(b.payload)));
      assert.equal(records[0].payload, 'order #1');
      assert.equal(records[0].key, 'cust 42', '{3} decodes %HH escapes');
      assert.deepEqual(records[0].headers, [['trace', 'abc'], ['x-multi', 'one'], ['x-multi', 'two, with comma'], ['x-multi', 'one']]);
      assert.equal(records[1].key, 'cust-43');
      assert.deepEqual(records[1].headers, []);
      await bridge.stop();
    });
    it('kafka bridge - NATS to Kafka: an MQTT publish reaches Kafka without the MQTT gateway\'s Mqtt-* headers (mqtt.js publishes, kcat reads)', async () => {
      const bridge = fx.bridge([{ name: 'from-mqtt', direction: 'nats-to-kafka', subject: 'sensors.>', topic: 'from-mqtt' }]);
      await bridge.start();
      await waitForRunning(bridge);
      const gateway = createMqttGateway({ host: '127.0.0.1', port: 0, broker: fx.broker });
      await gateway.start();
      try {
        const client = await connectMqtt(`mqtt://127.0.0.1:${gateway.port}`, { protocolVersion: 5 });
        const properties = { contentType: 'text/plain', messageExpiryInterval: 60, userProperties: { unit: 'C' } };
        await client.publishAsync('sensors/t1', '21.5', { qos: 1, retain: true, properties });
        await client.endAsync();
        await waitFor(() => bridge.metrics().mappings[0].messages === 1, 20_000, 'one Kafka ack');
        const [record] = kcatConsume(fx.mock.bootstrap, 'from-mqtt', 1);
        assert.equal(record.payload, '21.5');
        // On the NATS side it carried Mqtt-Qos, Mqtt-Retain and Mqtt-Message-Expiry too.
        assert.deepEqual(record.headers, [['Content-Type', 'text/plain'], ['unit', 'C']]);
      } finally {
        await gateway.stop();
        await bridge.stop();
      }
    });

    it('kafka bridge - NATS to Kafka: key from a header or a fixed value; a missing header gives no key', async () => {
      const bridge = fx.bridge([
        { name: 'by-header', direction: 'nats-to-kafka', subject: 'dev.>', topic: 'devices', key: '{header:Device-Id}' },
        { name: 'fixed', direction: 'nats-to-kafka', subject: 'fixed.*', topic: 'fixed-{2}', key: 'all-one-key' },
      ]);
      await bridge.start();
      await waitForRunning(bridge);
      const h = natsHeaders();
      h.set('Device-Id', 'dev-9');
      fx.nc.publish('dev.a.b', 'with header', { headers: h });
      fx.nc.publish('dev.c', 'without header');
      fx.nc.publish('fixed.x', 'fixed one');
      await fx.nc.flush();
      await waitFor(() => bridge.metrics().mappings.reduce((n, m) => n + m.messages, 0) === 3, 20_000, 'three writes');
      const devices = kcatConsume(fx.mock.bootstrap, 'devices', 2);
      assert.equal(devices.find((r) => r.payload === 'with header')?.key, 'dev-9');
      assert.equal(devices.find((r) => r.payload === 'without header')?.key, null);
      assert.equal(kcatConsume(fx.mock.bootstrap, 'fixed-x', 1)[0].key, 'all-one-key');
      await bridge.stop();
    });

    it('kafka bridge - topics by regular expression, several topics into one subject template', async () => {
      for (const topic of ['re-a', 're-b', 're-c-not']) kcatProduce(fx.mock.bootstrap, topic, { key: topic, value: `from ${topic}` });
      const got = collect(fx, 're.>');
      await fx.nc.flush();
      const bridge = fx.bridge([{ name: 'regex', direction: 'kafka-to-nats', topics: ['/^re-[ab]$/'], groupId: 'g-regex', subject: 're.{topic}.{key}' }]);
      await bridge.start();
      await waitFor(() => got.length === 2, 20_000, 'both matching topics');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(got.map((m) => m.subject).sort(), ['re.re-a.re-a', 're.re-b.re-b']);
      await bridge.stop();
    });

    it('kafka bridge - start latest skips what the topic already held; committed resumes after a restart', async () => {
      kcatProduce(fx.mock.bootstrap, 'starts', { key: 'a', value: 'old' });
      const got = collect(fx, 'starts.>');
      await fx.nc.flush();
      const latest = fx.bridge([{ name: 'latest', direction: 'kafka-to-nats', topics: ['starts'], groupId: 'g-starts', subject: 'starts.{topic}', start: 'latest', sessionTimeoutMs: 3_000 }]);
      await latest.start();
      await waitForRunning(latest);
      // The next record must come after the seek to the end: the bridge seeks, then
      // commits that position for the group, so wait until Kafka shows the commit.
      await committedAtEnd(fx, 'g-starts', 'starts');
      kcatProduce(fx.mock.bootstrap, 'starts', { key: 'a', value: 'new 1' });
      await waitFor(() => got.length === 1, 20_000, 'the new record');
      await latest.stop();
      kcatProduce(fx.mock.bootstrap, 'starts', { key: 'a', value: 'new 2' });
      const resume = fx.bridge([{ name: 'resume', direction: 'kafka-to-nats', topics: ['starts'], groupId: 'g-starts', subject: 'starts.{topic}', sessionTimeoutMs: 3_000 }]);
      await resume.start();
      await waitFor(() => got.length === 2, 20_000, 'the record written while stopped');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(got.map((m) => m.string()), ['new 1', 'new 2']);
      await resume.stop();
    });
  });
}
