// A stored message as STREAM.MSG.GET returns it (header block and body in
// base64), and the one decoder every reader of stored messages uses.

import { parseHeaders, type MessageHeaders } from '../broker/headers.ts';

export interface StoredMessageWire {
  subject: string;
  seq: number;
  /** Header block, base64. */
  hdrs?: string;
  /** Payload, base64. */
  data?: string;
  time: string;
}

export interface MessageGetRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
}

export interface StoredMessage {
  subject: string;
  seq: number;
  headers: MessageHeaders | null;
  data: Buffer;
  /** When it was stored (RFC 3339). */
  time: string;
}

export function decodeStoredMessage(m: StoredMessageWire): StoredMessage {
  return {
    subject: m.subject,
    seq: m.seq,
    headers: m.hdrs ? parseHeaders(Buffer.from(m.hdrs, 'base64')) : null,
    data: m.data ? Buffer.from(m.data, 'base64') : Buffer.alloc(0),
    time: m.time,
  };
}
