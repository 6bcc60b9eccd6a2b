// RetainedStore and MqttSessionStore in JetStream streams, reached through
// `$JS.API.*` over the Broker port, so state survives a restart and every
// gateway copy in a cluster sees the same state.
//
// - MQTT_retained: subjects `$MQTT.retained.>`, one message per subject
//   (max_msgs_per_subject 1): the retained message of topic T is the last
//   message on `$MQTT.retained.<subject of T>`, readable from NATS with a
//   direct get. MQTT facts ride in the same `Mqtt-*` headers as live messages.
// - MQTT_sessions: subjects `$MQTT.sess.<hash of client id>`, one JSON record
//   per persistent session (subscriptions, QoS 2 ids, in-flight and queued
//   messages, log cursor); a deleted session leaves a tombstone record, so
//   gateways watching the subjects see the deletion.
// - MQTT_msgs: each QoS 1/2 message some persistent session wants, once.
//
// Delivery needs no JetStream consumer per session: a session's subscriptions
// are plain broker subscriptions, and what it missed is found in MQTT_msgs
// from its record's cursor.

import { createHash } from 'node:crypto';
import type { QoS } from 'mqtt-packet';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { hasWildcardToken } from '../../core/subject/subject.ts';
import { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import type { StoredMessage } from '../../core/jetstream-client/stored-message.ts';
import { fromBrokerMessage, toBrokerPublish, withHeader, type MqttMessage } from './message.ts';
import type { MqttSessionStore, OutboundRecord, QueuedMessageLog, RetainedStore, SessionRecord } from './store.ts';
import { filterToSubjects, topicMatchesFilter, topicToSubject } from './topic-mapping.ts';

export const RETAINED_STREAM = 'MQTT_retained';
export const RETAINED_PREFIX = '$MQTT.retained.';
export const SESSION_STREAM = 'MQTT_sessions';
export const SESSION_PREFIX = '$MQTT.sess.';
export const MSGS_STREAM = 'MQTT_msgs';
export const MSGS_PREFIX = '$MQTT.msgs.';
const RECEIVED_AT = 'Mqtt-Received-At';
/** JetStream's dedupe header: an inbound QoS 2 message resent after a crash is stored once. */
const MSG_ID = 'Nats-Msg-Id';

export interface JetStreamStoreOptions {
  /** 'file' (default) or 'memory'. */
  storage?: 'file' | 'memory';
  timeoutMs?: number;
  /** How long a queued message is kept for offline sessions (ms); default 7 days. */
  queuedMessageMaxAgeMs?: number;
}

export class JetStreamRetainedStore implements RetainedStore {
  private readonly js: JetStreamClient;
  /**
   * Subjects (after the prefix) that may hold a retained message: stored at
   * open, or published since, by any gateway (a core subscription sees every
   * publish on the stream's subjects). A SUBSCRIBE to a topic none of them can
   * match asks JetStream nothing: a fleet of devices subscribing to their own
   * command topics costs no lookup each (issue 20). A topic another gateway
   * cleared stays listed; its lookup then finds nothing.
   */
  private readonly subjects = new Set<string>();
  private watch: BrokerSubscription | null = null;

  private constructor(broker: Broker, options: JetStreamStoreOptions) {
    this.js = new JetStreamClient(broker, options.timeoutMs);
  }

  static async open(broker: Broker, options: JetStreamStoreOptions = {}): Promise<JetStreamRetainedStore> {
    const store = new JetStreamRetainedStore(broker, options);
    await store.js.ensureStream({
      name: RETAINED_STREAM,
      subjects: [`${RETAINED_PREFIX}>`],
      max_msgs_per_subject: 1,
      storage: options.storage ?? 'file',
      allow_direct: true,
    });
    // Watch first, then list: a message stored meanwhile is in one or the other.
    store.watch = await broker.subscribe(`${RETAINED_PREFIX}>`, (m) => store.subjects.add(m.subject.slice(RETAINED_PREFIX.length)));
    for (const subject of await store.js.storedSubjects(RETAINED_STREAM, `${RETAINED_PREFIX}>`)) store.subjects.add(subject.slice(RETAINED_PREFIX.length));
    return store;
  }

  async set(message: MqttMessage): Promise<void> {
    const subject = RETAINED_PREFIX + topicToSubject(message.topic);
    if (message.payload.length === 0) {
      await this.js.purgeStream(RETAINED_STREAM, { filter: subject }); // [MQTT-3.3.1-10]
      this.subjects.delete(subject.slice(RETAINED_PREFIX.length));
      return;
    }
    const out = toBrokerPublish({ ...message, origin: null }, undefined);
    await this.js.publish(subject, out.data, withHeader(out.headers, RECEIVED_AT, String(message.receivedAt)));
  }

  async match(filter: string): Promise<MqttMessage[]> {
    const out: MqttMessage[] = [];
    const now = Date.now();
    for (const subject of filterToSubjects(filter)) {
      if (this.subjects.size === 0 || (!hasWildcardToken(subject) && !this.subjects.has(subject))) continue;
      for (const m of await this.js.messages(RETAINED_STREAM, RETAINED_PREFIX + subject)) {
        if (m.data.length === 0) continue;
        const message = fromBrokerMessage({ subject: m.subject.slice(RETAINED_PREFIX.length), reply: null, headers: m.headers, data: m.data }, takeReceivedAt(m, now));
        if (topicMatchesFilter(filter, message.topic)) out.push({ ...message, retain: true });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.watch?.unsubscribe();
    this.watch = null;
  }
}

export class JetStreamSessionStore implements MqttSessionStore {
  readonly durable = true;
  readonly messageLog: JetStreamMessageLog;
  private readonly js: JetStreamClient;

  private constructor(private readonly broker: Broker, options: JetStreamStoreOptions) {
    this.js = new JetStreamClient(broker, options.timeoutMs);
    this.messageLog = new JetStreamMessageLog(this.js);
  }

  static async open(broker: Broker, options: JetStreamStoreOptions = {}): Promise<JetStreamSessionStore> {
    const store = new JetStreamSessionStore(broker, options);
    const storage = options.storage ?? 'file';
    await store.js.ensureStream({ name: SESSION_STREAM, subjects: [`${SESSION_PREFIX}*`], max_msgs_per_subject: 1, storage, allow_direct: true });
    const maxAgeNs = (options.queuedMessageMaxAgeMs ?? 7 * 24 * 3600 * 1000) * 1_000_000;
    await store.js.ensureStream({ name: MSGS_STREAM, subjects: [`${MSGS_PREFIX}>`], storage, max_age: maxAgeNs, allow_direct: true });
    return store;
  }

  async load(clientId: string): Promise<SessionRecord | null> {
    const m = await this.js.message(SESSION_STREAM, { last_by_subj: sessionSubject(clientId) });
    return m === null ? null : decodeRecord(m.data);
  }

  async save(record: SessionRecord): Promise<void> {
    await this.js.publish(sessionSubject(record.clientId), Buffer.from(JSON.stringify(encodeRecord(record))), null);
  }

  /** A tombstone replaces the record (one message per subject), so watchers learn of it. */
  async delete(clientId: string): Promise<void> {
    await this.js.publish(sessionSubject(clientId), Buffer.from(JSON.stringify({ clientId, deleted: true })), null);
  }

  async list(): Promise<SessionRecord[]> {
    const messages = await this.js.messages(SESSION_STREAM, `${SESSION_PREFIX}*`);
    const out: SessionRecord[] = [];
    for (const m of messages) {
      const record = decodeRecord(m.data);
      if (record !== null) out.push(record);
    }
    return out;
  }

  /** Record saves and tombstones are plain publishes on `$MQTT.sess.*`: a core subscription sees them all. */
  async watch(onChange: (clientId: string, record: SessionRecord | null) => void): Promise<{ stop(): void }> {
    const sub = await this.broker.subscribe(`${SESSION_PREFIX}*`, (m: BrokerMessage) => {
      try {
        const j = JSON.parse(Buffer.from(m.data).toString('utf8')) as { clientId?: unknown; deleted?: boolean };
        if (typeof j.clientId !== 'string') return;
        onChange(j.clientId, j.deleted === true ? null : decodeRecord(Buffer.from(m.data)));
      } catch {
        // not a record (an empty or foreign publish on the subject)
      }
    });
    return { stop: () => sub.unsubscribe() };
  }

  async close(): Promise<void> {}
}

/**
 * MQTT_msgs: each message queued for detached sessions, once, on
 * `$MQTT.msgs.<subject>`; kept by age (no consumer, no per-session copy).
 */
export class JetStreamMessageLog implements QueuedMessageLog {
  constructor(private readonly js: JetStreamClient) {}

  async append(message: MqttMessage, msgId?: string): Promise<number> {
    const out = toBrokerPublish({ ...message, origin: message.origin }, undefined);
    // withHeader copies: out.headers may be a shared constant.
    let headers = withHeader(out.headers, RECEIVED_AT, String(message.receivedAt));
    // The stream's duplicate window (2 min) answers a second append under this id with the first one's sequence.
    if (msgId !== undefined) headers = withHeader(headers, MSG_ID, msgId);
    return (await this.js.publish(MSGS_PREFIX + out.subject, out.data, headers)).seq;
  }

  async get(seq: number): Promise<MqttMessage | null> {
    const m = await this.js.message(MSGS_STREAM, { seq });
    return m === null ? null : this.decode(m);
  }

  async after(afterSeq: number, subjectFilter: string, upTo: number, limit: number): Promise<Array<{ seq: number; message: MqttMessage }>> {
    const found = await this.js.messages(MSGS_STREAM, MSGS_PREFIX + subjectFilter, afterSeq + 1, limit, upTo);
    return found.map((m) => ({ seq: m.seq, message: this.decode(m) }));
  }

  async lastSeq(): Promise<number> {
    return (await this.js.streamInfo(MSGS_STREAM)).state.last_seq;
  }

  private decode(m: StoredMessage): MqttMessage {
    m.headers?.delete(MSG_ID); // the gateway's, not the publisher's
    const message = fromBrokerMessage({ subject: m.subject.slice(MSGS_PREFIX.length), reply: null, headers: m.headers, data: m.data }, takeReceivedAt(m, Date.now()));
    return { ...message, logSeq: m.seq };
  }
}

/**
 * When the gateway received a stored message (the header is removed), so
 * message expiry counts from then, not from each read [MQTT-3.3.2-5];
 * `fallback` for a message stored without one.
 */
function takeReceivedAt(m: StoredMessage, fallback: number): number {
  const stamp = m.headers?.get(RECEIVED_AT);
  m.headers?.delete(RECEIVED_AT);
  const receivedAt = Number(stamp);
  return stamp === undefined || !Number.isFinite(receivedAt) ? fallback : receivedAt;
}

/** Client ids are any UTF-8 string; the subject token is a hash of it. */
export function sessionSubject(clientId: string): string {
  return SESSION_PREFIX + createHash('sha256').update(clientId).digest('base64url').slice(0, 32);
}

// ---- JSON form of a session record (Buffers as base64) ----

interface MessageJson {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
  receivedAt: number;
  origin: string | null;
  properties: Record<string, unknown>;
}

function encodeMessage(m: MqttMessage): MessageJson {
  const { correlationData, ...rest } = m.properties;
  const properties: Record<string, unknown> = { ...rest };
  if (correlationData !== undefined) properties.correlationData = correlationData.toString('base64');
  return { topic: m.topic, payload: m.payload.toString('base64'), qos: m.qos, retain: m.retain, receivedAt: m.receivedAt, origin: m.origin, properties };
}

function decodeMessage(j: MessageJson): MqttMessage {
  const { correlationData, ...rest } = j.properties;
  return {
    topic: j.topic,
    payload: Buffer.from(j.payload, 'base64'),
    qos: j.qos,
    retain: j.retain,
    receivedAt: j.receivedAt,
    origin: j.origin,
    properties: { ...rest, ...(typeof correlationData === 'string' ? { correlationData: Buffer.from(correlationData, 'base64') } : {}) },
  };
}

function encodeRecord(r: SessionRecord): unknown {
  return { ...r, outbound: r.outbound.map((o) => ({ ...o, message: o.message === undefined ? undefined : encodeMessage(o.message) })) };
}

/** null for an empty message or a tombstone. */
function decodeRecord(data: Buffer): SessionRecord | null {
  if (data.length === 0) return null;
  const j = JSON.parse(data.toString('utf8')) as Omit<SessionRecord, 'outbound'> & { deleted?: boolean; outbound: Array<Omit<OutboundRecord, 'message'> & { message?: MessageJson }> };
  if (j.deleted === true) return null;
  return { ...j, outbound: j.outbound.map((o) => ({ ...o, message: o.message === undefined ? undefined : decodeMessage(o.message) })) };
}
