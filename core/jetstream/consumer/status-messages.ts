// The header-only status messages a consumer sends, byte for byte as
// nats-server writes them (NS consumer.go): clients switch on the code and the
// lower-cased description (nats.js JetStreamStatus).

import { appendHeaderLines } from '../../protocol/headers.ts';

export const PENDING_MSGS = 'Nats-Pending-Messages';
export const PENDING_BYTES = 'Nats-Pending-Bytes';
export const LAST_CONSUMER = 'Nats-Last-Consumer';
export const LAST_STREAM = 'Nats-Last-Stream';
export const CONSUMER_STALLED = 'Nats-Consumer-Stalled';
export const MSG_SIZE = 'Nats-Msg-Size';

export function statusHeader(code: number, description: string): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}\r\n\r\n`);
}

/** 408 Request Timeout / 409 Message Size Exceeds MaxBytes: what the request still wanted. */
export function statusWithPending(code: number, description: string, msgs: number, bytes: number): Buffer {
  return Buffer.from(`NATS/1.0 ${code} ${description}\r\n${PENDING_MSGS}: ${msgs}\r\n${PENDING_BYTES}: ${bytes}\r\n\r\n`);
}

export function idleHeartbeat(lastConsumerSeq: number, lastStreamSeq: number, stalledOn: string | null): Buffer {
  const stalled = stalledOn !== null ? `${CONSUMER_STALLED}: ${stalledOn}\r\n` : '';
  return Buffer.from(`NATS/1.0 100 Idle Heartbeat\r\n${LAST_CONSUMER}: ${lastConsumerSeq}\r\n${LAST_STREAM}: ${lastStreamSeq}\r\n${stalled}\r\n`);
}

export const FLOW_CONTROL_REQUEST = statusHeader(100, 'FlowControl Request');
export const NO_MESSAGES = statusHeader(404, 'No Messages');
export const CONSUMER_DELETED = statusHeader(409, 'Consumer Deleted');
export const PUSH_BASED = statusHeader(409, 'Consumer is push based');
export const EXCEEDED_MAX_WAITING = statusHeader(409, 'Exceeded MaxWaiting');

/** headers_only delivery: the stored header block plus Nats-Msg-Size, and no body. */
export function withMsgSize(header: Buffer | null, size: number): Buffer {
  return appendHeaderLines(header, `${MSG_SIZE}: ${size}\r\n`);
}

/** ADR-42: the pinned client's id, on every message delivered under pinned_client. */
const PIN_ID = 'Nats-Pin-Id';
export const PIN_ID_MISMATCH = statusHeader(423, 'Nats-Pin-Id mismatch');

export function withPinId(header: Buffer | null, id: string): Buffer {
  return appendHeaderLines(header, `${PIN_ID}: ${id}\r\n`);
}
