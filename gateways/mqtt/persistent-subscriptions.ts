// Every gateway's view of the QoS 1/2 subscriptions of ALL persistent sessions
// of the cluster, whether a gateway holds the session or not, learned from the
// session records in MQTT_sessions (listed at start, then watched live on
// `$MQTT.sess.*`). It answers one question on the publish path: must this
// message be logged once in MQTT_msgs because some persistent session wants it?
//
// Messages that enter through NATS (or through a gateway whose view lags) are
// logged by a capture subscription in the queue group `mqtt-capture` on the
// same subjects: a queue group delivers each message to ONE member, so however
// many gateways run, exactly one of them logs it. A message the publishing
// gateway already logged carries `Mqtt-Seq` and is left alone. A persistent
// `#` captures no reserved subject: appending to `$MQTT.msgs.x` would be
// captured again, without end.

import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { Sublist } from '../../core/subject/sublist.ts';
import type { SessionRecord } from './store.ts';
import { NEVER_EXPIRES } from './options.ts';
import { filterToSubjects, parseSharedFilter } from './topic-mapping.ts';

export const CAPTURE_QUEUE = 'mqtt-capture';

/** When a stored session ends (ms since epoch): Infinity while connected or when it never expires. */
export function sessionExpiresAt(record: SessionRecord): number {
  if (record.disconnectedAt === null || record.expiryInterval >= NEVER_EXPIRES) return Infinity;
  return record.disconnectedAt + record.expiryInterval * 1000;
}

interface IndexEntry {
  readonly subject: string;
  readonly queue: null;
}

interface SessionEntry {
  readonly entries: IndexEntry[];
  /** ms since epoch when the detached session expires; Infinity while connected or never. */
  readonly expiresAt: number;
  /** Saved while connected with a finite expiry: how long it outlives the connection (ms); else null. */
  readonly attachedExpiryMs: number | null;
}

/** A session stored as connected, which expires once it has been without a gateway for `expiryMs`. */
export interface AttachedSession {
  readonly clientId: string;
  readonly expiryMs: number;
  /** The same object until the session's record is saved again (a reconnect, a change): then a new one. */
  readonly version: object;
}

interface Capture {
  count: number;
  sub: BrokerSubscription | null;
}

export class PersistentSubscriptions {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly sublist = new Sublist<IndexEntry>();
  private readonly captures = new Map<string, Capture>();
  private stopped = false;

  /** `capture` logs a message that reached a capture subscription (it checks QoS and `Mqtt-Seq`). */
  constructor(
    private readonly broker: Broker,
    private readonly capture: (m: BrokerMessage) => void,
    private readonly log: (...parts: unknown[]) => void,
  ) {}

  /** True when a persistent QoS 1/2 subscription matches this subject. */
  wanted(subject: string): boolean {
    return this.sublist.match(subject).psubs.length > 0;
  }

  /** A persistent session of this id is stored (as last seen on the watch). */
  has(clientId: string): boolean {
    return this.sessions.has(clientId);
  }

  /** Replace what is known of one session (`record` null: it is gone). */
  apply(clientId: string, record: SessionRecord | null): void {
    const previous = this.sessions.get(clientId);
    this.sessions.delete(clientId);
    // The new record's captures are taken before the previous one's are let go: a capture
    // subscription that both want is kept. Unsubscribed and made again, the messages the
    // server had already handed to the old one would be dropped by the client, and the queue
    // group gives them to no other member (issue 29 item 5: a record saved as its session was
    // let go lost NATS messages published meanwhile).
    if (record !== null && record.expiryInterval !== 0) this.indexRecord(clientId, record);
    for (const e of previous?.entries ?? []) {
      this.sublist.remove(e);
      this.release(e.subject);
    }
  }

  private indexRecord(clientId: string, record: SessionRecord): void {
    const entries: IndexEntry[] = [];
    for (const sub of record.subscriptions) {
      // Shared subscriptions are left out: a group message goes to one member only.
      if (sub.qos === 0 || parseSharedFilter(sub.topicFilter) !== null) continue;
      for (const subject of filterToSubjects(sub.topicFilter)) {
        const e: IndexEntry = { subject, queue: null };
        this.sublist.insert(e);
        this.retain(subject);
        entries.push(e);
      }
    }
    const attachedExpiryMs = record.disconnectedAt === null && record.expiryInterval < NEVER_EXPIRES ? record.expiryInterval * 1000 : null;
    this.sessions.set(clientId, { entries, expiresAt: sessionExpiresAt(record), attachedExpiryMs });
  }

  /** Client ids of detached sessions whose expiry has passed (the caller deletes their records). */
  expired(now: number): string[] {
    const out: string[] = [];
    for (const [clientId, s] of this.sessions) if (s.expiresAt <= now) out.push(clientId);
    return out;
  }

  /** Sessions stored as connected (held by some gateway, or by one that died) that can expire. */
  attached(): AttachedSession[] {
    const out: AttachedSession[] = [];
    for (const [clientId, s] of this.sessions) if (s.attachedExpiryMs !== null) out.push({ clientId, expiryMs: s.attachedExpiryMs, version: s });
    return out;
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.captures.values()) c.sub?.unsubscribe();
    this.captures.clear();
  }

  private retain(subject: string): void {
    const existing = this.captures.get(subject);
    if (existing !== undefined) {
      existing.count++;
      return;
    }
    const capture: Capture = { count: 1, sub: null };
    this.captures.set(subject, capture);
    this.broker.subscribe(subject, this.capture, { queue: CAPTURE_QUEUE, excludeReserved: true }).then(
      (sub) => {
        if (this.stopped || this.captures.get(subject) !== capture) sub.unsubscribe();
        else capture.sub = sub;
      },
      (e: unknown) => this.log('capture subscribe failed on', subject, e),
    );
  }

  private release(subject: string): void {
    const capture = this.captures.get(subject);
    if (capture === undefined || --capture.count > 0) return;
    this.captures.delete(subject);
    capture.sub?.unsubscribe();
  }
}
