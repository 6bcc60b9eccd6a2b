// Reading a stream in sequence order over the JetStream API, for the SSE route
// and KV watch: each step asks STREAM.MSG.GET for the next message at or after a
// sequence (next_by_subj), so every event carries its exact stream sequence and a
// client resuming with Last-Event-ID gets no gap and no duplicate. When the reader
// has caught up it sleeps until a message shows up on the stream's subjects (a
// core subscription used only as a wake-up hint) or a poll interval passes, so
// messages that reach the stream any other way are still seen.

import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { Broker, BrokerSubscription } from '../../core/broker/broker.ts';
import type { GatewayContext } from './context.ts';
import { toProblem } from './errors.ts';
import type { EventStream } from './event-stream.ts';
import type { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import type { StoredMessageWire } from '../../core/jetstream-client/stored-message.ts';

export interface TailOptions {
  stream: string;
  /** First sequence to deliver. */
  startSeq: number;
  /** Only messages on subjects matching this (default: all). */
  filter?: string;
  /** Subjects whose traffic wakes the reader (the stream's subjects or the filter). */
  wakeSubjects: string[];
  /** Longest sleep without a wake-up, ms. */
  pollMs?: number;
}

/** Smallest sequence whose message is at or after `time` (binary search over the stream). */
export async function sequenceAtTime(client: JetStreamClient, stream: string, time: number, filter = '>'): Promise<number> {
  const info = await client.streamInfo(stream);
  let lo = Math.max(info.state.first_seq, 1);
  let hi = info.state.last_seq + 1;
  for (let steps = 0; lo < hi && steps < 64; steps++) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await client.getMessage(stream, { seq: mid, next_by_subj: filter });
    if (m === null || m.seq >= hi) hi = mid;
    else if (Date.parse(m.time) >= time) hi = mid;
    else lo = m.seq + 1;
  }
  return lo;
}

/**
 * Send stored messages to `sink` from `startSeq` on, then follow new ones until the
 * sink closes. `send` returns false when the sink is gone. Honours the HTTP
 * reader's pace: waits for 'drain' instead of buffering (this side pulls).
 */
export async function tailStream(
  broker: Broker,
  client: JetStreamClient,
  sink: EventStream,
  raw: NodeJS.WritableStream & { writableNeedDrain: boolean },
  options: TailOptions,
  send: (message: StoredMessageWire) => boolean,
): Promise<void> {
  let hinted = false;
  let wake: (() => void) | null = null;
  const onHint = (): void => {
    hinted = true;
    wake?.();
  };
  const hints: BrokerSubscription[] = [];
  for (const subject of options.wakeSubjects) hints.push(await broker.subscribe(subject, onHint));
  sink.onClose(() => {
    for (const hint of hints) hint.unsubscribe();
    wake?.();
  });
  const pollMs = options.pollMs ?? 1_000;
  let next = options.startSeq;
  try {
    while (sink.isOpen) {
      hinted = false;
      const message = await client.getMessage(options.stream, { seq: next, next_by_subj: options.filter ?? '>' });
      if (!sink.isOpen) break;
      if (message !== null) {
        if (!send(message)) break;
        next = message.seq + 1;
        if (raw.writableNeedDrain) await Promise.race([once(raw as NodeJS.EventEmitter, 'drain'), sink.closed]);
        continue;
      }
      if (hinted) {
        // A hint arrived while we looked: the store may commit just after the core
        // delivery (cluster mode), so look again shortly rather than right away.
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    for (const hint of hints) hint.unsubscribe();
  }
}

/**
 * Open `stream`, run `prelude` (e.g. a snapshot), then feed it from the stream tail
 * until either side ends. A failure ends the stream with an error event.
 */
export function serveTail(
  ctx: GatewayContext,
  stream: EventStream,
  reply: FastifyReply,
  options: TailOptions,
  event: (message: StoredMessageWire) => object,
  prelude?: () => Promise<void>,
): void {
  stream.open();
  (async () => {
    await prelude?.();
    await tailStream(ctx.broker, ctx.jetstream, stream, reply.raw, options, (m) => stream.send(event(m), String(m.seq)));
  })().then(
    () => stream.end(),
    (error: unknown) => {
      const problem = toProblem(error);
      stream.fail(problem.code, problem.detail);
    },
  );
}
