// bcrypt checks off the event loop (issue 21 item 5): bcrypt is slow on
// purpose (tens of ms per check at cost 10-11 in pure JS), so a burst of first
// logins checked on the main thread stalls every client. Checks run on a small
// pool of worker threads instead, at most POOL_SIZE at once; the rest wait in a
// bounded queue, and past MAX_QUEUED a check fails at once (the login is
// refused) rather than letting memory grow under a login flood.

import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));
const MAX_QUEUED = 10_000;

// The worker is plain CommonJS evaluated from a string, so it runs the same under tsx and compiled.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcrypt);
parentPort.on('message', ({ id, presented, configured }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(presented, configured); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

interface Check {
  presented: string;
  configured: string;
  resolve(ok: boolean): void;
}

class BcryptPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Check>();
  private readonly queue: Check[] = [];
  private readonly bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');

  compare(presented: string, configured: string): Promise<boolean> {
    if (this.queue.length >= MAX_QUEUED) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.queue.push({ presented, configured, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.busy.size < POOL_SIZE ? this.spawn() : undefined);
      if (worker === undefined) return;
      const check = this.queue.shift() as Check;
      this.busy.set(worker, check);
      worker.ref();
      worker.postMessage({ id: 0, presented: check.presented, configured: check.configured });
    }
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcrypt: this.bcryptPath } });
    worker.on('message', ({ ok }: { ok: boolean }) => this.done(worker, ok));
    // A crashed worker fails its check (the login is refused) and is replaced on demand.
    worker.on('error', () => this.lose(worker));
    worker.on('exit', () => this.lose(worker));
    return worker;
  }

  private done(worker: Worker, ok: boolean): void {
    const check = this.busy.get(worker);
    this.busy.delete(worker);
    // An idle worker must not keep the process alive.
    worker.unref();
    this.idle.push(worker);
    check?.resolve(ok);
    this.pump();
  }

  private lose(worker: Worker): void {
    const check = this.busy.get(worker);
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    check?.resolve(false);
    this.pump();
  }
}

let pool: BcryptPool | null = null;

/** Does `presented` match the bcrypt hash `configured`? Checked on a worker thread; false for a malformed hash. */
export function bcryptCompare(presented: string, configured: string): Promise<boolean> {
  pool ??= new BcryptPool();
  return pool.compare(presented, configured);
}
