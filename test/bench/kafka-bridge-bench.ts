// Kafka bridge throughput, each way, with 1 KiB messages, against librdkafka's
// mock cluster (kcat). A section of `npm run bench`; there
// is no Kafka-bridge counterpart to pair with, so kafkajs alone on the same
// records is the reference.
//   npm run bench:kafka -- [<messages, default 100000>] [<phases, default out,out-kafkajs,in,in-kafkajs,js-in,js-in-nats,js-out>]
// Every phase first runs untimed on a fifth of the messages: a long-running
// server has its hot paths compiled, and a fresh process's first 100,000
// messages measure V8's JIT more than the bridge (the same phase ran 25-40%
// slower first than second). Producers reach the mock through the test proxy
// (kafka-proxy.ts: kafkajs's idempotent producer needs the controller id it
// rewrites), run in a process of its own; consumers reach the mock directly,
// as they would a real cluster, so no relaying shares the 2 cores with them.
// The *-kafkajs phases run kafkajs alone on the same records (no bridge, no NATS):
// the ceiling the bridge can reach on this machine with this mock. out-kafkajs
// uses the bridge's arrangement (one idempotent producer, one ~850-record
// request at a time); measured, neither several producers owning partitions nor
// other request sizes beat it, because it is CPU-bound, not round-trip-bound.
// js-in-nats is js-in in cluster mode: the bridge publishes through a
// NatsBroker to Debian's nats-server, which stores the stream in its own
// process (skipped when nats-server is not installed).
// Each line also gives the process's CPU per message (all threads) and how busy
// the event loop was: near 100% means the phase is CPU-bound on the main thread,
// and CPU/msg moves less than msg/s when other work shares the machine.
// BENCH_CPU_PROFILE=<dir> writes a V8 CPU profile of each timed phase (not its
// warm-up or set-up) to <dir>, for test/bench/profile-summary.ts.
// Everything binds 127.0.0.1; each phase is bounded by a message count and a time cap.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
// kafkajs as the bridge loads it, so kafkajs alone runs with the same stand-ins.
import { kafkajs, kafkajsSpeedups } from '../../connectors/kafka/kafkajs-loader.ts';
import { createKafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import type { MappingConfig } from '../../connectors/kafka/config.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { startNatsServerJetStream, startSwitchboardJetStream } from '../helpers/jetstream.ts';
import { startKafkaMock } from '../helpers/kafka-mock.ts';
import { spawnKafkaProxy } from '../helpers/kafka-proxy.ts';
import { commandAvailable } from '../helpers/servers.ts';

const COUNT = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error(`the message count must be a positive integer, got ${JSON.stringify(process.argv[2])}`);
const PHASES = (process.argv[3] ?? 'out,out-kafkajs,in,in-kafkajs,js-in,js-in-nats,js-out').split(',');
const SIZE = 1024;
const CAP_MS = 120_000;
const payload = Buffer.alloc(SIZE, 0x61);

const server = await startSwitchboardJetStream();
const mock = await startKafkaMock();
const proxy = await spawnKafkaProxy(mock.brokers);
const broker = server.broker;
const kafka = new (kafkajs().Kafka)({ brokers: proxy.brokers, clientId: 'bench', logLevel: kafkajs().logLevel.NOTHING });
/** For what needs no proxy: filling topics (not idempotent) and consuming. */
const direct = new (kafkajs().Kafka)({ brokers: mock.brokers, clientId: 'bench-direct', logLevel: kafkajs().logLevel.NOTHING });

/**
 * Producers need the proxy (the mock reports a controller that does not exist,
 * and kafkajs's idempotent producer asks it for a producer id); consumers do
 * not, and reach the mock directly, so the proxy's relaying of every fetched
 * byte does not take CPU from the bridge on this 2-core machine.
 */
function bridgeFor(mapping: MappingConfig, target: Broker = broker) {
  const brokers = mapping.direction === 'kafka-to-nats' ? mock.brokers : proxy.brokers;
  return createKafkaBridge({ broker: target, kafka: { brokers, clientId: 'bench-bridge' }, mappings: [mapping], logLevel: 'nothing' });
}

async function createFileStream(name: string, subject: string, target: Broker = broker): Promise<void> {
  const created = await target.request(`$JS.API.STREAM.CREATE.${name}`, Buffer.from(JSON.stringify({ name, subjects: [subject], storage: 'file' })), { timeoutMs: 5_000 });
  if (Buffer.from(created.data).toString().includes('"error"')) throw new Error(Buffer.from(created.data).toString());
}

async function until(check: () => boolean, what: string, everyMs = 5): Promise<void> {
  const deadline = Date.now() + CAP_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench cap reached waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Where a phase's time went: CPU of this process (all threads) per message, and how busy the event loop was (100%: CPU-bound, less: waiting on round trips). */
interface Usage {
  cpu: NodeJS.CpuUsage;
  loop: EventLoopUtilization;
}

const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const profiler = PROFILE_DIR === undefined ? undefined : new Session();
profiler?.connect();
profiler?.post('Profiler.enable');

/** Starts the measured window (again, if a phase moves its start to its first message). */
function usageNow(): Usage {
  profiler?.post('Profiler.start');
  return { cpu: process.cpuUsage(), loop: performance.eventLoopUtilization() };
}

function saveProfile(run: Run, direction: string): void {
  profiler?.post('Profiler.stop', (error, result) => {
    if (error === null && run.timed && PROFILE_DIR !== undefined) writeFileSync(join(PROFILE_DIR, `${direction.replace(/[^A-Za-z]+/g, '-')}.cpuprofile`), JSON.stringify(result.profile));
  });
}

function describeUsage(since: Usage, count: number): string {
  const cpu = process.cpuUsage(since.cpu);
  const loop = performance.eventLoopUtilization(since.loop);
  return `${((cpu.user + cpu.system) / count).toFixed(1)} us CPU/msg, event loop ${Math.round(loop.utilization * 100)}% busy`;
}

/** A phase's run: how many messages, and names of its own (topics, groups, streams), so the warm-up and the timed run do not share state. */
interface Run {
  count: number;
  tag: string;
  timed: boolean;
}

function report(run: Run, direction: string, ms: number, usage: Usage): void {
  saveProfile(run, direction);
  if (!run.timed) return;
  const count = run.count;
  const rate = (count / ms) * 1000;
  process.stdout.write(`${direction.padEnd(28)} ${count} msgs x ${SIZE} B in ${(ms / 1000).toFixed(2)} s: ${Math.round(rate).toLocaleString('en-US')} msg/s, ${((rate * SIZE) / 1048576).toFixed(1)} MiB/s, ${describeUsage(usage, count)}\n`);
}

async function natsToKafka(run: Run): Promise<void> {
  const bridge = bridgeFor({ name: 'out', direction: 'nats-to-kafka', subject: `bench.out${run.tag}.*`, topic: `bench-out${run.tag}`, key: '{3}' });
  await bridge.start();
  const metrics = () => bridge.metrics().mappings[0];
  await until(() => metrics().state === 'running', 'producer connected');
  const began = Date.now();
  const usage = usageNow();
  for (let i = 0; i < run.count; i++) {
    // Stay inside the bridge's buffer (100k messages / 64 MiB): a benchmark must not drop.
    if (i % 1000 === 0) await until(() => metrics().lag < 40_000, 'buffer room');
    await broker.publish(`bench.out${run.tag}.k${i % 64}`, payload);
  }
  await until(() => metrics().messages === run.count, 'Kafka acks');
  report(run, 'NATS -> Kafka (idempotent)', Date.now() - began, usage);
  if (metrics().dropped !== 0) throw new Error(`dropped ${metrics().dropped}`);
  await bridge.stop();
}

// The mock keeps only about 5 MB per partition (older records are deleted), so the
// records are spread over topics of 4 partitions with at most 4000 KiB-records each,
// written 2000 to a request (the mock returns a whole produce batch per fetch).
const PER_PARTITION = 4_000;

async function fill(prefix: string, count: number): Promise<string[]> {
  const producer = direct.producer();
  await producer.connect();
  const topics: string[] = [];
  for (let written = 0, t = 0; written < count; t++) {
    const topic = `${prefix}-${t}`;
    topics.push(topic);
    for (let partition = 0; partition < 4 && written < count; partition++) {
      for (let n = 0; n < PER_PARTITION && written < count; n += 2_000) {
        const size = Math.min(2_000, PER_PARTITION - n, count - written);
        await producer.send({ topic, acks: -1, messages: Array.from({ length: size }, (_, j) => ({ partition, key: `k${j % 64}`, value: payload })) });
        written += size;
      }
    }
  }
  await producer.disconnect();
  return topics;
}

/**
 * Kafka -> NATS into `target` (the embedded server unless given), timed from
 * the first record through, so the consumer group join is not counted.
 */
async function kafkaToNats(run: Run, stream: boolean, target: Broker = broker, direction = stream ? 'Kafka -> JetStream (PubAck)' : 'Kafka -> NATS core'): Promise<void> {
  const prefix = stream ? `bench-js${run.tag}` : `bench-in${run.tag}`;
  const topics = await fill(prefix, run.count);
  const streamName = `BENCH${run.tag}`;
  const root = stream ? `benchjs${run.tag}` : `bench.in${run.tag}`;
  if (stream) await createFileStream(streamName, `${root}.>`, target);
  const bridge = bridgeFor({ name: 'in', direction: 'kafka-to-nats', topics, groupId: `bench-${prefix}`, subject: `${root}.{topic}.{partition}`, ...(stream ? { stream: streamName } : {}) }, target);
  await bridge.start();
  const metrics = () => bridge.metrics().mappings[0];
  const progress = process.env.BENCH_DEBUG ? setInterval(() => process.stderr.write(`${JSON.stringify(metrics())}\n`), 1000) : undefined;
  await until(() => metrics().messages > 0, 'the first record through', 1);
  const first = Date.now();
  const usage = usageNow();
  await until(() => metrics().messages === run.count, 'all records through');
  clearInterval(progress);
  report(run, direction, Date.now() - first, usage);
  await bridge.stop();
}

/**
 * Kafka -> JetStream in cluster mode: the bridge publishes through a NatsBroker
 * to Debian's nats-server, whose JetStream (in its own process) stores the stream.
 */
async function kafkaToNatsServerStream(run: Run): Promise<void> {
  if (!commandAvailable('nats-server')) throw new Error('nats-server is not installed');
  const natsServer = await startNatsServerJetStream();
  const target = await NatsBroker.connect({ servers: `127.0.0.1:${natsServer.port}` });
  try {
    await kafkaToNats(run, true, target, 'Kafka -> nats-server JetStream');
  } finally {
    await target.close();
    await natsServer.stop();
  }
}

/** kafkajs alone: the same 1 KiB records, one idempotent acks=all request of ~900 KiB at a time. */
async function kafkajsProduce(run: Run): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const began = Date.now();
  const usage = usageNow();
  for (let i = 0; i < run.count; i += 850) {
    const messages = Array.from({ length: Math.min(850, run.count - i) }, (_, j) => ({ key: `k${(i + j) % 64}`, value: payload }));
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic: `bench-raw-out${run.tag}`, messages }] });
  }
  report(run, 'kafkajs alone, produce', Date.now() - began, usage);
  await producer.disconnect();
}

/** kafkajs alone: a consumer group that only counts. */
async function kafkajsConsume(run: Run): Promise<void> {
  const topics = await fill(`bench-raw-in${run.tag}`, run.count);
  const consumer = direct.consumer({ groupId: `bench-raw${run.tag}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let received = 0;
  let first = 0;
  let usage = usageNow();
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      if (received === 0) {
        first = Date.now();
        usage = usageNow();
      }
      received += batch.messages.length;
    },
  });
  await until(() => received >= run.count, 'kafkajs consumer');
  report(run, 'kafkajs alone, consume', Date.now() - first, usage);
  await consumer.disconnect();
}

/** JetStream -> Kafka: a file stream filled first, drained by the bridge's pull consumer. */
async function jetStreamToKafka(run: Run): Promise<void> {
  const root = `benchout${run.tag}`;
  await createFileStream(`BENCHOUT${run.tag}`, `${root}.>`);
  for (let i = 0; i < run.count; i++) await broker.publish(`${root}.k${i % 64}`, payload);
  await broker.flush();
  const bridge = bridgeFor({ name: 'js-out', direction: 'nats-to-kafka', stream: `BENCHOUT${run.tag}`, subject: `${root}.>`, topic: `bench-js-out${run.tag}`, key: '{2}' });
  await bridge.start();
  const metrics = () => bridge.metrics().mappings[0];
  await until(() => metrics().state === 'running' || metrics().messages > 0, 'consumer and producer');
  const began = Date.now();
  const usage = usageNow();
  await until(() => metrics().messages === run.count, 'the stream drained into Kafka');
  report(run, 'JetStream -> Kafka (ack after)', Date.now() - began, usage);
  await bridge.stop();
}

const PHASE_RUNNERS: Record<string, (run: Run) => Promise<void>> = {
  out: natsToKafka,
  'out-kafkajs': kafkajsProduce,
  in: (run) => kafkaToNats(run, false),
  'in-kafkajs': kafkajsConsume,
  'js-in': (run) => kafkaToNats(run, true),
  'js-in-nats': kafkaToNatsServerStream,
  'js-out': jetStreamToKafka,
};

try {
  process.stdout.write(`kafka bridge bench: ${COUNT} messages of ${SIZE} B per phase; kafkajs speedups ${kafkajsSpeedups()}; load average ${(await import('node:os')).loadavg().map((n) => n.toFixed(1)).join(' ')}\n`);
  for (const [i, phase] of PHASES.entries()) {
    const runner = PHASE_RUNNERS[phase];
    if (runner === undefined) throw new Error(`unknown phase ${phase} (known: ${Object.keys(PHASE_RUNNERS).join(', ')})`);
    try {
      await runner({ count: Math.max(1, Math.floor(COUNT / 5)), tag: `w${i}`, timed: false });
      await runner({ count: COUNT, tag: `t${i}`, timed: true });
    } catch (error) {
      process.stdout.write(`${phase.padEnd(28)} not measured: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
} finally {
  await broker.close();
  await proxy.stop();
  await mock.stop();
  await server.stop();
}
