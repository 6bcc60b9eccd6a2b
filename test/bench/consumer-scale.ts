// Idle consumer cost: N consumers on one stream, in process (no sockets), so
// the figures are the engine's own. Prints one JSON line:
//   node --expose-gc --import tsx test/bench/consumer-scale.ts <count> [pull|push] [limits|interest]
// Measures heap and RSS per consumer after GC, CPU used while idle (nothing is
// published or pulled), timers/deadlines left pending, and publish throughput
// into the stream and on a subject no stream captures (`plain.*`, no
// subscriber), with the idle consumers attached against none attached: per
// second of wall time, per second of CPU (what a loaded machine distorts least)
// and the GC time it took.

import { rmSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { consumerConfigFromWire } from '../../core/jetstream/consumer/consumer-config.ts';
import { JetStreamEngine } from '../../core/jetstream/jetstream-engine.ts';
import { streamConfigFromWire } from '../../core/jetstream/stream-config.ts';
import type { Stream } from '../../core/jetstream/stream.ts';
import { Router } from '../../core/server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../../core/server/subscription.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';

const count = Number(process.argv[2] ?? '10000');
const kind = process.argv[3] === 'push' ? 'push' : 'pull';
const retention = process.argv[4] === 'interest' ? 'interest' : 'limits';
const IDLE_MS = Number(process.env.IDLE_MS ?? '10000');
const PUBLISH = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function settle(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface PublishRate {
  /** msgs/s of wall time, the best of three passes (the machine is shared). */
  readonly wall: number;
  /** msgs per second of this process's CPU (all threads), the best of three passes: what a loaded machine distorts least. */
  readonly perCpu: number;
  /** Milliseconds of garbage collection per 1,000 messages in the pass with the best perCpu. */
  readonly gcMsPer1000: number;
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

/** Publishing to `prefix.0` .. `prefix.99`. */
async function publishRate(router: Router, stream: Stream, prefix: string, n: number): Promise<PublishRate> {
  const body = Buffer.alloc(128, 97);
  const subjects = Array.from({ length: 100 }, (_, i) => `${prefix}.${i}`);
  let best: PublishRate = { wall: 0, perCpu: 0, gcMsPer1000: 0 };
  for (let pass = 0; pass < 3; pass++) {
    // Every pass starts on an empty stream, so the figures with and without consumers compare like with like.
    stream.store.purge();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const gc0 = gcMs;
    for (let i = 0; i < n; i += 1000) {
      for (let k = 0; k < 1000; k++) router.publish(subjects[(i + k) % 100], null, -1, body, null);
      await turn();
    }
    await turn();
    const cpu = process.cpuUsage(cpu0);
    const wall = n / ((performance.now() - t0) / 1000);
    const perCpu = n / ((cpu.user + cpu.system) / 1e6);
    best = { wall: Math.max(best.wall, wall), ...(perCpu > best.perCpu ? { perCpu, gcMsPer1000: ((gcMs - gc0) * 1000) / n } : { perCpu: best.perCpu, gcMsPer1000: best.gcMsPer1000 }) };
  }
  return best;
}

/** Microseconds per subscribe + unsubscribe of a wildcard subscription (what every nats.js connection does for its inbox). */
function subscriptionChurnUs(router: Router, n: number): number {
  const owner: Subscriber = { id: nextInternalSubscriberId(), echo: true, deliver() {}, subscriptionEnded() {} };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sub = new Subscription(owner, `_INBOX.client${i}.*`, null, String(i));
    router.subscribe(sub);
    router.unsubscribe(sub);
  }
  return ((performance.now() - t0) * 1000) / n;
}

const storeDir = tempStoreDir('sb-scale-');
const router = new Router();
const engine = new JetStreamEngine(router, { storeDir });
await engine.start();
const { stream } = engine.createStream(streamConfigFromWire({ name: 'SCALE', subjects: ['scale.>'], storage: 'memory', retention }));
// The first round warms the JIT so the measured ones run optimised code.
await publishRate(router, stream, 'scale', PUBLISH);
await publishRate(router, stream, 'plain', PUBLISH);
const baselineRate = await publishRate(router, stream, 'scale', PUBLISH);
const baselinePlainRate = await publishRate(router, stream, 'plain', PUBLISH);
const baselineChurn = subscriptionChurnUs(router, 2000);
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
const rateWithConsumers = await publishRate(router, stream, 'scale', PUBLISH);
const plainRateWithConsumers = await publishRate(router, stream, 'plain', PUBLISH);
const churnWithConsumers = subscriptionChurnUs(router, 2000);
const info = count > 0 && kind === 'pull' ? engine.consumers.info(engine.consumers.get(stream, 'c0')) : null;
await engine.stop();
rmSync(storeDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({
  kind,
  retention,
  consumers: count,
  createMs: Math.round(createMs),
  heapBytesPerConsumer: Math.round((after.heap - before.heap) / count),
  rssBytesPerConsumer: Math.round((after.rss - before.rss) / count),
  heapMiB: +(after.heap / 2 ** 20).toFixed(1),
  rssMiB: +(after.rss / 2 ** 20).toFixed(1),
  idleCpuPercent: +(((cpu.user + cpu.system) / 1000 / idleWall) * 100).toFixed(3),
  idleSeconds: +(idleWall / 1000).toFixed(1),
  pendingDeadlines: deadlines,
  publishMsgsPerSecNoConsumers: Math.round(baselineRate.wall),
  publishMsgsPerSecWithConsumers: Math.round(rateWithConsumers.wall),
  publishMsgsPerCpuSecNoConsumers: Math.round(baselineRate.perCpu),
  publishMsgsPerCpuSecWithConsumers: Math.round(rateWithConsumers.perCpu),
  publishGcMsPer1000NoConsumers: +baselineRate.gcMsPer1000.toFixed(3),
  publishGcMsPer1000WithConsumers: +rateWithConsumers.gcMsPer1000.toFixed(3),
  streamlessPublishMsgsPerSecNoConsumers: Math.round(baselinePlainRate.wall),
  streamlessPublishMsgsPerSecWithConsumers: Math.round(plainRateWithConsumers.wall),
  wildcardSubUnsubUsNoConsumers: +baselineChurn.toFixed(2),
  wildcardSubUnsubUsWithConsumers: +churnWithConsumers.toFixed(2),
  sampleNumPending: info?.num_pending ?? null,
})}\n`);
