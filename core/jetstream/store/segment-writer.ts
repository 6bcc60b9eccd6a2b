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
//
// A failed write is never retried (issue 29 item 7): its callbacks get the
// error, so the publishes behind those bytes were answered with an error
// PubAck, and storing them later would keep what the client was told is not
// there. The file is cut back to the last written byte and the owner is told
// (RollBack) so it forgets everything after it.

import * as fs from 'node:fs';
import { writeAllAt, writeAt, type Segment } from './segment-files.ts';
import { StoreIoError } from './stream-store.ts';

/** Called once the committed bytes are in the OS (sync: always: on disk), or with why not. */
export type WriteDone = (err: Error | null) => void;

/**
 * A failed write cut seg back to `cut`: everything from there on is gone.
 * `mark` is what the owner passed with the first lost bytes (FileStreamStore:
 * the last sequence written before them).
 */
export type RollBack = (seg: Segment, cut: number, mark: number, err: StoreIoError) => void;

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
  /** The owner's mark for the first bytes (see RollBack). */
  readonly mark: number;
}

interface Running extends Batch {
  /** A synchronous write has since written these bytes or given up on them: the outcome no longer counts. */
  settled: boolean;
}

export class SegmentWriter {
  private running: Running | null = null;
  private waiting: Batch | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly fsyncEach: boolean, private readonly rollBack: RollBack) {}

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

  /**
   * Write `chunks`, committed at offset `at` of seg (right after what was
   * committed before), soon. A failure calls rollBack, maybe before this returns.
   */
  queue(seg: Segment, at: number, chunks: Buffer[], bytes: number, mark: number): void {
    if (this.running === null && this.waiting === null && bytes <= INLINE_BYTES && !this.fsyncEach) {
      try {
        writeAllAt(seg.fd, chunks, at);
      } catch (cause) {
        this.giveUp(seg, [], at, mark, new StoreIoError(seg.path, 'write', { cause }));
      }
      return;
    }
    const w = this.waiting;
    if (w === null) this.waiting = { seg, at, chunks, bytes, done: [], mark };
    else {
      for (const c of chunks) w.chunks.push(c);
      w.bytes += bytes;
    }
    this.issue();
  }

  /** Run done once everything committed so far is written (at once if it is). */
  whenWritten(done: WriteDone): void {
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
   * StoreIoError, after rollBack: then nothing of it counts as written.
   */
  writeSync(seg: Segment, chunks: Buffer[], at: number, mark: number): void {
    const r = this.running !== null && !this.running.settled && this.running.seg === seg ? this.running : null;
    const w = this.waiting;
    const earlier = [r, w].filter((b): b is Batch => b !== null);
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
      if (r === null) this.giveUp(seg, earlier, start, earlier.length > 0 ? earlier[0].mark : mark, err);
      else {
        // The running write still puts r's bytes in place: cutting below them
        // now could be undone by it landing later. Its own outcome counts
        // again, and only what follows it is lost.
        r.settled = false;
        this.giveUp(seg, w === null ? [] : [w], r.at + r.bytes, w === null ? mark : w.mark, err);
      }
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
    if (this.running !== null || w === null) return;
    this.waiting = null;
    const r: Running = { ...w, settled: false };
    this.running = r;
    writeAt(r.seg.fd, r.chunks, r.at, this.fsyncEach, (cause) => {
      this.running = null;
      if (!r.settled) {
        if (cause === null) settle(r.done, null);
        else this.giveUp(r.seg, [r, ...(this.waiting === null ? [] : [this.waiting])], r.at, r.mark, new StoreIoError(r.seg.path, 'write', { cause }));
      }
      this.issue();
      if (this.running === null) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /**
   * A write failed: its batch and everything after it are not written and
   * never will be. Their callbacks get the error (a PubAck error, as for a
   * failed synchronous write), partial bytes are cut, and the owner rolls back.
   */
  private giveUp(seg: Segment, batches: Batch[], start: number, mark: number, err: StoreIoError): void {
    const done = batches.flatMap((b) => b.done);
    this.waiting = null;
    try {
      fs.ftruncateSync(seg.fd, start);
    } catch {
      // The file may be unusable; recovery truncates a torn tail anyway.
    }
    this.rollBack(seg, start, mark, err);
    if (done.length > 0) queueMicrotask(() => settle(done, err));
  }
}

function settle(done: WriteDone[], err: Error | null): void {
  for (const d of done) d(err);
}
