// The hub side of leaf links (nats-server's `leafnodes { port }`): accept a
// socket, send the leafnode INFO (with a nonce, the connection id and the
// leafnode URL list, by which a leaf knows it reached a leafnode port, and
// tls_required when the block has tls: INFO goes in clear, then the
// handshake, as nats-server does), and admit the leaf's CONNECT with the
// block's authorization. Nothing else differs from the leaf side.

import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Connection } from '../connection/connection.ts';
import type { LeafConnect, LeafInfo } from './leaf-wire.ts';

export interface LeafListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  authTimeoutMs: number;
  /** Present when the block has tls: INFO says tls_required, the connection factory does the handshake. */
  tls?: { verify: boolean };
}

export interface LeafListenerHost {
  readonly authorizer: Authorizer;
  /** Turns an accepted socket into a Connection (TLS after INFO when configured). */
  readonly connections: (socket: Socket) => Connection;
  /** The INFO fields that describe this server (id, name, version, JetStream and its domain). */
  infoBase(): Omit<LeafInfo, 'nonce' | 'client_id' | 'leafnode_urls'>;
  /** Serve an accepted connection: `info` to send first, `admit` to judge its CONNECT. */
  serve(connection: Connection, info: LeafInfo, admit: (connect: LeafConnect) => Promise<string | null> | string | null, authTimeoutMs: number): void;
}

export class LeafListener {
  private server: Server | null = null;
  private boundPort = 0;

  constructor(readonly options: LeafListenerOptions, private readonly host: LeafListenerHost) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address !== null ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const connection = this.host.connections(socket);
    const info: LeafInfo = {
      ...this.host.infoBase(),
      auth_required: true,
      ...(this.options.tls === undefined ? {} : { tls_required: true, ...(this.options.tls.verify ? { tls_verify: true } : {}) }),
      nonce: randomBytes(16).toString('base64url'),
      leafnode_urls: [`${this.options.host}:${this.boundPort}`],
    };
    this.host.serve(connection, info, (connect) => this.admit(connect), this.options.authTimeoutMs);
  }

  /** nats-server processLeafNodeConnect: a client library's CONNECT (it has `lang`) or a gateway's is refused; then the credentials. */
  private async admit(connect: LeafConnect): Promise<string | null> {
    if (connect.lang !== undefined) return 'Attempted To Connect To Leafnode Port';
    if (connect.gateway !== undefined) return `Rejecting connection from gateway "${connect.gateway}" on the leafnode port`;
    const principal = await this.host.authorizer.authenticate({ user: connect.user, pass: connect.pass, token: connect.auth_token });
    return principal === null ? 'Authorization Violation' : null;
  }
}
