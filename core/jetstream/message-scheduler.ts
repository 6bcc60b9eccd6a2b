// Which schedules of a stream with `allow_msg_schedules` run when (ADR-51):
// one per subject, the last schedule message stored on it. Driven by what the
// stream stores: a schedule message arms its subject (replacing the one before),
// a plain message on that subject disarms it, and a produced message's
// `Nats-Schedule-Next` moves its schedule's next run; replaying the stored
// messages in order after a restart or kill -9 rebuilds the same state, as
// nats-server's filestore does. One timer per stream, as MessageExpiry's; the
// engine stores what takeDue() produces. A schedule whose message is gone
// (deleted, purged, aged out) is dropped when it comes due. What a stored
// message changed is journaled until its write is confirmed, so a failed
// write that takes it back undoes its arming too (issue 29 item 7).

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

/** What the message stored at `seq` changed: `subject`'s schedule was `before` it. */
interface Change {
  readonly seq: number;
  readonly subject: string;
  readonly before: Armed | undefined;
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
  /** Changes made by messages not yet written, oldest first (undone by forgetAfter). */
  private changes: Change[] = [];
  /** Per schedule subject run by the last takeDue: its schedule before the run, until its message is stored. */
  private readonly ran = new Map<string, Armed | undefined>();

  /** `written`: messages up to this sequence are written (Stream.writtenSeq); their changes stay. */
  constructor(private readonly store: StreamStore, private readonly onDue: () => void, private readonly written: () => number) {}

  /** How many schedules are armed. */
  get size(): number {
    return this.bySubject.size;
  }

  /** A message was stored (or replayed) at `seq` on `subject`; `h` its headers (null: none). */
  stored(seq: number, subject: string, h: MessageHeaders | null, time: number, now = nowMs()): void {
    const written = this.written();
    let confirmed = 0;
    while (confirmed < this.changes.length && this.changes[confirmed].seq <= written) confirmed++;
    if (confirmed > 0) this.changes.splice(0, confirmed);
    const scheduler = h?.get(ScheduleHeader.Scheduler);
    const touched = scheduler === undefined || scheduler === subject ? [subject] : [subject, scheduler];
    // A run's message takes back the run with it: its schedule goes back to before takeDue moved or ended it.
    const before = touched.map((s) => (s === scheduler && this.ran.has(s) ? this.ran.get(s) : this.bySubject.get(s)));
    if (scheduler !== undefined) this.ran.delete(scheduler);
    this.apply(seq, subject, h, scheduler, time, now);
    touched.forEach((s, i) => {
      if (this.bySubject.get(s) !== before[i]) this.changes.push({ seq, subject: s, before: before[i] });
    });
  }

  /**
   * A failed write took back every message above `lastSeq` (store onRollBack):
   * each schedule goes back to what it was before them, so one they armed never
   * runs and one they replaced or ended runs again (its message is back as well).
   */
  forgetAfter(lastSeq: number): void {
    let undone = false;
    for (let c = this.changes.pop(); c !== undefined; c = this.changes.pop()) {
      if (c.seq <= lastSeq) {
        this.changes.push(c);
        break;
      }
      undone = true;
      if (c.before === undefined) this.bySubject.delete(c.subject);
      else {
        this.bySubject.set(c.subject, c.before);
        this.runs.push(c.before.at, c.subject);
      }
    }
    if (undone) this.schedule();
  }

  private apply(seq: number, subject: string, h: MessageHeaders | null, scheduler: string | undefined, time: number, now: number): void {
    if (h === null) {
      this.bySubject.delete(subject);
      return;
    }
    const run = scheduleOf(h, time, now);
    if (run !== null) this.arm(subject, seq, run.at);
    // NS storeRawMsg: a message without Nats-Scheduler on a schedule's subject ends it.
    else if (scheduler === undefined) this.bySubject.delete(subject);
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
    // The engine stores each run's message before the next takeDue.
    this.ran.clear();
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
      this.ran.set(subject, armed);
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
