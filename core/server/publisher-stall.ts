// Stalling fast publishers, as nats-server does: when a publish leaves one of
// its destinations past half its max_pending, the publisher stops being read
// until that destination drains or a short time passes. The slow reader then
// keeps up with what it can take instead of being cut off under a burst, and a
// reader that truly stopped still reaches max_pending (or the write deadline)
// and is cut, so a stuck consumer delays a publisher only briefly.

import type { Connection } from '../connection/connection.ts';

/**
 * A stalled publisher pauses from STALL_MIN_MS (destination just past half its
 * max_pending) up to STALL_MAX_MS (at the limit), or until the destination's
 * writes are accepted again, whichever is first; nats-server scales its stall
 * the same way.
 */
const STALL_MIN_MS = 2;
const STALL_MAX_MS = 50;

/** A client a publisher may wait for. */
export interface StallDestination {
  /** Bytes waiting to reach it. */
  readonly pendingBytes: number;
  /** Run `listener` once its writes are accepted by its transport (or it closes). */
  afterDrain(listener: () => void): void;
}

/**
 * The last destination that crossed half its max_pending during the publish
 * in progress. Routing is synchronous, so the publishing client reads it right
 * after router.publish returns; a module variable spares a callback per message.
 */
let stalledDestination: StallDestination | null = null;

/** A destination past half its max_pending asks the publisher in progress to wait for it. */
export function noteStalled(destination: StallDestination): void {
  stalledDestination = destination;
}

/** The destination the last publish asked to wait for, if any; clears it. */
export function takeStalled(): StallDestination | null {
  const destination = stalledDestination;
  stalledDestination = null;
  return destination;
}

/** One publisher's stall: its input paused for a slow destination. */
export class PublisherStall {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly connection: Connection, private readonly closed: () => boolean) {}

  /**
   * Stop reading from the publisher until `destination` drains or the stall
   * time (scaled by how far past half `maxPending` it is) passes. False when
   * no stall starts: already stalled, or a transport that cannot pause.
   */
  begin(destination: StallDestination, maxPending: number): boolean {
    if (this.timer !== null || this.connection.pauseReading === undefined) return false;
    this.connection.pauseReading();
    const resume = (): void => {
      if (this.timer === null) return;
      clearTimeout(this.timer);
      this.timer = null;
      if (!this.closed()) this.connection.resumeReading?.();
    };
    const over = Math.min(1, Math.max(0, (destination.pendingBytes - maxPending / 2) / (maxPending / 2)));
    this.timer = setTimeout(resume, STALL_MIN_MS + over * (STALL_MAX_MS - STALL_MIN_MS));
    destination.afterDrain(resume);
    return true;
  }

  /** The publisher closed: no resume is due. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The publishers waiting for a destination's writes to drain. */
export class DrainWaiters {
  private waiters: Array<() => void> = [];

  add(listener: () => void): void {
    this.waiters.push(listener);
  }

  /** Run (once) every listener waiting. */
  release(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
