// Saving persistent sessions to the MqttSessionStore, and restoring them.
//
// With a durable store that has a message log (JetStream), a message queued for
// detached sessions is logged ONCE, and the publisher's PUBACK/PUBREC waits
// only for that one write; session records refer to logged messages by
// sequence and are saved lazily (`sessionSaveDelayMs`, 50 ms, after the first change). A record
// carries a log cursor: logged messages after it that match the session's
// subscriptions were queued after the save, so a restore after kill -9 finds
// them by scanning the log from the cursor. Cost per queued message: one log
// append, however many sessions queued it; no consumer per session.

import type { MqttMessage } from './message.ts';
import type { Outbound, Session } from './session.ts';
import type { MqttSessionStore, OutboundRecord, SessionRecord } from './store.ts';
import { filterToSubjects, parseSharedFilter, startsWithWildcard } from './topic-mapping.ts';

/** Entries queued during one synchronous broker publish (embedded delivery). */
interface PublishBatch {
  entries: Outbound[];
}

export class SessionPersistence {
  private readonly dirty = new Set<Session>();
  private timer: NodeJS.Timeout | null = null;
  private batch: PublishBatch | null = null;
  /** Queued entries that arrived outside a local publish (NATS-side or another gateway). */
  private loose: Outbound[] = [];
  /** Highest log sequence whose entries are all marked (records saved now may claim it). */
  private logged = 0;

  constructor(
    private readonly store: () => MqttSessionStore,
    private readonly owner: string,
    private readonly saveDelayMs: number,
    private readonly log: (...parts: unknown[]) => void,
  ) {}

  async open(): Promise<void> {
    const messageLog = this.store().messageLog;
    if (messageLog !== null) this.logged = await messageLog.lastSeq();
  }

  /** Save now (connect, subscribe, unsubscribe, disconnect). */
  save(session: Session): Promise<void> {
    if (session.expiryInterval === 0) return Promise.resolve();
    this.dirty.delete(session);
    return this.store().save(this.recordOf(session)).catch((e: unknown) => this.log('session store save failed:', e));
  }

  /** A session queued a message. Only detached sessions of a durable store are saved per message. */
  queued(session: Session, out: Outbound): void {
    const store = this.store();
    if (!store.durable || session.expiryInterval === 0 || session.connection !== null) return;
    if (store.messageLog !== null) {
      if (this.batch !== null) this.batch.entries.push(out);
      else this.loose.push(out);
    }
    this.dirty.add(session);
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.saveDelayMs);
      this.timer.unref();
    }
  }

  /**
   * Run a broker publish; entries it queued synchronously (embedded delivery)
   * are logged once before the returned promise settles.
   */
  async publishing(message: MqttMessage, publish: () => Promise<void>): Promise<void> {
    if (this.store().messageLog === null) return publish();
    const batch: PublishBatch = { entries: [] };
    this.batch = batch;
    let done: Promise<void>;
    try {
      done = publish();
    } finally {
      this.batch = null;
    }
    await done;
    if (batch.entries.length === 0) return;
    const messageLog = this.store().messageLog;
    if (messageLog === null) return;
    const seq = await messageLog.append(message);
    for (const out of batch.entries) out.storeSeq = seq;
    if (seq > this.logged) this.logged = seq;
  }

  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const messageLog = this.store().messageLog;
    const loose = this.loose;
    this.loose = [];
    if (messageLog !== null) {
      for (const out of loose) {
        if (out.storeSeq !== undefined) continue;
        try {
          out.storeSeq = await messageLog.append(out.message);
          if (out.storeSeq > this.logged) this.logged = out.storeSeq;
        } catch (e) {
          this.log('message log append failed:', e);
        }
      }
    }
    const sessions = [...this.dirty];
    this.dirty.clear();
    await Promise.all(sessions.map((s) => this.store().save(this.recordOf(s)).catch((e: unknown) => this.log('session store save failed:', e))));
  }

  private recordOf(session: Session): SessionRecord {
    return { ...session.toRecord(this.logged), owner: this.owner };
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dirty.clear();
    this.loose = [];
  }

  /**
   * In-flight and queued messages of a stored session: those in the record
   * (logged ones fetched by sequence) plus logged messages after its cursor that
   * match its non-shared QoS 1/2 subscriptions (queued after the last save).
   */
  async outboundOf(record: SessionRecord): Promise<Array<OutboundRecord & { message: MqttMessage }>> {
    const messageLog = this.store().messageLog;
    const out: Array<OutboundRecord & { message: MqttMessage }> = [];
    const seen = new Set<number>();
    for (const r of record.outbound) {
      if (r.storeSeq !== undefined) seen.add(r.storeSeq);
      const message = r.message ?? (r.storeSeq !== undefined && messageLog !== null ? await messageLog.get(r.storeSeq) : null);
      if (message !== null && message !== undefined) out.push({ ...r, message });
    }
    if (messageLog === null || record.logCursor === undefined) return out;
    const found: Array<OutboundRecord & { message: MqttMessage }> = [];
    for (const sub of record.subscriptions) {
      // Shared subscriptions are skipped: a group message went to one member only.
      if (sub.qos === 0 || parseSharedFilter(sub.topicFilter) !== null) continue;
      for (const subject of filterToSubjects(sub.topicFilter)) {
        for (const { seq, message } of await messageLog.after(record.logCursor, subject)) {
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
          });
        }
      }
    }
    found.sort((a, b) => (a.storeSeq ?? 0) - (b.storeSeq ?? 0));
    return [...out, ...found];
  }
}
