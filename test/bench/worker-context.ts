// What a role sees of the orchestrator: say it is ready, wait for a command.
// Commands may arrive before a role waits for them, so they are remembered.

import type { ParentCommand, WorkerReport } from './worker-protocol.ts';

type CommandType = Exclude<ParentCommand['type'], 'start'>;

export class WorkerContext {
  private readonly received = new Set<CommandType>();
  private readonly waiters = new Map<CommandType, Array<() => void>>();

  /** Feed a command from the parent. */
  deliver(type: CommandType): void {
    this.received.add(type);
    const waiting = this.waiters.get(type) ?? [];
    this.waiters.delete(type);
    for (const wake of waiting) wake();
  }

  ready(): void {
    report({ type: 'ready' });
  }

  /** Resolves when the parent has sent `type` (now or earlier). */
  command(type: CommandType): Promise<void> {
    if (this.received.has(type)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(type) ?? [];
      list.push(resolve);
      this.waiters.set(type, list);
    });
  }
}

/** Send one report; `then` runs once it has left this process. */
export function report(message: WorkerReport, then?: () => void): void {
  if (process.send === undefined) throw new Error('bench worker must be started with an IPC channel (fork)');
  process.send(message, undefined, {}, () => then?.());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}
