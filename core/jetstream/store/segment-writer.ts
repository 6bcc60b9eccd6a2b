// FileStreamStore's writes on the libuv thread pool. commit(done) hands a
// turn's records to an fs.writev and the event loop goes on parsing the next
// publishes; `done` (which releases that turn's PubAcks) runs only once the
// bytes are in the OS, so an acknowledged message still survives kill -9.
// One write runs at a time; whatever is committed meanwhile waits and goes
// out as one coalesced write, so completions keep commit order.
//
// A synchronous write (rotation, flush, close, a read of bytes not written
// yet) puts everything not yet confirmed in place itself, the running write's
// bytes included. Writes are positional and carry the same bytes to the same
// offsets, so whichever of the two lands last changes nothing.
//
// Only the active segment ever has bytes waiting: rotation writes
// synchronously first. A segment whose write is still running (its outcome
// already settled) must not be closed: see busyOn().

import * as fs from 'node:fs';
import { writeAllAt, writeAt, type Segment } from './segment-files.ts';
import { StoreIoError } from './stream-store.ts';

/** Called once the committed bytes are in the OS (sync: always: on disk), or with why not. */
export type WriteDone = (err: Error | null) => void;

/**
 * A batch up to this size, with no write running, is written at once on the
 * event loop: a thread-pool round trip costs more than copying it into the
 * page cache (measured: async writes lost ~4% at 128 B messages, won ~8% at 1 KiB).
 */
const INLINE_BYTES = 64 * 1024;

interface Batch {
  readonly seg: Segment;
  /** Segment offset of the first byte. */
  readonly at: number;
  readonly chunks: Buffer[];
  bytes: number;
  readonly done: WriteDone[];
}

interface Running extends Batch {
  /** A synchronous write has since written these bytes or given up on them: the outcome no longer counts. */
  settled: boolean;
}

export class SegmentWriter {
  private running: Running | null = null;
  private waiting: Batch | null = null;
  /** After a failed write nothing is retried until the next commit (a full disk must not spin). */
  private stalled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly fsyncEach: boolean) {}

  /** Offset in seg below which every byte is in the OS. */
  writtenTo(seg: Segment): number {
    const r = this.running;
    if (r !== null && r.seg === seg && !r.settled) return r.at;
    const w = this.waiting;
    return w !== null && w.seg === seg ? w.at : seg.size;
  }

  /** Is a write on seg's descriptor still running (closing it now could hand its number to another file)? */
  busyOn(seg: Segment): boolean {
    return this.running !== null && this.running.seg === seg;
  }

  /** Write `chunks`, committed at offset `at` of seg (right after what was committed before), soon. */
  queue(seg: Segment, at: number, chunks: Buffer[], bytes: number): void {
    if (this.running === null && this.waiting === null && bytes <= INLINE_BYTES && !this.fsyncEach) {
      try {
        writeAllAt(seg.fd, chunks, at);
      } catch (cause) {
        this.giveUp(seg, [{ seg, at, chunks, bytes, done: [] }], at, new StoreIoError(seg.path, 'write', { cause }));
      }
      return;
    }
    const w = this.waiting;
    if (w === null) this.waiting = { seg, at, chunks, bytes, done: [] };
    else {
      for (const c of chunks) w.chunks.push(c);
      w.bytes += bytes;
    }
    this.stalled = false;
    this.issue();
  }

  /** Run done once everything committed so far is written (at once if it is). */
  whenWritten(done: WriteDone): void {
    this.stalled = false;
    if (this.waiting !== null) {
      this.waiting.done.push(done);
      this.issue();
    } else if (this.running !== null && !this.running.settled) {
      this.running.done.push(done);
    } else {
      done(null);
    }
  }

  /**
   * Write, synchronously, everything of seg not yet confirmed plus `chunks`
   * (committed at `at`). Earlier commits' callbacks run (on the next
   * microtask: callers may be deep in a delivery) with the outcome. Throws
   * StoreIoError; then nothing counts as written and, apart from `chunks`
   * (the caller keeps those), it waits for the next commit.
   */
  writeSync(seg: Segment, chunks: Buffer[], at: number): void {
    const r = this.running !== null && !this.running.settled && this.running.seg === seg ? this.running : null;
    const earlier = [r, this.waiting].filter((b): b is Batch => b !== null);
    const all = [...earlier.flatMap((b) => b.chunks), ...chunks];
    if (all.length === 0) return;
    const start = earlier.length > 0 ? earlier[0].at : at;
    if (r !== null) r.settled = true;
    this.waiting = null;
    try {
      writeAllAt(seg.fd, all, start);
      if (this.fsyncEach) fs.fsyncSync(seg.fd);
    } catch (cause) {
      const err = new StoreIoError(seg.path, 'write', { cause });
      this.giveUp(seg, earlier, start, err);
      throw err;
    }
    const done = earlier.flatMap((b) => b.done);
    if (done.length > 0) queueMicrotask(() => settle(done, null));
  }

  /** Resolves once no write is running (before descriptors are closed). */
  idle(): Promise<void> {
    if (this.running === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private issue(): void {
    const w = this.waiting;
    if (this.running !== null || w === null || this.stalled) return;
    this.waiting = null;
    const r: Running = { ...w, settled: false };
    this.running = r;
    writeAt(r.seg.fd, r.chunks, r.at, this.fsyncEach, (cause) => {
      this.running = null;
      if (!r.settled) {
        if (cause === null) settle(r.done, null);
        else this.giveUp(r.seg, [r, ...(this.waiting === null ? [] : [this.waiting])], r.at, new StoreIoError(r.seg.path, 'write', { cause }));
      }
      this.issue();
      if (this.running === null) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /**
   * A write failed: its batch and everything after it are not written. Their
   * callbacks get the error (a PubAck error, as for a failed synchronous
   * write), partial bytes are cut, and the bytes wait to be written again by
   * the next commit, in front of anything new.
   */
  private giveUp(seg: Segment, batches: Batch[], start: number, err: Error): void {
    const done = batches.flatMap((b) => b.done);
    const chunks = batches.flatMap((b) => b.chunks);
    const bytes = batches.reduce((n, b) => n + b.bytes, 0);
    this.waiting = chunks.length > 0 ? { seg, at: start, chunks, bytes, done: [] } : null;
    this.stalled = true;
    try {
      fs.ftruncateSync(seg.fd, start);
    } catch {
      // The file may be unusable; recovery truncates a torn tail anyway.
    }
    if (done.length > 0) queueMicrotask(() => settle(done, err));
  }
}

function settle(done: WriteDone[], err: Error | null): void {
  for (const d of done) d(err);
}
