// One MQTT session (MQTT 5 §4.1): its subscriptions (each backed by broker
// subscriptions on the mapped subjects), outbound QoS 1/2 messages in flight
// and queued, and inbound QoS 2 packet ids. A session outlives its connection
// when it is persistent; while detached it keeps its broker subscriptions and
// queues QoS 1/2 messages, so no JetStream consumer is needed per session.
//
// The in-memory queue is bounded by count and bytes (max_queued_messages,
// max_queued_bytes). Beyond it a message that is in the message log (it
// carries its sequence) is not copied: the session keeps a position in the
// log (its backlog) and reads from there as the queue drains, so nothing is
// dropped and memory stays bounded. A message that is not in the log (no
// JetStream persistence, or a subscription no persistent session shares) is
// dropped, counted in droppedQueueFull, and the gateway logs the overflow.

import type { QoS } from 'mqtt-packet';
import type { BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { InboundQos2 } from './inbound-qos2.ts';
import { fromBrokerMessage, remainingExpiry, type MqttMessage } from './message.ts';
import { deliveryFor, type MatchedDelivery } from './overlapping-subscriptions.ts';
import type { OutboundRecord, SessionRecord, SubscriptionRecord } from './store.ts';

export interface SessionSubscription extends SubscriptionRecord {
  readonly filter: string;
  readonly group: string | null;
  brokerSubs: BrokerSubscription[];
}

export interface Outbound {
  readonly message: MqttMessage;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds: number[] | undefined;
  packetId: number;
  state: 'publish' | 'pubrel';
  /** Sequence in the store's message log when it was logged (the record then refers to it). */
  storeSeq?: number;
  /** Recovered after a crash or takeover: it may have been sent already, so it goes with DUP=1. */
  dup?: boolean;
  /** For a shared subscription: the log is not read for those (a group message goes to one member). */
  shared?: boolean;
}

/** Messages read from the log at a time (one request each): delivery starts after the first part. */
export const BACKLOG_READ = 500;

/** What a queued message costs, roughly: its payload and topic. */
function sizeOf(out: Outbound): number {
  return out.message.payload.length + out.message.topic.length;
}

/** What a session needs from the connection it is attached to. */
export interface SessionConnection {
  /** The client's Receive Maximum (MQTT 5 §3.1.2.11.3; 65535 for 3.1.1). */
  readonly receiveMaximum: number;
  /** Send one PUBLISH; false when it was not sent (over the client's maximum packet size). */
  sendPublish(out: Outbound, dup: boolean): boolean;
  sendPubrel(packetId: number): void;
}

export interface SessionLimits {
  /** QoS 1/2 messages queued in memory beyond the in-flight window, per session. */
  maxQueued: number;
  /** Bytes (payload and topic) of those messages, per session. */
  maxQueuedBytes: number;
}

/** Logged messages the session wants that are in the log only, not in its queue. */
export interface Backlog {
  /** Where it began: a live message logged before this came late, and is queued. */
  readonly start: number;
  /** The first log sequence not read into the queue. */
  from: number;
  /** The highest sequence known to be for the session (read up to here, at least). */
  upTo: number;
}

/** Messages read from the log for a backlog, and where the next read starts. */
export interface BacklogRead {
  readonly found: Outbound[];
  /** The first sequence not read; past `upTo` when the read reached it. */
  readonly next: number;
}

/** What the gateway wants to hear from a session (it persists in-flight state). */
export interface SessionHooks {
  /**
   * In-flight or queued state changed (delivery, acknowledgement); `soon` when
   * a QoS 2 delivery went out, whose packet id must be kept for exactly once.
   */
  changed(session: Session, soon: boolean): void;
  /** A message that was logged with this sequence reached the session. */
  sawLogged(seq: number): void;
  /**
   * A stream captures `subject`: a reply subject on a message there is where the
   * stream sends its PubAck (a JetStream publish), never a response topic.
   */
  replyIsPubAck(subject: string): boolean;
  /**
   * Read the session's messages in the log from `from` up to `upTo`, at most
   * `limit`; null when there is no message log (overflow then drops).
   */
  readLog: ((session: Session, from: number, upTo: number, limit: number) => Promise<BacklogRead>) | null;
  /** The queue was full and a message that is not in the log was dropped (the first of a run). */
  overflowed(session: Session): void;
}

const NO_HOOKS: SessionHooks = { changed: () => {}, sawLogged: () => {}, replyIsPubAck: () => false, readLog: null, overflowed: () => {} };

export interface SessionStats {
  droppedQueueFull: number;
  /** Messages left in the message log (a position, not a copy) because a session's queue was full. */
  queuedInLog: number;
  droppedExpired: number;
  droppedTooLarge: number;
}

export class Session {
  readonly subscriptions = new Map<string, SessionSubscription>();
  // Collections a session may never need are created on first use: with
  // 10,000 connected clients, an empty Map or Set each is memory that counts.
  private inflightById: Map<number, Outbound> | null = null;
  private qos2In: InboundQos2 | null = null;
  private tag: string | null = null;
  /** A QoS 2 delivery went out since the gateway was last told of a change. */
  private qos2Started = false;
  readonly queued: Outbound[] = [];
  /** Payload and topic bytes of `queued`. */
  private queuedBytes = 0;
  /** Logged messages for this session beyond its queue, read from the log as the queue drains. */
  backlog: Backlog | null = null;
  private readingLog = false;
  /** Dropping since the queue was last below half: the overflow was reported. */
  private dropping = false;
  connection: SessionConnection | null = null;
  /** Seconds after disconnect before the session ends; 0 = ends with the connection. */
  expiryInterval = 0;
  disconnectedAt: number | null = null;
  expiryTimer: NodeJS.Timeout | null = null;
  /** Logged messages up to this sequence were restored from the log: live copies of them are dropped. */
  logFloor = 0;
  private nextPacketId = 1;
  private noLocalCount = 0;

  constructor(
    readonly clientId: string,
    /** With `serial`, what the origin tag is made of (see originTag). */
    private readonly gatewayId: string,
    private readonly serial: number,
    private readonly limits: SessionLimits,
    private readonly stats: SessionStats,
    private readonly hooks: SessionHooks = NO_HOOKS,
  ) {}

  /** In-flight outbound messages by packet id, in send order. */
  get inflight(): Map<number, Outbound> {
    return (this.inflightById ??= new Map());
  }

  /** Inbound QoS 2 packet ids seen and not yet released [MQTT-4.3.3-?] (method B). */
  get inboundQos2(): InboundQos2 {
    return (this.qos2In ??= new InboundQos2());
  }

  /** Tag put on this session's publishes when it has a No Local subscription. */
  get originTag(): string {
    return (this.tag ??= `${this.gatewayId}.${this.serial}`);
  }

  get hasNoLocal(): boolean {
    return this.noLocalCount > 0;
  }

  addSubscription(sub: SessionSubscription): SessionSubscription | undefined {
    const previous = this.removeSubscription(sub.topicFilter);
    this.subscriptions.set(sub.topicFilter, sub);
    if (sub.noLocal) this.noLocalCount++;
    return previous;
  }

  removeSubscription(topicFilter: string): SessionSubscription | undefined {
    const sub = this.subscriptions.get(topicFilter);
    if (sub === undefined) return undefined;
    this.subscriptions.delete(topicFilter);
    if (sub.noLocal) this.noLocalCount--;
    for (const b of sub.brokerSubs) b.unsubscribe();
    return sub;
  }

  /**
   * A message from one of this session's broker subscriptions. They exclude
   * reserved subjects, so a filter starting with a wildcard sees no `$` topic [MQTT-4.7.2-1].
   */
  onBrokerMessage(sub: SessionSubscription, m: BrokerMessage): void {
    if (this.subscriptions.get(sub.topicFilter) !== sub) return; // replaced or removed meanwhile
    const message = fromBrokerMessage(m, Date.now(), m.reply !== null && this.hooks.replyIsPubAck(m.subject));
    if (message.logSeq !== undefined) {
      if (message.logSeq <= this.logFloor) return; // already restored from the log
      this.hooks.sawLogged(message.logSeq);
    }
    // MQTT 5 §3.8.3.1 No Local: not to the connection that published it [MQTT-3.8.3-3].
    const own = message.origin !== null && message.origin === this.originTag;
    if (sub.noLocal && own) return;
    // One copy for overlapping subscriptions, through the first that matches (overlapping-subscriptions.ts).
    const delivery = deliveryFor(this.subscriptions, sub, m.subject, own);
    if (delivery !== null) this.deliver(message, delivery, false, sub.group !== null);
  }

  /** Queue or send one message; `retained` = sent because of SUBSCRIBE; `shared` = for a shared subscription. */
  deliver(message: MqttMessage, delivery: MatchedDelivery, retained: boolean, shared: boolean): void {
    // [MQTT-3.8.4-8] delivered QoS = min(published QoS, granted QoS).
    const qos = Math.min(message.qos, delivery.qos) as QoS;
    // [MQTT-3.3.1-8] retained-on-subscribe keeps RETAIN=1; otherwise only with Retain As Published [MQTT-3.3.1-12/13].
    const retain = retained || (delivery.retainAsPublished && message.retain);
    const out: Outbound = {
      message,
      qos,
      retain,
      subscriptionIds: delivery.subscriptionIds,
      packetId: 0,
      state: 'publish',
      storeSeq: message.logSeq,
      shared,
    };
    if (qos === 0) {
      // QoS 0 is not queued for a disconnected client (MQTT 5 §4.1: it MAY be; we do not).
      if (this.connection !== null) this.send(out, this.connection);
      return;
    }
    if (this.connection !== null && this.queued.length === 0 && this.backlog === null && this.inflight.size < this.connection.receiveMaximum) {
      this.startInflight(out, this.connection);
    } else if (!this.enqueue(out)) {
      return;
    }
    this.notifyChanged();
  }

  /**
   * Queue behind what is waiting; beyond the limits, keep a logged message as a
   * position in the log (also every later one, so order holds) or drop it.
   * False when nothing changed in the queue.
   */
  private enqueue(out: Outbound): boolean {
    const seq = out.storeSeq;
    const logged = seq !== undefined && this.hooks.readLog !== null && !out.shared;
    if (logged && this.backlog !== null && seq >= this.backlog.start) {
      // Below `from` it was read from the log already (the log had it before the live copy came).
      if (seq < this.backlog.from) return false;
      if (seq > this.backlog.upTo) this.backlog.upTo = seq;
      this.stats.queuedInLog++;
      return false;
    }
    if (this.queued.length < this.limits.maxQueued && this.queuedBytes < this.limits.maxQueuedBytes) {
      this.push(out);
      return true;
    }
    if (logged) {
      if (this.backlog !== null) {
        this.push(out); // logged before the backlog began, and came late: it goes ahead of it
        return true;
      }
      this.backlog = { start: seq, from: seq, upTo: seq };
      this.stats.queuedInLog++;
      return false;
    }
    this.stats.droppedQueueFull++;
    if (!this.dropping) this.hooks.overflowed(this);
    this.dropping = true;
    return false;
  }

  private push(out: Outbound): void {
    this.queued.push(out);
    this.queuedBytes += sizeOf(out);
  }

  /** Bytes of the queued messages (for the overflow log line). */
  get queuedSize(): number {
    return this.queuedBytes;
  }

  /** Attach a connection; with a present session resend what was in flight [MQTT-4.4.0-1]. */
  attach(connection: SessionConnection): void {
    this.connection = connection;
    this.disconnectedAt = null;
    for (const out of this.inflightById?.values() ?? []) {
      if (out.state === 'pubrel') connection.sendPubrel(out.packetId);
      else if (!this.send(out, connection, true)) this.inflight.delete(out.packetId);
    }
    this.pump();
  }

  detach(now: number): void {
    this.connection = null;
    this.disconnectedAt = now;
  }

  /** PUBACK for a QoS 1 delivery. False when the id was not in flight. */
  acknowledge(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.qos !== 1) return false;
    this.inflight.delete(packetId);
    this.pump();
    this.notifyChanged();
    return true;
  }

  /** PUBREC for a QoS 2 delivery: from now on only PUBREL is resent. */
  received(packetId: number, failed: boolean): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.qos !== 2) return false;
    if (failed) {
      // MQTT 5 §4.3.3: a PUBREC with a failure reason ends the exchange.
      this.inflight.delete(packetId);
      this.pump();
      this.notifyChanged();
      return true;
    }
    out.state = 'pubrel';
    this.notifyChanged();
    return true;
  }

  /** PUBCOMP ends a QoS 2 delivery. */
  complete(packetId: number): boolean {
    const out = this.inflight.get(packetId);
    if (out === undefined || out.state !== 'pubrel') return false;
    this.inflight.delete(packetId);
    this.pump();
    this.notifyChanged();
    return true;
  }

  /** Move queued messages into flight while the client's receive window allows. */
  pump(): void {
    const connection = this.connection;
    if (connection === null) return;
    while (this.queued.length > 0 && this.inflight.size < connection.receiveMaximum) {
      const out = this.queued.shift() as Outbound;
      this.queuedBytes -= sizeOf(out);
      this.startInflight(out, connection);
    }
    if (this.queued.length <= this.limits.maxQueued / 2) {
      this.dropping = false;
      if (this.backlog !== null) this.readBacklog();
    }
  }

  /** Read the next part of the backlog into the queue (one read at a time, only while connected). */
  private readBacklog(): void {
    const backlog = this.backlog;
    const readLog = this.hooks.readLog;
    if (backlog === null || readLog === null || this.readingLog || this.connection === null) return;
    this.readingLog = true;
    const upTo = backlog.upTo;
    readLog(this, backlog.from, upTo, Math.max(1, Math.min(BACKLOG_READ, this.limits.maxQueued - this.queued.length))).then(
      (read) => {
        this.readingLog = false;
        if (this.backlog !== backlog) return; // the session was destroyed or restored meanwhile
        for (const out of read.found) this.push(out);
        backlog.from = read.next;
        // Done once the read reached every sequence skipped so far (none came in meanwhile).
        if (read.next > backlog.upTo) this.backlog = null;
        this.pump();
        this.notifyChanged();
      },
      () => {
        // The log could not be read: the position stays, the next acknowledgement tries again.
        this.readingLog = false;
      },
    );
  }

  /** End every broker subscription; the session is gone. */
  destroy(): void {
    for (const topicFilter of [...this.subscriptions.keys()]) this.removeSubscription(topicFilter);
    this.inflightById = null;
    this.queued.length = 0;
    this.queuedBytes = 0;
    this.backlog = null;
    this.qos2In = null;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  /**
   * `logCursor`: what the record may claim (undefined without a message log).
   * With a log, queued messages that are in it are not listed: the cursor is
   * held back to just before the first of them (and before the backlog), so a
   * restore reads them from the log. The record stays the size of the
   * in-flight window however long the queue is.
   */
  toRecord(logCursor?: number): SessionRecord {
    const strip = ({ topicFilter, qos, noLocal, retainAsPublished, retainHandling, identifier, since }: SessionSubscription): SubscriptionRecord =>
      ({ topicFilter, qos, noLocal, retainAsPublished, retainHandling, identifier, since });
    let cursor = logCursor === undefined || this.backlog === null ? logCursor : Math.min(logCursor, this.backlog.from - 1);
    let queued: readonly Outbound[] = this.queued;
    if (cursor !== undefined) {
      queued = this.queued.filter((o) => o.storeSeq === undefined || o.shared === true);
      for (const o of this.queued) if (o.storeSeq !== undefined && o.shared !== true && o.storeSeq <= cursor) cursor = o.storeSeq - 1;
    }
    // A logged message is referred to by sequence, not copied into every record.
    const outbound: OutboundRecord[] = [...(this.inflightById?.values() ?? []), ...queued].map(({ message, dup: _dup, shared: _shared, ...rest }) =>
      rest.storeSeq === undefined ? { ...rest, message } : rest);
    return {
      logCursor: cursor,
      clientId: this.clientId,
      expiryInterval: this.expiryInterval,
      subscriptions: [...this.subscriptions.values()].map(strip),
      inboundQos2: this.qos2In === null ? [] : this.qos2In.ids(),
      inboundUnlogged: this.qos2In?.unlogged(),
      outbound,
      disconnectedAt: this.disconnectedAt,
    };
  }

  /**
   * Restore in-flight and queued messages (messages already resolved from the
   * log). They go before anything that arrived live meanwhile, which is kept
   * once when the log also had it.
   */
  restoreOutbound(records: ReadonlyArray<OutboundRecord & { message: MqttMessage; dup?: boolean }>, backlog: Backlog | null): void {
    const live = this.queued.splice(0);
    this.queuedBytes = 0;
    const liveSeqs = new Set(live.map((o) => o.storeSeq));
    for (const r of records) {
      if (r.storeSeq !== undefined && liveSeqs.has(r.storeSeq)) continue;
      const out: Outbound = { ...r };
      if (r.packetId > 0) this.inflight.set(r.packetId, out);
      else this.push(out);
    }
    // What the log holds beyond what was read stays there; live copies of it are skipped.
    this.backlog = backlog;
    for (const out of live) this.enqueue(out);
  }

  private notifyChanged(): void {
    const soon = this.qos2Started;
    this.qos2Started = false;
    this.hooks.changed(this, soon);
  }

  private startInflight(out: Outbound, connection: SessionConnection): void {
    if (out.qos === 2) this.qos2Started = true;
    out.packetId = this.allocatePacketId();
    this.inflight.set(out.packetId, out);
    // [MQTT-3.1.2-25] a message over the client's maximum size is discarded as if delivered.
    if (!this.send(out, connection, out.dup === true)) this.inflight.delete(out.packetId);
  }

  /** False when the message was dropped (expired or too large). */
  private send(out: Outbound, connection: SessionConnection, dup = false): boolean {
    const left = remainingExpiry(out.message, Date.now());
    if (left !== null && left <= 0) {
      this.stats.droppedExpired++; // [MQTT-3.3.2-5]
      return false;
    }
    if (connection.sendPublish(out, dup)) return true;
    this.stats.droppedTooLarge++;
    return false;
  }

  private allocatePacketId(): number {
    // [MQTT-2.2.1-3] an id is not reused while its exchange is unfinished.
    for (let i = 0; i < 65535; i++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error(`session ${JSON.stringify(this.clientId)} has 65535 messages in flight`);
  }
}
