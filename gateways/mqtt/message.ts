// The gateway's own form of an application message, and its translation to and
// from a Broker message. MQTT-only facts travel in a few reserved `Mqtt-*`
// headers (absent in the common case, so a QoS 0 MQTT publish is a plain NATS
// message); MQTT 5 user properties are ordinary NATS headers, both ways.

import type { QoS, UserProperties } from 'mqtt-packet';
import type { BrokerMessage } from '../../core/broker/broker.ts';
import { MessageHeaders } from '../../core/broker/headers.ts';
import { subjectToTopic, topicToSubject } from './topic-mapping.ts';

export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperties;
}

export interface MqttMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** QoS it was published with (a core NATS publish counts as QoS 0, as in nats-server). */
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties: MessageProperties;
  /** When the gateway received it (ms since epoch): message expiry counts from here. */
  readonly receivedAt: number;
  /** Who published it, for the MQTT 5 No Local option; null when unknown. */
  readonly origin: string | null;
  /** Its sequence in the session store's message log (MQTT_msgs) when it was logged before delivery. */
  readonly logSeq?: number;
}

/** Reserved header names; everything else is a user property. */
export const MqttHeader = {
  Qos: 'Mqtt-Qos',
  /** Public: `1` or `true` on a NATS or HTTP publish makes it the topic's retained message (retain-capture.ts). */
  Retain: 'Mqtt-Retain',
  /** Internal: the MQTT gateway that received this retained publish stored it already. */
  RetainStored: 'Mqtt-Retain-Stored',
  Origin: 'Mqtt-Origin',
  Expiry: 'Mqtt-Message-Expiry',
  PayloadFormat: 'Mqtt-Payload-Format',
  CorrelationData: 'Mqtt-Correlation-Data',
  ResponseTopic: 'Mqtt-Response-Topic',
  ContentType: 'Content-Type',
  /** Set by the gateway that logged the message once for persistent sessions (see session-persistence.ts). */
  LogSeq: 'Mqtt-Seq',
} as const;

/** A header block that never changes, encoded once. Never mutate an instance. */
class ConstantHeaders extends MessageHeaders {
  private bytes: Buffer | null = null;
  override encode(): Buffer {
    this.bytes ??= super.encode();
    return this.bytes;
  }
}

const QOS_HEADERS = {
  1: new ConstantHeaders().append(MqttHeader.Qos, '1'),
  2: new ConstantHeaders().append(MqttHeader.Qos, '2'),
} as const;

const RESERVED = new Set<string>(Object.values(MqttHeader).map((h) => h.toLowerCase()));

/** Characters a NATS header key cannot hold; such user properties are not forwarded. */
const BAD_HEADER_KEY = /[\s:]/;
const BAD_HEADER_VALUE = /[\r\n]/;

export interface BrokerPublish {
  subject: string;
  data: Buffer;
  reply: string | undefined;
  headers: MessageHeaders | undefined;
}

/**
 * MQTT message -> broker publish. `reply` is the NATS reply subject already
 * derived from the response topic (see ReplyBridge); `origin` is set only when
 * the publisher has a No Local subscription, so other messages stay header-free.
 * Correlation data travels base64 in a header, unaltered [MQTT-3.3.2-16].
 */
export function toBrokerPublish(message: MqttMessage, reply: string | undefined): BrokerPublish {
  const p = message.properties;
  if (!message.retain && message.origin === null && p.messageExpiryInterval === undefined && p.payloadFormatIndicator !== true &&
    p.contentType === undefined && p.correlationData === undefined && p.responseTopic === undefined && p.userProperties === undefined) {
    // The common case: nothing but the QoS to say; share one pre-encoded header block.
    const headers = message.qos === 0 ? undefined : QOS_HEADERS[message.qos];
    return { subject: topicToSubject(message.topic), data: message.payload, reply, headers };
  }
  let headers: MessageHeaders | undefined;
  const h = (): MessageHeaders => (headers ??= new MessageHeaders());
  if (message.qos > 0) h().append(MqttHeader.Qos, String(message.qos));
  if (message.retain) h().append(MqttHeader.Retain, '1');
  if (message.origin !== null) h().append(MqttHeader.Origin, message.origin);
  if (p.messageExpiryInterval !== undefined) h().append(MqttHeader.Expiry, String(p.messageExpiryInterval));
  if (p.payloadFormatIndicator) h().append(MqttHeader.PayloadFormat, '1');
  if (p.contentType !== undefined && !BAD_HEADER_VALUE.test(p.contentType)) h().append(MqttHeader.ContentType, p.contentType);
  if (p.correlationData !== undefined) h().append(MqttHeader.CorrelationData, p.correlationData.toString('base64'));
  // The reply subject may be a bridge token; MQTT subscribers still get the exact topic [MQTT-3.3.2-15].
  if (p.responseTopic !== undefined && reply !== topicToSubject(p.responseTopic)) h().append(MqttHeader.ResponseTopic, p.responseTopic);
  if (p.userProperties) {
    for (const [key, value] of Object.entries(p.userProperties)) {
      if (key.length === 0 || BAD_HEADER_KEY.test(key)) continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (!BAD_HEADER_VALUE.test(v)) h().append(key, v);
      }
    }
  }
  return { subject: topicToSubject(message.topic), data: message.payload, reply, headers };
}

/**
 * Broker message -> MQTT message. The reply subject becomes the response topic,
 * unless `replyIsPubAck` (a stream captures the subject: the reply receives its PubAck).
 */
export function fromBrokerMessage(m: BrokerMessage, now: number, replyIsPubAck = false): MqttMessage {
  const payload = Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  const properties: MessageProperties = {};
  let qos: QoS = 0;
  let retain = false;
  let origin: string | null = null;
  let logSeq: number | undefined;
  const headers = m.headers;
  if (headers !== null) {
    let user: UserProperties | undefined;
    for (const [key, value] of headers) {
      const lower = key.toLowerCase();
      if (!RESERVED.has(lower)) {
        user ??= {};
        const prev = user[key];
        user[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
        continue;
      }
      switch (lower) {
        case 'mqtt-qos': qos = value === '2' ? 2 : value === '1' ? 1 : 0; break;
        case 'mqtt-retain': retain = saysRetain(value); break;
        case 'mqtt-origin': origin = value; break;
        case 'mqtt-message-expiry': {
          const n = Number(value);
          if (Number.isInteger(n) && n >= 0) properties.messageExpiryInterval = n;
          break;
        }
        case 'mqtt-payload-format': properties.payloadFormatIndicator = value === '1'; break;
        case 'mqtt-correlation-data': properties.correlationData = Buffer.from(value, 'base64'); break;
        case 'content-type': properties.contentType = value; break;
        case 'mqtt-response-topic': properties.responseTopic = value; break;
        case 'mqtt-seq': {
          const n = Number(value);
          if (Number.isSafeInteger(n) && n > 0) logSeq = n;
          break;
        }
      }
    }
    if (user !== undefined) properties.userProperties = user;
  }
  if (m.reply !== null && !replyIsPubAck && properties.responseTopic === undefined) properties.responseTopic = subjectToTopic(m.reply);
  return { topic: subjectToTopic(m.subject), payload, qos, retain, properties, receivedAt: now, origin, logSeq };
}

/** Whether an `Mqtt-Retain` header value asks for retain: `1` (what gateways write) or `true`, any case. */
export function saysRetain(value: string | undefined): boolean {
  return value === '1' || (value !== undefined && value.length === 4 && value.toLowerCase() === 'true');
}

/** A copy of `headers` (which may be a shared constant) with one more header. */
export function withHeader(headers: MessageHeaders | undefined, name: string, value: string): MessageHeaders {
  const copy = new MessageHeaders();
  for (const [k, v] of headers ?? []) copy.append(k, v);
  return copy.append(name, value);
}

/** Seconds of message expiry left, or null when none was set; <= 0 means expired [MQTT-3.3.2-5]. */
export function remainingExpiry(message: MqttMessage, now: number): number | null {
  const interval = message.properties.messageExpiryInterval;
  if (interval === undefined) return null;
  return interval - Math.floor((now - message.receivedAt) / 1000);
}

/** True when a v5 PUBLISH of this message would carry properties. */
export function hasWireProperties(m: MqttMessage): boolean {
  const p = m.properties;
  return p.payloadFormatIndicator === true || p.messageExpiryInterval !== undefined || p.contentType !== undefined ||
    p.responseTopic !== undefined || p.correlationData !== undefined || p.userProperties !== undefined;
}
