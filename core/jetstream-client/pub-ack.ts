// A stream's answer to a publish (nats-server jetstream_api.go):
//   {"stream":"ORDERS","seq":12,"duplicate":true?,"domain":..?,"val":..?}
//   or {"error":{"code":..,"err_code":..,"description":..}}

import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { PubAck } from '../protocol/jetstream-wire.ts';

interface WirePubAck extends Partial<PubAck> {
  error?: { code?: number; err_code?: number; description?: string };
}

/** The PubAck in `text`; throws JetStreamApiError for an error answer or anything that is not a PubAck. */
export function readPubAck(subject: string, text: string, expectedStream?: string): PubAck {
  if (expectedStream !== undefined) {
    const plain = plainPubAck(text, expectedStream);
    if (plain !== null) return plain;
  }
  const op = `publish to ${subject}`;
  let ack: WirePubAck;
  try {
    ack = JSON.parse(text) as WirePubAck;
  } catch (error) {
    throw new JetStreamApiError({ code: 500, errCode: 0, description: `the reply is not a PubAck: ${(error as Error).message}` }, {}, { op, cause: error });
  }
  if (ack.error !== undefined) {
    throw JetStreamApiError.fromWire(op, { code: ack.error.code ?? 500, err_code: ack.error.err_code ?? 0, description: ack.error.description ?? 'error' });
  }
  if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') throw new JetStreamApiError({ code: 500, errCode: 0, description: 'the reply is not a PubAck' }, {}, { op });
  return ack as PubAck;
}

/** Per stream name: `{"stream":<name>,"seq":`, the start of a plain PubAck (few streams, one entry each). */
const plainAckPrefixes = new Map<string, string>();

/**
 * The PubAck of a stored, non-duplicate publish, `{"stream":"<name>","seq":<n>}`
 * exactly as both the embedded engine and nats-server write it, read without
 * JSON.parse (the Kafka bridge's hot path); null for anything else (duplicate,
 * domain, error), which takes the general path.
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
