// QoS 1/2 publishes to a subject a stream captures go through the JetStream
// client library's StreamPublisher: PUBACK / PUBREC go out only once the
// stream's PubAck says the message is stored (the MQTT publisher would drop a
// message the stream never stored). What is MQTT's own is the answer when the
// stream did not store it: the MQTT 5 reason code, and for 3.1.1 a closed
// connection without ack (handlers/publish.ts).

import { JetStreamNotEnabledError } from '../../core/jetstream-client/jetstream-client.ts';
import { JetStreamApiCodes, JetStreamApiError } from '../../core/jetstream-client/jetstream-wire.ts';
import { ReasonCode } from './reason-codes.ts';

/** The store's words for a stream at one of its limits under discard new, with err_code 10077. */
const STREAM_FULL = /^maximum .*exceeded$/;

/** err_codes that say the stream (or the server under it) has no room: quota exceeded. */
const NO_ROOM = new Set<number>([JetStreamApiCodes.InsufficientResources, JetStreamApiCodes.StorageResourcesExceeded, JetStreamApiCodes.MemoryResourcesExceeded]);

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
  if (NO_ROOM.has(error.errCode)) return ReasonCode.QuotaExceeded;
  if (error.errCode === JetStreamApiCodes.StreamStoreFailed && STREAM_FULL.test(error.description)) return ReasonCode.QuotaExceeded;
  return ReasonCode.UnspecifiedError;
}

/** A failed stream publish as MQTT answers it. A timeout: the message may be stored or not, so it is never sent again. */
export function toStreamPublishError(subject: string, error: unknown): StreamPublishError {
  if (error instanceof JetStreamApiError) return new StreamPublishError(subject, reasonForStreamError(error), error.description, { cause: error });
  if (error instanceof JetStreamNotEnabledError) return new StreamPublishError(subject, ReasonCode.UnspecifiedError, 'no stream leader answered', { cause: error });
  return new StreamPublishError(subject, ReasonCode.UnspecifiedError, String(error), { cause: error });
}
