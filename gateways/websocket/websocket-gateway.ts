// The WebSocket gateway on its own listener, as nats-server runs its
// `websocket {}` block on a port of its own (ANCHORS §6). Built separately from
// listening (CONVENTIONS 4): createWebSocketGateway() builds the fastify app,
// start() listens, stop() closes every socket and the listener.
//
// nats-server's WebSocket default is 443 with TLS required; here TLS (WSS) is
// on when the section has a tls block, and the default is 8081 on loopback:
// next to the HTTP gateway's 8080, which it can also share by registering
// websocketRoutes on that app with `natsPath` instead.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AddressInfo } from 'node:net';
import { httpServerFactory, replaceServerTls, type TlsServerOptions } from '../../core/connection/tls-material.ts';
import { websocketRoutes, type AcceptConnection, type WebSocketRoutesOptions, type WebSocketRouteStats } from './websocket-routes.ts';

export const DEFAULT_WEBSOCKET_PORT = 8081;
/** How long stop() lets clients answer the close frame before cutting them. */
const STOP_GRACE_MS = 1_000;

/** Anything with NatsServer's accept(), or a bare accept function. */
export type ConnectionAcceptor = AcceptConnection | { accept(connection: Parameters<AcceptConnection>[0]): unknown };

export interface WebSocketGatewayOptions extends Omit<WebSocketRoutesOptions, 'nats' | 'mqtt'> {
  /** The NATS protocol server (NatsServer) or its accept function. */
  nats: ConnectionAcceptor;
  /** The MQTT gateway (anything with accept(connection)); `/mqtt` answers 404 without it. */
  mqtt?: ConnectionAcceptor;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 8081; 0 = any free port). */
  port?: number;
  /** WSS only; `mapCertificate` (verify_and_map): the client certificate names the user. */
  tls?: TlsServerOptions & { mapCertificate?: boolean };
  /** Failed TLS handshakes: that socket is closed, nothing else affected. */
  onTlsError?: (error: Error, remote: string) => void;
  logger?: FastifyServerOptions['logger'];
}

export interface WebSocketGateway {
  readonly app: FastifyInstance;
  /** The bound port (after start). */
  readonly port: number;
  /** `ws://host:port`, or wss:// with TLS (after start). */
  readonly url: string;
  readonly stats: Readonly<WebSocketRouteStats>;
  start(): Promise<void>;
  /** Refuse upgrades (503) from now on; the NATS and MQTT servers behind close their own clients. */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
  /** A reload's certificate (HTTPS/WSS): new handshakes use it, open connections keep theirs. */
  replaceTls(material: TlsServerOptions): void;
}

/** Listening failed: carries the address so the operator sees which one. */
export class WebSocketGatewayListenError extends Error {
  override readonly name = 'WebSocketGatewayListenError';
  constructor(readonly host: string, readonly port: number, options: { cause: unknown }) {
    super(`WebSocket gateway cannot listen on ${host}:${port}: ${String((options.cause as Error)?.message ?? options.cause)}`, options);
  }
}

export function toAccept(acceptor: ConnectionAcceptor): AcceptConnection {
  return typeof acceptor === 'function' ? acceptor : (connection) => acceptor.accept(connection);
}

export function createWebSocketGateway(options: WebSocketGatewayOptions): WebSocketGateway {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? DEFAULT_WEBSOCKET_PORT;
  const stats: WebSocketRouteStats = { upgrades: 0, rejectedOrigins: 0, rejectedCredentials: 0 };
  const app = Fastify({ logger: options.logger ?? false, serverFactory: httpServerFactory(options.tls, options.onTlsError) });
  const { nats, mqtt, host: _host, port: _port, logger: _logger, tls, onTlsError: _onTlsError, ...routeOptions } = options;
  void app.register(websocketRoutes, {
    ...routeOptions,
    mapCertificate: tls?.mapCertificate === true,
    nats: toAccept(nats),
    mqtt: mqtt === undefined ? undefined : toAccept(mqtt),
    stats,
  });
  let boundPort = 0;
  let lameDuck = false;
  app.addHook('onRequest', (_request, reply, done) => {
    if (!lameDuck) return done();
    void reply.code(503).header('connection', 'close').send({ status: 'unavailable', reason: 'server is in lame duck mode' });
  });

  return {
    app,
    stats,
    get port() {
      return boundPort;
    },
    get url() {
      return `${tls === undefined ? 'ws' : 'wss'}://${host}:${boundPort}`;
    },
    replaceTls(material) {
      replaceServerTls(app.server, material);
    },
    async start() {
      try {
        await app.listen({ host, port: requestedPort });
      } catch (error) {
        throw new WebSocketGatewayListenError(host, requestedPort, { cause: error });
      }
      boundPort = (app.server.address() as AddressInfo).port;
    },
    async lameDuck() {
      lameDuck = true;
    },
    async stop() {
      // @fastify/websocket's preClose sends every client a close frame; those
      // that do not answer in time are cut so stop() cannot hang on a dead tab.
      const sockets = app.websocketServer === undefined ? [] : [...app.websocketServer.clients];
      await app.close();
      const deadline = Date.now() + STOP_GRACE_MS;
      while (sockets.some((s) => s.readyState !== s.CLOSED) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
    },
  };
}
