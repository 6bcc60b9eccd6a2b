// One timer for every consumer deadline in the engine: ack waits, NAK delays,
// pull request expiry and heartbeats, ephemeral inactivity. Deadlines sit in a
// binary min-heap and a single setTimeout is armed for the earliest, so an idle
// consumer costs no timer at all and a thousand pending acks cost one.
// Cancelling is lazy: an entry checks in fire() whether it is still wanted.

export interface Deadline {
  /** Wall-clock milliseconds when fire() is due. */
  readonly at: number;
  fire(now: number): void;
}

/** A deadline that runs a function (its owner checks in it whether it is still wanted). */
export class CallbackDeadline implements Deadline {
  constructor(readonly at: number, private readonly fn: (now: number) => void) {}
  fire(now: number): void {
    this.fn(now);
  }
}

/** Most deadlines run per wake-up, so a burst cannot hold the event loop. */
const FIRE_BUDGET = 50_000;

export class DeadlineScheduler {
  private heap: Deadline[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  get size(): number {
    return this.heap.length;
  }

  add(d: Deadline): void {
    if (this.stopped) return;
    const h = this.heap;
    h.push(d);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= d.at) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = d;
    if (d.at < this.armedAt - 1) this.arm(d.at);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.heap = [];
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private pop(): Deadline {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as Deadline;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r].at < h[l].at ? r : l;
        if (h[c].at >= last.at) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private run(): void {
    this.timer = null;
    this.armedAt = Infinity;
    const now = Date.now();
    let budget = FIRE_BUDGET;
    while (this.heap.length > 0 && this.heap[0].at <= now && budget-- > 0) {
      const d = this.pop();
      try {
        d.fire(now);
      } catch (err) {
        // A failing deadline must not stop the others; surface it without killing the server.
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'DeadlineSchedulerWarning');
      }
    }
    if (this.heap.length > 0 && !this.stopped) this.arm(this.heap[0].at);
  }
}
