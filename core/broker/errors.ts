// Typed errors of the Broker port, the same whichever implementation raised them.

export class BrokerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** The NATS server or cluster could not be reached (or refused the credentials) at startup. */
export class NatsConnectError extends BrokerError {
  constructor(readonly servers: readonly string[], options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unknown error');
    super(`cannot connect to NATS at ${servers.join(', ')}: ${why}`, options);
    this.name = 'NatsConnectError';
  }
}

/** Connected, but the servers offer no working JetStream (cluster mode needs it). */
export class JetStreamUnavailableError extends BrokerError {
  constructor(readonly servers: readonly string[], readonly reason: string, options?: { cause?: unknown }) {
    super(`no JetStream on the NATS servers at ${servers.join(', ')}: ${reason}`, options);
    this.name = 'JetStreamUnavailableError';
  }
}

export class NoRespondersError extends BrokerError {
  constructor(readonly subject: string, options?: { cause?: unknown }) {
    super(`no responders for ${JSON.stringify(subject)}`, options);
    this.name = 'NoRespondersError';
  }
}

export class RequestTimeoutError extends BrokerError {
  constructor(readonly subject: string, readonly timeoutMs: number, options?: { cause?: unknown }) {
    super(`request to ${JSON.stringify(subject)} timed out after ${timeoutMs} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

export class InvalidSubjectError extends BrokerError {
  constructor(readonly subject: string, readonly usage: 'publish' | 'subscribe') {
    super(`invalid ${usage} subject ${JSON.stringify(subject)}`);
    this.name = 'InvalidSubjectError';
  }
}

export class BrokerClosedError extends BrokerError {
  constructor() {
    super('broker is closed');
    this.name = 'BrokerClosedError';
  }
}
