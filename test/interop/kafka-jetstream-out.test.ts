// JetStream -> Kafka, at-least-once: a durable pull consumer, the JetStream ack
// sent only after Kafka acknowledged the write. While Kafka is away nothing is
// acknowledged and the backlog waits in the stream; once a cluster is back it
// drains in order per key. Runs on Switchboard and on nats-server -js.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createKafkaBridge, type KafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import { jetStreamTargets, type JetStreamServer } from '../helpers/jetstream.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { waitFor } from '../helpers/kafka-fixture.ts';
import { kcatConsume, startKafkaMock, type KafkaMock } from '../helpers/kafka-mock.ts';
import { startKafkaProxy, type KafkaProxy } from '../helpers/kafka-proxy.ts';

function inKeyOrder(records: Array<{ key: string | null; payload: string | null; offset: number; partition: number }>, label: string): void {
  const keys = new Set(records.map((r) => r.key));
  for (const key of keys) {
    const seq = records.filter((r) => r.key === key).sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => Number(String(r.payload).split(' ')[1]));
    assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `${label}: key ${key} in stream order`);
  }
}

for (const target of jetStreamTargets()) {
  describe(`kafka bridge from JetStream (${target.name})`, { peers: ['kcat', ...(target.peers ?? [])] }, () => {
    let server: JetStreamServer;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let mock: KafkaMock;
    let proxy: KafkaProxy;
    let broker: NatsBroker;
    let bridge: KafkaBridge | undefined;
    before(async () => {
      server = await target.start();
      nc = await connect({ servers: server.url });
      jsm = await jetstreamManager(nc);
      mock = await startKafkaMock();
      proxy = await startKafkaProxy();
      proxy.retarget(mock.brokers);
      broker = await NatsBroker.connect({ servers: server.url });
    });
    after(async () => {
      await bridge?.stop();
      await broker?.close();
      await proxy?.close();
      await mock?.stop();
      await nc?.close();
      await server?.stop();
    });

    it('kafka jetstream out - every message written, acked only after Kafka; an outage leaves the backlog in the stream, then it drains in key order', async () => {
      await jsm.streams.add({ name: 'ORD', subjects: ['ord.>'] });
      const js = jetstream(nc);
      bridge = createKafkaBridge({
        broker,
        kafka: { brokers: proxy.brokers, clientId: 'js-out' },
        mappings: [{ name: 'ord-out', direction: 'nats-to-kafka', stream: 'ORD', consumer: 'to-kafka', subject: 'ord.>', topic: 'ord', key: '{2}', ackWaitMs: 6_000 }],
        logLevel: 'nothing',
      });
      const metrics = () => bridge!.metrics().mappings[0];
      const h = natsHeaders();
      h.append('x-multi', 'a');
      h.append('x-multi', 'b');
      for (let i = 0; i < 1_000; i++) await js.publish(`ord.k${i % 7}`, `msg ${i}`, i === 0 ? { headers: h } : undefined);
      await bridge.start();
      await waitFor(() => metrics().messages === 1_000, 30_000, '1000 written to Kafka');
      const first = kcatConsume(mock.bootstrap, 'ord', 1_000);
      inKeyOrder(first, 'before the outage');
      const withHeaders = first.find((r) => r.payload === 'msg 0');
      assert.deepEqual(withHeaders?.headers, [['x-multi', 'a'], ['x-multi', 'b']]);
      assert.equal(withHeaders?.key, 'k0');
      let info = await jsm.consumers.info('ORD', 'to-kafka');
      assert.equal(info.num_pending, 0);

      // Outage: the cluster is gone; what is published now stays unacknowledged in the stream.
      await mock.stop();
      proxy.retarget(null);
      for (let i = 1_000; i < 1_500; i++) await js.publish(`ord.k${i % 7}`, `msg ${i}`);
      await waitFor(() => metrics().errors > 0, 20_000, 'the bridge noticing');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      info = await jsm.consumers.info('ORD', 'to-kafka');
      assert.equal(info.num_pending + info.num_ack_pending, 500, 'nothing acknowledged while Kafka is away');
      assert.equal(metrics().messages, 1_000);

      mock = await startKafkaMock();
      proxy.retarget(mock.brokers);
      await waitFor(() => metrics().messages >= 1_500, 40_000, 'the backlog drained');
      const after = kcatConsume(mock.bootstrap, 'ord', 500);
      const payloads = new Set(after.map((r) => r.payload));
      for (let i = 1_000; i < 1_500; i++) assert.ok(payloads.has(`msg ${i}`), `msg ${i} arrived`);
      inKeyOrder(after, 'after the outage');
      await waitFor(() => metrics().lag === 0, 10_000, 'lag 0');
      // The acks follow Kafka's; poll for them rather than trusting a fixed pause on a busy machine.
      await eventually(async () => {
        info = await jsm.consumers.info('ORD', 'to-kafka');
        return info.num_pending + info.num_ack_pending === 0;
      }, 20_000).catch(() => undefined);
      assert.equal(info.num_pending + info.num_ack_pending, 0, 'all acknowledged after Kafka took them');
    });
  });
}
