// Atomic batch publish (ADR-50, nats-server 2.12): messages carrying
// `Nats-Batch-Id` and `Nats-Batch-Sequence` are staged, in order, until one
// carries `Nats-Batch-Commit` ("1": store it too; "eob": it only ends the
// batch). The commit checks the batch as a whole (atomic-batch-check.ts) and
// stores every message in the same event-loop turn, so the engine writes the
// batch to the store with one commit (jetstream-engine.ts "Batching"); a batch
// that a kill -9 cut short on disk is taken back at the next start
// (rollBackPartialBatch). The rules, limits and error codes are nats-server's
// (stream.go processJetStreamAtomicBatchMsg, jetstream_batching.go).

import { randomBytes } from 'node:crypto';
import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { batchMessage, checkAtomicBatch, type BatchMessage } from './atomic-batch-check.ts';
import { BatchRegistry } from './batch-registry.ts';
import { JsError } from './errors.ts';
import { formatTime } from './rfc3339.ts';
import { stripRequiredApiLevel } from './required-api-level.ts';
import { nowMs, type StoredMessage, type StreamStore } from './store/stream-store.ts';
import type { Stream } from './stream.ts';

export const BatchHeader = {
  Id: 'Nats-Batch-Id',
  Sequence: 'Nats-Batch-Sequence',
  Commit: 'Nats-Batch-Commit',
} as const;

const BATCH_ID_BYTES = Buffer.from(BatchHeader.Id);

/** Does the header block (the first headerSize bytes) name a batch? A byte search: most publishes have no batch. */
export function hasBatchId(message: Buffer, headerSize: number): boolean {
  if (headerSize <= 0) return false;
  const at = message.indexOf(BATCH_ID_BYTES);
  return at >= 0 && at < headerSize;
}

/** nats-server's limits (stream.go streamDefaultMaxAtomicBatch*, streamDefaultMaxBatchTimeout). */
export interface AtomicBatchLimits {
  /** Batches being staged in one stream. */
  maxInflightPerStream: number;
  /** Batches being staged in the whole server. */
  maxInflightTotal: number;
  /** Messages in one batch (an "eob" commit does not count). */
  maxBatchSize: number;
  /** A batch with no message for this long is abandoned. */
  timeoutMs: number;
}

export const DEFAULT_ATOMIC_BATCH_LIMITS: Readonly<AtomicBatchLimits> = Object.freeze({
  maxInflightPerStream: 50,
  maxInflightTotal: 1000,
  maxBatchSize: 1000,
  timeoutMs: 10_000,
});

/** Most characters in a batch id (ADR-50). */
const MAX_BATCH_ID = 64;

/** Why a batch was dropped, as the BATCH_ABANDONED advisory says (nats-server jetstream_events.go). */
export const BatchAbandonReason = { Timeout: 'timeout', Large: 'large', Incomplete: 'incomplete', Unsupported: 'unsupported' } as const;
export type BatchAbandonReason = (typeof BatchAbandonReason)[keyof typeof BatchAbandonReason];

/** What the engine does for the batch: store the committed messages, tell the world a batch was dropped. */
export interface AtomicBatchHost {
  /** Store one message of a committed batch; returns its sequence (throws JetStreamApiError like a publish). */
  storeBatchMessage(stream: Stream, m: BatchMessage): number;
  /** Take back what a commit stored before one of its messages failed. */
  unstore(stream: Stream, seqs: readonly number[]): void;
  publishAdvisory(subject: string, body: Record<string, unknown>): void;
}

/** The answer to one batch message: a PubAck, an error, or the empty "staged" ack. */
export type BatchAnswer = { kind: 'staged' } | { kind: 'ack'; body: Record<string, unknown> } | { kind: 'error'; error: JetStreamApiError };

/** A batch being staged: its messages so far. */
type Batch = BatchMessage[];

export class AtomicBatches {
  private readonly batches: BatchRegistry<Batch>;

  constructor(private readonly host: AtomicBatchHost, private readonly limits: AtomicBatchLimits = DEFAULT_ATOMIC_BATCH_LIMITS) {
    this.batches = new BatchRegistry(limits, JsError.AtomicPublishTooManyInflight, (stream, id) => this.advise(stream, id, BatchAbandonReason.Timeout));
  }

  /** One captured message with a Nats-Batch-Id header (`subject` already as stored); null: an empty id, no batch. */
  publish(stream: Stream, subject: string, headerSize: number, message: Buffer): BatchAnswer | null {
    const header = message.subarray(0, headerSize);
    const h = parseHeaders(header);
    // nats-server getBatchId: an empty id is no batch, the message is an ordinary publish.
    if ((h.get(BatchHeader.Id) ?? '') === '') return null;
    try {
      return this.accept(stream, subject, h, header, message.subarray(headerSize));
    } catch (err) {
      if (err instanceof JetStreamApiError) return { kind: 'error', error: err };
      throw err;
    }
  }

  /** The stream went away or stopped allowing batches: its staged batches go with it. */
  dropStream(stream: Stream): void {
    this.batches.dropStream(stream);
  }

  stop(): void {
    this.batches.stop();
  }

  private accept(stream: Stream, subject: string, h: MessageHeaders, header: Buffer, data: Buffer): BatchAnswer {
    const cfg = stream.config;
    // The order of checks is nats-server's, so the same bad batch gets the same error.
    if (cfg.sealed) throw new JetStreamApiError(JsError.StreamSealed);
    if (cfg.maxMsgSize > 0 && header.length + data.length > cfg.maxMsgSize) throw new JetStreamApiError(JsError.StreamMessageExceedsMaximum);
    if (!cfg.allowAtomic) throw new JetStreamApiError(JsError.AtomicPublishDisabled);
    const id = h.get(BatchHeader.Id) ?? '';
    if (id.length > MAX_BATCH_ID) throw new JetStreamApiError(JsError.AtomicPublishInvalidBatchId);
    const seqText = h.get(BatchHeader.Sequence);
    if (seqText === undefined || !/^\d+$/.test(seqText)) throw new JetStreamApiError(JsError.AtomicPublishMissingSeq);
    const seq = Number(seqText);
    const commitText = h.get(BatchHeader.Commit);
    const eob = commitText === 'eob';
    // An "eob" commit only ends the batch: it is not one of its messages.
    const size = eob ? seq - 1 : seq;
    let batch = this.batches.get(stream, id);
    if (batch === undefined) {
      if (seq !== 1) {
        if (size > this.limits.maxBatchSize) throw new JetStreamApiError(JsError.AtomicPublishTooLargeBatch, { size: this.limits.maxBatchSize });
        throw new JetStreamApiError(JsError.AtomicPublishIncompleteBatch);
      }
      batch = this.batches.open(stream, id, []);
    }
    if (commitText !== undefined && !eob && commitText !== '1') {
      this.batches.discard(stream, id);
      throw new JetStreamApiError(JsError.AtomicPublishInvalidBatchCommit);
    }
    // ADR-44: a batch asking for more than this server does is refused whole.
    const stripped = stripRequiredApiLevel(header);
    if (stripped === null) {
      this.abandon(stream, id, BatchAbandonReason.Unsupported);
      throw new JetStreamApiError(JsError.RequiredApiLevel);
    }
    header = stripped;
    this.batches.touch(stream, id);
    // A gap (or an "eob" with nothing before it) means a message was lost: the batch cannot be whole.
    if (seq !== batch.length + 1 || (seq === 1 && eob)) {
      this.abandon(stream, id, BatchAbandonReason.Incomplete);
      throw new JetStreamApiError(JsError.AtomicPublishIncompleteBatch);
    }
    if (size > this.limits.maxBatchSize) {
      this.abandon(stream, id, BatchAbandonReason.Large);
      throw new JetStreamApiError(JsError.AtomicPublishTooLargeBatch, { size: this.limits.maxBatchSize });
    }
    if (commitText === undefined) {
      batch.push(batchMessage(subject, header, data));
      return { kind: 'staged' };
    }
    this.batches.discard(stream, id);
    const messages = batch;
    if (eob) {
      // ADR-50: the last stored message gets the commit header the "eob" message carried instead.
      const last = messages.length - 1;
      const committed = parseHeaders(messages[last].header).set(BatchHeader.Commit, '1');
      messages[last] = batchMessage(messages[last].subject, committed.encode(), messages[last].data);
    } else {
      messages.push(batchMessage(subject, header, data));
    }
    return this.commit(stream, id, messages);
  }

  /** Check the batch whole, then store it all in this turn; a failure takes back what was stored. */
  private commit(stream: Stream, id: string, messages: BatchMessage[]): BatchAnswer {
    checkAtomicBatch(stream, messages);
    const seqs: number[] = [];
    try {
      for (const m of messages) seqs.push(this.host.storeBatchMessage(stream, m));
    } catch (err) {
      this.host.unstore(stream, seqs);
      throw err;
    }
    return { kind: 'ack', body: { stream: stream.name, seq: seqs[seqs.length - 1], batch: id, count: messages.length } };
  }

  /** Drop a batch and say why on `$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.<stream>`. */
  private abandon(stream: Stream, id: string, reason: BatchAbandonReason): void {
    this.batches.discard(stream, id);
    this.advise(stream, id, reason);
  }

  private advise(stream: Stream, id: string, reason: BatchAbandonReason): void {
    this.host.publishAdvisory(`$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.${stream.name}`, {
      type: 'io.nats.jetstream.advisory.v1.stream_batch_abandoned',
      id: randomBytes(11).toString('hex'),
      timestamp: formatTime(nowMs()),
      stream: stream.name,
      batch: id,
      reason,
    });
  }
}

/**
 * At start, before anything reads the stream: a commit that a kill -9 cut
 * short left the first messages of its batch at the end of the stream, the
 * last of them without Nats-Batch-Commit. Their client got no PubAck, so they
 * are taken back (nats-server instead replays the batch from its staging
 * directory: either way the batch is all or nothing). Returns the first
 * sequence removed, or 0.
 */
export function rollBackPartialBatch(store: StreamStore): number {
  const last = store.last('>');
  if (last === null || last.header === null) return 0;
  const tail = parseHeaders(last.header);
  const id = tail.get(BatchHeader.Id) ?? '';
  if (id === '' || tail.get(BatchHeader.Commit) !== undefined) return 0;
  let first = 0;
  for (let m: StoredMessage | null = last; m !== null && m.header !== null; m = store.get(m.seq - 1)) {
    const h = parseHeaders(m.header);
    if (h.get(BatchHeader.Id) !== id) break;
    store.remove(m.seq);
    first = m.seq;
    if (h.get(BatchHeader.Sequence) === '1') break;
  }
  store.commit();
  return first;
}
