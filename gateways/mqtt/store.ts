// The state an MQTT gateway keeps beyond one connection, behind two small
// interfaces so it can live in memory (one process) or in JetStream (survives a
// restart, shared by gateway copies in cluster mode).

import type { QoS } from 'mqtt-packet';
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
}

export interface OutboundRecord {
  readonly message: MqttMessage;
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
  /** In-flight then queued messages, in delivery order. */
  readonly outbound: readonly OutboundRecord[];
  /** When the last connection ended (ms since epoch), null while connected. */
  readonly disconnectedAt: number | null;
}

export interface MqttSessionStore {
  /**
   * True when saved records outlive the process: the gateway then saves a detached
   * session after each queued message. The in-memory store saves only at stop().
   */
  readonly durable: boolean;
  load(clientId: string): Promise<SessionRecord | null>;
  save(record: SessionRecord): Promise<void>;
  delete(clientId: string): Promise<void>;
  /** Every stored session (gateway start-up restores their subscriptions). */
  list(): Promise<SessionRecord[]>;
  close(): Promise<void>;
}
