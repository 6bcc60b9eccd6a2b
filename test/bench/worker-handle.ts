// Orchestrator side of one load worker: fork it, hand it its role, wait until
// it is ready, send commands, collect its result. Every wait has a deadline.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../helpers/servers.ts';
import { track } from './child-registry.ts';
import type { ParentCommand, WorkerReport, WorkerResult, WorkerSpec } from './worker-protocol.ts';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** tsx start-up plus the handshake; idle-connection workers get their own cap on top. */
const READY_TIMEOUT_MS = 20_000;

type ResultOf<S extends WorkerSpec> = Extract<WorkerResult, { role: S['role'] }>;

export class WorkerHandle<S extends WorkerSpec> {
  private readonly reports: WorkerReport[] = [];
  private waiter: (() => void) | null = null;
  private exited = false;

  private constructor(readonly spec: S, private readonly child: ChildProcess) {
    child.on('message', (message: WorkerReport) => {
      this.reports.push(message);
      this.wake();
    });
    // 'close' (not 'exit') waits for the IPC channel, so a final report is never lost.
    child.once('close', () => {
      this.exited = true;
      this.wake();
    });
  }

  /** Fork a worker for `spec` and wait for its `ready`. */
  static async start<S extends WorkerSpec>(spec: S): Promise<WorkerHandle<S>> {
    const child = track(fork(WORKER_SCRIPT, [], {
      cwd: PROJECT_ROOT,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }));
    const handle = new WorkerHandle(spec, child);
    handle.send({ type: 'start', spec });
    await handle.next('ready', READY_TIMEOUT_MS + ('capMs' in spec ? spec.capMs : 0));
    return handle;
  }

  /** Ask a subscriber to forget its warm-up messages; resolves when it is counting afresh. */
  async reset(timeoutMs: number): Promise<void> {
    this.send({ type: 'reset' });
    await this.next('ready', timeoutMs);
  }

  send(command: ParentCommand): void {
    if (!this.exited && this.child.connected) this.child.send(command);
  }

  /** Wait for the worker's result (the role decides when it is done). */
  async result(timeoutMs: number): Promise<ResultOf<S>> {
    const report = await this.next('result', timeoutMs);
    if (report.type !== 'result' || report.result.role !== this.spec.role) throw new Error(`${this.spec.role} worker sent ${report.type}`);
    return report.result as ResultOf<S>;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private async next(type: 'ready' | 'result', timeoutMs: number): Promise<WorkerReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = this.reports.shift();
      if (report !== undefined) {
        if (report.type === 'error') throw new Error(`${this.spec.role} worker failed: ${report.message}`);
        if (report.type === type) return report;
        continue;
      }
      if (this.exited) throw new Error(`${this.spec.role} worker exited before sending ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.spec.role} worker sent no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  private wake(): void {
    this.waiter?.();
  }
}

/** Kill whatever workers are still running (after a scenario, success or not). */
export function killWorkers(handles: Iterable<{ kill(): void }>): void {
  for (const handle of handles) handle.kill();
}
