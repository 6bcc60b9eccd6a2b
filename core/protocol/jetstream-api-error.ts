// The JetStream API's error, as one wire shape for both sides of it: the engine
// (core/jetstream) throws it and writes it as `{"error": {...}}`; the client
// library (core/jetstream-client) reads that back into the same class. It lives
// here, below both layers, because the client library must not import the engine
// (DESIGN dependency rule) and the engine must not import a client.
//
// JetStreamApiCodes: the err_code values callers branch on, named as nats-server's
// errors.json names them without the `JS` prefix and `Err` suffix (nats.js keeps a
// table of the same kind). The engine's catalogs refer to these entries for the
// codes they share, so each number is written once.

export const JetStreamApiCodes = {
  ConsumerNotFound: 10014,
  /** JSInsufficientResourcesErr, "insufficient resources" (503). */
  InsufficientResources: 10023,
  /** JSMemoryResourcesExceededErr, "insufficient memory resources available" (500). */
  MemoryResourcesExceeded: 10028,
  NoMessageFound: 10037,
  /** JSNotEnabledForAccountErr: the account may not use JetStream. */
  NotEnabledForAccount: 10039,
  /** JSStorageResourcesExceededErr, "insufficient storage resources available" (500). */
  StorageResourcesExceeded: 10047,
  StreamNotFound: 10059,
  /** Nats-Expected-Stream names another stream. */
  StreamNotMatch: 10060,
  StreamWrongLastMsgId: 10070,
  StreamWrongLastSequence: 10071,
  /** JSNotEnabledErr: JetStream is off on the server. */
  NotEnabled: 10076,
  /** The store refused the write, with its words ("maximum messages exceeded", ...). */
  StreamStoreFailed: 10077,
} as const;

export type JetStreamApiCode = (typeof JetStreamApiCodes)[keyof typeof JetStreamApiCodes];

/** `{"error": {...}}` in an API answer or a PubAck. */
export interface ApiErrorWire {
  code: number;
  err_code: number;
  description: string;
}

/** A catalog entry: HTTP-like code, err_code, description with `{name}` placeholders. */
export interface JetStreamApiErrorDef {
  readonly code: number;
  readonly errCode: number;
  readonly description: string;
}

/** A JetStream API failure, raised by the engine or read from an answer by a client. */
export class JetStreamApiError extends Error {
  readonly code: number;
  readonly errCode: number;
  readonly description: string;
  /** The client operation that got this answer (`STREAM.INFO`, `publish to a.b`); absent on the engine side. */
  readonly op: string | undefined;

  /** `params` fill the description's `{name}` placeholders. */
  constructor(def: JetStreamApiErrorDef, params: Record<string, string | number> = {}, options?: { cause?: unknown; op?: string }) {
    const description = def.description.replace(/\{(\w+)\}/g, (m, key: string) => (key in params ? String(params[key]) : m));
    super(options?.op === undefined ? description : `${options.op}: ${description} (err_code ${def.errCode})`, options);
    this.name = 'JetStreamApiError';
    this.code = def.code;
    this.errCode = def.errCode;
    this.description = description;
    this.op = options?.op;
  }

  /** `{err}` entries take their text directly. */
  static of(def: JetStreamApiErrorDef, err: string, options?: { cause?: unknown }): JetStreamApiError {
    return new JetStreamApiError(def, { err }, options);
  }

  /** The error an answer carried, as the client that sent `op` sees it (the description is taken as it is). */
  static fromWire(op: string, wire: ApiErrorWire): JetStreamApiError {
    return new JetStreamApiError({ code: wire.code, errCode: wire.err_code, description: wire.description }, {}, { op });
  }

  toWire(): ApiErrorWire {
    return { code: this.code, err_code: this.errCode, description: this.description };
  }
}
