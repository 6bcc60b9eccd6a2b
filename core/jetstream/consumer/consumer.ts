// One JetStream consumer: where it is in the stream, what it delivered and is
// waiting to hear back about, and how it serves pull requests or a push
// subject (NS consumer.go). It holds no timer of its own: every deadline goes
// to the engine's shared DeadlineScheduler, and the manager wakes it only when
// a matching message is appended while it has somewhere to deliver it.

import type { Stream } from '../stream.ts';
import type { StoredMessage } from '../store/stream-store.ts';
import { ackSubject, AckKind, type AckPayload, type AckReply } from './ack-subjects.ts';
import { AckTracker, type AckTrackerOwner } from './ack-tracker.ts';
import { flowControlAckedSeq } from './ack-flow-control.ts';
import { AckPolicy, DeliverPolicy, filtersOf, isPush, type ConsumerConfig } from './consumer-config.ts';
import type { ConsumerStateWire } from './consumer-state-store.ts';
import { CallbackDeadline, type DeadlineScheduler } from './deadline-scheduler.ts';
import { FilterSet, storedSubjectsOf } from './filter-set.ts';
import type { PriorityHost } from './priority-groups.ts';
import { PullWaiting } from './pull-waiting.ts';
import { PushState } from './push-delivery.ts';
import { ReplayPacer } from './replay-pacer.ts';
import * as S from './status-messages.ts';

/** What a consumer needs from the engine; implemented by ConsumerManager. */
export interface ConsumerHost {
  readonly scheduler: DeadlineScheduler;
  /** Route to `to` (one member per queue group), shown to the client with the stored subject. False: nobody listens. */
  deliverMessage(to: string, subject: string, reply: string, header: Buffer | null, data: Buffer): boolean;
  /** A header-only status message (404, 408, 409, 100 ...). */
  sendStatus(to: string, header: Buffer, reply?: string | null): void;
  hasInterest(subject: string): boolean;
  /** Run pump() at the end of this turn. */
  wake(c: Consumer): void;
  /** Persist state at the end of this turn. */
  saveLater(c: Consumer): void;
  /** Whether appends on matching subjects should wake this consumer. */
  setHungry(c: Consumer, hungry: boolean): void;
  /** The consumer is done with `seq` (acked, terminated, or delivered under ack none): retention may remove it. */
  acked(c: Consumer, seq: number): void;
  maxDeliveriesReached(c: Consumer, seq: number, deliveries: number): void;
  /** inactive_threshold passed without interest: delete the consumer. */
  inactive(c: Consumer): void;
  /** `$JS.EVENT.ADVISORY.CONSUMER.<kind>.<stream>.<consumer>` with these fields. */
  advise(c: Consumer, kind: string, fields: Record<string, unknown>): void;
}

const NS_PER_MS = 1_000_000;

export class Consumer implements AckTrackerOwner, PriorityHost {
  readonly name: string;
  filters: FilterSet;
  /** Next stream sequence to look at for a first delivery. */
  sseq = 1;
  /** Last consumer (delivery) sequence handed out. */
  dseq = 0;
  lastActive = Date.now();
  deleted = false;
  readonly acks: AckTracker;
  /** Pull consumers: the waiting requests and their priority groups. */
  readonly pull: PullWaiting | null;
  readonly push: PushState | null;
  /**
   * last_per_subject: the starting set (sorted), delivered before moving on to new
   * messages; lpsAt is the next one to hand out. A cursor, not shift(): with a
   * million keys each shift would copy the rest of the array.
   */
  private lps: Float64Array | null = null;
  private lpsAt = 0;
  /** Undelivered-count estimate for the ack reply's <pending> token (exact count is in info()). */
  private npc = -1;
  private npcLast = 0;
  private inactiveArmed = false;
  /** replay_policy original: null under instant replay. */
  private readonly replay: ReplayPacer | null;
  /** The pause_until a wake-up deadline is armed for. */
  private resumeArmedFor = 0;
  private readonly ackPrefix: string;

  constructor(
    private readonly host: ConsumerHost,
    readonly stream: Stream,
    public config: ConsumerConfig,
    readonly created: string,
    readonly persistent: boolean,
  ) {
    this.name = config.name;
    this.filters = new FilterSet(filtersOf(config), storedSubjectsOf(stream.config));
    this.ackPrefix = `$JS.ACK.${stream.name}.${config.name}.`;
    this.pull = isPush(config) ? null : new PullWaiting(host, this, config);
    this.push = isPush(config) ? new PushState(config) : null;
    this.acks = new AckTracker(this, host.scheduler);
    this.replay = config.replayPolicy === 'original' ? new ReplayPacer(host.scheduler, () => host.wake(this)) : null;
  }

  get isPush(): boolean {
    return this.push !== null;
  }

  /** Apply an already validated update: filters, limits and the deliver subject may change. */
  reconfigure(next: ConsumerConfig): void {
    this.config = next;
    this.filters = new FilterSet(filtersOf(next), storedSubjectsOf(this.stream.config));
    this.npc = -1;
    this.push?.reconfigure(next);
    this.pull?.reconfigure(next);
  }

  /** Where a new consumer starts (NS consumer.go selectStartingSeqNo). */
  start(): void {
    const store = this.stream.store;
    const st = store.state();
    const c = this.config;
    switch (c.deliverPolicy) {
      case DeliverPolicy.All:
        this.sseq = st.firstSeq > 0 ? st.firstSeq : 1;
        break;
      case DeliverPolicy.Last: {
        const last = this.filters.lastSeq(store);
        this.sseq = last > 0 ? last : st.lastSeq + 1;
        break;
      }
      case DeliverPolicy.New:
        this.sseq = st.lastSeq + 1;
        break;
      case DeliverPolicy.ByStartSequence:
        this.sseq = c.optStartSeq;
        break;
      case DeliverPolicy.ByStartTime: {
        this.sseq = st.lastSeq + 1;
        for (let m = store.next(st.firstSeq, null), n = 0; m !== null && n < 10_000_000; m = store.next(m.seq + 1, null), n++) {
          if (m.time >= c.optStartTime) {
            this.sseq = m.seq;
            break;
          }
        }
        break;
      }
      case DeliverPolicy.LastPerSubject: {
        this.lps = this.filters.lastPerSubject(store);
        this.lpsAt = 0;
        this.sseq = st.lastSeq + 1;
        break;
      }
    }
    if (this.sseq < 1) this.sseq = 1;
    this.acks.floorStream = this.sseq - 1;
    if (this.lpsLeft > 0) this.acks.floorStream = (this.lps as Float64Array)[0] - 1;
  }

  restore(s: ConsumerStateWire): void {
    this.dseq = s.delivered.consumer_seq;
    this.sseq = s.delivered.stream_seq + 1;
    this.acks.floorConsumer = s.ack_floor.consumer_seq;
    this.acks.floorStream = s.ack_floor.stream_seq;
    this.acks.restore(s.pending, s.redelivered);
    this.pull?.priority.restore(s.pin, Date.now());
  }

  snapshot(): ConsumerStateWire {
    return {
      delivered: { consumer_seq: this.dseq, stream_seq: this.sseq - 1 },
      ack_floor: { consumer_seq: this.acks.floorConsumer, stream_seq: this.acks.floorStream },
      pending: this.acks.snapshotPending(),
      redelivered: this.acks.snapshotRedelivered(),
      pin: this.pull?.priority.snapshot(),
    };
  }

  /** last_per_subject starting messages not handed out yet. */
  private get lpsLeft(): number {
    return this.lps === null ? 0 : this.lps.length - this.lpsAt;
  }

  // ---- counters for INFO ----

  /** Messages not yet delivered once (exact). */
  numPending(): number {
    return this.lpsLeft + this.filters.numPending(this.stream.store, this.sseq);
  }

  // ---- pull requests ----

  processPull(reply: string, body: Buffer): void {
    if (this.pull === null) this.host.sendStatus(reply, S.PUSH_BASED);
    else this.pull.request(reply, body);
  }

  // ---- delivery ----

  /** Is anything deliverable right now (a redelivery, or a new message within max_ack_pending)? */
  hasDeliverable(): boolean {
    if (this.acks.hasRedelivery()) return true;
    if (this.acks.blocked) return false;
    if (this.lpsLeft > 0) return true;
    const seq = this.filters.nextSeq(this.stream.store, this.sseq);
    return seq > 0 && seq <= this.stream.writtenSeq;
  }

  /** Deliver up to `budget` messages; true when it stopped on the budget with more to do. */
  pump(budget: number): boolean {
    if (this.deleted || this.pausedAt(Date.now())) return false;
    const push = this.push;
    if (push !== null) {
      if (!push.active || push.stalled) return false;
    } else if (this.pull === null || this.pull.length === 0) {
      return false;
    }
    const now = Date.now();
    this.refreshPendingEstimate();
    let sent = 0;
    let eos = false;
    while (sent < budget) {
      if (push !== null && push.stalled) break;
      // Every request served: stop before reading another message from the store.
      if (this.pull !== null && this.pull.length === 0) break;
      if (push !== null && !this.host.hasInterest(this.config.deliverSubject)) {
        this.pushInterestLost(now);
        break;
      }
      // The message first, then the request: priority groups pick by it, and a pin is given only with a message.
      const next = this.take();
      if (next === null) {
        eos = true;
        break;
      }
      const [msg, count] = next;
      if (count === 1 && this.replay?.wait(msg.time, now)) {
        this.untake(msg.seq, count);
        break;
      }
      // NS compares min_pending with the pending count including this message (a redelivery is not in npc).
      const req = this.pull?.next(now, count === 1 ? this.npc : this.npc + 1, this.acks.size);
      if (push === null && req === undefined) {
        this.untake(msg.seq, count);
        break;
      }
      const reply = ackSubject(this.ackPrefix, count, msg.seq, this.dseq + 1, msg.time, Math.max(0, count === 1 ? this.npc - 1 : this.npc));
      const header = this.config.headersOnly ? S.withMsgSize(msg.header, msg.data.length) : msg.header;
      const data = this.config.headersOnly ? EMPTY : msg.data;
      const size = msg.subject.length + reply.length + (header?.length ?? 0) + data.length;
      if (req !== undefined && req.maxBytes > 0 && size > req.maxBytes) {
        this.untake(msg.seq, count);
        (this.pull as PullWaiting).tooLarge(req);
        continue;
      }
      this.record(msg.seq, count, now);
      if (count === 1) this.replay?.sent(msg.time, now);
      sent++;
      if (req !== undefined) {
        const pull = this.pull as PullWaiting;
        this.host.deliverMessage(req.reply, msg.subject, reply, pull.priority.deliveryHeader(header), data);
        pull.served(req, size, now);
      } else if (push !== null) {
        this.host.deliverMessage(this.config.deliverSubject, msg.subject, reply, header, data);
        push.lastSent = now;
        if (push.sent(size, this.acks.size)) this.host.sendStatus(this.config.deliverSubject, S.FLOW_CONTROL_REQUEST, push.requestFlowControl(this.stream.name, this.name));
      }
    }
    if (sent > 0) {
      this.lastActive = now;
      this.host.saveLater(this);
    }
    if (this.pull !== null) {
      if (eos) this.pull.finishNoWait();
      this.pull.changed(now);
    }
    return sent >= budget;
  }

  /** The next message to hand out and its delivery count: redeliveries first, then the stream. */
  private take(): [StoredMessage, number] | null {
    const store = this.stream.store;
    for (let seq = this.acks.takeRedelivery(); seq !== 0; seq = this.acks.takeRedelivery()) {
      const msg = store.get(seq);
      // Removed from the stream meanwhile (limits, purge): nothing left to redeliver.
      if (msg !== null) return [msg, this.acks.deliveries(seq) + 1];
      this.acks.drop(seq);
    }
    if (this.acks.blocked) return null;
    if (this.lps !== null) {
      while (this.lpsAt < this.lps.length) {
        const seq = this.lps[this.lpsAt++];
        const msg = store.get(seq);
        if (msg !== null) return [msg, 1];
      }
      this.lps = null;
    }
    const seq = this.filters.nextSeq(store, this.sseq);
    // Not yet written: delivered once the engine says so (appended after its write).
    if (seq === 0 || seq > this.stream.writtenSeq) return null;
    const msg = store.get(seq);
    if (msg === null) return null;
    this.sseq = seq + 1;
    return [msg, 1];
  }

  /** Undo take() for a message that could not go out yet. */
  private untake(seq: number, count: number): void {
    if (count > 1) this.acks.putBack(seq);
    // While the last_per_subject set is being served, take() drew from it (it turns null once spent).
    else if (this.lps !== null) this.lpsAt--;
    else if (seq < this.sseq) this.sseq = seq;
  }

  /** Book-keeping for one delivery. */
  private record(seq: number, count: number, now: number): void {
    const dseq = ++this.dseq;
    if (count === 1) this.npc = Math.max(0, this.npc - 1);
    this.acks.delivered(seq, dseq, count, now);
  }

  // ---- PriorityHost ----

  get scheduler(): DeadlineScheduler {
    return this.host.scheduler;
  }

  advise(kind: string, fields: Record<string, unknown>): void {
    if (!this.deleted) this.host.advise(this, kind, fields);
  }

  pinChanged(): void {
    if (this.deleted) return;
    this.host.saveLater(this);
    this.host.wake(this);
  }

  // ---- AckTrackerOwner ----

  redeliveryDue(): void {
    this.host.wake(this);
  }

  maxDeliveries(seq: number, deliveries: number): void {
    this.host.maxDeliveriesReached(this, seq, deliveries);
    this.host.saveLater(this);
  }

  released(seq: number): void {
    this.host.acked(this, seq);
  }

  // ---- acks ----

  processAck(info: AckReply, ack: AckPayload, reply: string | null): void {
    if (this.deleted) return;
    const now = Date.now();
    this.lastActive = now;
    const seq = info.streamSeq;
    switch (ack.kind) {
      case AckKind.Ack:
      case AckKind.Term:
      case AckKind.Next: {
        this.ack(seq);
        if (ack.kind === AckKind.Next && reply !== null) this.processPull(reply, ack.next);
        break;
      }
      case AckKind.Progress:
        this.acks.progress(seq, now);
        break;
      case AckKind.Nak:
        this.acks.nak(seq, ack.delayMs, now);
        break;
    }
    this.host.saveLater(this);
  }

  private ack(seq: number): void {
    const wasBlocked = this.acks.blocked;
    this.acks.ack(seq);
    // Room under max_ack_pending again: waiting requests or a push subscriber can get more.
    if (wasBlocked && !this.acks.blocked) this.host.wake(this);
  }

  /** Does this consumer still need `seq` (interest retention)? */
  needs(seq: number, subject: string): boolean {
    if (!this.filters.matches(subject)) return false;
    return seq >= this.sseq || this.acks.has(seq) || (this.lps !== null && this.lps.indexOf(seq, this.lpsAt) >= 0);
  }

  // ---- push ----

  /** The deliver subject gained or may have lost a subscriber. */
  checkPushInterest(): void {
    const push = this.push;
    if (push === null || this.deleted) return;
    const now = Date.now();
    if (this.host.hasInterest(this.config.deliverSubject)) {
      if (push.active) return;
      push.active = true;
      this.lastActive = now;
      this.host.setHungry(this, true);
      this.armPushHeartbeat(now);
      this.host.wake(this);
    } else if (push.active) {
      this.pushInterestLost(now);
    }
  }

  private pushInterestLost(now: number): void {
    const push = this.push as PushState;
    push.active = false;
    this.lastActive = now;
    this.host.setHungry(this, false);
    this.armInactive();
  }

  private armPushHeartbeat(now: number): void {
    const push = this.push as PushState;
    const hb = this.config.idleHeartbeat / NS_PER_MS;
    if (hb <= 0 || push.heartbeatArmed) return;
    push.heartbeatArmed = true;
    this.host.scheduler.add(new CallbackDeadline(Math.max(now, push.lastSent) + hb, (t) => this.pushHeartbeatDue(t)));
  }

  private pushHeartbeatDue(now: number): void {
    const push = this.push as PushState;
    push.heartbeatArmed = false;
    if (this.deleted || !push.active) return;
    const hb = this.config.idleHeartbeat / NS_PER_MS;
    if (now - push.lastSent >= hb - 1) {
      if (!this.host.hasInterest(this.config.deliverSubject)) return this.pushInterestLost(now);
      this.host.sendStatus(this.config.deliverSubject, S.idleHeartbeat(this.dseq, this.sseq - 1, push.flowControlPending));
      if (push.idleFlowControl(this.acks.size)) this.host.sendStatus(this.config.deliverSubject, S.FLOW_CONTROL_REQUEST, push.requestFlowControl(this.stream.name, this.name));
      push.lastSent = now;
    }
    this.armPushHeartbeat(now);
  }

  /** A flow-control response arrived on `$JS.FC.<stream>.<consumer>.<id>`; under ack_policy flow_control it acks up to its `Nats-Last-Stream`. */
  flowControlReply(subject: string, header: Buffer | null): void {
    if (!this.push?.answered(subject)) return;
    const upTo = this.config.ackPolicy === AckPolicy.FlowControl ? flowControlAckedSeq(header) : 0;
    if (upTo > 0) {
      this.ack(upTo);
      this.host.saveLater(this);
    }
    this.host.wake(this);
  }

  // ---- lifetime ----

  private isIdle(): boolean {
    if (this.push !== null) return !this.push.active;
    return (this.pull?.length ?? 0) === 0;
  }

  /** inactive_threshold: one deadline while idle, none while busy. */
  armInactive(): void {
    const ms = this.config.inactiveThreshold / NS_PER_MS;
    if (ms <= 0 || this.inactiveArmed || this.deleted) return;
    this.inactiveArmed = true;
    this.host.scheduler.add(new CallbackDeadline(this.lastActive + ms, (now) => {
      this.inactiveArmed = false;
      if (this.deleted || !this.isIdle()) return;
      if (now - this.lastActive >= ms - 1) this.host.inactive(this);
      else this.armInactive();
    }));
  }

  /**
   * pause_until (nats-server 2.11): nothing is delivered before then; pull
   * requests wait (and expire) as usual. One deadline wakes the consumer at
   * the end of the pause.
   */
  pausedAt(now: number): boolean {
    const until = this.config.pauseUntil;
    if (until === null || until <= now) return false;
    if (this.resumeArmedFor !== until) {
      this.resumeArmedFor = until;
      this.host.scheduler.add(new CallbackDeadline(until, () => {
        if (this.config.pauseUntil === until) this.host.wake(this);
      }));
    }
    return true;
  }

  /** Consumer reset (nats-server 2.14): forget every delivery and go on from stream sequence `seq`. */
  resetTo(seq: number): void {
    this.acks.reset(seq - 1);
    this.lps = null;
    this.sseq = seq;
    this.dseq = 0;
    this.npc = -1;
    this.host.saveLater(this);
    this.host.wake(this);
  }

  /** The stream lost messages (purge, delete): skip ahead and forget what is gone. */
  streamChanged(): void {
    const st = this.stream.store.state();
    if (st.firstSeq > this.sseq) this.sseq = st.firstSeq;
    this.acks.dropWhere((seq) => seq < st.firstSeq || this.stream.store.get(seq) === null);
    this.acks.updateFloor();
    this.npc = -1;
    this.host.saveLater(this);
  }

  /** Deleted: tell waiting pull requests, as nats-server does. */
  close(): void {
    this.deleted = true;
    this.pull?.close();
    this.acks.clear();
  }

  private refreshPendingEstimate(): void {
    const store = this.stream.store;
    const last = store.state().lastSeq;
    if (this.npc < 0) this.npc = this.numPending();
    else if (last > this.npcLast) this.npc += this.filters.numPending(store, Math.max(this.npcLast + 1, this.sseq));
    this.npcLast = last;
    // The last_per_subject set still to serve sits below sseq, so it adds to the cap.
    this.npc = Math.min(this.npc, Math.max(0, last - this.sseq + 1) + this.lpsLeft);
  }
}

const EMPTY = Buffer.alloc(0);
