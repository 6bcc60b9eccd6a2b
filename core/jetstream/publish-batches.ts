// Where a captured message that belongs to a batch goes (ADR-50): a reply
// subject ending in `.$FI` is a fast batch (fast-batch.ts), a
// `Nats-Batch-Id` header an atomic one (atomic-batch.ts); anything else is an
// ordinary publish and stays with the engine. Answers go out through the
// engine's turn, after the writes they report on.

import { errorPubAck } from './ack-encoder.ts';
import { AtomicBatches, hasBatchId, type AtomicBatchLimits } from './atomic-batch.ts';
import type { BatchMessage } from './atomic-batch-check.ts';
import { FAST_BATCH_SUFFIX, FastBatches, type FastBatchLimits } from './fast-batch.ts';
import type { PubAck } from '../protocol/jetstream-wire.ts';
import type { Stream } from './stream.ts';

/** What batches need from the engine. */
export interface PublishBatchesHost {
  /** Store one message (its header block first, headerSize bytes) through the stream's publish path (throws JetStreamApiError). */
  store(stream: Stream, subject: string, headerSize: number, message: Buffer): PubAck;
  /** Take back messages a failed atomic commit stored. */
  unstore(stream: Stream, seqs: readonly number[]): void;
  publish(subject: string, body: Buffer): void;
  hasInterest(subject: string): boolean;
  /** Send `payload` to `reply` with this turn's answers; `written`: only once the stream's writes are done (else a store error). */
  answer(reply: string, payload: Buffer, stream: Stream, written: boolean): void;
}

const EMPTY = Buffer.alloc(0);

export class PublishBatches {
  private readonly atomic: AtomicBatches;
  private readonly fast: FastBatches;

  constructor(private readonly host: PublishBatchesHost, limits?: AtomicBatchLimits, fastLimits?: FastBatchLimits) {
    this.fast = new FastBatches(
      {
        store: (stream, subject, headerSize, message) => {
          const ack = host.store(stream, subject, headerSize, message);
          return { seq: ack.seq, duplicate: ack.duplicate === true };
        },
        answer: (reply, body, stream, written) => host.answer(reply, body, stream, written),
      },
      fastLimits,
    );
    this.atomic = new AtomicBatches(
      {
        storeBatchMessage: (stream: Stream, m: BatchMessage) => host.store(stream, m.subject, m.header.length, m.raw).seq,
        unstore: (stream, seqs) => host.unstore(stream, seqs),
        publishAdvisory: (subject, body) => {
          if (host.hasInterest(subject)) host.publish(subject, Buffer.from(JSON.stringify(body)));
        },
      },
      limits,
    );
  }

  /** Handle `message` if it belongs to a batch; false leaves it to the ordinary publish path. */
  claim(stream: Stream, subject: string, reply: string | null, headerSize: number, message: Buffer): boolean {
    // nats-server looks at the reply subject first: a fast batch may carry any headers.
    if (reply !== null && reply.endsWith(FAST_BATCH_SUFFIX)) {
      this.fast.publish(stream, stream.storedSubject(subject), reply, headerSize, message);
      return true;
    }
    if (!hasBatchId(message, headerSize)) return false;
    const answer = this.atomic.publish(stream, stream.storedSubject(subject), headerSize, message);
    if (answer === null) return false;
    // nats-server answers only a publish with a reply to a stream that acks.
    if (reply === null || stream.config.noAck) return true;
    if (answer.kind === 'staged') this.host.answer(reply, EMPTY, stream, false);
    else if (answer.kind === 'error') this.host.answer(reply, errorPubAck(stream.name, answer.error), stream, false);
    else this.host.answer(reply, Buffer.from(JSON.stringify(answer.body)), stream, true);
    return true;
  }

  /** A stream's config changed: batches it no longer allows are dropped (nats-server deleteAtomicBatches). */
  configured(stream: Stream): void {
    if (!stream.config.allowAtomic) this.atomic.dropStream(stream);
    if (!stream.config.allowBatched) this.fast.dropStream(stream);
  }

  dropStream(stream: Stream): void {
    this.atomic.dropStream(stream);
    this.fast.dropStream(stream);
  }

  stop(): void {
    this.atomic.stop();
    this.fast.stop();
  }
}
