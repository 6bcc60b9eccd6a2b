// What a direct get answers (ADR-31; nats-server stream.go getDirectRequest
// and getDirectMulti): one stored message with Nats-Stream/Subject/Sequence/
// Time-Stamp appended; with `batch`, up to that many messages, each also with
// Nats-Num-Pending and Nats-Last-Sequence, then a `204 EOB` status; with
// `multi_last`, the newest message of each matching subject (at or below
// up_to_seq / up_to_time) in sequence order, its EOB also carrying
// Nats-UpTo-Sequence so the next page reads the same snapshot.

import { appendHeaderLines } from '../protocol/headers.ts';
import { formatTime } from './rfc3339.ts';
import type { StoredMessage, StreamStore } from './store/stream-store.ts';

/** A direct get request once parsed; times in ms, absent fields as zero values. */
export interface DirectGetRequest {
  seq: number;
  lastBySubject: string;
  nextBySubject: string;
  batch: number;
  maxBytes: number;
  startTime: number | null;
  multiLast: string[];
  upToSeq: number;
  upToTime: number | null;
  noHeaders: boolean;
}

/** One message of the reply: a header block (none under no_hdr) and the payload. */
export interface DirectReply {
  header: Buffer | null;
  data: Buffer;
}

/** NS MAX_PENDING_SIZE: what a batch sends without max_bytes (the server's max_pending default, 64 MiB). */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** NS getDirectMulti maxAllowedResponses: more matching subjects than this is 413. */
const MAX_MULTI_SUBJECTS = 1024;
const EMPTY = Buffer.alloc(0);

export function directStatus(code: number, text: string): DirectReply {
  return { header: Buffer.from(`NATS/1.0 ${code}${text ? ` ${text}` : ''}\r\n\r\n`), data: EMPTY };
}

/** The stored header block with the direct-get headers appended (NS genHeader order). */
function headerOf(stream: string, m: StoredMessage, batch: { pending: number; last: number } | null): Buffer {
  let lines = `Nats-Stream: ${stream}\r\nNats-Subject: ${m.subject}\r\nNats-Sequence: ${m.seq}\r\nNats-Time-Stamp: ${formatTime(m.time)}\r\n`;
  if (batch !== null) lines += `Nats-Num-Pending: ${batch.pending}\r\nNats-Last-Sequence: ${batch.last}\r\n`;
  return appendHeaderLines(m.header, lines);
}

/** NS: a batch stops once the stored bytes sent (subject, header, payload) reach max_bytes; one message always goes. */
function storedSize(m: StoredMessage): number {
  return Buffer.byteLength(m.subject) + (m.header?.length ?? 0) + m.data.length;
}

/** The reply to a checked request (api-direct.ts validates the combinations first). */
export function directGet(stream: string, store: StreamStore, req: DirectGetRequest): DirectReply[] {
  return req.multiLast.length > 0 ? multiLast(stream, store, req) : batchOrSingle(stream, store, req);
}

function batchOrSingle(stream: string, store: StreamStore, req: DirectGetRequest): DirectReply[] {
  let seq = req.startTime !== null ? store.seqFromTime(req.startTime) : req.seq;
  const filter = req.nextBySubject;
  const isBatch = req.batch > 0;
  const batch = isBatch ? req.batch : 1;
  let pending = isBatch ? store.numPending(seq, filter === '' ? null : filter) : 0;
  const validThrough = store.state().lastSeq;
  const maxBytes = req.maxBytes > 0 ? req.maxBytes : DEFAULT_MAX_BYTES;
  const out: DirectReply[] = [];
  let last = 0;
  let sent = 0;
  for (let i = 0; i < batch; i++) {
    let m: StoredMessage | null;
    if (filter !== '') m = store.next(seq, filter);
    else if (seq > 0) m = i === 0 && !isBatch ? store.get(seq) : store.next(seq, null);
    else m = store.last(req.lastBySubject);
    if (m === null) {
      // A batch that found something ends with its EOB; nothing at all is 404.
      if (batch > 1 && i > 0) break;
      return [directStatus(404, 'Message Not Found')];
    }
    seq = m.seq + 1;
    if (isBatch && pending > 0) pending--;
    const header = req.noHeaders ? null : headerOf(stream, m, isBatch ? { pending, last } : null);
    out.push({ header, data: m.data });
    last = m.seq;
    sent += storedSize(m);
    if (sent >= maxBytes) break;
  }
  if (isBatch) {
    // Appended meanwhile: count again from where the batch stopped (NS validThrough).
    if (store.state().lastSeq > validThrough) pending = store.numPending(seq, filter === '' ? null : filter);
    out.push({ header: Buffer.from(`NATS/1.0 204 EOB\r\nNats-Num-Pending: ${pending}\r\nNats-Last-Sequence: ${last}\r\n\r\n`), data: EMPTY });
  }
  return out;
}

function multiLast(stream: string, store: StreamStore, req: DirectGetRequest): DirectReply[] {
  let upToSeq = req.upToSeq;
  if (req.upToTime !== null) {
    // The first sequence at or after the time, less one: nothing before the stream's first message is "no results".
    const at = store.seqFromTime(req.upToTime);
    if (at <= store.state().firstSeq) return [directStatus(404, 'No Results')];
    upToSeq = at - 1;
  }
  if (upToSeq === 0) upToSeq = store.state().lastSeq;
  const seen = new Set<number>();
  for (const filter of req.multiLast) {
    for (const seq of store.lastPerSubject(filter, upToSeq)) seen.add(seq);
    if (seen.size > MAX_MULTI_SUBJECTS) return [directStatus(413, 'Too Many Results')];
  }
  if (seen.size === 0) return [directStatus(404, 'No Results')];
  const seqs = Float64Array.from(seen).sort();
  const maxBytes = req.maxBytes > 0 ? req.maxBytes : DEFAULT_MAX_BYTES;
  const out: DirectReply[] = [];
  let pending = seqs.length;
  let last = 0;
  let sentBytes = 0;
  let sent = 0;
  for (const seq of seqs) {
    pending--;
    // `seq` is the next page's lower bound (ADR-31 pagination).
    if (seq < req.seq) continue;
    const m = store.get(seq);
    if (m === null) return [directStatus(404, 'Message Not Found')];
    // NS getDirectMulti sends the headers even under no_hdr.
    out.push({ header: headerOf(stream, m, { pending, last }), data: m.data });
    last = m.seq;
    sentBytes += storedSize(m);
    if (sentBytes >= maxBytes) break;
    if (req.batch > 0 && ++sent >= req.batch) break;
  }
  out.push({ header: Buffer.from(`NATS/1.0 204 EOB\r\nNats-Num-Pending: ${pending}\r\nNats-Last-Sequence: ${last}\r\nNats-UpTo-Sequence: ${upToSeq}\r\n\r\n`), data: EMPTY });
  return out;
}
