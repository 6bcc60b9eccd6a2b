// Server memory per idle connection: VmRSS of the server process before and
// after a worker holds `count` connections that completed CONNECT + PING/PONG.
// Both readings come after a pause so lazily allocated buffers and (for
// Switchboard) garbage collection have settled the same way for both servers.

import { readRssKiB, type BenchServer } from './bench-servers.ts';
import { sleep } from './worker-context.ts';
import { killWorkers, WorkerHandle } from './worker-handle.ts';

export interface IdleRssPlan {
  readonly connections: number;
  readonly concurrency: number;
  readonly settleMs: number;
  readonly capMs: number;
}

export interface IdleRssOutcome {
  readonly baselineKiB: number;
  readonly loadedKiB: number;
  readonly opened: number;
  /** (loaded - baseline) scaled to 1,000 connections, in MiB. */
  readonly mibPer1000: number;
}

export async function measureIdleRss(server: BenchServer, plan: IdleRssPlan): Promise<IdleRssOutcome> {
  await sleep(plan.settleMs);
  const baselineKiB = readRssKiB(server.pid);
  const handle = await WorkerHandle.start({ role: 'idle-connections', port: server.port, count: plan.connections, concurrency: plan.concurrency, capMs: plan.capMs });
  try {
    await sleep(plan.settleMs);
    const loadedKiB = readRssKiB(server.pid);
    handle.send({ type: 'stop' });
    const { opened } = await handle.result(plan.capMs);
    if (opened === 0) throw new Error('no connection opened');
    return { baselineKiB, loadedKiB, opened, mibPer1000: ((loadedKiB - baselineKiB) / 1024) * (1000 / opened) };
  } finally {
    killWorkers([handle]);
  }
}
