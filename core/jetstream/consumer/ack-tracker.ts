// What a consumer has delivered and not yet heard back about (NS consumer.go
// o.pending, o.rdc, o.rdq, ack floor): one entry per unacknowledged message with
// its ack deadline in the shared DeadlineScheduler, the delivery counts of
// redelivered messages, and the queue of messages due again.
//
// Entries are inserted in stream-sequence order (new deliveries only move
// forward; a redelivery reuses its entry), so the Map's first entry is the
// oldest outstanding message and the ack floor is read off it in O(1).

import { AckPolicy, type ConsumerConfig } from './consumer-config.ts';
import type { Deadline, DeadlineScheduler } from './deadline-scheduler.ts';

export interface AckTrackerOwner {
  readonly config: ConsumerConfig;
  readonly deleted: boolean;
  /** Next stream sequence the consumer will look at, and its last delivery sequence. */
  readonly sseq: number;
  readonly dseq: number;
  /** A message is due for redelivery. */
  redeliveryDue(): void;
  maxDeliveries(seq: number, deliveries: number): void;
  /** Done with `seq` (acked or terminated): retention may remove it. */
  released(seq: number): void;
}

interface PendingEntry {
  readonly seq: number;
  /** Consumer sequence of the first delivery (the ack floor is reported with it). */
  readonly dseq: number;
  /** Last delivery time, wall-clock ms. */
  ts: number;
  /** The live deadline; an older one still in the heap finds itself replaced and does nothing. */
  timer: AckTimer | null;
}

class AckTimer implements Deadline {
  constructor(readonly at: number, readonly tracker: AckTracker, readonly entry: PendingEntry) {}
  fire(): void {
    this.tracker.timedOut(this);
  }
}

const NS_PER_MS = 1_000_000;

export class AckTracker {
  floorStream = 0;
  floorConsumer = 0;
  private pending: Map<number, PendingEntry> | null = null;
  private rdc: Map<number, number> | null = null;
  /** Due again, oldest first; both made on first use so an idle consumer carries neither. */
  private rdq: number[] | null = null;
  private rdqSet: Set<number> | null = null;

  constructor(private readonly owner: AckTrackerOwner, private readonly scheduler: DeadlineScheduler) {}

  get size(): number {
    return this.pending?.size ?? 0;
  }

  get redelivered(): number {
    return this.rdc?.size ?? 0;
  }

  has(seq: number): boolean {
    return this.pending?.has(seq) ?? false;
  }

  /** Deliveries so far (1 for a message delivered once). */
  deliveries(seq: number): number {
    return this.rdc?.get(seq) ?? 1;
  }

  /** max_ack_pending reached: no new messages until something is acked. */
  get blocked(): boolean {
    const c = this.owner.config;
    return c.ackPolicy !== AckPolicy.None && c.maxAckPending > 0 && this.size >= c.maxAckPending;
  }

  hasRedelivery(): boolean {
    if (this.rdq !== null) for (const seq of this.rdq) if (this.has(seq)) return true;
    return false;
  }

  /** The next sequence due again (0 when none). */
  takeRedelivery(): number {
    while (this.rdq !== null && this.rdq.length > 0) {
      const seq = this.rdq.shift() as number;
      this.rdqSet?.delete(seq);
      if (this.has(seq)) return seq;
    }
    return 0;
  }

  /** A taken redelivery could not go out (max_bytes): keep it first in line. */
  putBack(seq: number): void {
    (this.rdq ??= []).unshift(seq);
    (this.rdqSet ??= new Set()).add(seq);
  }

  /** Book one delivery of `seq` as consumer sequence `dseq`, its `count`-th. */
  delivered(seq: number, dseq: number, count: number, now: number): void {
    if (count > 1) (this.rdc ??= new Map()).set(seq, count);
    if (this.owner.config.ackPolicy === AckPolicy.None) {
      // Delivered is done: the floor follows the deliveries.
      this.floorStream = Math.max(this.floorStream, seq);
      this.floorConsumer = dseq;
      this.rdc?.delete(seq);
      this.owner.released(seq);
      return;
    }
    const pending = (this.pending ??= new Map());
    let entry = pending.get(seq);
    if (entry === undefined) {
      entry = { seq, dseq, ts: now, timer: null };
      pending.set(seq, entry);
    }
    entry.ts = now;
    this.arm(entry, now + this.ackWaitMs(count));
  }

  /** ack_wait, or the backoff entry for this delivery (the last one repeats). */
  private ackWaitMs(deliveries: number): number {
    const c = this.owner.config;
    if (c.backoff.length > 0) return c.backoff[Math.min(deliveries - 1, c.backoff.length - 1)] / NS_PER_MS;
    return c.ackWait / NS_PER_MS;
  }

  private arm(entry: PendingEntry, at: number): void {
    // flow_control acks have no ack wait: nothing is redelivered on a timer (NS checkPending with AckWait 0).
    if (this.owner.config.ackPolicy === AckPolicy.FlowControl) return;
    const t = new AckTimer(at, this, entry);
    entry.timer = t;
    this.scheduler.add(t);
  }

  timedOut(t: AckTimer): void {
    const entry = t.entry;
    if (this.owner.deleted || entry.timer !== t || this.pending?.get(entry.seq) !== entry) return;
    entry.timer = null;
    this.due(entry.seq);
  }

  /** Redeliver `seq`, or give up at max_deliver (NS: it leaves pending and an advisory goes out). */
  private due(seq: number): void {
    const count = this.deliveries(seq);
    const max = this.owner.config.maxDeliver;
    if (max > 0 && count >= max) {
      this.drop(seq);
      this.owner.maxDeliveries(seq, count);
      return;
    }
    const set = (this.rdqSet ??= new Set());
    if (!set.has(seq)) {
      (this.rdq ??= []).push(seq);
      set.add(seq);
    }
    this.owner.redeliveryDue();
  }

  /** +ACK / +TERM / +NXT: with ack all (and a flow-control answer), everything up to `seq` too. */
  ack(seq: number): void {
    const pending = this.pending;
    const policy = this.owner.config.ackPolicy;
    if (pending === null || policy === AckPolicy.None) return;
    if (policy === AckPolicy.All || policy === AckPolicy.FlowControl) {
      for (const [s, e] of pending) {
        if (s > seq) break;
        this.release(s, e);
      }
    } else {
      const e = pending.get(seq);
      if (e === undefined) return;
      this.release(seq, e);
    }
    this.updateFloor();
  }

  private release(seq: number, e: PendingEntry): void {
    e.timer = null;
    this.pending?.delete(seq);
    this.rdc?.delete(seq);
    this.owner.released(seq);
  }

  /** +WPI: a fresh ack_wait from now. */
  progress(seq: number, now: number): void {
    const e = this.pending?.get(seq);
    if (e !== undefined) this.arm(e, now + this.ackWaitMs(this.deliveries(seq)));
  }

  /** -NAK: due now, or after the requested delay. */
  nak(seq: number, delayMs: number, now: number): void {
    const e = this.pending?.get(seq);
    if (e === undefined) return;
    if (delayMs > 0) {
      this.arm(e, now + delayMs);
      return;
    }
    e.timer = null;
    this.due(seq);
  }

  /** Forget `seq` without releasing it (removed from the stream, or max_deliver reached). */
  drop(seq: number): void {
    const e = this.pending?.get(seq);
    if (e !== undefined) e.timer = null;
    this.pending?.delete(seq);
    this.rdc?.delete(seq);
    this.updateFloor();
  }

  /** Drop every pending sequence for which `gone` holds (after a purge). */
  dropWhere(gone: (seq: number) => boolean): void {
    if (this.pending === null) return;
    for (const seq of [...this.pending.keys()]) if (gone(seq)) this.drop(seq);
  }

  updateFloor(): void {
    const first = this.pending !== null && this.pending.size > 0 ? this.pending.values().next().value : undefined;
    if (first === undefined) {
      this.floorStream = Math.max(this.floorStream, this.owner.sseq - 1);
      this.floorConsumer = this.owner.dseq;
      return;
    }
    this.floorStream = Math.max(this.floorStream, first.seq - 1);
    this.floorConsumer = Math.max(this.floorConsumer, first.dseq - 1);
  }

  /** After a restart: entries keep their delivery time, so overdue ones are redelivered at once. */
  restore(pending: ReadonlyArray<readonly [number, number, number]>, redelivered: ReadonlyArray<readonly [number, number]>): void {
    if (redelivered.length > 0) this.rdc = new Map(redelivered.map(([s, n]) => [s, n]));
    for (const [seq, dseq, ts] of [...pending].sort((a, b) => a[0] - b[0])) {
      const entry: PendingEntry = { seq, dseq, ts, timer: null };
      (this.pending ??= new Map()).set(seq, entry);
      this.arm(entry, ts + this.ackWaitMs(this.deliveries(seq)));
    }
  }

  snapshotPending(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    if (this.pending !== null) for (const e of this.pending.values()) out.push([e.seq, e.dseq, Math.round(e.ts)]);
    return out;
  }

  snapshotRedelivered(): Array<[number, number]> {
    return this.rdc === null ? [] : [...this.rdc];
  }

  clear(): void {
    this.pending = null;
    this.rdq = null;
    this.rdqSet = null;
  }

  /** Forget every delivery, counts too, and start again from stream sequence `floorStream` + 1 (consumer reset). */
  reset(floorStream: number): void {
    this.clear();
    this.rdc = null;
    this.floorStream = floorStream;
    this.floorConsumer = 0;
  }
}
