// The batches being published into streams, atomic or fast (ADR-50): per
// stream by id, with nats-server's two caps (per stream, per server) and an
// inactivity timeout each. A message only notes the time (a fast batch sees
// one per message; re-arming a timer each time cost more than storing it):
// the timer, when it fires, waits again for whatever is left of the timeout.

import { JetStreamApiError, type JetStreamApiErrorDef } from '../protocol/jetstream-api-error.ts';
import type { Stream } from './stream.ts';

export interface BatchRegistryLimits {
  maxInflightPerStream: number;
  maxInflightTotal: number;
  timeoutMs: number;
}

interface Entry<T> {
  readonly batch: T;
  timer: NodeJS.Timeout;
  /** Date.now() of the batch's last message. */
  last: number;
}

export class BatchRegistry<T> {
  private readonly byStream = new Map<Stream, Map<string, Entry<T>>>();
  private inflight = 0;

  /** `tooMany`: the error past a cap; `expired` runs when a batch saw no message for the timeout (it is gone by then). */
  constructor(
    private readonly limits: BatchRegistryLimits,
    private readonly tooMany: JetStreamApiErrorDef,
    private readonly expired: (stream: Stream, id: string) => void = () => {},
  ) {}

  get(stream: Stream, id: string): T | undefined {
    return this.byStream.get(stream)?.get(id)?.batch;
  }

  /** Batches in flight on `stream`. */
  count(stream: Stream): number {
    return this.byStream.get(stream)?.size ?? 0;
  }

  /** Register a new batch; throws `tooMany` past either cap. */
  open(stream: Stream, id: string, batch: T): T {
    let batches = this.byStream.get(stream);
    if (batches === undefined) this.byStream.set(stream, (batches = new Map()));
    if (batches.size + 1 > this.limits.maxInflightPerStream || this.inflight + 1 > this.limits.maxInflightTotal) {
      if (batches.size === 0) this.byStream.delete(stream);
      throw new JetStreamApiError(this.tooMany);
    }
    const entry: Entry<T> = { batch, timer: this.arm(stream, id, this.limits.timeoutMs), last: Date.now() };
    batches.set(id, entry);
    this.inflight++;
    return batch;
  }

  /** A message of the batch arrived: its inactivity timeout starts again. */
  touch(stream: Stream, id: string): void {
    const entry = this.byStream.get(stream)?.get(id);
    if (entry !== undefined) entry.last = Date.now();
  }

  private arm(stream: Stream, id: string, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const entry = this.byStream.get(stream)?.get(id);
      if (entry === undefined) return;
      const left = entry.last + this.limits.timeoutMs - Date.now();
      if (left > 0) {
        entry.timer = this.arm(stream, id, left);
        return;
      }
      this.discard(stream, id);
      this.expired(stream, id);
    }, ms);
    // A batch in flight must not keep the process alive.
    timer.unref();
    return timer;
  }

  discard(stream: Stream, id: string): void {
    const batches = this.byStream.get(stream);
    const entry = batches?.get(id);
    if (batches === undefined || entry === undefined) return;
    clearTimeout(entry.timer);
    batches.delete(id);
    if (batches.size === 0) this.byStream.delete(stream);
    this.inflight--;
  }

  dropStream(stream: Stream): void {
    for (const id of [...(this.byStream.get(stream)?.keys() ?? [])]) this.discard(stream, id);
  }

  stop(): void {
    for (const stream of [...this.byStream.keys()]) this.dropStream(stream);
  }
}
