// Publishing into a JetStream stream through the Broker port: a request to the
// subject, answered by the stream with a PubAck (nats-server jetstream_api.go):
//   {"stream":"ORDERS","seq":12,"duplicate":true?}  or  {"error":{"code":..,"err_code":..,"description":..}}
// Nats-Msg-Id makes the publish idempotent within the stream's duplicate window;
// Nats-Expected-Stream makes a subject captured by another stream an error
// instead of a silent success elsewhere.

import type { Broker } from '../../core/broker/broker.ts';
import { NoRespondersError, RequestTimeoutError } from '../../core/broker/errors.ts';
import type { MessageHeaders } from '../../core/broker/headers.ts';
import { errorMessage, JetStreamPublishError } from './errors.ts';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

interface WirePubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

export async function publishToStream(
  broker: Broker,
  mapping: string,
  stream: string,
  subject: string,
  data: Uint8Array,
  headers: MessageHeaders,
  msgId: string,
  timeoutMs: number,
): Promise<PubAck> {
  headers.set('Nats-Msg-Id', msgId);
  headers.set('Nats-Expected-Stream', stream);
  let reply;
  try {
    reply = await broker.request(subject, data, { timeoutMs, headers });
  } catch (error) {
    if (error instanceof NoRespondersError) {
      throw new JetStreamPublishError(mapping, subject, `no stream captures the subject (is stream ${JSON.stringify(stream)} defined?)`, null, { cause: error });
    }
    if (error instanceof RequestTimeoutError) throw new JetStreamPublishError(mapping, subject, `no PubAck within ${timeoutMs} ms`, null, { cause: error });
    throw new JetStreamPublishError(mapping, subject, errorMessage(error), null, { cause: error });
  }
  if (reply.headers !== null && reply.headers.status === 503) {
    throw new JetStreamPublishError(mapping, subject, `no stream captures the subject (is stream ${JSON.stringify(stream)} defined?)`);
  }
  const text = textOf(reply.data);
  const plain = plainPubAck(text, stream);
  if (plain !== null) return plain;
  let ack: WirePubAck;
  try {
    ack = JSON.parse(text) as WirePubAck;
  } catch (error) {
    throw new JetStreamPublishError(mapping, subject, 'the reply is not a PubAck', null, { cause: error });
  }
  if (ack.error !== undefined) {
    throw new JetStreamPublishError(mapping, subject, ack.error.description ?? 'error', ack.error.err_code ?? null);
  }
  if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') throw new JetStreamPublishError(mapping, subject, 'the reply is not a PubAck');
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
}

/** The reply as text, without copying it (Buffer.from(buffer) copies). */
function textOf(data: Uint8Array): string {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('utf8');
}

/** Per stream name: `{"stream":<name>,"seq":`, the start of a plain PubAck (few streams, one entry each). */
const plainAckPrefixes = new Map<string, string>();

/**
 * The PubAck of a stored, non-duplicate publish, `{"stream":"<name>","seq":<n>}`
 * exactly as both the embedded engine and nats-server write it, read without
 * JSON.parse; null for anything else (duplicate, domain, error), which takes
 * the general path.
 */
function plainPubAck(text: string, stream: string): PubAck | null {
  let prefix = plainAckPrefixes.get(stream);
  if (prefix === undefined) {
    prefix = `{"stream":${JSON.stringify(stream)},"seq":`;
    plainAckPrefixes.set(stream, prefix);
  }
  const end = text.length - 1;
  const digits = end - prefix.length;
  // At most 15 digits: always an exact JS number. No leading zero: JSON has none.
  if (digits < 1 || digits > 15 || text.charCodeAt(end) !== 0x7d || !text.startsWith(prefix)) return null;
  if (digits > 1 && text.charCodeAt(prefix.length) === 0x30) return null;
  let seq = 0;
  for (let i = prefix.length; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return null;
    seq = seq * 10 + digit;
  }
  return { stream, seq, duplicate: false };
}
