// Stream ingest limits (nats-server 2.11, stream.go queueInbound): a stream
// takes at most so many messages, and bytes, that are not yet written; past
// that a publish is refused with 429 JSStreamTooManyRequests instead of
// growing the server's memory. nats-server counts its per-stream inbound
// queue; here a publish is processed at once and what waits is the write of
// its turn (jetstream-engine.ts "Batching"), so that is what is counted: from
// the append until the store reports the turn written.

import { MessageHeaders } from '../protocol/headers.ts';
import { errorPubAck } from './ack-encoder.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JsError } from './errors.ts';
import type { Stream } from './stream.ts';

/** nats-server's jetstream `max_buffered_msgs` and `max_buffered_size` (stream.go streamDefaultMaxQueue*). */
export interface IngestLimits {
  maxBufferedMsgs: number;
  maxBufferedSize: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = Object.freeze({ maxBufferedMsgs: 100_000, maxBufferedSize: 128 * 1024 * 1024 });

/** The status line nats-server puts on the refusal, before the JSON error. */
export const TOO_MANY_REQUESTS_HEADER = MessageHeaders.status(429, 'Too Many Requests').encode();

interface Pending {
  msgs: number;
  bytes: number;
}

export class IngestBacklog {
  private readonly pending = new Map<Stream, Pending>();

  constructor(private readonly limits: IngestLimits = DEFAULT_INGEST_LIMITS) {}

  /** Would one more message of `bytes` (subject, reply, header and payload) put `stream` over its limit? */
  full(stream: Stream, bytes: number): boolean {
    const p = this.pending.get(stream);
    if (p === undefined) return false;
    return p.msgs >= this.limits.maxBufferedMsgs || p.bytes + bytes > this.limits.maxBufferedSize;
  }

  added(stream: Stream, bytes: number): void {
    const p = this.pending.get(stream);
    if (p === undefined) this.pending.set(stream, { msgs: 1, bytes });
    else {
      p.msgs++;
      p.bytes += bytes;
    }
  }

  /** The turn that appended it is written (or failed and was rolled back): it no longer waits. */
  written(stream: Stream, bytes: number): void {
    const p = this.pending.get(stream);
    if (p === undefined) return;
    p.msgs--;
    p.bytes -= bytes;
    if (p.msgs <= 0) this.pending.delete(stream);
  }

  forget(stream: Stream): void {
    this.pending.delete(stream);
  }
}

/** The refusal's JSON (JSPubAckResponse with JSStreamTooManyRequests). */
export function tooManyRequests(stream: Stream): Buffer {
  return errorPubAck(stream.name, new JetStreamApiError(JsError.StreamTooManyRequests));
}
