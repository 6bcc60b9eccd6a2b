// QoS 1/2 publishes to a subject a stream captures: the gateway publishes them
// as JetStream publishes and answers PUBACK / PUBREC only once the stream's
// PubAck says the message is stored. A plain publish would let the gateway
// acknowledge a message the stream never stored (a leader election in a NATS
// cluster, a full stream under discard new, a wrong Nats-Expected-* header):
// the MQTT publisher would drop it while the stream lacks it.
//
// Which subjects streams capture comes from the shared StreamSubjectIndex,
// kept fresh by the stream advisories, so QoS 0 and subjects no stream
// captures stay on the plain publish path with nothing to wait for.

import type { Broker } from '../../core/broker/broker.ts';
import { JetStreamApiError, JetStreamClient, JetStreamNotEnabledError } from '../../core/kv/jetstream-client.ts';
import { StreamSubjectIndex } from '../../core/kv/stream-subject-index.ts';
import { MqttHeader, withHeader, type BrokerPublish } from './message.ts';
import { ReasonCode } from './reason-codes.ts';

/** nats-server err_code values that say a stream is full. */
const STORE_FAILED = 10077; // with the store's words, "maximum messages exceeded" and the like
const INSUFFICIENT_RESOURCES = 10047;
const STREAM_FULL = /^maximum .*exceeded$/;

/**
 * While a cluster elects a stream leader, nobody subscribes to the stream's
 * subjects and a publish meets no responders: it reached nobody, so sending it
 * again can duplicate nothing. Retried for about this long, backing off.
 */
const NO_LEADER_RETRY_MS = 6_000;
const RETRY_DELAY_MS = { first: 50, max: 1_000 } as const;

/** The stream did not store a message; `reasonCode` is the PUBACK / PUBREC answer for an MQTT 5 publisher. */
export class StreamPublishError extends Error {
  constructor(
    readonly subject: string,
    readonly reasonCode: ReasonCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`publish to stream subject ${subject}: ${message}`, options);
    this.name = 'StreamPublishError';
  }
}

/** The MQTT 5 reason code for a JetStream publish error. */
export function reasonForStreamError(error: JetStreamApiError): ReasonCode {
  if (error.errCode === INSUFFICIENT_RESOURCES) return ReasonCode.QuotaExceeded;
  if (error.errCode === STORE_FAILED && STREAM_FULL.test(error.description)) return ReasonCode.QuotaExceeded;
  return ReasonCode.UnspecifiedError;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class StreamPublisher {
  private readonly index: StreamSubjectIndex;
  private readonly jetstream: JetStreamClient;

  constructor(
    private readonly broker: Broker,
    timeoutMs: number,
    private readonly log: (...parts: unknown[]) => void,
  ) {
    this.jetstream = new JetStreamClient(broker, timeoutMs);
    this.index = new StreamSubjectIndex(this.jetstream);
  }

  async start(): Promise<void> {
    await this.index.followAdvisories(this.broker);
    // Read the list now so that the first publishes need not wait for it.
    await this.index.belongsToStream('').catch((e: unknown) => {
      this.index.invalidate();
      this.log('stream list unavailable, read again on the first QoS 1/2 publish:', e);
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
   * Publish with a reply inbox and resolve once the stream stored the message.
   * Throws StreamPublishError when it did not (or may not have: a timeout).
   * Precondition: `out` has no reply subject of its own (a request goes to the core).
   */
  readonly publish = async (out: BrokerPublish): Promise<void> => {
    // Subscribers must not mistake the PubAck inbox for a response topic.
    const headers = withHeader(out.headers, MqttHeader.AckReply, '1');
    const deadline = Date.now() + NO_LEADER_RETRY_MS;
    for (let delay: number = RETRY_DELAY_MS.first; ; delay = Math.min(delay * 2, RETRY_DELAY_MS.max)) {
      try {
        await this.jetstream.publish(out.subject, out.data, headers);
        return;
      } catch (error) {
        if (error instanceof JetStreamApiError) throw new StreamPublishError(out.subject, reasonForStreamError(error), error.description, { cause: error });
        // A timeout: the message may be stored or not, and subscribers may have it; never sent twice.
        if (!(error instanceof JetStreamNotEnabledError)) throw new StreamPublishError(out.subject, ReasonCode.UnspecifiedError, String(error), { cause: error });
        // No responders: no stream leader at the moment, or no stream any more (its advisory
        // dropped the list). A cluster lists a leaderless stream as missing, and the index
        // keeps its subjects, so only a stream really gone makes this a plain publish.
        if (Date.now() + delay > deadline) throw new StreamPublishError(out.subject, ReasonCode.UnspecifiedError, 'no stream leader answered', { cause: error });
        await sleep(delay);
        if (!(await this.captures(out.subject))) {
          await this.broker.publish(out.subject, out.data, { headers: out.headers });
          return;
        }
      }
    }
  };
}
