// TLS for the NATS listener, the way nats-server does it: INFO goes out in
// plain text (announcing tls_required), then the client starts the TLS
// handshake on the same socket and everything after is encrypted. This is a
// Connection: NatsClient never knows TLS is there.

import { type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Credentials } from '../auth/authorizer.ts';
import type { Connection, ConnectionTls } from '../connection/connection.ts';
import { certificateCredentials } from '../connection/peer-certificate.ts';
import { socketTls } from '../connection/socket-connection.ts';

export interface TlsUpgradeOptions {
  secureContext: SecureContext;
  /** Require a client certificate signed by the configured CA. */
  verify: boolean;
  /** verify_and_map: the client certificate names the user (credentials.certificate). */
  mapCertificate: boolean;
  handshakeTimeoutMs: number;
  onHandshakeError?: (error: Error, remote: string) => void;
}

export class StartTlsConnection implements Connection {
  private tls: TLSSocket | null = null;
  private infoSent = false;
  /** Writes made after INFO but before the TLS socket exists. */
  private held: Buffer[] = [];
  private readonly dataListeners: Array<(chunk: Buffer) => void> = [];
  private readonly drainListeners: Array<() => void> = [];
  private readonly closeListeners: Array<(error?: Error) => void> = [];
  private closed = false;
  private failure: Error | undefined;

  constructor(private readonly raw: Socket, private readonly options: TlsUpgradeOptions) {
    raw.setNoDelay(true);
    raw.on('error', (err) => {
      this.failure = err;
    });
    raw.once('close', () => {
      if (this.tls === null) this.fireClose();
    });
  }

  get remoteAddress(): string {
    return this.raw.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.raw.remotePort ?? 0;
  }

  /**
   * With verify_and_map, the certificate; CONNECT arrives after the handshake,
   * so it is known by then. verify_and_map turns on rejectUnauthorized, so a
   * completed handshake means OpenSSL verified it (a TLSSocket made by hand
   * does not set `authorized`).
   */
  get credentials(): Credentials | undefined {
    return this.options.mapCertificate && this.tls !== null ? certificateCredentials(this.tls, true) : undefined;
  }

  get tlsState(): ConnectionTls | undefined {
    return socketTls(this.tls);
  }

  get writableLength(): number {
    return (this.tls?.writableLength ?? 0) + this.raw.writableLength;
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.closed) return false;
    if (this.tls !== null) {
      let ok = true;
      this.tls.cork();
      for (const chunk of chunks) ok = this.tls.write(chunk);
      this.tls.uncork();
      return ok;
    }
    if (!this.infoSent) {
      // The first batch is INFO: plain text, then the handshake once it is on the wire.
      this.infoSent = true;
      this.raw.write(Buffer.concat(chunks as Buffer[]), () => this.upgrade());
      return true;
    }
    this.held.push(...chunks);
    return true;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  pauseReading(): void {
    (this.tls ?? this.raw).pause();
  }

  resumeReading(): void {
    (this.tls ?? this.raw).resume();
  }

  end(): void {
    if (this.tls !== null) this.tls.end();
    else this.raw.end();
    setTimeout(() => this.destroy(), 5_000).unref();
  }

  destroy(): void {
    this.tls?.destroy();
    this.raw.destroy();
  }

  private upgrade(): void {
    if (this.closed || this.raw.destroyed) return;
    const { secureContext, verify, handshakeTimeoutMs } = this.options;
    const tls = new TLSSocket(this.raw, { isServer: true, secureContext, requestCert: verify, rejectUnauthorized: verify });
    this.tls = tls;
    const timer = setTimeout(() => {
      this.options.onHandshakeError?.(new Error('TLS handshake timed out'), this.remoteAddress);
      tls.destroy();
    }, handshakeTimeoutMs);
    timer.unref();
    let secured = false;
    tls.once('secure', () => {
      clearTimeout(timer);
      const unverified = verify ? verifyError(tls) : null;
      if (unverified !== null) {
        // A certificate from another CA: OpenSSL let the handshake finish and left the verdict to us.
        this.options.onHandshakeError?.(unverified, this.remoteAddress);
        tls.destroy();
        return;
      }
      secured = true;
      if (this.held.length > 0) {
        const held = this.held;
        this.held = [];
        this.write(held);
      }
    });
    tls.on('data', (chunk: Buffer) => {
      for (const l of this.dataListeners) l(chunk);
    });
    tls.on('drain', () => {
      for (const l of this.drainListeners) l();
    });
    tls.on('error', (err) => {
      clearTimeout(timer);
      this.failure = err;
      if (!secured) this.options.onHandshakeError?.(err, this.remoteAddress);
    });
    tls.once('close', () => {
      clearTimeout(timer);
      this.fireClose();
    });
  }

  private fireClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l(this.failure);
  }
}

/**
 * Why the peer's certificate did not verify, or null. A TLSSocket made by hand
 * (not by a tls.Server) neither rejects an unverified certificate nor sets
 * `authorized`: node accepts any chain during the handshake and leaves the
 * check to whoever owns the socket, which its own tls.Server does with this
 * same call on the socket's handle.
 */
function verifyError(tls: TLSSocket): Error | null {
  const handle = (tls as unknown as { _handle?: { verifyError(): Error | null } })._handle;
  if (handle === undefined) return new Error('TLS socket closed before verification');
  return handle.verifyError();
}
