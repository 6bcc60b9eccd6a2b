// Typed errors of the Kafka bridge. Each names the mapping it concerns, so an
// operator with twenty mappings knows which one to fix.

import { RequestTimeoutError } from '../../core/broker/errors.ts';
import { JetStreamNotEnabledError } from '../../core/jetstream-client/jetstream-client.ts';
import { JetStreamApiError } from '../../core/jetstream-client/jetstream-wire.ts';

export class KafkaBridgeError extends Error {
  constructor(message: string, readonly mapping: string | null, options?: { cause?: unknown }) {
    super(mapping === null ? `kafka bridge: ${message}` : `kafka bridge: mapping ${JSON.stringify(mapping)}: ${message}`, options);
    this.name = 'KafkaBridgeError';
  }
}

/** The configuration is wrong: an unknown key, a bad template, a missing field. */
export class KafkaConfigError extends KafkaBridgeError {
  constructor(readonly path: string, detail: string, mapping: string | null = null) {
    super(`${path}: ${detail}`, mapping);
    this.name = 'KafkaConfigError';
  }
}

/** No broker of the Kafka cluster answered within the time allowed. */
export class KafkaUnreachableError extends KafkaBridgeError {
  constructor(readonly brokers: readonly string[], readonly mappings: readonly string[], options?: { cause?: unknown }) {
    super(
      `Kafka brokers ${brokers.join(',')} unreachable (mappings waiting: ${mappings.map((m) => JSON.stringify(m)).join(', ') || 'none'})`,
      null,
      options,
    );
    this.name = 'KafkaUnreachableError';
  }
}

/** One record or message could not be translated (bad rendered subject or topic). */
export class KafkaMappingError extends KafkaBridgeError {
  constructor(mapping: string, detail: string, options?: { cause?: unknown }) {
    super(detail, mapping, options);
    this.name = 'KafkaMappingError';
  }
}

/** JetStream refused or did not acknowledge a publish. */
export class JetStreamPublishError extends KafkaBridgeError {
  constructor(mapping: string, readonly subject: string, detail: string, readonly errCode: number | null = null, options?: { cause?: unknown }) {
    super(`JetStream publish to ${JSON.stringify(subject)} failed: ${detail}`, mapping, options);
    this.name = 'JetStreamPublishError';
  }
}

/** A failed JetStream publish of a mapping into `stream`, in the operator's words. */
export function toJetStreamPublishError(mapping: string, subject: string, stream: string, timeoutMs: number, error: unknown): JetStreamPublishError {
  if (error instanceof JetStreamApiError) return new JetStreamPublishError(mapping, subject, error.description, error.errCode || null, { cause: error });
  if (error instanceof JetStreamNotEnabledError) {
    return new JetStreamPublishError(mapping, subject, `no stream captures the subject (is stream ${JSON.stringify(stream)} defined?)`, null, { cause: error });
  }
  if (error instanceof RequestTimeoutError) return new JetStreamPublishError(mapping, subject, `no PubAck within ${timeoutMs} ms`, null, { cause: error });
  return new JetStreamPublishError(mapping, subject, errorMessage(error), null, { cause: error });
}

/** A durable consumer a JetStream -> Kafka mapping could not create. */
export function toConsumerCreateError(mapping: string, apiSubject: string, stream: string, consumer: string, timeoutMs: number, error: unknown): KafkaBridgeError {
  if (error instanceof JetStreamApiError) {
    return new JetStreamPublishError(mapping, apiSubject, `consumer ${consumer} on stream ${stream}: ${error.description}`, error.errCode, { cause: error });
  }
  const why = error instanceof JetStreamNotEnabledError ? 'JetStream is not available' : error instanceof RequestTimeoutError ? `no answer within ${timeoutMs} ms` : errorMessage(error);
  return new KafkaBridgeError(`cannot create consumer ${consumer} on stream ${stream}: ${why}`, mapping, { cause: error });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
