// A TCP socket as a Connection: the transport of the NATS and MQTT listeners
// (and, under StartTlsConnection, of TLS ones). A TLS socket from a tls.Server
// is one too; with verify_and_map its certificate comes as `credentials`.

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Credentials } from '../auth/authorizer.ts';
import type { Connection, ConnectionOwner, ConnectionTls } from './connection.ts';

/** The SocketConnection an attached socket belongs to, for the shared listeners below. */
const OWNER = Symbol('SocketConnection');
type AttachedSocket = Socket & { [OWNER]: SocketConnection };

/** A TLS socket's session as /connz reports it; undefined before the handshake or on a clear socket. */
export function socketTls(socket: Socket | null): ConnectionTls | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const version = socket.getProtocol();
  const cipher = socket.getCipher();
  return version === null || cipher === undefined ? undefined : { version, cipher: cipher.standardName ?? cipher.name };
}

export class SocketConnection implements Connection {
  private owner: ConnectionOwner | null = null;
  private failure: Error | undefined = undefined;

  constructor(private readonly socket: Socket, readonly credentials?: Credentials) {
    socket.setNoDelay(true);
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  get tlsState(): ConnectionTls | undefined {
    return socketTls(this.socket);
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
    // 'close' comes once: `on`, not `once`, spares a wrapper per connection (issue 20).
    this.socket.on('close', () => listener(failure));
  }

  /** One set of listeners shared by every attached socket: they find their owner through the socket. */
  attach(owner: ConnectionOwner): void {
    this.owner = owner;
    const socket = this.socket as AttachedSocket;
    socket[OWNER] = this;
    socket.on('data', SocketConnection.forwardData);
    socket.on('error', SocketConnection.noteError);
    socket.on('close', SocketConnection.forwardClose);
  }

  private static forwardData(this: AttachedSocket, chunk: Buffer): void {
    this[OWNER].owner?.onData(chunk);
  }

  private static noteError(this: AttachedSocket, error: Error): void {
    this[OWNER].failure = error;
  }

  private static forwardClose(this: AttachedSocket): void {
    const connection = this[OWNER];
    connection.owner?.onClose(connection.failure);
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
