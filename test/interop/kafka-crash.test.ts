// Crash test for Kafka -> JetStream: the bridge runs as a child process and is
// killed with SIGKILL at random moments while records flow; a fresh copy
// resumes from the committed offsets each time. Because an offset is committed
// only after its PubAck and every publish carries Nats-Msg-Id =
// <topic>/<partition>/<offset>, the stream ends with every record exactly once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kafka, logLevel } from 'kafkajs';
import { startSwitchboardJetStream } from '../helpers/jetstream.ts';
import { killBridgeRepeatedly, spawnBridge, startProxiedKafka, type BridgeProcess, type ProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { stopChild, waitForOutput, type RunningServer } from '../helpers/servers.ts';

// KAFKA_CRASH_MESSAGES=100000 for the full-size run (about 2 minutes); 20,000 keeps npm test short.
const RECORDS = Number(process.env.KAFKA_CRASH_MESSAGES ?? 20_000);
const KILLS = 3;

describe('kafka bridge crash', { peers: ['kcat'] }, () => {
  let server: RunningServer;
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

  function startBridge(): BridgeProcess['child'] {
    const config = {
      kafka: { brokers: kafkaBed.proxy.brokers, clientId: 'crash-bridge' },
      mappings: [{ name: 'crash-in', direction: 'kafka-to-nats', topics: ['crash-in'], groupId: 'g-crash', subject: 'crash.{partition}', stream: 'CRASH', sessionTimeoutMs: 3_000 }],
    };
    const bridge = spawnBridge(server.url, config);
    bridges.push(bridge);
    return bridge.child;
  }

  it(`kafka crash - kill -9 the bridge ${KILLS} times while ${RECORDS} records flow into JetStream: each stored exactly once`, async (t) => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'CRASH', subjects: ['crash.>'] });
    const kafka = new Kafka({ brokers: kafkaBed.proxy.brokers, clientId: 'crash-producer', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const stored = async (): Promise<number> => (await jsm.streams.info('CRASH')).state.messages;
    // The producer keeps writing while the bridge is killed, so kills land mid-flow. On a busy
    // machine a copy can take longer to start than the producer takes to write everything, so
    // the producer holds back each share of the records until the kill two shares earlier: a
    // kill still lands while records are flowing, and the first one before the flow can end.
    let kills = 0;
    let killed: () => void = () => {};
    const afterKill = (n: number): void => { kills = n; killed(); };
    const until = (n: number): Promise<void> => (kills >= n ? Promise.resolve() : new Promise<void>((resolve) => { killed = () => { if (kills >= n) resolve(); }; }));
    const producing = (async () => {
      for (let i = 0; i < RECORDS; i += 1_000) {
        await until(Math.floor((i * (KILLS + 1)) / RECORDS) - 1);
        await producer.send({ topic: 'crash-in', acks: -1, messages: Array.from({ length: 1_000 }, (_, j) => ({ key: `k${(i + j) % 31}`, value: `record ${i + j}` })) });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    const counts = await killBridgeRepeatedly({ kills: KILLS, total: RECORDS, start: startBridge, progress: stored, jitterMs: { min: 100, max: 800 }, onKill: afterKill });
    await producing;
    await producer.disconnect();
    const last = startBridge();
    await waitForOutput(last, 'kafka bridge ready', 30_000);
    const deadline = Date.now() + 40_000 + RECORDS; // bounded, and scaled for a full-size run
    while ((await stored()) < RECORDS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    // Give any duplicate a chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await stopChild(last, 'SIGTERM');
    const total = await stored();
    assert.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]), `progress across kills: ${counts.join(' -> ')}`);
    assert.ok(counts[0] < RECORDS, `the first kill happened mid-flow (${counts.join(' -> ')})`);
    assert.equal(total, RECORDS, 'every record exactly once');
    const info = await jsm.streams.info('CRASH');
    assert.equal(info.state.last_seq, RECORDS, 'no sequence was spent on a duplicate');
    // PubAcks the copies reported (a killed copy's last second is missing): above RECORDS means re-reads were deduplicated.
    const lastAcks = bridges[bridges.length - 1].reported();
    t.diagnostic(`stored after each kill: ${counts.join(', ')}; PubAcks reported by the copies: ${bridges.map((b) => b.reported()).join(' + ')}`);
    t.diagnostic(`the last copy re-published ${Math.max(0, lastAcks - (RECORDS - counts[KILLS - 1]))} records already stored; the stream dropped them as duplicates`);
  });
});
