// Which schedules of a stream with `allow_msg_schedules` run when (ADR-51):
// one per subject, the last schedule message stored on it. Driven by what the
// stream stores: a schedule message arms its subject (replacing the one before),
// a plain message on that subject disarms it, and a produced message's
// `Nats-Schedule-Next` moves its schedule's next run; replaying the stored
// messages in order after a restart or kill -9 rebuilds the same state, as
// nats-server's filestore does. One timer per stream, as MessageExpiry's; the
// engine stores what takeDue() produces. A schedule whose message is gone
// (deleted, purged, aged out) is dropped when it comes due.

import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { nextOfProduced, produce, scheduleOf, ScheduleHeader, type ProducedMessage } from './message-schedule.ts';
import { nowMs, type StreamStore } from './store/stream-store.ts';

const SCHEDULE_BYTES = Buffer.from(ScheduleHeader.Pattern);
/** NS MsgScheduling.resetTimer: runs at most this often, so schedules cannot slow ingest down. */
const MIN_DELAY_MS = 250;
/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2_147_000_000;

/** Collects the sequences whose headers name a schedule (`Nats-Schedule*`, `Nats-Scheduler`) while a file store replays. */
export class ScheduleCollector {
  readonly seqs: number[] = [];

  readonly observe = (seq: number, _time: number, header: Buffer | null): void => {
    if (header !== null && header.indexOf(SCHEDULE_BYTES) >= 0) this.seqs.push(seq);
  };
}

interface Armed {
  seq: number;
  at: number;
}

/** A produced message and the schedule subject it came from. */
export interface DueMessage extends ProducedMessage {
  readonly scheduler: string;
}

export class MessageScheduler {
  private readonly bySubject = new Map<string, Armed>();
  /** (run time, schedule subject); an entry whose time no longer matches bySubject is stale and skipped. */
  private readonly runs = new DeadlineHeap<string>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly store: StreamStore, private readonly onDue: () => void) {}

  /** How many schedules are armed. */
  get size(): number {
    return this.bySubject.size;
  }

  /** A message was stored (or replayed) at `seq` on `subject`; `h` its headers (null: none). */
  stored(seq: number, subject: string, h: MessageHeaders | null, time: number, now = nowMs()): void {
    if (h === null) {
      this.bySubject.delete(subject);
      return;
    }
    const run = scheduleOf(h, time, now);
    if (run !== null) this.arm(subject, seq, run.at);
    // NS storeRawMsg: a message without Nats-Scheduler on a schedule's subject ends it.
    else if (!h.has(ScheduleHeader.Scheduler)) this.bySubject.delete(subject);
    const scheduler = h.get(ScheduleHeader.Scheduler);
    const next = nextOfProduced(h);
    if (scheduler !== undefined && !Number.isNaN(next)) {
      const armed = this.bySubject.get(scheduler);
      if (armed !== undefined) this.arm(scheduler, armed.seq, next);
    }
  }

  /** After a restart: replay the collected messages in order, then arm the timer. */
  recover(collector: ScheduleCollector): void {
    const now = nowMs();
    for (const seq of collector.seqs) {
      const m = this.store.get(seq);
      if (m !== null) this.stored(m.seq, m.subject, m.header === null ? null : parseHeaders(m.header), m.time, now);
    }
    this.dropEnded(collector.seqs);
    this.schedule();
  }

  /**
   * The replay saw only messages naming a schedule; one stored on a schedule's subject after it
   * that names none (not collected) ended that schedule when it was stored (see stored()), as
   * it stays ended across a nats-server restart.
   */
  private dropEnded(collected: readonly number[]): void {
    const named = new Set(collected);
    for (const [subject, armed] of this.bySubject) {
      for (let seq = this.store.nextSeq(armed.seq + 1, subject); seq > 0; seq = this.store.nextSeq(seq + 1, subject)) {
        if (named.has(seq)) continue;
        this.bySubject.delete(subject);
        break;
      }
    }
  }

  /** The messages due at `now`, in the order of their schedules' sequences. */
  takeDue(now = nowMs()): DueMessage[] {
    const due: Array<DueMessage & { seq: number }> = [];
    while (this.runs.peek() <= now) {
      const at = this.runs.peek();
      const subject = this.runs.pop();
      const armed = this.bySubject.get(subject);
      if (armed === undefined || armed.at !== at) continue;
      const m = this.store.get(armed.seq);
      const made = m !== null && m.subject === subject ? produce(m, at, now, (s) => this.store.last(s)) : null;
      if (made === null) {
        this.bySubject.delete(subject);
        continue;
      }
      // A one-off's produced message purges its schedule; a repeating one runs again.
      if (made.nextAt === null) this.bySubject.delete(subject);
      else this.arm(subject, armed.seq, made.nextAt);
      due.push({ ...made, scheduler: subject, seq: armed.seq });
    }
    return due.sort((a, b) => a.seq - b.seq);
  }

  /** (Re)arm the timer for the earliest run, never sooner than MIN_DELAY_MS from now. */
  schedule(): void {
    if (this.stopped) return;
    const next = this.runs.peek();
    if (next === Infinity) return;
    const at = Math.max(next, nowMs() + MIN_DELAY_MS);
    // An earlier timer stays: pushing it back on every publish could keep it from ever running.
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.onDue();
    }, Math.min(MAX_DELAY_MS, Math.ceil(at - nowMs())));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(subject: string, seq: number, at: number): void {
    const armed = this.bySubject.get(subject);
    if (armed !== undefined && armed.seq === seq && armed.at === at) return;
    this.bySubject.set(subject, { seq, at });
    this.runs.push(at, subject);
    this.schedule();
  }
}
