// A Kafka outage: the mock cluster is killed while NATS keeps publishing, then a
// cluster comes back. A restarted mock is a new, empty cluster on new ports, so
// the bridge talks to Kafka through a proxy with stable addresses (what a DNS
// name or load balancer gives in production) and the test retargets the proxy
// at the new cluster. What this proves: the bridge buffers while no broker is
// reachable, the rest of the server keeps working, and once a cluster is
// reachable again every buffered message is written there and consumption resumes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { Msg } from '@nats-io/transport-node';
import { kcatConsume, kcatProduce, startKafkaMock } from '../helpers/kafka-mock.ts';
import { startKafkaFixture, waitFor, waitForRunning, type KafkaFixture } from '../helpers/kafka-fixture.ts';

describe('kafka bridge outage', { peers: ['kcat'] }, () => {
  let fx: KafkaFixture;
  before(async () => {
    fx = await startKafkaFixture();
  });
  after(async () => {
    await fx?.stop();
  });

  it('kafka outage - messages published while Kafka is down are buffered and all written once a cluster is back', async () => {
    const back: Msg[] = [];
    fx.nc.subscribe('back.>', { callback: (_e, msg) => void back.push(msg) });
    const bridge = fx.bridge([
      { name: 'out', direction: 'nats-to-kafka', subject: 'outage.*', topic: 'outage', key: '{2}' },
      { name: 'in', direction: 'kafka-to-nats', topics: ['outage-in'], groupId: 'g-outage', subject: 'back.{topic}', sessionTimeoutMs: 3_000 },
    ]);
    await bridge.start();
    await waitForRunning(bridge);
    const out = () => bridge.metrics().mappings.find((m) => m.name === 'out')!;
    const inbound = () => bridge.metrics().mappings.find((m) => m.name === 'in')!;
    for (let i = 0; i < 100; i++) fx.nc.publish(`outage.k${i % 5}`, `before ${i}`);
    await waitFor(() => out().messages === 100, 20_000, 'the first 100 in Kafka');

    // Outage: the cluster dies and the proxy refuses connections.
    await fx.mock.stop();
    fx.proxy.retarget(null);
    for (let i = 0; i < 2_000; i++) {
      fx.nc.publish(`outage.k${i % 5}`, `during ${i}`);
      if (i % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await fx.nc.flush();
    await waitFor(() => out().errors > 0 && inbound().errors > 0, 20_000, 'both mappings noticing the outage');
    assert.equal(out().lag, 2_000, 'all 2000 buffered');
    assert.equal(out().dropped, 0);
    assert.notEqual(out().state, 'running');
    // The rest of the server is unaffected: plain NATS traffic flows.
    const echo = fx.nc.subscribe('alive', { max: 1, callback: (_e, msg) => void msg.respond('yes') });
    assert.equal((await fx.nc.request('alive', '', { timeout: 2_000 })).string(), 'yes');
    echo.unsubscribe();

    // A cluster is reachable again (new and empty): everything buffered is written there.
    fx.mock = await startKafkaMock();
    fx.proxy.retarget(fx.mock.brokers);
    await waitFor(() => out().messages === 2_100 && out().lag === 0, 40_000, 'the buffer drained into the new cluster');
    const records = kcatConsume(fx.mock.bootstrap, 'outage', 2_000);
    const payloads = new Set(records.map((r) => r.payload));
    for (let i = 0; i < 2_000; i++) assert.ok(payloads.has(`during ${i}`), `during ${i} arrived`);
    // Per key, Kafka holds them in publish order.
    for (let k = 0; k < 5; k++) {
      const seq = records.filter((r) => r.key === `k${k}`).sort((a, b) => a.offset - b.offset).map((r) => Number(String(r.payload).split(' ')[1]));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `key k${k} in order`);
    }
    // Consumption resumes on the new cluster too.
    kcatProduce(fx.mock.bootstrap, 'outage-in', { key: 'x', value: 'after the outage' });
    await waitFor(() => back.length === 1, 30_000, 'Kafka -> NATS after the outage');
    assert.equal(back[0].string(), 'after the outage');
    await bridge.stop();
  });
});
