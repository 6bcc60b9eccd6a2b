// The consistency checks an atomic batch passes as a whole before any of it is
// stored (ADR-50 "Stream State Constraints"; nats-server jetstream_batching.go
// checkMsgHeadersPreClusteredProposal and processJetStreamAtomicBatchMsg).
// Every rule that could make Stream.ingest refuse a message of the batch is
// checked here first, against the stream as it was before the batch plus the
// messages of the batch ahead of it: a batch is stored all or nothing, so it
// must not fail halfway.

import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { incrementOf } from './counter.ts';
import { JsError } from './errors.ts';
import { checkSchedulePublish } from './message-schedule.ts';
import { parseMessageTtl, TtlHeader } from './message-ttl.ts';
import { nowMs, StoreLimitKind } from './store/stream-store.ts';
import { JS_HEADER_PREFIX, JsHeader, type Stream } from './stream.ts';

/** One message of a batch as it will be stored: its stored subject, header block and payload (views of `raw`, both together). */
export interface BatchMessage {
  readonly subject: string;
  readonly header: Buffer;
  readonly data: Buffer;
  readonly raw: Buffer;
}

/** A batch message holding its own copy of `header` and `data` (the publish's buffer is not ours to keep). */
export function batchMessage(subject: string, header: Buffer, data: Buffer): BatchMessage {
  const raw = Buffer.concat([header, data]);
  return { subject, header: raw.subarray(0, header.length), data: raw.subarray(header.length), raw };
}

/** nats-server's 64 KiB header limit (it encodes the length in 16 bits). */
const MAX_HEADER_BYTES = 64 * 1024;

/** What the batch ahead of the message being checked adds up to. */
class Staged {
  msgs = 0;
  bytes = 0;
  readonly perSubject = new Map<string, number>();
  readonly msgIds = new Set<string>();

  add(subject: string, bytes: number): void {
    this.msgs++;
    this.bytes += bytes;
    this.perSubject.set(subject, (this.perSubject.get(subject) ?? 0) + 1);
  }
}

function storeFailed(kind: StoreLimitKind): JetStreamApiError {
  return JetStreamApiError.of(JsError.StreamStoreFailed, kind);
}

function rollupFailed(text: string): JetStreamApiError {
  return JetStreamApiError.of(JsError.StreamRollupFailed, text);
}

/** Throw the error nats-server answers the commit with when `batch` cannot be stored as a whole. */
export function checkAtomicBatch(stream: Stream, batch: readonly BatchMessage[]): void {
  const lastSeq = stream.store.state().lastSeq;
  const staged = new Staged();
  batch.forEach((m, i) => {
    const h = parseHeaders(m.header, JS_HEADER_PREFIX);
    // ADR-50: Nats-Expected-Last-Msg-Id has no meaning inside a batch.
    if (h.get(JsHeader.ExpectedLastMsgId) !== undefined) {
      throw new JetStreamApiError(JsError.AtomicPublishUnsupportedHeaderBatch, { header: JsHeader.ExpectedLastMsgId });
    }
    checkMessage(stream, m, h, i, lastSeq, staged);
    staged.add(m.subject, stream.store.sizeOf(m.subject, m.header, m.data));
  });
}

function checkMessage(stream: Stream, m: BatchMessage, h: MessageHeaders, index: number, lastSeq: number, staged: Staged): void {
  const cfg = stream.config;
  if (m.header.length > MAX_HEADER_BYTES) throw new JetStreamApiError(JsError.StreamHeaderExceedsMaximum);
  const increment = incrementOf(h, cfg.allowMsgCounter, m.data.length);
  const expectedStream = h.get(JsHeader.ExpectedStream);
  if (expectedStream !== undefined && expectedStream !== cfg.name) throw new JetStreamApiError(JsError.StreamNotMatch);
  const ttl = h.get(TtlHeader.Ttl);
  if (ttl !== undefined && ttl !== '') {
    // As Stream.ingest: parseMessageTtl throws 10165 for an unreadable value; a readable one needs allow_msg_ttl.
    parseMessageTtl(ttl);
    if (!cfg.allowMsgTtl) throw new JetStreamApiError(JsError.MessageTTLDisabled);
  }
  const msgId = h.get(JsHeader.MsgId) ?? '';
  if (msgId !== '') {
    // ADR-50 (2.12.1): a batch holding a duplicate is refused whole.
    if (staged.msgIds.has(msgId) || stream.knowsMsgId(msgId)) throw new JetStreamApiError(JsError.AtomicPublishContainsDuplicateMessage);
    staged.msgIds.add(msgId);
  }
  if (cfg.allowMsgCounter && increment === null) throw new JetStreamApiError(JsError.MessageIncrMissing);
  checkExpectations(stream, m.subject, h, index, lastSeq, staged);
  // ADR-51 in a batch too (NS checkMsgHeadersPreClusteredProposal): a schedule rolls its subject up (Stream.ingest
  // adds the header when it stores it), so it is checked as a roll-up of its subject here.
  const scheduleRollup = checkSchedulePublish(h, m.subject, stream, nowMs());
  const rollup = scheduleRollup ? 'sub' : (h.get(JsHeader.Rollup) ?? '');
  if (rollup !== '') {
    if (!cfg.allowRollupHdrs || cfg.denyPurge) throw rollupFailed('rollup not permitted');
    // A rollup inside a batch must not remove what the batch itself stored before it.
    if (rollup === 'sub') {
      if (staged.perSubject.has(m.subject)) throw rollupFailed('batch rollup sub invalid');
    } else if (rollup === 'all') {
      if (index > 0) throw rollupFailed('batch rollup all invalid');
    } else {
      throw rollupFailed(`rollup value invalid: ${JSON.stringify(rollup)}`);
    }
  }
  checkLimits(stream, m, rollup !== '', staged);
}

/** ADR-50: expectations see the stream as it was before the batch; only the first message may name the last sequence. */
function checkExpectations(stream: Stream, subject: string, h: MessageHeaders, index: number, lastSeq: number, staged: Staged): void {
  const expectedLast = h.get(JsHeader.ExpectedLastSeq);
  if (expectedLast !== undefined) {
    // nats-server compares with the sequence this message would follow, then refuses any but the first.
    const before = lastSeq + index;
    if (Number(expectedLast) !== before) throw new JetStreamApiError(JsError.StreamWrongLastSequence, { seq: before });
    if (index > 0) throw new JetStreamApiError(JsError.StreamWrongLastSequenceConstant);
  }
  const expectedSubj = h.get(JsHeader.ExpectedLastSubjSeq);
  if (expectedSubj !== undefined) {
    if (staged.perSubject.has(subject)) throw new JetStreamApiError(JsError.StreamWrongLastSequenceConstant);
    const actual = stream.store.lastSeqOf(subject);
    if (Number(expectedSubj) !== actual) throw new JetStreamApiError(JsError.StreamWrongLastSequence, { seq: actual });
  }
}

/** Discard new: the stream plus the batch so far must stay within the limits (nats-server counts the inflight batch). */
function checkLimits(stream: Stream, m: BatchMessage, rollup: boolean, staged: Staged): void {
  const limits = stream.store.limits();
  if (limits.discard !== 'new') return;
  const state = stream.store.state();
  if (limits.maxMsgs > 0 && state.msgs + staged.msgs + 1 > limits.maxMsgs) throw storeFailed(StoreLimitKind.MaxMsgs);
  const bytes = state.bytes + staged.bytes + stream.store.sizeOf(m.subject, m.header, m.data);
  if (limits.maxBytes > 0 && bytes > limits.maxBytes) throw storeFailed(StoreLimitKind.MaxBytes);
  // A rollup purges its subject once stored, so it never counts against the subject's limit.
  if (limits.discardNewPerSubject && limits.maxMsgsPerSubject > 0 && !rollup) {
    const stored = stream.store.subjectCounts(m.subject).get(m.subject) ?? 0;
    if (stored + (staged.perSubject.get(m.subject) ?? 0) + 1 > limits.maxMsgsPerSubject) throw storeFailed(StoreLimitKind.MaxMsgsPerSubject);
  }
}
