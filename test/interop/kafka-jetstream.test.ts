// Kafka -> JetStream, effectively-once: each record is published with
// Nats-Msg-Id = <topic>/<partition>/<offset> and its offset is committed only
// after the stream's PubAck. Re-reading the topic from the start stores nothing
// twice, and while the stream is missing nothing is committed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Admin, Producer } from 'kafkajs';
// kafkajs as the bridge loads it (with its produce-path stand-ins), so the bridge under test runs as in the server.
import { kafkajs } from '../../connectors/kafka/kafkajs-loader.ts';
import { kafkaTargets, waitFor, type KafkaFixture } from '../helpers/kafka-fixture.ts';

const { Kafka, logLevel } = kafkajs();

async function streamCount(jsm: JetStreamManager, name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.messages;
}

async function pollCount(jsm: JetStreamManager, name: string, want: number, timeoutMs = 30_000): Promise<void> {
  let count = -1;
  const deadline = Date.now() + timeoutMs;
  while ((count = await streamCount(jsm, name)) < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(count, want, `stream ${name} holds ${count} of ${want}`);
}

async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return entry.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

for (const target of kafkaTargets()) {
  describe(`kafka bridge into JetStream (${target.name})`, { peers: ['kcat', ...(target.peers ?? [])] }, () => {
    let fx: KafkaFixture;
    let jsm: JetStreamManager;
    let producer: Producer;
    let admin: Admin;
    before(async () => {
      fx = await target.start({ jetstream: true });
      jsm = await jetstreamManager(fx.nc);
      const kafka = new Kafka({ brokers: fx.proxy.brokers, clientId: 'test-client', logLevel: logLevel.NOTHING });
      producer = kafka.producer();
      admin = kafka.admin();
      await producer.connect();
      await admin.connect();
    });
    after(async () => {
      await producer?.disconnect();
      await admin?.disconnect();
      await fx?.stop();
    });

    async function produce(topic: string, count: number): Promise<void> {
      for (let i = 0; i < count; i += 500) {
        const messages = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ key: `k${(i + j) % 17}`, value: `record ${i + j}`, headers: { seq: String(i + j) } }));
        await producer.send({ topic, messages, acks: -1 });
      }
    }

    it('kafka jetstream - records are stored once with Nats-Msg-Id topic/partition/offset; a full re-read adds nothing', async () => {
      await jsm.streams.add({ name: 'KAFKA_IN', subjects: ['ks.>'] });
      await produce('js-in', 1_000);
      const first = fx.bridge([{ name: 'js-in', direction: 'kafka-to-nats', topics: ['js-in'], groupId: 'g-js', subject: 'ks.{topic}.{partition}', stream: 'KAFKA_IN', sessionTimeoutMs: 3_000 }]);
      await first.start();
      await pollCount(jsm, 'KAFKA_IN', 1_000);
      await waitFor(() => first.metrics().mappings[0].lag === 0, 10_000, 'lag 0');
      await first.stop();
      const stored = await jsm.streams.getMessage('KAFKA_IN', { seq: 1 });
      assert.ok(stored !== null);
      const id = stored.header.get('Nats-Msg-Id');
      assert.equal(id, `js-in/${stored.header.get('Kafka-Partition')}/${stored.header.get('Kafka-Offset')}`);
      assert.match(stored.subject, /^ks\.js-in\.[0-3]$/);
      assert.equal(stored.header.get('seq'), stored.string().replace('record ', ''));

      // A second bridge forced back to the earliest offsets re-publishes all 1000: the stream dedupes them.
      const replay = fx.bridge([{ name: 'js-replay', direction: 'kafka-to-nats', topics: ['js-in'], groupId: 'g-js', subject: 'ks.{topic}.{partition}', stream: 'KAFKA_IN', start: 'earliest', sessionTimeoutMs: 3_000 }]);
      await replay.start();
      await waitFor(() => replay.metrics().mappings[0].messages === 1_000, 30_000, () => `the replay acknowledged: ${JSON.stringify(replay.metrics().mappings[0])}`);
      assert.equal(await streamCount(jsm, 'KAFKA_IN'), 1_000, 'no record stored twice');
      await replay.stop();
    });

    it('kafka jetstream - without a stream nothing is committed; once the stream exists every record arrives', async () => {
      await produce('js-late', 200);
      const bridge = fx.bridge([{ name: 'js-late', direction: 'kafka-to-nats', topics: ['js-late'], groupId: 'g-late', subject: 'late.{topic}', stream: 'LATE' }]);
      await bridge.start();
      await waitFor(() => bridge.metrics().mappings[0].errors > 0, 20_000, 'publish errors');
      assert.match(bridge.metrics().mappings[0].lastError?.message ?? '', /"js-late".*no stream captures/);
      assert.equal(await committed(admin, 'g-late', 'js-late'), 0, 'no offset committed before a PubAck');
      await jsm.streams.add({ name: 'LATE', subjects: ['late.>'] });
      await pollCount(jsm, 'LATE', 200);
      await waitFor(() => bridge.metrics().mappings[0].messages === 200, 10_000, 'all acknowledged');
      await bridge.stop();
      assert.equal(await committed(admin, 'g-late', 'js-late'), 200, 'every offset committed after its PubAck');
    });
  });
}
