// Request/reply latency: a responder process answers, a requester process
// sends sequential requests and times each round trip.

import type { BenchServer } from './bench-servers.ts';
import { killWorkers, WorkerHandle } from './worker-handle.ts';

export interface LatencyPlan {
  readonly subject: string;
  readonly payloadBytes: number;
  readonly warmup: number;
  readonly count: number;
  readonly capMs: number;
}

export interface LatencyOutcome {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  readonly measured: number;
  readonly requestsPerSecond: number;
  readonly notes: string[];
}

const COLLECT_GRACE_MS = 30_000;

export async function measureLatency(server: BenchServer, plan: LatencyPlan): Promise<LatencyOutcome> {
  const responderStart = WorkerHandle.start({ role: 'responder', port: server.port, subject: plan.subject, payloadBytes: plan.payloadBytes, capMs: plan.capMs + COLLECT_GRACE_MS });
  const requesterStart = WorkerHandle.start({ role: 'requester', port: server.port, ...plan });
  const started = await Promise.allSettled([responderStart, requesterStart]);
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const responder = await responderStart;
    const requester = await requesterStart;
    requester.send({ type: 'go' });
    const result = await requester.result(plan.capMs + COLLECT_GRACE_MS);
    responder.send({ type: 'stop' });
    await responder.result(COLLECT_GRACE_MS);

    const sorted = result.latenciesUs;
    if (sorted.length === 0) throw new Error('no request was measured');
    const notes = result.cappedByTime ? [`time cap: measured ${sorted.length} of ${plan.count}`] : [];
    const seconds = Number(result.elapsedNs) / 1e9;
    return {
      p50Us: percentile(sorted, 0.5),
      p99Us: percentile(sorted, 0.99),
      maxUs: sorted[sorted.length - 1],
      measured: sorted.length,
      requestsPerSecond: (sorted.length + plan.warmup) / seconds,
      notes,
    };
  } finally {
    killWorkers(handles);
  }
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}
