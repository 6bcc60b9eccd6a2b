// Request/reply latency: one responder process per server answers; a single
// requester process sends sequential requests, alternating between the servers
// when there are several (see roles/requester.ts), and times each round trip.

import type { BenchServer } from './bench-servers.ts';
import { killWorkers, WorkerHandle } from './worker-handle.ts';

export interface LatencyPlan {
  readonly subject: string;
  readonly payloadBytes: number;
  readonly warmup: number;
  /** Measured requests per server. */
  readonly count: number;
  readonly capMs: number;
}

export interface LatencyOutcome {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  readonly measured: number;
  readonly notes: string[];
}

const COLLECT_GRACE_MS = 30_000;

/** One outcome per server, in the order given. */
export async function measureLatency(servers: readonly BenchServer[], plan: LatencyPlan): Promise<LatencyOutcome[]> {
  const responderStarts = servers.map((server) => WorkerHandle.start({ role: 'responder', port: server.port, subject: plan.subject, payloadBytes: plan.payloadBytes, capMs: plan.capMs + COLLECT_GRACE_MS }));
  const requesterStart = WorkerHandle.start({ role: 'requester', ports: servers.map((s) => s.port), ...plan });
  const started = await Promise.allSettled([requesterStart, ...responderStarts]);
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const requester = await requesterStart;
    const responders = await Promise.all(responderStarts);
    requester.send({ type: 'go' });
    const result = await requester.result(plan.capMs + COLLECT_GRACE_MS);
    for (const responder of responders) responder.send({ type: 'stop' });
    await Promise.all(responders.map((responder) => responder.result(COLLECT_GRACE_MS)));

    return result.latenciesUs.map((sorted) => {
      if (sorted.length === 0) throw new Error('no request was measured');
      return {
        p50Us: percentile(sorted, 0.5),
        p99Us: percentile(sorted, 0.99),
        maxUs: sorted[sorted.length - 1],
        measured: sorted.length,
        notes: result.cappedByTime ? [`time cap: measured ${sorted.length} of ${plan.count}`] : [],
      };
    });
  } finally {
    killWorkers(handles);
  }
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}
