// The JSON form of a message in event streams (SSE `data:` and NDJSON lines).
// Payloads that are valid UTF-8 travel as text in `data`; anything else (or every
// payload, with `?encoding=base64`) travels as `data_base64`. Exactly one is present.

import { isUtf8 } from 'node:buffer';
import type { BrokerMessage } from '../../core/broker/broker.ts';
import { natsHeadersToJson } from './headers.ts';

export type PayloadEncoding = 'auto' | 'base64';

export interface MessageEnvelope {
  subject: string;
  reply?: string;
  headers?: Record<string, string[]>;
  data?: string;
  data_base64?: string;
  size: number;
  [extra: string]: unknown;
}

export function encodePayload(data: Uint8Array, encoding: PayloadEncoding): { data: string } | { data_base64: string } {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (encoding === 'auto' && isUtf8(buffer)) return { data: buffer.toString('utf8') };
  return { data_base64: buffer.toString('base64') };
}

export function messageEnvelope(message: BrokerMessage, encoding: PayloadEncoding): MessageEnvelope {
  const headers = natsHeadersToJson(message.headers);
  return {
    subject: message.subject,
    ...(message.reply === null ? {} : { reply: message.reply }),
    ...(headers === undefined ? {} : { headers }),
    ...encodePayload(message.data, encoding),
    size: message.data.byteLength,
  };
}

/** JSON Schema of the envelope, shared by the route schemas and the OpenAPI document. */
export const MESSAGE_ENVELOPE_SCHEMA = {
  type: 'object',
  required: ['subject', 'size'],
  properties: {
    subject: { type: 'string' },
    reply: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    data: { type: 'string', description: 'The payload as UTF-8 text, when it is valid UTF-8 and encoding=auto' },
    data_base64: { type: 'string', description: 'The payload in base64, otherwise' },
    size: { type: 'integer', description: 'Payload size in bytes' },
  },
} as const;
