// Idle consumer cost: N consumers on one stream, in process (no sockets), so
// the figures are the engine's own. Prints one JSON line:
//   node --expose-gc --import tsx test/bench/consumer-scale.ts <count> [pull|push]
// Measures heap and RSS per consumer after GC, CPU used while idle (nothing is
// published or pulled), timers/deadlines left pending, and publish throughput
// into the stream with the idle consumers attached against none attached.

import { rmSync } from 'node:fs';
import { consumerConfigFromWire } from '../../core/jetstream/consumer/consumer-config.ts';
import { JetStreamEngine } from '../../core/jetstream/jetstream-engine.ts';
import { streamConfigFromWire } from '../../core/jetstream/stream-config.ts';
import { Router } from '../../core/server/router.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';

const count = Number(process.argv[2] ?? '10000');
const kind = process.argv[3] === 'push' ? 'push' : 'pull';
const IDLE_MS = Number(process.env.IDLE_MS ?? '10000');
const PUBLISH = 20_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function publishRate(router: Router, n: number): Promise<number> {
  const body = Buffer.alloc(128, 97);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    for (let k = 0; k < 1000; k++) router.publish(`scale.${(i + k) % 100}`, null, -1, body, null);
    await turn();
  }
  await turn();
  return n / ((performance.now() - t0) / 1000);
}

const storeDir = tempStoreDir('sb-scale-');
const router = new Router();
const engine = new JetStreamEngine(router, { storeDir });
await engine.start();
const { stream } = engine.createStream(streamConfigFromWire({ name: 'SCALE', subjects: ['scale.>'], storage: 'memory' }));
// The first pass warms the JIT so both measured passes run optimised code.
await publishRate(router, PUBLISH);
const baselineRate = await publishRate(router, PUBLISH);
const before = settle();
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  const wire = kind === 'pull'
    ? { durable_name: `c${i}`, ack_policy: 'explicit', filter_subject: `scale.${i % 100}` }
    : { durable_name: `c${i}`, ack_policy: 'explicit', deliver_subject: `deliver.${i}`, filter_subject: `scale.${i % 100}` };
  engine.consumers.create(stream, consumerConfigFromWire(wire, stream.config), '');
}
const createMs = performance.now() - t0;
await turn();
// Let the GC and JIT work left over from creating them finish before measuring idleness.
await new Promise((r) => setTimeout(r, 2000));
const after = settle();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await new Promise((r) => setTimeout(r, IDLE_MS));
const cpu = process.cpuUsage(cpu0);
const idleWall = performance.now() - wall0;
const deadlines = engine.consumers.scheduler.size;
const rateWithConsumers = await publishRate(router, PUBLISH);
const info = count > 0 && kind === 'pull' ? engine.consumers.info(engine.consumers.get(stream, 'c0')) : null;
await engine.stop();
rmSync(storeDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({
  kind,
  consumers: count,
  createMs: Math.round(createMs),
  heapBytesPerConsumer: Math.round((after.heap - before.heap) / count),
  rssBytesPerConsumer: Math.round((after.rss - before.rss) / count),
  heapMiB: +(after.heap / 2 ** 20).toFixed(1),
  rssMiB: +(after.rss / 2 ** 20).toFixed(1),
  idleCpuPercent: +(((cpu.user + cpu.system) / 1000 / idleWall) * 100).toFixed(3),
  idleSeconds: +(idleWall / 1000).toFixed(1),
  pendingDeadlines: deadlines,
  publishMsgsPerSecNoConsumers: Math.round(baselineRate),
  publishMsgsPerSecWithConsumers: Math.round(rateWithConsumers),
  sampleNumPending: info?.num_pending ?? null,
})}\n`);
