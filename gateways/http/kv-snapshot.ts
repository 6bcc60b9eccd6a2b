// The `initial=1` part of an HTTP KV watch: the current value of every matching
// key, oldest revision first, from one last_per_subject consumer (core/jetstream-client/kv
// watchBucket) rather than a message lookup per key.
//
// Pace (explicit backpressure, CONVENTIONS 9): entries are written only while
// the response takes them (no 'drain' pending), the rest wait in a queue, and the
// consumer's flow-control requests are answered only once that queue is written
// and the socket drained. So the queue holds at most the consumer's flow-control
// window, the response buffer stays near its high-water mark whatever the bucket
// size, and a snapshot is never cut as a slow consumer for being big; a reader
// that stops reading stalls the consumer instead.

import { once } from 'node:events';
import type { GatewayContext } from './context.ts';
import type { EventStream } from './event-stream.ts';
import type { KvEntry } from '../../core/jetstream-client/kv/kv-client.ts';
import { watchBucket } from '../../core/jetstream-client/kv/kv-watch.ts';

type DrainableResponse = NodeJS.WritableStream & { writableNeedDrain: boolean };

/** Writes entries while the response takes them, queueing the rest until 'drain'. */
class PacedWriter {
  private queue: KvEntry[] = [];
  private head = 0;
  /** Set while waiting for 'drain' (or the stream's end). */
  private waiting: Promise<void> | null = null;

  constructor(
    private readonly stream: EventStream,
    private readonly raw: DrainableResponse,
    private readonly write: (entry: KvEntry) => void,
  ) {}

  push(entry: KvEntry): void {
    this.queue.push(entry);
    if (this.waiting === null) this.writeQueued();
  }

  /** Settles once everything pushed has been written and the response takes more. */
  async caughtUp(): Promise<void> {
    while (this.waiting !== null) await this.waiting;
  }

  private writeQueued(): void {
    for (;;) {
      if (!this.stream.isOpen || this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      if (!this.stream.isOpen) return;
      if (this.raw.writableNeedDrain) {
        this.waiting = Promise.race([once(this.raw as NodeJS.EventEmitter, 'drain'), this.stream.closed]).then(() => {
          this.waiting = null;
          this.writeQueued();
        });
        return;
      }
      if (this.queue.length === 0) return;
      this.write(this.queue[this.head++]);
    }
  }
}

/**
 * Send the newest entry of each key matching `storedFilter` that is not deleted,
 * at the reader's pace. Resolves with the highest revision the consumer delivered
 * for the snapshot (0 for none): every entry up to it was sent or superseded by
 * one that was, so a tail of changes starts just after it.
 */
export async function sendKvSnapshot(
  ctx: GatewayContext,
  stream: EventStream,
  raw: DrainableResponse,
  bucket: string,
  storedFilter: string,
  event: (entry: KvEntry) => object,
): Promise<number> {
  const writer = new PacedWriter(stream, raw, (entry) => stream.send(event(entry), String(entry.revision)));
  let highest = 0;
  const watcher = await watchBucket(ctx.broker, ctx.jetstream, bucket, { filter: storedFilter, include: 'last', caughtUp: () => writer.caughtUp() }, (entry, initial) => {
    if (!initial) return; // after the snapshot: the tail sends it
    highest = entry.revision;
    if (entry.operation === 'PUT') writer.push(entry);
  });
  try {
    await Promise.race([watcher.initialDone, stream.closed]);
    await writer.caughtUp();
  } finally {
    await watcher.stop();
  }
  return highest;
}
