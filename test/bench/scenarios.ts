// The scenarios of issue 3's "Speed" section. Each one runs against a fresh
// server process and returns figures; every loop inside is bounded by a
// message count and a time cap.

import type { BenchServer } from './bench-servers.ts';
import { measureIdleRss } from './idle-rss.ts';
import { measureLatency } from './latency.ts';
import { measureThroughput, type ThroughputPlan } from './throughput.ts';

export interface Figure {
  /** Row label in the table; unique across scenarios. */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** Throughput only: the same count per second of server CPU time (all its threads). */
  readonly perCpuSecond?: number;
  /** The target for ours/theirs (issue 19: every throughput row, request/reply p50 and max), when one is set. */
  readonly target?: { readonly op: '>=' | '<='; readonly ratio: number };
  readonly notes: readonly string[];
  readonly details: Readonly<Record<string, number>>;
}

export interface BenchSize {
  readonly pubOnly: number;
  readonly pubOnly1k: number;
  readonly pubSub16: number;
  readonly pubSub1k: number;
  readonly fanOut: number;
  readonly fanOut1k: number;
  readonly queue: number;
  /** Messages published before each throughput measurement starts. */
  readonly warmup: number;
  readonly requests: number;
  readonly requestWarmup: number;
  readonly idleConnections: number;
  /** Cap for each throughput run and for the request loop. */
  readonly capMs: number;
}

export const FULL_SIZE: BenchSize = {
  pubOnly: 2_000_000,
  pubOnly1k: 600_000,
  pubSub16: 1_000_000,
  pubSub1k: 300_000,
  fanOut: 400_000,
  fanOut1k: 150_000,
  queue: 1_000_000,
  warmup: 100_000,
  requests: 20_000,
  requestWarmup: 2_000,
  idleConnections: 2_000,
  capMs: 20_000,
};

export const QUICK_SIZE: BenchSize = {
  pubOnly: 200_000,
  pubOnly1k: 60_000,
  pubSub16: 100_000,
  pubSub1k: 30_000,
  fanOut: 40_000,
  fanOut1k: 15_000,
  queue: 100_000,
  warmup: 20_000,
  requests: 2_000,
  requestWarmup: 500,
  idleConnections: 1_000,
  capMs: 5_000,
};

export interface Scenario {
  readonly name: string;
  /**
   * 'solo': each server runs alone (throughput needs the whole machine);
   * 'paired': every server runs at once and the load alternates between them.
   */
  readonly mode: 'solo' | 'paired';
  /** Figures per server, in the order of `servers` (one server in solo mode). */
  run(servers: readonly BenchServer[], size: BenchSize): Promise<Figure[][]>;
}

/** A solo scenario from a one-server measurement. */
function solo(name: string, measure: (server: BenchServer, size: BenchSize) => Promise<Figure[]>): Scenario {
  return {
    name,
    mode: 'solo',
    async run(servers, size) {
      const out: Figure[][] = [];
      for (const server of servers) out.push(await measure(server, size));
      return out;
    },
  };
}

function throughputScenario(name: string, metric: string, unit: string, plan: (size: BenchSize) => Omit<ThroughputPlan, 'capMs' | 'warmup'>, target?: Figure['target']): Scenario {
  return solo(name, async (server, size) => {
    const outcome = await measureThroughput(server, { ...plan(size), warmup: size.warmup, capMs: size.capMs });
    return [{
      metric,
      value: outcome.rate,
      unit,
      better: 'higher',
      ...(outcome.serverCpuSeconds > 0 ? { perCpuSecond: (outcome.rate * outcome.seconds) / outcome.serverCpuSeconds } : {}),
      ...(target ? { target } : {}),
      notes: outcome.notes,
      details: { published: outcome.published, delivered: outcome.delivered, expected: outcome.expected, seconds: outcome.seconds, serverCpuSeconds: outcome.serverCpuSeconds },
    }];
  });
}

/** Issue 19: at least 0.9× nats-server on every throughput row. */
const THROUGHPUT_TARGET = { op: '>=', ratio: 0.9 } as const;

export const SCENARIOS: readonly Scenario[] = [
  throughputScenario('pub', 'pub only, 16 B', 'msgs/s', (s) => ({ subject: 'bench.pub', payloadBytes: 16, count: s.pubOnly, subscribers: 0, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('pub-1k', 'pub only, 1 KiB', 'msgs/s', (s) => ({ subject: 'bench.pub', payloadBytes: 1024, count: s.pubOnly1k, subscribers: 0, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('pubsub-16', '1 pub → 1 sub, 16 B', 'msgs/s', (s) => ({ subject: 'bench.ps', payloadBytes: 16, count: s.pubSub16, subscribers: 1, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('pubsub-1k', '1 pub → 1 sub, 1 KiB', 'msgs/s', (s) => ({ subject: 'bench.ps', payloadBytes: 1024, count: s.pubSub1k, subscribers: 1, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('fanout', '1 pub → 4 subs, 16 B', 'deliveries/s', (s) => ({ subject: 'bench.fan', payloadBytes: 16, count: s.fanOut, subscribers: 4, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('fanout-1k', '1 pub → 4 subs, 1 KiB', 'deliveries/s', (s) => ({ subject: 'bench.fan', payloadBytes: 1024, count: s.fanOut1k, subscribers: 4, queue: null }), THROUGHPUT_TARGET),
  throughputScenario('queue', '1 pub → queue of 4, 16 B', 'msgs/s', (s) => ({ subject: 'bench.q', payloadBytes: 16, count: s.queue, subscribers: 4, queue: 'workers' }), THROUGHPUT_TARGET),
  {
    name: 'reqrep',
    // Latency is what machine noise distorts most, so both servers are measured in the same window.
    mode: 'paired',
    async run(servers, size) {
      const outcomes = await measureLatency(servers, { subject: 'bench.req', payloadBytes: 16, warmup: size.requestWarmup, count: size.requests, capMs: size.capMs });
      return outcomes.map((outcome) => {
        const details = { measured: outcome.measured, maxUs: outcome.maxUs };
        return [
          { metric: 'request/reply p50', value: outcome.p50Us, unit: 'µs', better: 'lower', target: { op: '<=', ratio: 1.0 }, notes: outcome.notes, details },
          { metric: 'request/reply p99', value: outcome.p99Us, unit: 'µs', better: 'lower', notes: outcome.notes, details },
          // GC pauses show here first (issue 19: at most 1.5× nats-server's).
          { metric: 'request/reply max', value: outcome.maxUs, unit: 'µs', better: 'lower', target: { op: '<=', ratio: 1.5 }, notes: outcome.notes, details },
        ];
      });
    },
  },
  solo('rss', async (server, size) => {
    const outcome = await measureIdleRss(server, { connections: size.idleConnections, concurrency: 100, settleMs: 1_000, capMs: size.capMs });
    return [{
      metric: 'RSS per 1,000 idle conns',
      value: outcome.mibPer1000,
      unit: 'MiB',
      better: 'lower',
      notes: [],
      details: { baselineKiB: outcome.baselineKiB, loadedKiB: outcome.loadedKiB, opened: outcome.opened },
    }];
  }),
];

/**
 * Scenarios named by the filters (all when none are given). A filter equal to a
 * name picks that one (so `pub` is pub-only); otherwise it picks every name
 * containing it (so `pubsub` is both payload sizes).
 */
export function selectScenarios(filters: readonly string[]): Scenario[] {
  if (filters.length === 0) return [...SCENARIOS];
  const names = new Set(SCENARIOS.map((s) => s.name));
  return SCENARIOS.filter((s) => filters.some((f) => (names.has(f) ? s.name === f : s.name.includes(f))));
}
