// Translation between a Kafka record and a NATS message, keeping every byte.
//
// Kafka -> NATS (origin headers, README "Kafka bridge"):
//   Kafka-Topic, Kafka-Partition, Kafka-Offset, Kafka-Timestamp (ms since epoch)
//   Kafka-Key: <key> when the key is header-safe text, else Kafka-Key-B64: <base64>;
//   no key header at all for a null key
//   Kafka-Tombstone: true for a null value (the NATS body is then empty)
// Each Kafka header becomes one NATS header, repeats included, when its name and
// value are header-safe; otherwise (binary value, ':' in the name, a name that
// collides with the Kafka-* names above) it travels as
//   Kafka-Binary-Header: <base64 name> <base64 value>   (no value part = null value)
// NATS -> Kafka reverses all of this; other NATS headers become Kafka headers as
// UTF-8, multi-value headers as repeated Kafka headers, nothing truncated. The
// `Mqtt-*` names are the MQTT gateway's (QoS, retain, expiry, and its internal
// log sequence and origin, gateways/mqtt/README.md "Messages"): MQTT delivery
// facts that mean nothing to a Kafka consumer, so they are not written.

import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { MessageHeaders } from '../../core/broker/headers.ts';

export const H = {
  topic: 'Kafka-Topic',
  partition: 'Kafka-Partition',
  offset: 'Kafka-Offset',
  timestamp: 'Kafka-Timestamp',
  key: 'Kafka-Key',
  keyB64: 'Kafka-Key-B64',
  tombstone: 'Kafka-Tombstone',
  binary: 'Kafka-Binary-Header',
} as const;

const RESERVED_PREFIX = 'kafka-';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** NATS header names: printable ASCII without ':' (ADR-4). */
function isSafeHeaderName(name: string): boolean {
  return /^[\x21-\x39\x3b-\x7e]+$/.test(name) && !name.toLowerCase().startsWith(RESERVED_PREFIX);
}

/** Printable ASCII (0x20-0x7e) without a space at either end: safe header text as it is. */
function isPlainAscii(bytes: Buffer): boolean {
  const n = bytes.length;
  if (n > 0 && (bytes[0] === 0x20 || bytes[n - 1] === 0x20)) return false;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** Text that survives a NATS header line unchanged: no control characters, no edge whitespace (the parser trims). */
function safeHeaderText(bytes: Buffer): string | null {
  // The usual key, read without TextDecoder and the regular expressions.
  if (isPlainAscii(bytes)) return bytes.toString('latin1');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  if (/[\x00-\x1f\x7f]/.test(text) || text !== text.trim()) return null;
  return text;
}

function appendKafkaHeader(out: MessageHeaders, name: string, value: Buffer | string | null | undefined): void {
  const bytes = value === null || value === undefined ? null : typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const text = bytes === null ? null : safeHeaderText(bytes);
  if (text !== null && isSafeHeaderName(name)) {
    out.append(name, text);
    return;
  }
  const encodedName = Buffer.from(name, 'utf8').toString('base64');
  out.append(H.binary, bytes === null ? encodedName : `${encodedName} ${bytes.toString('base64')}`);
}

export interface RecordOrigin {
  topic: string;
  partition: number;
}

export function kafkaRecordToNatsHeaders(origin: RecordOrigin, record: KafkaMessage): MessageHeaders {
  const out = new MessageHeaders();
  out.append(H.topic, origin.topic);
  out.append(H.partition, String(origin.partition));
  out.append(H.offset, record.offset);
  out.append(H.timestamp, record.timestamp);
  if (record.key !== null && record.key !== undefined) {
    const text = safeHeaderText(record.key);
    if (text !== null) out.append(H.key, text);
    else out.append(H.keyB64, record.key.toString('base64'));
  }
  if (record.value === null) out.append(H.tombstone, 'true');
  const headers = record.headers ?? {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) appendKafkaHeader(out, name, v);
    else appendKafkaHeader(out, name, value);
  }
  return out;
}

/** The Kafka key a NATS message carries from an earlier Kafka -> NATS hop, if any. */
export function originKey(headers: MessageHeaders | null): Buffer | null {
  if (headers === null) return null;
  const text = headers.get(H.key);
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const b64 = headers.get(H.keyB64);
  return b64 === undefined ? null : Buffer.from(b64, 'base64');
}

/** True when the message came out of Kafka through a bridge (loop prevention). */
export function hasKafkaOrigin(headers: MessageHeaders | null): boolean {
  return headers !== null && headers.get(H.topic) !== undefined;
}

const BRIDGE_OWNED = new Set(Object.values(H).map((name) => name.toLowerCase()));
/** The MQTT gateway's reserved header names, lower case (see above). */
const MQTT_RESERVED_PREFIX = 'mqtt-';

function addHeader(out: IHeaders, name: string, value: Buffer | null): void {
  // kafkajs writes a header per array element, so repeats stay repeats.
  const existing = out[name];
  // kafkajs cannot write a null header value (it measures it as a string), so a
  // null from Kafka comes back as an empty value: the one documented loss.
  const v = value ?? Buffer.alloc(0);
  if (existing === undefined) out[name] = v;
  else if (Array.isArray(existing)) existing.push(v);
  else out[name] = [existing, v];
}

export interface KafkaRecordDraft {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp?: string;
}

/** NATS message -> Kafka record; `key` is the mapping's rendered key (undefined: use the origin key). */
export function natsToKafkaRecord(headers: MessageHeaders | null, data: Uint8Array, key: Buffer | null | undefined): KafkaRecordDraft {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: IHeaders = {};
  let tombstone = false;
  let timestamp: string | undefined;
  if (headers !== null) {
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      if (lower === H.binary.toLowerCase()) {
        const [encodedName, encodedValue] = value.split(' ');
        addHeader(out, Buffer.from(encodedName, 'base64').toString('utf8'), encodedValue === undefined ? null : Buffer.from(encodedValue, 'base64'));
      } else if (lower === H.tombstone.toLowerCase()) {
        tombstone = value === 'true';
      } else if (lower === H.timestamp.toLowerCase()) {
        if (/^[0-9]{1,16}$/.test(value)) timestamp = value;
      } else if (!BRIDGE_OWNED.has(lower) && !lower.startsWith(MQTT_RESERVED_PREFIX)) {
        addHeader(out, name, Buffer.from(value, 'utf8'));
      }
    }
  }
  return {
    key: key === undefined ? originKey(headers) : key,
    value: tombstone && body.length === 0 ? null : body,
    headers: out,
    timestamp,
  };
}

export function toKafkaMessage(draft: KafkaRecordDraft): Message {
  const message: Message = { key: draft.key, value: draft.value, headers: draft.headers };
  if (draft.timestamp !== undefined) message.timestamp = draft.timestamp;
  return message;
}
