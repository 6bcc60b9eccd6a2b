// Loop prevention: with a Kafka -> NATS mapping and a NATS -> Kafka mapping on
// overlapping names (topic loop-a <-> subject bridge.loop-a), a record makes
// exactly one trip: messages carrying the Kafka-Topic origin header are not sent
// back to Kafka, and each one not sent is counted.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { Msg } from '@nats-io/transport-node';
import { kcatConsume, kcatProduce } from '../helpers/kafka-mock.ts';
import { startKafkaFixture, waitFor, waitForRunning, type KafkaFixture } from '../helpers/kafka-fixture.ts';

describe('kafka bridge loop prevention', { peers: ['kcat'] }, () => {
  let fx: KafkaFixture;
  before(async () => {
    fx = await startKafkaFixture();
  });
  after(async () => {
    await fx?.stop();
  });

  it('kafka loop - a record from Kafka is not written back by a reverse mapping on the same names', async () => {
    const seen: Msg[] = [];
    fx.nc.subscribe('bridge.>', { callback: (_e, msg) => void seen.push(msg) });
    await fx.nc.flush();
    const bridge = fx.bridge([
      { name: 'loop-in', direction: 'kafka-to-nats', topics: ['loop-a'], groupId: 'g-loop', subject: 'bridge.{topic}' },
      { name: 'loop-out', direction: 'nats-to-kafka', subject: 'bridge.*', topic: '{2}' },
    ]);
    await bridge.start();
    await waitForRunning(bridge);
    kcatProduce(fx.mock.bootstrap, 'loop-a', { key: 'k', value: 'from kafka' });
    await waitFor(() => seen.length === 1, 20_000, 'the Kafka record on NATS');
    // An application message on the same subject goes to Kafka once, and its echo stops there.
    fx.nc.publish('bridge.loop-a', 'from nats');
    await waitFor(() => seen.length === 3, 20_000, 'the NATS message and its one echo');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(seen.length, 3, 'nothing circulates');
    assert.deepEqual(seen.map((m) => m.string()).sort(), ['from kafka', 'from nats', 'from nats']);
    const inKafka = kcatConsume(fx.mock.bootstrap, 'loop-a', 2);
    assert.deepEqual(inKafka.map((r) => r.payload).sort(), ['from kafka', 'from nats']);
    const out = bridge.metrics().mappings.find((m) => m.name === 'loop-out');
    assert.equal(out?.messages, 1);
    assert.equal(out?.loopsPrevented, 2);
    await bridge.stop();
  });
});
