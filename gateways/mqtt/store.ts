// The state an MQTT gateway keeps beyond one connection, behind two small
// interfaces so it can live in memory (one process) or in JetStream (survives a
// restart, shared by gateway copies in cluster mode).

import type { QoS } from 'mqtt-packet';
import type { UnloggedInbound } from './inbound-qos2.ts';
import type { MqttMessage } from './message.ts';

/** Retained messages, one per topic (MQTT §3.3.1.3). */
export interface RetainedStore {
  /** Store `message` as the topic's retained message; an empty payload deletes it [MQTT-3.3.1-10]. */
  set(message: MqttMessage): Promise<void>;
  /** Every retained message whose topic matches the filter ('$' rule applied [MQTT-4.7.2-1]). */
  match(filter: string): Promise<MqttMessage[]>;
  close(): Promise<void>;
}

export interface SubscriptionRecord {
  /** As subscribed, `$share/<group>/` prefix included. */
  readonly topicFilter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: number;
  readonly identifier: number | undefined;
  /** The message log's last sequence when it was made: older logged messages are not for it. */
  readonly since?: number;
}

export interface OutboundRecord {
  /** The message itself; absent when `storeSeq` refers to it in the message log. */
  readonly message?: MqttMessage;
  /** Sequence of the message in the session store's message log, when it was logged. */
  readonly storeSeq?: number;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds: number[] | undefined;
  /** 0 while queued; otherwise the in-flight packet identifier. */
  readonly packetId: number;
  /** 'pubrel' once a QoS 2 delivery was PUBREC'd: only PUBREL is resent. */
  readonly state: 'publish' | 'pubrel';
}

/** What a persistent session is made of (MQTT 5 §4.1). */
export interface SessionRecord {
  readonly clientId: string;
  /** Seconds the session outlives its connection; 0xFFFFFFFF = never expires. */
  readonly expiryInterval: number;
  readonly subscriptions: readonly SubscriptionRecord[];
  /** QoS 2 packet ids received and not yet released (exactly-once across reconnects). */
  readonly inboundQos2: readonly number[];
  /**
   * Those of them whose message may not be in the message log yet (saved before the
   * append), with the append's Nats-Msg-Id: a resend after a crash is logged again under it.
   */
  readonly inboundUnlogged?: readonly UnloggedInbound[];
  /** In-flight then queued messages, in delivery order. */
  readonly outbound: readonly OutboundRecord[];
  /** When the last connection ended (ms since epoch), null while connected. */
  readonly disconnectedAt: number | null;
  /**
   * Every logged message up to this sequence is reflected in `outbound`; logged
   * messages after it that match the subscriptions were queued after the save.
   */
  readonly logCursor?: number;
  /** Name of the gateway that saved it (without a message log, it restores the session when it starts). */
  readonly owner?: string;
  /** Saved as its session was let go while that gateway delays a will for it (a reconnect elsewhere must cancel it). */
  readonly willPending?: boolean;
}

/**
 * Messages queued for detached persistent sessions, stored once however many
 * sessions queued them; sessions refer to them by sequence.
 */
export interface QueuedMessageLog {
  /**
   * Store the message durably; resolves with its sequence. With `msgId`, a second
   * append under the same id inside the log's duplicate window stores nothing and
   * resolves with the first one's sequence.
   */
  append(message: MqttMessage, msgId?: string): Promise<number>;
  get(seq: number): Promise<MqttMessage | null>;
  /** Logged messages after `afterSeq`, up to `upTo`, whose subject matches `subjectFilter`, oldest first, at most `limit`. */
  after(afterSeq: number, subjectFilter: string, upTo: number, limit: number): Promise<Array<{ seq: number; message: MqttMessage }>>;
  /** The last sequence in the log (0 when empty). */
  lastSeq(): Promise<number>;
}

export interface MqttSessionStore {
  /**
   * True when saved records outlive the process (with a message log, in-flight
   * state is saved as it changes). The in-memory store saves only at stop().
   */
  readonly durable: boolean;
  /** Where QoS 1/2 messages for persistent sessions are logged once (durable stores); null = inside the records. */
  readonly messageLog: QueuedMessageLog | null;
  load(clientId: string): Promise<SessionRecord | null>;
  save(record: SessionRecord): Promise<void>;
  delete(clientId: string): Promise<void>;
  /** Every stored session (gateway start-up restores their subscriptions). */
  list(): Promise<SessionRecord[]>;
  /**
   * Every record saved or deleted from now on, by any gateway sharing the store
   * (stores with a message log): how each gateway knows all persistent subscriptions.
   */
  watch?(onChange: (clientId: string, record: SessionRecord | null) => void): Promise<{ stop(): void }>;
  close(): Promise<void>;
}
