// Scaling out NATS -> Kafka: copies of the bridge in one queue group share a
// subject, so each message is written to Kafka once, not once per copy.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { kcatConsume } from '../helpers/kafka-mock.ts';
import { startKafkaFixture, waitFor, waitForRunning, type KafkaFixture } from '../helpers/kafka-fixture.ts';

describe('kafka bridge queue group', { peers: ['kcat'] }, () => {
  let fx: KafkaFixture;
  before(async () => {
    fx = await startKafkaFixture();
  });
  after(async () => {
    await fx?.stop();
  });

  it('kafka queue - two bridge copies in a queue group write each message once', async () => {
    const mapping = { name: 'shared', direction: 'nats-to-kafka', subject: 'shared.>', topic: 'shared', queue: 'kafka-bridges' } as const;
    const one = fx.bridge([mapping]);
    const two = fx.bridge([mapping]);
    await one.start();
    await two.start();
    await waitForRunning(one);
    await waitForRunning(two);
    for (let i = 0; i < 400; i++) fx.nc.publish(`shared.k${i % 4}`, `m ${i}`);
    await fx.nc.flush();
    const written = () => one.metrics().mappings[0].messages + two.metrics().mappings[0].messages;
    await waitFor(() => written() === 400, 20_000, '400 writes in all');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(written(), 400);
    assert.ok(one.metrics().mappings[0].messages > 0 && two.metrics().mappings[0].messages > 0, 'both copies took a share');
    const records = kcatConsume(fx.mock.bootstrap, 'shared', 400);
    assert.equal(new Set(records.map((r) => r.payload)).size, 400);
    await one.stop();
    await two.stop();
  });
});
