// The Connection seam (DESIGN seam 1): a byte pipe with backpressure. NATS and
// MQTT parse over any Connection, so TCP, TLS, WebSocket framing and in-memory
// pairs all carry every protocol without protocol code knowing which it is.
// It lives outside core/server because the server and the gateways both build
// on it (DESIGN "Dependency rule": gateways import the Connection seam, never
// the server's internals).

import type { Credentials } from '../auth/authorizer.ts';

/** The TLS session of a connection, as /connz reports it (nats-server's tls_version, tls_cipher_suite). */
export interface ConnectionTls {
  readonly version: string;
  readonly cipher: string;
}

/** What a protocol handler takes from a Connection: its input, and its end (once). */
export interface ConnectionOwner {
  onData(chunk: Buffer): void;
  onClose(error?: Error): void;
}

export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Credentials the transport itself carried (a WebSocket upgrade's cookie or
   * Authorization header). A protocol uses them only where its own handshake
   * brings none, as nats-server does with its WebSocket cookies.
   */
  readonly credentials?: Credentials;
  /**
   * What carries the bytes when it is not a plain socket: 'websocket' tells
   * /connz a websocket-nats client from a nats one (DESIGN: monitoring sees
   * the transport, the protocol code never does).
   */
  readonly transport?: 'websocket';
  /** The TLS session once the handshake is done; undefined on a clear connection. */
  readonly tlsState?: ConnectionTls;
  /** Bytes accepted by write() but not yet handed to the OS. */
  readonly writableLength: number;
  /** Write chunks in order as one batch; false = the transport is backed up (wait for drain). */
  write(chunks: readonly Buffer[]): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** Called once, when the pipe is closed by either side. */
  onClose(listener: (error?: Error) => void): void;
  /**
   * Optional: deliver input and the close to `owner`'s own methods, as
   * onData/onClose would. A transport may then share one handler among all
   * its connections: no closures per connection (issue 20, memory per idle
   * connection). Use attachOwner(), which falls back to the listeners.
   */
  attach?(owner: ConnectionOwner): void;
  /**
   * Stop / restart delivering input (optional). The server stalls a fast
   * publisher this way while one of its destinations catches up.
   */
  pauseReading?(): void;
  resumeReading?(): void;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now, dropping whatever is queued. */
  destroy(): void;
}

/** Hand `connection`'s input and close to `owner`: through attach() when the transport has it. */
export function attachOwner(connection: Connection, owner: ConnectionOwner): void {
  if (connection.attach !== undefined) {
    connection.attach(owner);
    return;
  }
  connection.onData((chunk) => owner.onData(chunk));
  connection.onClose((error) => owner.onClose(error));
}
