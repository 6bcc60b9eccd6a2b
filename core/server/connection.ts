// The Connection seam (DESIGN seam 1): a byte pipe with backpressure. NATS and
// MQTT parse over any Connection, so TCP, TLS, WebSocket framing and in-memory
// pairs all carry every protocol without protocol code knowing which it is.

import type { Socket } from 'node:net';
import type { Credentials } from '../auth/authorizer.ts';

export interface Connection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Credentials the transport itself carried (a WebSocket upgrade's cookie or
   * Authorization header). A protocol uses them only where its own handshake
   * brings none, as nats-server does with its WebSocket cookies.
   */
  readonly credentials?: Credentials;
  /** Bytes accepted by write() but not yet handed to the OS. */
  readonly writableLength: number;
  /** Write chunks in order as one batch; false = the transport is backed up (wait for drain). */
  write(chunks: readonly Buffer[]): boolean;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  /** Called once, when the pipe is closed by either side. */
  onClose(listener: (error?: Error) => void): void;
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

export class SocketConnection implements Connection {
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.socket.destroyed) return false;
    if (chunks.length === 1) return this.socket.write(chunks[0]);
    // cork/uncork turns the batch into one writev system call.
    this.socket.cork();
    let ok = true;
    for (const chunk of chunks) ok = this.socket.write(chunk);
    this.socket.uncork();
    return ok;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.socket.on('data', listener);
  }

  onDrain(listener: () => void): void {
    this.socket.on('drain', listener);
  }

  onClose(listener: (error?: Error) => void): void {
    let failure: Error | undefined;
    this.socket.on('error', (err) => {
      failure = err;
    });
    this.socket.once('close', () => listener(failure));
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
    // A peer that never reads would keep a half-closed socket forever.
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
