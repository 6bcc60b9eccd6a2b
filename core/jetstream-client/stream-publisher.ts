// The one "publish, and wait for the PubAck when a stream captures the subject"
// that the gateways share. A message to a subject a stream captures is sent as a
// JetStream publish and resolves only once the stream's PubAck says it is
// stored: a plain publish would let a gateway acknowledge (HTTP 202, MQTT
// PUBACK) a message the stream never stored (a leader election in a NATS
// cluster, a full stream under discard new, a wrong Nats-Expected-* header).
// Any other message is a plain core publish with nothing to wait for.
//
// Which subjects streams capture comes from the StreamSubjectIndex, kept fresh by
// the stream advisories. A message with a reply subject of its own goes to the
// core: the stream would send its PubAck there, and the reply belongs to the
// requester.

import type { Broker } from '../broker/broker.ts';
import type { MessageHeaders } from '../broker/headers.ts';
import type { PubAck } from '../protocol/jetstream-wire.ts';
import { JetStreamNotEnabledError, type JetStreamClient } from './jetstream-client.ts';
import { StreamSubjectIndex } from './stream-subject-index.ts';

export interface StreamPublisherOptions {
  /**
   * While a cluster elects a stream leader, nobody subscribes to the stream's
   * subjects and a publish meets no responders: it reached nobody, so sending it
   * again can duplicate nothing. Retried, backing off, for about this long
   * (default 0: no responders fails at once).
   */
  noLeaderRetryMs?: number;
}

export interface OutgoingPublish {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MessageHeaders | null;
  readonly reply?: string;
}

const RETRY_DELAY_MS = { first: 50, max: 1_000 } as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class StreamPublisher {
  readonly index: StreamSubjectIndex;
  private readonly noLeaderRetryMs: number;

  constructor(
    private readonly broker: Broker,
    readonly js: JetStreamClient,
    options: StreamPublisherOptions = {},
  ) {
    this.index = new StreamSubjectIndex(js);
    this.noLeaderRetryMs = options.noLeaderRetryMs ?? 0;
  }

  /** Follow the stream advisories and read the stream list now, so that the first publishes need not wait for it. */
  async start(log: (...parts: unknown[]) => void = () => {}): Promise<void> {
    await this.index.followAdvisories(this.broker);
    await this.index.belongsToStream('').catch((e: unknown) => {
      this.index.invalidate();
      log('stream list unavailable, read again on the first stream publish:', e);
    });
  }

  stop(): void {
    this.index.stopFollowing();
  }

  /** Whether a stream captures `subject`: at once, or once the stream list was read again after a change. */
  captures(subject: string): boolean | Promise<boolean> {
    return this.index.belongsToStreamNow(subject) ?? this.index.belongsToStream(subject);
  }

  /**
   * The answer without waiting: the current list (false before the first read);
   * a list a stream change made stale is read again in the background.
   */
  capturesNow(subject: string): boolean {
    const now = this.index.belongsToStreamNow(subject);
    if (now !== null) return now;
    this.index.belongsToStream(subject).catch(() => this.index.invalidate());
    return false;
  }

  /** Whether `message` goes to a stream (see above). */
  storesMessage(message: Pick<OutgoingPublish, 'subject' | 'reply'>): boolean | Promise<boolean> {
    return message.reply === undefined && this.captures(message.subject);
  }

  /**
   * Publish as `stored` says (storesMessage's answer): the PubAck, or null once
   * the core took the message. The publish is issued before this returns, so
   * calls made one after another reach the broker in that order.
   */
  publish(message: OutgoingPublish, stored: boolean): Promise<PubAck | null> {
    if (stored) return this.store(message);
    const { subject, data, headers, reply } = message;
    return this.broker.publish(subject, data, { ...(headers === null ? {} : { headers }), ...(reply === undefined ? {} : { reply }) }).then(() => null);
  }

  /**
   * A JetStream publish, retried on no responders within noLeaderRetryMs; a
   * stream gone meanwhile (its advisory dropped the list) makes it a plain
   * publish (null). A cluster lists a leaderless stream as missing and the index
   * keeps its subjects, so only a stream really gone does that. Rejections: see
   * JetStreamClient.publish.
   */
  private async store(message: OutgoingPublish): Promise<PubAck | null> {
    const { subject, data, headers } = message;
    const deadline = Date.now() + this.noLeaderRetryMs;
    for (let delay: number = RETRY_DELAY_MS.first; ; delay = Math.min(delay * 2, RETRY_DELAY_MS.max)) {
      try {
        return await this.js.publish(subject, data, headers);
      } catch (error) {
        if (!(error instanceof JetStreamNotEnabledError) || Date.now() + delay > deadline) throw error;
        await sleep(delay);
        if (!(await this.captures(subject))) return this.publish({ subject, data, headers }, false);
      }
    }
  }
}
