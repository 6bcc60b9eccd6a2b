// Fast batch publish (ADR-50 "Fast-ingest", nats-server 2.14, `allow_batched`):
// the batch travels in the reply subject,
// `<prefix>.<id>.<flow>.<gap ok|fail>.<batch seq>.<op>.$FI`, and every message
// is stored at once, like a publish (nothing is staged, there is no size
// limit). Instead of a PubAck per message the server answers every `msgs`
// messages with a flow ack `{"type":"ack","seq":n,"msgs":m}`, pacing the
// publisher: it starts at the client's flow (at most 500) when it is the
// stream's only fast publisher and at 1 otherwise, doubles towards its share
// of 500 and halves when more publishers share the stream. A lost message
// shows as a gap (`{"type":"gap",...}`): with gap "ok" the batch goes on,
// with "fail" it ends there; a refused message is reported
// (`{"type":"err",...}`) the same way. The last message (op 2, or op 3 "end of
// batch" which is not stored) gets a PubAck with `batch` and `count`.
// Rules, numbers and texts are nats-server's (stream.go
// processJetStreamFastBatchMsg, getFastBatch; jetstream_batching.go
// fastBatchRegisterSequences, checkFlowControl, fastBatchCommit).

import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { errorPubAck } from './ack-encoder.ts';
import { BatchRegistry } from './batch-registry.ts';
import { JsError } from './errors.ts';
import { stripRequiredApiLevel } from './required-api-level.ts';
import type { Stream } from './stream.ts';

export const FAST_BATCH_SUFFIX = '.$FI';

export const FastBatchOp = { Start: 0, Append: 1, Commit: 2, CommitEob: 3, Ping: 4 } as const;
export type FastBatchOp = (typeof FastBatchOp)[keyof typeof FastBatchOp];

/** What a fast batch reply subject says. */
export interface FastBatchReply {
  id: string;
  seq: number;
  /** The client's initial, and highest, flow: a flow ack at least every this many messages. */
  flow: number;
  gapOk: boolean;
  op: FastBatchOp;
}

/** Go's parseInt64 of nats-server's parser on reply[from, to): decimal digits only, else -1. */
function digitsAt(reply: string, from: number, to: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = reply.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Read a fast batch reply subject: undefined when `reply` is not one (no
 * `.$FI` suffix), null when it ends so but breaks the pattern (nats-server
 * getFastBatch answers that with 10206). Read from the end by index, as
 * nats-server does: it runs once per message.
 */
export function parseFastBatchReply(reply: string): FastBatchReply | null | undefined {
  if (reply.length <= FAST_BATCH_SUFFIX.length || !reply.endsWith(FAST_BATCH_SUFFIX)) return undefined;
  // The dots before op, seq, gap, flow and id (the id needs a prefix before it).
  const opEnd = reply.length - FAST_BATCH_SUFFIX.length;
  const opDot = reply.lastIndexOf('.', opEnd - 1);
  const seqDot = opDot <= 0 ? -1 : reply.lastIndexOf('.', opDot - 1);
  const gapDot = seqDot <= 0 ? -1 : reply.lastIndexOf('.', seqDot - 1);
  const flowDot = gapDot <= 0 ? -1 : reply.lastIndexOf('.', gapDot - 1);
  const idDot = flowDot <= 0 ? -1 : reply.lastIndexOf('.', flowDot - 1);
  if (opDot < 0) return null;
  const op = digitsAt(reply, opDot + 1, opEnd);
  if (op < FastBatchOp.Start || op > FastBatchOp.Ping || seqDot < 0) return null;
  const seq = digitsAt(reply, seqDot + 1, opDot);
  if (seq <= 0 || !Number.isSafeInteger(seq)) return null;
  if (seq === 1 && op === FastBatchOp.CommitEob) return null;
  if ((op === FastBatchOp.Start && seq !== 1) || (op === FastBatchOp.Append && seq <= 1)) return null;
  if (gapDot < 0) return null;
  const gap = reply.slice(gapDot + 1, seqDot);
  if (gap !== 'ok' && gap !== 'fail') return null;
  if (flowDot < 0 || idDot < 0) return null;
  const flowAsked = digitsAt(reply, flowDot + 1, gapDot);
  const flow = flowAsked <= 0 ? 10 : Math.min(flowAsked, 65_535);
  return { id: reply.slice(idDot + 1, flowDot), seq, flow, gapOk: gap === 'ok', op: op as FastBatchOp };
}

/** nats-server's limits for fast batches (stream.go streamDefaultMaxFastBatch*, streamDefaultMaxBatchTimeout). */
export interface FastBatchLimits {
  maxInflightPerStream: number;
  maxInflightTotal: number;
  /** A batch with no message for this long is dropped (without an advisory). */
  timeoutMs: number;
}

export const DEFAULT_FAST_BATCH_LIMITS: Readonly<FastBatchLimits> = Object.freeze({ maxInflightPerStream: 1000, maxInflightTotal: 50_000, timeoutMs: 10_000 });

/** Most messages between flow acks the server allows all fast publishers of a stream together. */
const FLOW_BUDGET = 500;
const MAX_BATCH_ID = 64;

/** What fast batches need from the engine. */
export interface FastBatchHost {
  /** Store one message through the stream's publish path: its sequence and whether it was a duplicate (throws JetStreamApiError). */
  store(stream: Stream, subject: string, headerSize: number, message: Buffer): { seq: number; duplicate: boolean };
  /** Send `body` to `reply` with this turn's answers (after its writes when `written`). */
  answer(reply: string, body: Buffer, stream: Stream, written: boolean): void;
}

interface Batch {
  /** Highest batch sequence received (and, every message being stored at once, persisted). */
  lseq: number;
  /** Batch sequence of the last flow ack. */
  fseq: number;
  /** Stream sequence of the last message stored. */
  sseq: number;
  ackMessages: number;
  readonly maxAckMessages: number;
  readonly gapOk: boolean;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export class FastBatches {
  private readonly batches: BatchRegistry<Batch>;

  constructor(private readonly host: FastBatchHost, limits: FastBatchLimits = DEFAULT_FAST_BATCH_LIMITS) {
    // An idle fast batch is dropped without an advisory (nats-server fastBatch cleanup).
    this.batches = new BatchRegistry(limits, JsError.BatchPublishTooManyInflight);
  }

  /** One captured message whose reply ends in `.$FI` (`subject` already as stored). */
  publish(stream: Stream, subject: string, reply: string, headerSize: number, message: Buffer): void {
    const fb = parseFastBatchReply(reply);
    if (fb === undefined) return;
    try {
      this.accept(stream, subject, reply, fb, Math.max(0, headerSize), message);
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err;
      if (!stream.config.noAck) this.host.answer(reply, errorPubAck(stream.name, err), stream, false);
    }
  }

  dropStream(stream: Stream): void {
    this.batches.dropStream(stream);
  }

  stop(): void {
    this.batches.stop();
  }

  private accept(stream: Stream, subject: string, reply: string, fb: FastBatchReply | null, headerSize: number, message: Buffer): void {
    const cfg = stream.config;
    // The order of checks is nats-server's.
    if (cfg.sealed) throw new JetStreamApiError(JsError.StreamSealed);
    if (cfg.maxMsgSize > 0 && message.length > cfg.maxMsgSize) throw new JetStreamApiError(JsError.StreamMessageExceedsMaximum);
    if (!cfg.allowBatched) throw new JetStreamApiError(JsError.BatchPublishDisabled);
    if (fb === null) throw new JetStreamApiError(JsError.BatchPublishInvalidPattern);
    if (fb.id.length > MAX_BATCH_ID) throw new JetStreamApiError(JsError.BatchPublishInvalidBatchId);
    let b = this.batches.get(stream, fb.id);
    if (b === undefined) {
      if (fb.seq !== 1) throw new JetStreamApiError(JsError.BatchPublishUnknownBatchId);
      // The only fast publisher of the stream may start at its own pace; others start at 1 and ramp up.
      const alone = this.batches.count(stream) === 0;
      b = this.batches.open(stream, fb.id, { lseq: 0, fseq: 0, sseq: 0, ackMessages: alone ? Math.min(FLOW_BUDGET, fb.flow) : 1, maxAckMessages: fb.flow, gapOk: fb.gapOk });
    }
    if (headerSize > 0) {
      const header = message.subarray(0, headerSize);
      const stripped = stripRequiredApiLevel(header);
      if (stripped === null) {
        this.batches.discard(stream, fb.id);
        throw new JetStreamApiError(JsError.RequiredApiLevel);
      }
      if (stripped !== header) {
        message = Buffer.concat([stripped, message.subarray(headerSize)]);
        headerSize = stripped.length;
      }
    }
    this.batches.touch(stream, fb.id);
    if (fb.op === FastBatchOp.Ping) {
      this.ping(stream, reply, fb, b);
      return;
    }
    // A gap: reported at once; "ok" goes on from the new sequence, "fail" (or a sequence going back) ends the batch.
    if (fb.seq !== b.lseq + 1) {
      if (fb.seq > b.lseq + 1) this.host.answer(reply, json({ type: 'gap', last_seq: b.lseq + 1, seq: fb.seq }), stream, false);
      if (!b.gapOk || fb.seq < b.lseq + 1) {
        this.commit(stream, reply, fb.id, b);
        return;
      }
    }
    b.lseq = fb.seq;
    if (fb.op === FastBatchOp.CommitEob) {
      // "End of batch" is not a message: the batch ends with what came before it.
      b.lseq = fb.seq - 1;
      this.commit(stream, reply, fb.id, b);
      return;
    }
    // The first message learns the flow it may start at; a batch of one gets its PubAck only.
    if (fb.seq === 1 && fb.op !== FastBatchOp.Commit && !cfg.noAck) {
      this.host.answer(reply, json({ type: 'ack', seq: 0, msgs: b.ackMessages }), stream, false);
    }
    let stored: { seq: number; duplicate: boolean };
    try {
      stored = this.host.store(stream, subject, headerSize, message);
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err;
      this.refused(stream, reply, fb, b, err);
      return;
    }
    if (stored.duplicate) {
      // A duplicate counts as received: it may be due a flow ack, and only ends the batch when it commits.
      this.flowControl(stream, reply, b);
      if (fb.op !== FastBatchOp.Commit) return;
      if (!b.gapOk && b.lseq === 1) {
        // A batch of one duplicate answers as a publish would.
        this.batches.discard(stream, fb.id);
        this.host.answer(reply, json({ stream: stream.name, seq: stored.seq, duplicate: true, batch: fb.id, count: fb.seq }), stream, true);
        return;
      }
    } else {
      b.sseq = stored.seq;
    }
    if (fb.op === FastBatchOp.Commit) this.commit(stream, reply, fb.id, b);
    else this.flowControl(stream, reply, b);
  }

  /** A ping re-sends the last flow ack (and reports a gap up to the sequence it names). */
  private ping(stream: Stream, reply: string, fb: FastBatchReply, b: Batch): void {
    if (fb.seq > b.lseq) {
      this.host.answer(reply, json({ type: 'gap', last_seq: b.lseq + 1, seq: fb.seq + 1 }), stream, false);
      if (!b.gapOk) {
        this.commit(stream, reply, fb.id, b);
        return;
      }
      b.lseq = fb.seq;
      if (this.flowControl(stream, reply, b)) return;
    }
    this.sendFlow(stream, reply, b);
  }

  /** nats-server: a refused message is reported; "ok" goes on, "fail" (or a refused commit) ends the batch before it. */
  private refused(stream: Stream, reply: string, fb: FastBatchReply, b: Batch, err: JetStreamApiError): void {
    if (!b.gapOk && b.lseq === 1) {
      // The batch's first message: answered as a publish would be.
      this.batches.discard(stream, fb.id);
      this.host.answer(reply, errorPubAck(stream.name, err), stream, false);
      return;
    }
    this.host.answer(reply, json({ type: 'err', seq: fb.seq, error: err.toWire() }), stream, false);
    if (b.gapOk && fb.op !== FastBatchOp.Commit) return;
    b.lseq = fb.seq - 1;
    this.commit(stream, reply, fb.id, b);
  }

  /** End the batch: every message received is stored, so its PubAck goes out now. */
  private commit(stream: Stream, reply: string, id: string, b: Batch): void {
    this.batches.discard(stream, id);
    this.host.answer(reply, json({ stream: stream.name, seq: b.sseq, batch: id, count: b.lseq }), stream, true);
  }

  /**
   * A flow ack once `ackMessages` more are stored, skipping to the latest when
   * several are due; the pace moves towards this publisher's share of the
   * stream's budget (doubling up, halving down), never above the client's own.
   */
  private flowControl(stream: Stream, reply: string, b: Batch): boolean {
    if (b.lseq < b.fseq + b.ackMessages) return false;
    b.fseq += Math.floor((b.lseq - b.fseq) / b.ackMessages) * b.ackMessages;
    const publishers = Math.max(1, this.batches.count(stream));
    const share = Math.min(Math.max(1, Math.floor(FLOW_BUDGET / publishers)), b.maxAckMessages);
    if (b.ackMessages < share) b.ackMessages = Math.min(b.ackMessages * 2, share);
    else if (b.ackMessages > share) b.ackMessages = Math.max(Math.floor(b.ackMessages / 2), share);
    this.sendFlow(stream, reply, b);
    return true;
  }

  private sendFlow(stream: Stream, reply: string, b: Batch): void {
    this.host.answer(reply, json({ type: 'ack', seq: b.fseq, msgs: b.ackMessages }), stream, true);
  }
}
