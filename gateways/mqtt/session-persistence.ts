// Saving persistent sessions to the MqttSessionStore, and restoring them.
//
// With a store that has a message log (JetStream), a QoS 1/2 message that some
// persistent session of the cluster subscribes to is logged ONCE in MQTT_msgs
// before it is delivered: by the gateway that received the MQTT publish (its
// PUBACK/PUBREC waits for that one write; the live message then carries its
// sequence in `Mqtt-Seq`), or, for messages entering through NATS, by the one
// member of the capture queue group that gets it (persistent-subscriptions.ts).
// Sessions refer to logged messages by sequence. A session record (subscriptions,
// in-flight packet ids and states, QoS 2 ids) is saved lazily
// (`sessionSaveDelayMs`, 50 ms) after its state changes, and carries a log
// cursor: logged messages after it that match its subscriptions are not in the
// record, so a restore scans the log from the cursor. That is how a session
// gets what was published while no gateway held it (client offline, or its
// gateway killed), and how messages in flight at a kill -9 come back.
// Cost per message: one log append, however many sessions want it; no
// JetStream consumer per session.

import type { Broker, BrokerMessage } from '../../core/broker/broker.ts';
import { fromBrokerMessage, MqttHeader, withHeader, type BrokerPublish, type MqttMessage } from './message.ts';
import { PersistentSubscriptions, type AttachedSession } from './persistent-subscriptions.ts';
import type { Backlog, BacklogRead, Outbound, Session } from './session.ts';
import type { MqttSessionStore, OutboundRecord, SessionRecord, SubscriptionRecord } from './store.ts';
import { filterToSubjects, parseSharedFilter, startsWithWildcard } from './topic-mapping.ts';

/** The session store could not save a session's record. */
export class SessionSaveError extends Error {
  constructor(readonly clientId: string, options: { cause: unknown }) {
    super(`session store save failed for ${JSON.stringify(clientId)}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'SessionSaveError';
  }
}

export type RestoredOutbound = OutboundRecord & { message: MqttMessage; dup?: boolean };

export class SessionPersistence {
  private readonly dirty = new Set<Session>();
  /** Sessions to save at the end of this turn, with whoever waits for that save. */
  private readonly urgent = new Map<Session, { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** Highest log sequence whose messages this gateway's sessions have all seen (records saved now may claim it). */
  private logged = 0;
  private index: PersistentSubscriptions | null = null;
  private watch: { stop(): void } | null = null;

  constructor(
    private readonly store: () => MqttSessionStore,
    private readonly broker: Broker,
    private readonly owner: string,
    private readonly saveDelayMs: number,
    private readonly log: (...parts: unknown[]) => void,
  ) {}

  /**
   * True when the store logs messages: detached sessions are then released to
   * the store (no gateway holds them) and in-flight state is saved.
   */
  get logging(): boolean {
    return this.index !== null;
  }

  async open(): Promise<void> {
    const store = this.store();
    const messageLog = store.messageLog;
    if (messageLog === null || store.watch === undefined) return;
    this.logged = await messageLog.lastSeq();
    const index = new PersistentSubscriptions(this.broker, (m) => this.captured(m), this.log);
    // Watch first, then list: a record saved meanwhile is newer than the listed one.
    const updated = new Set<string>();
    this.watch = await store.watch((clientId, record) => {
      updated.add(clientId);
      index.apply(clientId, record);
    });
    for (const record of await store.list()) if (!updated.has(record.clientId)) index.apply(record.clientId, record);
    updated.clear();
    this.index = index;
  }

  /**
   * Publish into the broker, logging the message first when a persistent session
   * wants it (under the dedupe id `msgId`, for an inbound QoS 2 message).
   */
  async publish(message: MqttMessage, out: BrokerPublish, send: (out: BrokerPublish) => Promise<void>, msgId?: string): Promise<void> {
    const messageLog = this.store().messageLog;
    if (this.index === null || messageLog === null || message.qos === 0 || !this.index.wanted(out.subject)) return send(out);
    const seq = await messageLog.append(message, msgId);
    await send({ ...out, headers: withHeader(out.headers, MqttHeader.LogSeq, String(seq)) });
  }

  /** A QoS 1/2 message that entered without being logged (through NATS): log it once. */
  private captured(m: BrokerMessage): void {
    const headers = m.headers;
    if (headers === null || headers.has(MqttHeader.LogSeq)) return;
    const qos = headers.get(MqttHeader.Qos);
    if (qos !== '1' && qos !== '2') return;
    const messageLog = this.store().messageLog;
    if (messageLog === null) return;
    messageLog.append(fromBrokerMessage(m, Date.now())).then(
      (seq) => this.sawLogged(seq),
      (e: unknown) => this.log('message log append failed:', e),
    );
  }

  sawLogged(seq: number): void {
    if (seq > this.logged) this.logged = seq;
  }

  /** Save now (connect, subscribe, unsubscribe, disconnect); a store failure is logged, the next change saves again. */
  save(session: Session, willPending = false): Promise<void> {
    return this.saveOrFail(session, willPending).catch((e: unknown) => this.log(e));
  }

  /**
   * Save now, rejecting with SessionSaveError when the store fails: for a caller
   * that must not go on unless the record is saved (a QoS 2 PUBREL).
   */
  saveOrFail(session: Session, willPending = false): Promise<void> {
    if (session.expiryInterval === 0) return Promise.resolve();
    this.dirty.delete(session);
    const record = this.recordOf(session);
    return this.store().save(willPending ? { ...record, willPending } : record).catch((e: unknown) => {
      throw new SessionSaveError(session.clientId, { cause: e });
    });
  }

  /**
   * Save at the end of this event-loop turn, once for every caller of the turn
   * (a burst of QoS 2 packets costs one save per session, not one each): the
   * record then reflects every change made before the call. Rejects with
   * SessionSaveError when the store fails.
   */
  saveSoon(session: Session): Promise<void> {
    if (session.expiryInterval === 0) return Promise.resolve();
    let waiting = this.urgent.get(session);
    if (waiting === undefined) {
      let settle!: { resolve: () => void; reject: (e: unknown) => void };
      const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      waiting = { promise, ...settle };
      this.urgent.set(session, waiting);
      if (this.urgent.size === 1) setImmediate(() => this.saveUrgent());
    }
    return waiting.promise;
  }

  private saveUrgent(): void {
    const batch = [...this.urgent];
    this.urgent.clear();
    for (const [session, waiting] of batch) this.saveOrFail(session).then(waiting.resolve, waiting.reject);
  }

  /**
   * A session's in-flight or queued state changed: save it within saveDelayMs,
   * or `soon` (a QoS 2 delivery went out) at the end of this event-loop turn, so
   * that after a crash it is resent with the same packet id, not as a new message.
   */
  changed(session: Session, soon: boolean): void {
    if (this.index === null || session.expiryInterval === 0) return;
    this.dirty.add(session);
    if (soon && this.immediate === null) this.immediate = setImmediate(() => void this.flush());
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.saveDelayMs);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    const sessions = [...this.dirty];
    this.dirty.clear();
    await Promise.all(sessions.map((s) => this.save(s)));
  }

  /**
   * Whether a record of `clientId` may be stored: false only when the watched
   * view of every record (with a message log) says none is; true without one.
   */
  mayBeStored(clientId: string): boolean {
    return this.index?.has(clientId) ?? true;
  }

  /** Delete the records of detached sessions whose expiry has passed (no gateway holds them). */
  expired(now: number): string[] {
    return this.index?.expired(now) ?? [];
  }

  /** Sessions stored as connected with a finite expiry (see OrphanedSessions). */
  attached(): AttachedSession[] {
    return this.index?.attached() ?? [];
  }

  private recordOf(session: Session): SessionRecord {
    return { ...session.toRecord(Math.max(this.logged, session.logFloor)), owner: this.owner };
  }

  /** The session is gone from this gateway: no pending save. */
  forget(session: Session): void {
    this.dirty.delete(session);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    this.dirty.clear();
    this.watch?.stop();
    this.watch = null;
    this.index?.stop();
    this.index = null;
  }

  /** The log's last sequence (0 without a log). */
  async lastLogged(): Promise<number> {
    return (await this.store().messageLog?.lastSeq()) ?? 0;
  }

  /**
   * In-flight and queued messages of a stored session: those in the record
   * (logged ones fetched by sequence) plus logged messages after its cursor, up
   * to `upTo`, that match its non-shared QoS 1/2 subscriptions (published after
   * the last save). When the record was saved while its client was connected,
   * those may have been sent already: they go with DUP=1. At most `limit` are
   * read from the log (the session's queue limit); the rest is the backlog the
   * session reads as its queue drains.
   */
  async outboundOf(record: SessionRecord, upTo: number, limit: number): Promise<{ outbound: RestoredOutbound[]; backlog: Backlog | null }> {
    const messageLog = this.store().messageLog;
    const out: RestoredOutbound[] = [];
    const seen = new Set<number>();
    for (const r of record.outbound) {
      if (r.storeSeq !== undefined) seen.add(r.storeSeq);
      const message = r.message ?? (r.storeSeq !== undefined && messageLog !== null ? await messageLog.get(r.storeSeq) : null);
      if (message !== null && message !== undefined) out.push({ ...r, message });
    }
    if (messageLog === null || record.logCursor === undefined || upTo <= record.logCursor) return { outbound: out, backlog: null };
    // A record's cursor may lag behind messages its client already had (those this gateway
    // never saw the sequence of): at least once, so they may come again.
    const read = await this.scan(record.subscriptions, record.logCursor + 1, upTo, limit, record.disconnectedAt === null, seen);
    const backlog = read.next > upTo ? null : { start: read.next, from: read.next, upTo };
    return { outbound: [...out, ...read.found], backlog };
  }

  /** A connected session's backlog: its messages in the log from `from` up to `upTo`, at most `limit`. */
  readonly readLog = (session: Session, from: number, upTo: number, limit: number): Promise<BacklogRead> =>
    this.scan([...session.subscriptions.values()], from, upTo, limit, false, new Set());

  /**
   * Logged messages from `from` up to `upTo` that match these subscriptions
   * (non-shared, QoS 1/2, each from its `since`), oldest first, at most `limit`,
   * each once; `next` is the first sequence not read (past `upTo` when all was).
   */
  private async scan(subscriptions: readonly SubscriptionRecord[], from: number, upTo: number, limit: number, dup: boolean, seen: Set<number>): Promise<BacklogRead> {
    const messageLog = this.store().messageLog;
    if (messageLog === null) return { found: [], next: upTo + 1 };
    const found: Outbound[] = [];
    let next = upTo + 1;
    for (const sub of subscriptions) {
      // Shared subscriptions are skipped: a group message went to one member only.
      if (sub.qos === 0 || parseSharedFilter(sub.topicFilter) !== null) continue;
      for (const subject of filterToSubjects(sub.topicFilter)) {
        const got = await messageLog.after(Math.max(from - 1, sub.since ?? 0), subject, upTo, limit);
        // A subject that filled the limit may hold more after its last one.
        if (got.length >= limit) next = Math.min(next, got[got.length - 1].seq + 1);
        for (const { seq, message } of got) {
          if (seen.has(seq)) continue;
          if (message.topic.startsWith('$') && startsWithWildcard(sub.topicFilter)) continue; // [MQTT-4.7.2-1]
          seen.add(seq);
          const qos = Math.min(message.qos, sub.qos) as 0 | 1 | 2;
          if (qos === 0) continue;
          found.push({
            message,
            qos,
            retain: sub.retainAsPublished && message.retain,
            subscriptionIds: sub.identifier === undefined ? undefined : [sub.identifier],
            packetId: 0,
            state: 'publish',
            storeSeq: seq,
            dup,
          });
        }
      }
    }
    found.sort((a, b) => (a.storeSeq ?? 0) - (b.storeSeq ?? 0));
    if (found.length > limit) next = Math.min(next, found[limit].storeSeq ?? next);
    return { found: found.filter((o) => (o.storeSeq ?? 0) < next), next };
  }
}
