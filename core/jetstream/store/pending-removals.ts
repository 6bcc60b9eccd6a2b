// FileStreamStore's removals that no confirmed write covers yet, kept so a
// failed write leaves nothing behind (issue 29 item 7): removals not logged
// yet, tombstone records handed to the writer, and the removals that
// publishes not written yet caused.
//
// A rollback (the segment cut back to its last written record, the sequence
// back to `mark`) must log again every removal whose tombstone it cut, and
// give back what the lost publishes removed (their limits, their Nats-Rollup).
// Those removals are recorded (Restorable) until the write is confirmed, and
// the removed message's record stays in place meanwhile (no compaction or
// unlink of its segment: see holds()). Recorded and restored, not deferred to
// the commit: deferring would let the index exceed the limits until the write
// returns, visible to every reader of the stream, while the index keeps each
// removed slot's location, so putting one back costs nothing until a rollback.

import { toRanges } from './segment-codec.ts';
import type { Segment } from './segment-files.ts';

/** A message removed by the publish at `cause`, whose write is not confirmed yet: enough to put it back. */
export interface Restorable {
  readonly cause: number;
  readonly seq: number;
  readonly subject: string;
  readonly time: number;
  readonly size: number;
  readonly loc: number;
}

export class PendingRemovals {
  /** Removed since the last tombstone record was encoded. */
  private removed: number[] = [];
  /** Tombstone records handed to the writer or still pending: a rollback must log their removals again. */
  private tombstonesInFlight: Array<{ seg: Segment; at: number; ranges: number[] }> = [];
  /** Removals caused by publishes whose writes are not confirmed, oldest cause first. */
  private restorable: Restorable[] = [];

  /** seq left the index; `undo` (when a publish caused it) is how a rollback puts it back. */
  add(seq: number, undo: Restorable | null): void {
    if (undo !== null) this.restorable.push(undo);
    this.removed.push(seq);
  }

  /** Does any removal wait for its publish's write to be confirmed? */
  get restoring(): boolean {
    return this.restorable.length > 0;
  }

  /** Are there removals no tombstone record holds yet? */
  get unlogged(): boolean {
    return this.removed.length > 0;
  }

  /**
   * The removals since the last call (see unlogged) as tombstone ranges, for
   * a record at offset `at` of the active segment. Records before `written`
   * are on disk: no rollback can cut them any more.
   */
  tombstone(active: Segment, written: number, at: number): number[] {
    const ranges = toRanges(this.removed);
    this.tombstonesInFlight = this.tombstonesInFlight.filter((t) => t.seg === active && t.at >= written);
    this.tombstonesInFlight.push({ seg: active, at, ranges });
    this.removed = [];
    return ranges;
  }

  /** Every publish up to seq is written: what they removed stays removed. */
  confirmed(seq: number): void {
    const r = this.restorable;
    let n = 0;
    while (n < r.length && r[n].cause <= seq) n++;
    if (n > 0) r.splice(0, n);
  }

  /** Does a removal that a rollback may undo point into seg (below endSeq)? Then its records must stay. */
  holds(seg: Segment, endSeq: number): boolean {
    return this.restorable.some((r) => r.seq >= seg.id && r.seq < endSeq);
  }

  /** A purge of its own or new limits: the removals recorded so far hold whatever a rollback does. */
  settle(): void {
    this.restorable = [];
  }

  /**
   * seg was cut at `cut` and the sequence goes back to `mark`. The removals
   * in the tombstones cut away are logged again (those at or below mark),
   * seg forgets their ranges, and the removals that the lost publishes caused
   * are returned: those messages come back instead.
   */
  rollBack(seg: Segment, cut: number, mark: number): Restorable[] {
    const back = this.restorable.filter((r) => r.cause > mark && r.seq <= mark);
    this.restorable = [];
    const restored = new Set(back.map((r) => r.seq));
    const holds = (s: number): boolean => s <= mark && !restored.has(s);
    const again = this.removed.filter(holds);
    let lostRanges = 0;
    this.tombstonesInFlight = this.tombstonesInFlight.filter((t) => {
      if (t.seg !== seg || t.at < cut) return true;
      lostRanges += t.ranges.length;
      for (let i = 0; i + 1 < t.ranges.length; i += 2) {
        for (let s = t.ranges[i]; s <= Math.min(t.ranges[i + 1], mark); s++) if (holds(s)) again.push(s);
      }
      return false;
    });
    seg.tombstones.length -= lostRanges;
    this.removed = again.sort((a, b) => a - b);
    return back;
  }
}
