// One throughput measurement: N subscriber processes (plain or one queue group)
// and one publisher process against a running server, after a warm-up publisher
// has pushed traffic through the same path (a cold V8 would otherwise be
// measured compiling, not routing). The clock starts at the
// publisher's first write and stops at the last delivery (or, with no
// subscribers, at the PONG that follows the last PUB). hrtime is
// CLOCK_MONOTONIC, so timestamps from different processes compare directly.

import { readCpuSeconds, type BenchServer } from './bench-servers.ts';
import { killWorkers, WorkerHandle } from './worker-handle.ts';
import type { PublisherSpec, SubscriberSpec } from './worker-protocol.ts';

export interface ThroughputPlan {
  readonly subject: string;
  readonly payloadBytes: number;
  readonly count: number;
  readonly subscribers: number;
  /** All subscribers join this queue group; null = plain subscriptions (fan-out). */
  readonly queue: string | null;
  /** Messages sent by a separate publisher before the clock starts (JIT, buffers, caches). */
  readonly warmup: number;
  readonly capMs: number;
}

export interface ThroughputOutcome {
  /** Messages per second: deliveries when there are subscribers, else publishes. */
  readonly rate: number;
  readonly published: number;
  readonly delivered: number;
  readonly expected: number;
  readonly seconds: number;
  /** CPU the server used from the measured publisher's start to the final count (all threads). */
  readonly serverCpuSeconds: number;
  /** Anything that makes the figure suspect: time cap hit, messages lost, a subscriber cut off. */
  readonly notes: string[];
}

/** Beyond the plan's cap, how long collecting results may take. */
const COLLECT_GRACE_MS = 40_000;

export async function measureThroughput(server: BenchServer, plan: ThroughputPlan): Promise<ThroughputOutcome> {
  const subSpec: SubscriberSpec = { role: 'subscriber', port: server.port, subject: plan.subject, queue: plan.queue, capMs: plan.capMs + COLLECT_GRACE_MS };
  const pubSpec: PublisherSpec = { role: 'publisher', port: server.port, subject: plan.subject, payloadBytes: plan.payloadBytes, count: plan.count, capMs: plan.capMs };
  const subStarts = Array.from({ length: plan.subscribers }, () => WorkerHandle.start(subSpec));
  const pubStart = WorkerHandle.start(pubSpec);
  const warmStart = plan.warmup > 0 ? [WorkerHandle.start({ ...pubSpec, count: plan.warmup })] : [];
  const started = await Promise.allSettled([pubStart, ...subStarts, ...warmStart]);
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const pub = await pubStart;
    const subs = await Promise.all(subStarts);

    for (const warm of await Promise.all(warmStart)) {
      warm.send({ type: 'go' });
      await warm.result(plan.capMs + COLLECT_GRACE_MS);
      await Promise.all(subs.map((sub) => sub.reset(COLLECT_GRACE_MS)));
    }
    const cpuBefore = readCpuSeconds(server.pid);
    pub.send({ type: 'go' });
    const published = await pub.result(plan.capMs + COLLECT_GRACE_MS);
    for (const sub of subs) sub.send({ type: 'drain' });
    const received = await Promise.all(subs.map((sub) => sub.result(COLLECT_GRACE_MS)));
    const serverCpuSeconds = readCpuSeconds(server.pid) - cpuBefore;

    const notes: string[] = [];
    if (published.cappedByTime) notes.push(`time cap: sent ${published.sent} of ${plan.count}`);
    for (const r of received) if (r.failure !== null) notes.push(`subscriber: ${r.failure}`);
    const delivered = received.reduce((sum, r) => sum + r.received, 0);
    const expected = plan.subscribers === 0 ? 0 : plan.queue === null ? published.sent * plan.subscribers : published.sent;
    if (delivered < expected) notes.push(`lost ${expected - delivered} of ${expected}`);

    const lastDelivery = received.reduce((max, r) => (r.lastNs > max ? r.lastNs : max), 0n);
    const endNs = plan.subscribers === 0 ? published.endNs : lastDelivery;
    const seconds = Number(endNs - published.startNs) / 1e9;
    const count = plan.subscribers === 0 ? published.sent : delivered;
    return { rate: seconds > 0 ? count / seconds : 0, published: published.sent, delivered, expected, seconds, serverCpuSeconds, notes };
  } finally {
    killWorkers(handles);
  }
}
