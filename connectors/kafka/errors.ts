// Typed errors of the Kafka bridge. Each names the mapping it concerns, so an
// operator with twenty mappings knows which one to fix.

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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
