// The Connection seam (DESIGN seam 1) over one WebSocket: framing only. Inbound
// message payloads are handed on as bytes exactly as they arrive, whatever
// operation boundaries they cut through, because the protocol parsers behind a
// Connection are resumable. Outbound, each write() batch becomes one binary
// frame (NATS-over-WebSocket is binary-only, ANCHORS §6).
//
// Backpressure: `ws` queues what the kernel has not taken yet, and
// `bufferedAmount` counts it (socket buffer plus frames still being deflated).
// That number is writableLength, so the core's slow-consumer rule (pending
// bytes over max_pending, or a write blocked past the write deadline) cuts off
// a browser tab that stops reading exactly as it would a TCP client.

import type { WebSocket } from '@fastify/websocket';
import type { Credentials } from '../../core/auth/authorizer.ts';
import type { Connection, ConnectionTls } from '../../core/connection/connection.ts';

/** Above this many queued bytes write() reports back-pressure (net.Socket's default mark). */
const DEFAULT_HIGH_WATER_MARK = 16 * 1024;
/** A peer that never answers our close frame is cut after this long. */
const CLOSE_GRACE_MS = 5_000;
/** RFC 6455 §7.4.1 status codes we send. */
const CLOSE_NORMAL = 1000;

export interface WebSocketConnectionOptions {
  remoteAddress: string;
  remotePort: number;
  highWaterMark?: number;
  /** Credentials presented at the upgrade (cookie, Authorization header). */
  credentials?: Credentials;
  /** The TLS session of a wss:// upgrade. */
  tls?: ConnectionTls;
}

export class WebSocketConnection implements Connection {
  readonly transport = 'websocket';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly credentials: Credentials | undefined;
  readonly tlsState: ConnectionTls | undefined;
  private readonly highWaterMark: number;
  private readonly drainListeners: Array<() => void> = [];
  /** A write returned false; the next completed send that empties the queue is a drain. */
  private needDrain = false;
  private readonly onSent = (error?: Error | null): void => {
    // Node's stream write callbacks pass null on success, not undefined.
    if (error != null || !this.needDrain) return;
    if (this.socket.bufferedAmount > this.highWaterMark / 2) return;
    this.needDrain = false;
    for (const listener of this.drainListeners) listener();
  };

  constructor(private readonly socket: WebSocket, options: WebSocketConnectionOptions) {
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.credentials = options.credentials;
    this.tlsState = options.tls;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  get writableLength(): number {
    return this.socket.bufferedAmount;
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    // One frame per batch: a browser gets one message event per server flush.
    const frame = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks as Buffer[]);
    this.socket.send(frame, { binary: true }, this.onSent);
    if (this.socket.bufferedAmount < this.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  onData(listener: (chunk: Buffer) => void): void {
    // Text frames are accepted too, as nats-server does; only the bytes matter.
    this.socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => listener(toBuffer(data)));
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    let failure: Error | undefined;
    this.socket.on('error', (error: Error) => {
      failure = error;
    });
    this.socket.once('close', () => listener(failure));
  }

  /** Stops reading the TCP socket under the WebSocket (frames already received may still arrive). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(): void {
    const state = this.socket.readyState;
    if (state === this.socket.CLOSED) return;
    // ws sends the close frame after what is queued, so a final -ERR still arrives.
    if (state !== this.socket.CLOSING) this.socket.close(CLOSE_NORMAL);
    // A peer that never reads never answers the close frame either.
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.terminate();
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
