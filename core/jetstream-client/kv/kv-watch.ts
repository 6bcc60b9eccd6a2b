// Watching a KV bucket over the Broker port, as the official clients do (ADR-8):
// an ephemeral push consumer on KV_<bucket>, filtered to the watched keys,
// delivering to a private inbox with no acks. `last` starts with the newest
// entry of every key (deliver last_per_subject), `history` with every stored
// revision, `updates` with nothing stored. The stream sequence, timestamp and
// pending count come from the `$JS.ACK` reply subject of each delivery.
//
// Flow control, as the official clients run their ordered consumers: the consumer sends a
// `100 FlowControl Request` after a window of bytes and stalls after a second one
// unanswered; the watch answers once `caughtUp()` settles, so a caller that hands
// entries on to a slower reader (an HTTP response) sets the pace and holds at most
// the consumer's window in memory. An idle heartbeat that names a stalled request
// (`Nats-Consumer-Stalled`) is answered the same way, in case a request was missed.

import { randomBytes } from 'node:crypto';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../broker/broker.ts';
import { parseAckReply } from '../ack-reply.ts';
import type { JetStreamClient } from '../jetstream-client.ts';
import { rfc3339FromNanos } from '../timestamp.ts';
import { entryOf, keySubject, streamName, type KvEntry } from './kv-client.ts';

export type KvWatchInclude = 'last' | 'history' | 'updates';

export interface KvWatchOptions {
  /** Stored-key filter (`*`/`>` wildcards); every key by default. */
  filter?: string;
  include?: KvWatchInclude;
  /** Deliver values without bodies (key listings). */
  headersOnly?: boolean;
  /** Settles when the caller has taken everything delivered so far; flow-control requests wait for it. Default: at once. */
  caughtUp?: () => Promise<void>;
}

/** A delivery went missing (dropped as a slow consumer, or the consumer was lost): the watch ends. */
export class KvWatchGapError extends Error {
  constructor(
    readonly bucket: string,
    readonly lastRevision: number,
  ) {
    super(`watch of bucket ${JSON.stringify(bucket)} lost a delivery after revision ${lastRevision}`);
    this.name = 'KvWatchGapError';
  }
}

/** The watch's subscription ended under it (the broker closed or lost its connection): the watch ends. */
export class KvWatchClosedError extends Error {
  constructor(
    readonly bucket: string,
    readonly lastRevision: number,
  ) {
    super(`watch of bucket ${JSON.stringify(bucket)} ended with its subscription after revision ${lastRevision}`);
    this.name = 'KvWatchClosedError';
  }
}

export interface KvWatcher {
  /**
   * Resolves once the entries stored when the watch began have all been delivered
   * (or the watch was stopped first); rejects when the watch fails before that.
   */
  readonly initialDone: Promise<void>;
  /** Settles when the watch ends: resolves after stop(), rejects on a gap, a failing callback or a closed broker. */
  readonly closed: Promise<void>;
  stop(): Promise<void>;
}

const DELIVER_POLICY: Record<KvWatchInclude, string> = { last: 'last_per_subject', history: 'all', updates: 'new' };
/** Idle heartbeats (required with flow control): 5 s, in nanoseconds. */
const IDLE_HEARTBEAT_NS = 5_000_000_000;
const CONSUMER_STALLED = 'Nats-Consumer-Stalled';
const NO_DATA = new Uint8Array(0);

export async function watchBucket(
  broker: Broker,
  js: JetStreamClient,
  bucket: string,
  options: KvWatchOptions,
  onEntry: (entry: KvEntry, initial: boolean) => void,
): Promise<KvWatcher> {
  const include = options.include ?? 'last';
  const stream = streamName(bucket);
  const inbox = `_INBOX.kvw.${randomBytes(12).toString('hex')}`;
  let initial = include !== 'updates';
  let lastDelivery = 0;
  let lastRevision = 0;
  let consumer: string | null = null;
  let ended = false;
  let markInitialDone!: () => void;
  let failInitial!: (error: unknown) => void;
  const initialDone = new Promise<void>((resolve, reject) => {
    markInitialDone = resolve;
    failInitial = reject;
  });
  initialDone.catch(() => {}); // the same failure also rejects `closed`
  let resolveClosed!: () => void;
  let rejectClosed!: (error: unknown) => void;
  const closed = new Promise<void>((resolve, reject) => {
    resolveClosed = resolve;
    rejectClosed = reject;
  });
  closed.catch(() => {}); // a caller that only stops the watch need not observe the failure
  const finishInitial = (): void => {
    initial = false;
    markInitialDone();
  };
  if (!initial) finishInitial();

  const end = async (error: unknown): Promise<void> => {
    if (ended) return;
    ended = true;
    subscription.unsubscribe();
    if (error === null) markInitialDone();
    else failInitial(error); // no effect once the initial set was done
    if (consumer !== null) await js.api('CONSUMER.DELETE', [stream, consumer]).catch(() => {}); // gone already is fine
    if (error === null) resolveClosed();
    else rejectClosed(error);
  };

  const caughtUp = options.caughtUp ?? (() => Promise.resolve());
  const answerFlowControl = (reply: string): void => {
    void caughtUp().then(() => (ended ? undefined : broker.publish(reply, NO_DATA))).catch((error: unknown) => end(error));
  };

  const onMessage = (m: BrokerMessage): void => {
    if (ended) return;
    if (m.headers !== null && m.headers.status === 100) {
      // A flow-control request carries its reply subject; a heartbeat may name a stalled one.
      const flowControl = m.reply ?? m.headers.get(CONSUMER_STALLED);
      if (flowControl !== undefined && flowControl !== '') answerFlowControl(flowControl);
      return;
    }
    if (m.reply === null) return;
    const ack = parseAckReply(m.reply);
    if (ack === null) return;
    if (ack.consumerSeq !== lastDelivery + 1) {
      void end(new KvWatchGapError(bucket, lastRevision));
      return;
    }
    lastDelivery = ack.consumerSeq;
    lastRevision = ack.streamSeq;
    const value = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
    const created = rfc3339FromNanos(ack.timestampNanos);
    const wasInitial = initial;
    if (initial && ack.pending === 0) finishInitial();
    try {
      onEntry(entryOf(bucket, m.subject, m.headers, value, ack.streamSeq, created), wasInitial);
    } catch (error) {
      void end(error);
    }
  };

  const subscription: BrokerSubscription = await broker.subscribe(inbox, onMessage);
  // Without this a closed broker would leave the watch silent forever, `closed` never settling.
  void subscription.closed.then(() => {
    if (!ended) void end(new KvWatchClosedError(bucket, lastRevision));
  });
  try {
    const created = await js.api<{ name: string; num_pending: number }>('CONSUMER.CREATE', [stream], {
      stream_name: stream,
      config: {
        deliver_subject: inbox,
        deliver_policy: DELIVER_POLICY[include],
        ack_policy: 'none',
        filter_subject: keySubject(bucket, options.filter ?? '>'),
        headers_only: options.headersOnly === true,
        flow_control: true,
        idle_heartbeat: IDLE_HEARTBEAT_NS,
        mem_storage: true,
        num_replicas: 1,
      },
    });
    consumer = created.name;
    if (ended) await js.api('CONSUMER.DELETE', [stream, consumer]).catch(() => {});
    // Nothing stored to replay and nothing delivered yet: the initial set is empty.
    if (initial && created.num_pending === 0 && lastDelivery === 0) finishInitial();
  } catch (error) {
    await end(error);
    throw error;
  }
  return { initialDone, closed, stop: () => end(null) };
}
