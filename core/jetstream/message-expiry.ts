// When messages of a stream with `allow_msg_ttl` are due to go (ADR-43): those
// with a `Nats-TTL` by a min-heap of deadlines, the rest by the stream's
// max_age in sequence order (the store's own age timer is off for such a
// stream, since `Nats-TTL: never` outlives max_age and the last message of a
// subject may have to become a delete marker rather than vanish). One timer per
// stream; the engine removes what takeDue() returns and calls schedule() again.

import { parseHeaders } from '../protocol/headers.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { parseMessageTtl, TTL_NEVER, TtlHeader } from './message-ttl.ts';
import { nowMs, type StreamStore } from './store/stream-store.ts';

const TTL_BYTES = Buffer.from(TtlHeader.Ttl);
/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2_147_000_000;

/** The `Nats-TTL` of a stored header block in seconds (TTL_NEVER for never), 0 without one or when unreadable. */
export function storedTtl(header: Buffer | null): number {
  if (header === null || header.indexOf(TTL_BYTES) < 0) return 0;
  const value = parseHeaders(header, 'nats-').get(TtlHeader.Ttl);
  if (value === undefined) return 0;
  try {
    return parseMessageTtl(value);
  } catch {
    return 0;
  }
}

/** Collects the deadlines of messages with a Nats-TTL while a file store replays (a restart keeps them). */
export class TtlCollector {
  readonly entries: Array<[seq: number, time: number, ttl: number]> = [];

  readonly observe = (seq: number, time: number, header: Buffer | null): void => {
    const ttl = storedTtl(header);
    if (ttl > 0) this.entries.push([seq, time, ttl]);
  };
}

export class MessageExpiry {
  /** Deadlines (ms) of messages with a Nats-TTL, by sequence. */
  private readonly deadlines = new DeadlineHeap<number>();
  /** Below this sequence every message is gone or never ages (`Nats-TTL: never`). */
  private ageCursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly store: StreamStore, private maxAgeMs: number, private readonly onDue: () => void) {}

  setMaxAge(ms: number): void {
    this.maxAgeMs = ms;
    this.ageCursor = 0;
    this.schedule();
  }

  /** A message stored at `time` (ms) with a Nats-TTL of `ttlSeconds` (0: none; TTL_NEVER: never). */
  track(seq: number, time: number, ttlSeconds: number): void {
    const deadline = ttlSeconds > 0 ? time + ttlSeconds * 1000 : Infinity;
    if (deadline !== Infinity) this.deadlines.push(deadline, seq);
    // Without a timer, max_age may have nothing armed yet either.
    if (this.timer === null || this.deadlines.peek() === deadline) this.schedule();
  }

  /**
   * A failed write took back every message above `lastSeq` (store onRollBack):
   * their deadlines go, or they would remove the messages that get those
   * sequences next (a rolled-back sequence is given out again). Messages they
   * removed may be back below the max_age cursor: it starts over.
   */
  forgetAfter(lastSeq: number): void {
    this.deadlines.removeWhere((seq) => seq > lastSeq);
    this.ageCursor = 0;
    this.schedule();
  }

  /** Sequences due at `now`, ascending (some may be gone already). */
  takeDue(now = nowMs()): number[] {
    const due = new Set<number>();
    while (this.deadlines.peek() <= now) due.add(this.deadlines.pop());
    if (this.maxAgeMs > 0) {
      const cutoff = now - this.maxAgeMs;
      for (let seq = this.store.nextSeq(this.ageCursor); seq > 0; seq = this.store.nextSeq(seq + 1)) {
        const m = this.store.get(seq);
        if (m === null) continue;
        if (m.time > cutoff) break;
        // NS filestore expireMsgs: a `never` message outlives max_age too.
        if (storedTtl(m.header) !== TTL_NEVER) due.add(seq);
        this.ageCursor = seq + 1;
      }
    }
    return [...due].sort((a, b) => a - b);
  }

  /** (Re)arm the timer for the earliest deadline. */
  schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    let next = this.deadlines.peek();
    if (this.maxAgeMs > 0) {
      for (let seq = this.store.nextSeq(this.ageCursor); seq > 0; seq = this.store.nextSeq(seq + 1)) {
        const m = this.store.get(seq);
        if (m === null || storedTtl(m.header) === TTL_NEVER) continue;
        next = Math.min(next, m.time + this.maxAgeMs);
        break;
      }
    }
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(next - nowMs()))));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
