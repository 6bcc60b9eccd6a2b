// The NATS-protocol server: accepts connections (TCP here, any Connection via
// accept()), owns the client registry, batches output once per event-loop turn
// and keeps the counters monitoring reports. Built separately from listening:
// `new NatsServer(options)` then `start()`; `stop()` releases everything.

import { randomBytes } from 'node:crypto';
import { createServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Authorizer } from '../auth/authorizer.ts';
import { OpenAuthorizer } from '../auth/authorizer.ts';
import { resolveServerOptions, type ServerOptions } from '../config/server-options.ts';
import { NatsErrorCode, NatsProtocolError } from '../protocol/errors.ts';
import { JS_API_LEVEL, natsVersionOfApiLevel } from '../protocol/jetstream-api-level.ts';
import { closeSpread } from '../connection/close-spread.ts';
import type { Connection } from '../connection/connection.ts';
import { SocketConnection } from '../connection/socket-connection.ts';
import { CloseReason } from './close-reason.ts';
import { NatsClient, type ClientHost } from './nats-client.ts';
import { Router } from './router.ts';

/** The NATS server version we report; clients pick protocol and JetStream features from it (the level we reach). */
export const NATS_COMPAT_VERSION = natsVersionOfApiLevel(JS_API_LEVEL);
export const SWITCHBOARD_VERSION = '0.1.0';

export interface ServerStats {
  totalConnections: number;
  slowConsumers: number;
  authFailures: number;
  /** Publishes refused by permissions (dropped messages, reason permission). */
  deniedPublishes: number;
  outMsgs: number;
  outBytes: number;
}

export interface NatsServerDeps {
  router?: Router;
  authorizer?: Authorizer;
  /** Advertise JetStream in INFO (set by whoever attaches a JetStream engine to the router). */
  jetstream?: boolean;
  /** Turns an accepted TCP socket into a Connection (TLS upgrade, protocol tracing); default SocketConnection. */
  connectionFactory?: (socket: Socket) => Connection;
  observer?: ServerObserver;
}

/** Optional callbacks for logs and events; none is on the message path. */
export interface ServerObserver {
  clientOpened?(client: NatsClient): void;
  clientClosed?(client: NatsClient, reason: CloseReason): void;
  authFailed?(client: NatsClient): void;
  slowConsumer?(client: NatsClient): void;
}

export class NatsServer implements ClientHost {
  readonly options: ServerOptions;
  readonly router: Router;
  readonly authorizer: Authorizer;
  readonly serverId = generateServerId();
  readonly startedAt = new Date();
  readonly clients = new Map<number, NatsClient>();
  readonly stats: ServerStats = { totalConnections: 0, slowConsumers: 0, authFailures: 0, deniedPublishes: 0, outMsgs: 0, outBytes: 0 };

  private listener: TcpServer | null = null;
  private boundPort = 0;
  private nextClientId = 1;
  private flushQueue: NatsClient[] = [];
  private flushPending = false;
  private infoBase: string;
  private readonly jetstream: boolean;
  private readonly connectionFactory: (socket: Socket) => Connection;
  private readonly observer: ServerObserver;

  constructor(options: Partial<ServerOptions> = {}, deps: NatsServerDeps = {}) {
    this.options = resolveServerOptions(options);
    this.router = deps.router ?? new Router();
    this.authorizer = deps.authorizer ?? new OpenAuthorizer();
    this.connectionFactory = deps.connectionFactory ?? ((socket) => new SocketConnection(socket));
    this.observer = deps.observer ?? {};
    this.jetstream = deps.jetstream === true;
    this.infoBase = this.buildInfo();
  }

  /**
   * A config reload: new limits for every client, current ones included (the
   * parser reads them per operation, as nats-server applies max_payload to
   * existing clients), and INFO rebuilt, since auth_required follows the
   * authorizer's new rules. Listener address and name stay.
   */
  applyLimits(limits: Partial<Omit<ServerOptions, 'host' | 'port' | 'serverName' | 'tls'>>): void {
    for (const [key, value] of Object.entries(limits)) if (value !== undefined) (this.options as unknown as Record<string, unknown>)[key] = value;
    this.infoBase = this.buildInfo();
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const listener = createServer({ noDelay: true }, (socket) => this.accept(this.connectionFactory(socket)));
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.options.port, this.options.host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    this.boundPort = typeof address === 'object' && address !== null ? address.port : this.options.port;
  }

  /** Serve a NATS client over any byte pipe (TCP, WebSocket, in-memory). */
  accept(connection: Connection): NatsClient | null {
    if (this.clients.size >= this.options.maxConnections) {
      connection.write([Buffer.from(new NatsProtocolError(NatsErrorCode.MaxConnections).toWire())]);
      connection.end();
      return null;
    }
    const client = new NatsClient(this.nextConnectionId(), connection, this);
    this.clients.set(client.id, client);
    this.stats.totalConnections++;
    this.observer.clientOpened?.(client);
    client.start();
    return client;
  }

  /** A connection id (cid); gateways number their connections from the same counter, so /connz ids never collide. */
  nextConnectionId(): number {
    return this.nextClientId++;
  }

  /**
   * Lame duck (nats-server's --signal ldm): stop accepting, send every client
   * an INFO with `ldm: true`, wait `graceMs`, then close the clients spread
   * over the rest of `durationMs`. stop() afterwards releases the rest.
   */
  async lameDuck(durationMs: number, graceMs: number): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    const closed = listener ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
    for (const client of this.clients.values()) client.sendLameDuckInfo();
    await new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, durationMs)));
    await closeSpread([...this.clients.values()], Math.max(0, durationMs - graceMs), (client) => client.close(CloseReason.ServerShutdown));
    this.flushNow();
    await closed;
  }

  async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    const closed = listener ? new Promise<void>((resolve) => listener.close(() => resolve())) : Promise.resolve();
    for (const client of [...this.clients.values()]) client.close(CloseReason.ServerShutdown);
    this.flushNow();
    await closed;
  }

  // ---- ClientHost ----

  infoLine(client: NatsClient): string {
    return `INFO ${this.infoBase},"port":${this.boundPort},"client_id":${client.id},"client_ip":${JSON.stringify(client.connection.remoteAddress)}} \r\n`;
  }

  /** Collect clients with output and write each once after this turn's input is processed. */
  scheduleFlush(client: NatsClient): void {
    this.flushQueue.push(client);
    if (this.flushPending) return;
    this.flushPending = true;
    setImmediate(() => this.flushNow());
  }

  onSlowConsumer(client: NatsClient): void {
    this.stats.slowConsumers++;
    this.observer.slowConsumer?.(client);
  }

  onAuthFailure(client: NatsClient): void {
    this.stats.authFailures++;
    this.observer.authFailed?.(client);
  }

  onPublishDenied(): void {
    this.stats.deniedPublishes++;
  }

  onClientClosed(client: NatsClient, reason: CloseReason): void {
    this.observer.clientClosed?.(client, reason);
    this.stats.outMsgs += client.stats.outMsgs;
    this.stats.outBytes += client.stats.outBytes;
    this.clients.delete(client.id);
  }

  /** INFO without its closing brace; port and client fields are added per client. */
  private buildInfo(): string {
    return JSON.stringify({
      server_id: this.serverId,
      server_name: this.options.serverName,
      version: NATS_COMPAT_VERSION,
      proto: 1,
      go: `switchboard ${SWITCHBOARD_VERSION} node ${process.version}`,
      host: this.options.host,
      headers: true,
      max_payload: this.options.maxPayload,
      ...(this.authorizer.authRequired ? { auth_required: true } : {}),
      ...(this.options.tls ? { tls_required: true, ...(this.options.tls.verify ? { tls_verify: true } : {}) } : {}),
      ...(this.jetstream ? { jetstream: true } : {}),
      // nats-server 2.11+: the JetStream API level (omitted at 0, as nats-server omits it).
      ...(this.jetstream && JS_API_LEVEL > 0 ? { api_lvl: JS_API_LEVEL } : {}),
    }).slice(0, -1);
  }

  private flushNow(): void {
    this.flushPending = false;
    const queue = this.flushQueue;
    this.flushQueue = [];
    for (let i = 0; i < queue.length; i++) queue[i].flush();
  }
}

function generateServerId(): string {
  // nats-server ids are 56 upper-case base32 characters starting with N.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(55);
  let id = 'N';
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}
