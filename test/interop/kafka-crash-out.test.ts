// Crash test for JetStream -> Kafka: the bridge runs as a child process and is
// killed with SIGKILL at random moments while messages flow out of a stream.
// Acks go to JetStream only after Kafka acknowledged the write, so after the
// last copy drains the consumer, Kafka holds every message at least once
// (duplicates allowed: the ones written but not yet acked at a kill).

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kafka, logLevel } from 'kafkajs';
import { startSwitchboardJetStream, type JetStreamServer } from '../helpers/jetstream.ts';
import { killBridgeRepeatedly, spawnBridge, startProxiedKafka, type BridgeProcess, type ProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { kcatConsume } from '../helpers/kafka-mock.ts';
import { stopChild, waitForOutput } from '../helpers/servers.ts';

// KAFKA_CRASH_MESSAGES=100000 for the full-size run; 20,000 keeps npm test short.
const MESSAGES = Number(process.env.KAFKA_CRASH_MESSAGES ?? 20_000);
const KILLS = 3;

// Always Switchboard's own JetStream: a consumer API regression must fail here (issue 27).
describe('kafka bridge crash, JetStream to Kafka', { peers: ['kcat'] }, () => {
  let server: JetStreamServer;
  let kafkaBed: ProxiedKafka;
  let nc: NatsConnection;
  const bridges: BridgeProcess[] = [];
  before(async () => {
    server = await startSwitchboardJetStream();
    kafkaBed = await startProxiedKafka();
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    for (const bridge of bridges) await stopChild(bridge.child, 'SIGKILL');
    await nc?.close();
    await kafkaBed?.stop();
    await server?.stop();
  });

  it(`kafka crash out - kill -9 the bridge ${KILLS} times while ${MESSAGES} messages leave a stream: each in Kafka at least once`, async (t) => {
    const url = server.url;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'OUTC', subjects: ['outc.>'] });
    const admin = new Kafka({ brokers: kafkaBed.proxy.brokers, clientId: 'crash-admin', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const inKafka = async (): Promise<number> => {
      try {
        return (await admin.fetchTopicOffsets('crash-out')).reduce((sum, p) => sum + Number(p.high), 0);
      } catch {
        return 0; // the topic appears with the first write
      }
    };
    const config = {
      kafka: { brokers: kafkaBed.proxy.brokers, clientId: 'crash-out' },
      mappings: [{ name: 'out', direction: 'nats-to-kafka', stream: 'OUTC', consumer: 'crash-out', subject: 'outc.>', topic: 'crash-out', key: '{2}', ackWaitMs: 2_000 }],
    };
    const startBridge = (): BridgeProcess['child'] => {
      const bridge = spawnBridge(url, config);
      bridges.push(bridge);
      return bridge.child;
    };
    // Half the messages wait in the stream before the first copy starts, the rest keep
    // arriving while copies are killed, so kills land both in a backlog and mid-flow.
    const publish = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 1_000) {
        for (let j = i; j < Math.min(to, i + 1_000); j++) nc.publish(`outc.k${j % 13}`, `m ${j}`);
        await nc.flush();
        if (i >= MESSAGES / 2) await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };
    await publish(0, MESSAGES / 2);
    const publishing = publish(MESSAGES / 2, MESSAGES);
    const counts = await killBridgeRepeatedly({ kills: KILLS, total: MESSAGES, start: startBridge, progress: inKafka, jitterMs: { min: 0, max: 300 } });
    await publishing;
    assert.equal((await jsm.streams.info('OUTC')).state.messages, MESSAGES);
    const last = startBridge();
    await waitForOutput(last, 'kafka bridge ready', 30_000);
    const deadline = Date.now() + 40_000 + MESSAGES; // bounded, and scaled for a full-size run
    for (;;) {
      const info = await jsm.consumers.info('OUTC', 'crash-out');
      if (info.num_pending + info.num_ack_pending === 0) break;
      assert.ok(Date.now() < deadline, `consumer not drained: ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await stopChild(last, 'SIGTERM');
    const total = await inKafka();
    await admin.disconnect();
    const records = kcatConsume(kafkaBed.mock.bootstrap, 'crash-out', total, 30_000 + MESSAGES);
    const seen = new Set(records.map((r) => r.payload));
    const missing: number[] = [];
    for (let i = 0; i < MESSAGES; i++) if (!seen.has(`m ${i}`)) missing.push(i);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} messages missing from Kafka`);
    assert.ok(counts[0] < MESSAGES, `the first kill happened mid-flow (${counts.join(' -> ')} of ${total})`);
    t.diagnostic(`records in Kafka after each kill: ${counts.join(', ')}; total ${total} for ${MESSAGES} messages (${total - MESSAGES} duplicates from redelivery)`);
  });
});
