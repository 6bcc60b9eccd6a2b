// One catalog of NATS client-protocol errors with the exact texts nats-server
// sends (ND reference/nats-protocol/nats-protocol/README.md, "-ERR"). `fatal`
// errors close the connection after the -ERR line; the others keep it.

export const NatsErrorCode = {
  UnknownOperation: 'UnknownOperation',
  ParserError: 'ParserError',
  MaxControlLine: 'MaxControlLine',
  MaxPayload: 'MaxPayload',
  AuthorizationViolation: 'AuthorizationViolation',
  AuthenticationTimeout: 'AuthenticationTimeout',
  InvalidClientProtocol: 'InvalidClientProtocol',
  SlowConsumer: 'SlowConsumer',
  StaleConnection: 'StaleConnection',
  MaxConnections: 'MaxConnections',
  TlsRequired: 'TlsRequired',
  InvalidSubject: 'InvalidSubject',
  InvalidPublishSubject: 'InvalidPublishSubject',
  InvalidQueueName: 'InvalidQueueName',
  PublishPermission: 'PublishPermission',
  SubscribePermission: 'SubscribePermission',
  SubscribeQueuePermission: 'SubscribeQueuePermission',
  NoHeaderSupport: 'NoHeaderSupport',
  SubscriptionRevoked: 'SubscriptionRevoked',
  QueueSubscriptionRevoked: 'QueueSubscriptionRevoked',
} as const;
export type NatsErrorCode = (typeof NatsErrorCode)[keyof typeof NatsErrorCode];

interface CatalogEntry {
  readonly text: string;
  readonly fatal: boolean;
}

const CATALOG: Record<NatsErrorCode, CatalogEntry> = {
  UnknownOperation: { text: 'Unknown Protocol Operation', fatal: true },
  ParserError: { text: 'Parser Error', fatal: true },
  MaxControlLine: { text: 'Maximum Control Line Exceeded', fatal: true },
  MaxPayload: { text: 'Maximum Payload Violation', fatal: true },
  AuthorizationViolation: { text: 'Authorization Violation', fatal: true },
  AuthenticationTimeout: { text: 'Authentication Timeout', fatal: true },
  InvalidClientProtocol: { text: 'Invalid Client Protocol', fatal: true },
  SlowConsumer: { text: 'Slow Consumer', fatal: true },
  StaleConnection: { text: 'Stale Connection', fatal: true },
  MaxConnections: { text: 'maximum connections exceeded', fatal: true },
  TlsRequired: { text: 'Secure Connection - TLS Required', fatal: true },
  InvalidSubject: { text: 'Invalid Subject', fatal: false },
  InvalidPublishSubject: { text: 'Invalid Publish Subject', fatal: false },
  InvalidQueueName: { text: 'Invalid Queue Name', fatal: false },
  PublishPermission: { text: 'Permissions Violation for Publish to "%s"', fatal: false },
  SubscribePermission: { text: 'Permissions Violation for Subscription to "%s"', fatal: false },
  SubscribeQueuePermission: { text: 'Permissions Violation for Subscription to "%s" using queue "%q"', fatal: false },
  NoHeaderSupport: { text: 'Headers Not Supported', fatal: true },
  // A config reload took the permission away: the subscription is removed (NS server/client.go processSubsOnConfigReload).
  SubscriptionRevoked: { text: 'Permissions Violation for Subscription to "%s" (sid "%i")', fatal: false },
  QueueSubscriptionRevoked: { text: 'Permissions Violation for Subscription to "%s" using queue "%q" (sid "%i")', fatal: false },
};

/** A client-protocol error with its wire text and the context that caused it. */
export class NatsProtocolError extends Error {
  readonly code: NatsErrorCode;
  readonly fatal: boolean;
  /** The exact text sent inside -ERR '...'. */
  readonly wireText: string;

  constructor(code: NatsErrorCode, options: { subject?: string; queue?: string; sid?: string; detail?: string; cause?: unknown } = {}) {
    const entry = CATALOG[code];
    let wireText = options.subject === undefined ? entry.text : entry.text.replace('%s', options.subject);
    if (options.queue !== undefined) wireText = wireText.replace('%q', options.queue);
    if (options.sid !== undefined) wireText = wireText.replace('%i', options.sid);
    super(options.detail ? `${wireText}: ${options.detail}` : wireText, { cause: options.cause });
    this.name = 'NatsProtocolError';
    this.code = code;
    this.fatal = entry.fatal;
    this.wireText = wireText;
  }

  /** The protocol line: -ERR 'text'\r\n */
  toWire(): string {
    return `-ERR '${this.wireText}'\r\n`;
  }
}
