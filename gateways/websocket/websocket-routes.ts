// WebSocket endpoints as a fastify plugin: NATS on every path but `/mqtt`, and
// MQTT on `/mqtt` with subprotocol `mqtt`, as nats-server lays them out (NS
// server/websocket.go wsUpgrade). The plugin only checks the upgrade (origin,
// optional credentials) and hands each socket, wrapped as a Connection, to the
// protocol server: no protocol logic lives here (DESIGN: framing only).
//
// It registers @fastify/websocket itself, so it goes on a fastify instance
// that has no other WebSocket routes: the standalone gateway's own server
// (websocket-gateway.ts), or the HTTP gateway's app with `natsPath` set so the
// NATS endpoint does not swallow the HTTP routes.
//
// `bufferutil` is a dependency because ws picks it up for unmasking client
// frames natively (prebuilt binaries ship in the package); in JS that loop was
// 15% of the server's CPU in `npm run bench:websocket`.

import fastifyWebsocket, { type WebSocket } from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Authorizer, Credentials } from '../../core/auth/authorizer.ts';
import type { Connection } from '../../core/connection/connection.ts';
import { certificateCredentials } from '../../core/connection/peer-certificate.ts';
import { socketTls } from '../../core/connection/socket-connection.ts';
import { OriginPolicy, OriginRejectedError } from './origin-policy.ts';
import { readUpgradeCredentials, type UpgradeCredentialOptions } from './upgrade-credentials.ts';
import { WebSocketConnection } from './websocket-connection.ts';

/** Serves one protocol over any Connection: NatsServer.accept, the MQTT gateway's accept. */
export type AcceptConnection = (connection: Connection) => unknown;

export const MQTT_PATH = '/mqtt';
/** MQTT over WebSocket subprotocols: `mqtt` (3.1.1 and 5), `mqttv3.1` (3.1). [MQTT-6.0.0-3] */
const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;
/** Largest WebSocket message accepted; the protocol layer applies max_payload itself. */
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface WebSocketRoutesOptions {
  /** NATS protocol endpoint, usually `(c) => natsServer.accept(c)`. */
  nats: AcceptConnection;
  /** MQTT endpoint on `/mqtt`; without it `/mqtt` answers 404, as nats-server does with MQTT off. */
  mqtt?: AcceptConnection;
  /** NATS path; undefined = every path that does not end in `/mqtt` (nats-server's layout). */
  natsPath?: string;
  allowedOrigins?: readonly string[];
  sameOrigin?: boolean;
  /** Negotiate permessage-deflate when the client offers it (default off, as nats-server). */
  compression?: boolean;
  maxMessageBytes?: number;
  /** Credentials read from cookies / Authorization at upgrade, used when CONNECT has none. */
  upgradeCredentials?: UpgradeCredentialOptions;
  /** When given, upgrade-time credentials are checked before the upgrade (401 if wrong). */
  authorizer?: Authorizer;
  /**
   * verify_and_map on a WSS listener: the client certificate is the socket's
   * credentials, and names the user for NATS and MQTT alike (cookies and
   * headers are not read).
   */
  mapCertificate?: boolean;
  /** Bytes queued on one socket before write() reports back-pressure. */
  highWaterMark?: number;
  /**
   * Take the client address from the first X-Forwarded-For entry when it is an
   * IP address, as nats-server does. Off by default: only a trusted proxy in
   * front may set it, or any client could claim any address.
   */
  trustForwardedFor?: boolean;
}

export interface WebSocketRouteStats {
  upgrades: number;
  rejectedOrigins: number;
  rejectedCredentials: number;
}

type Endpoint = 'nats' | 'mqtt';

export async function websocketRoutes(app: FastifyInstance, options: WebSocketRoutesOptions & { stats?: WebSocketRouteStats }): Promise<void> {
  const origins = new OriginPolicy({ allowedOrigins: options.allowedOrigins, sameOrigin: options.sameOrigin });
  const stats = options.stats ?? { upgrades: 0, rejectedOrigins: 0, rejectedCredentials: 0 };
  const credentialsBySocket = new WeakMap<IncomingMessage, Credentials>();

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      // nats-server always negotiates no context takeover: per-connection deflate
      // windows would cost memory per browser tab for little gain on small messages.
      perMessageDeflate: options.compression === true ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : false,
      handleProtocols: (offered, request) => {
        if (endpointOf(request.url ?? '/', options.natsPath) !== 'mqtt') return false;
        for (const protocol of MQTT_SUBPROTOCOLS) if (offered.has(protocol)) return protocol;
        return false;
      },
    },
  });

  /** Runs before the upgrade: a reply sent here is a plain HTTP answer on the socket. */
  const checkUpgrade = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.ws) return;
    const endpoint = endpointOf(request.url, options.natsPath);
    if (endpoint === 'mqtt' && options.mqtt === undefined) {
      return reply.code(404).send('mqtt websocket endpoint not enabled');
    }
    try {
      origins.check(request.headers.origin, request.headers.host, isTls(request));
    } catch (error) {
      if (!(error instanceof OriginRejectedError)) throw error;
      stats.rejectedOrigins++;
      request.log.info({ origin: error.origin }, error.message);
      return reply.code(403).send(error.message);
    }
    if (options.upgradeCredentials !== undefined && options.mapCertificate !== true) {
      const credentials = readUpgradeCredentials(request.headers, options.upgradeCredentials);
      if (credentials !== undefined) {
        if (options.authorizer !== undefined && (await options.authorizer.authenticate(credentials)) === null) {
          stats.rejectedCredentials++;
          return reply.code(401).send('credentials presented at upgrade were refused');
        }
        credentialsBySocket.set(request.raw, credentials);
      }
    }
  };

  const serve = (socket: WebSocket, request: FastifyRequest): void => {
    const endpoint = endpointOf(request.url, options.natsPath);
    const accept = endpoint === 'mqtt' ? options.mqtt : options.nats;
    if (accept === undefined) {
      socket.terminate();
      return;
    }
    stats.upgrades++;
    const connection = new WebSocketConnection(socket, {
      remoteAddress: clientAddress(request, options.trustForwardedFor === true),
      remotePort: request.socket.remotePort ?? 0,
      highWaterMark: options.highWaterMark,
      credentials: options.mapCertificate === true ? certificateCredentials(request.socket as TLSSocket) : credentialsBySocket.get(request.raw),
      tls: socketTls(request.socket), // wss: the session /connz reports
    });
    accept(connection);
  };

  // An upgrade request that no route takes (the app's 404, an HTTP route) is
  // answered over HTTP and its socket then left open: the HTTP server no longer
  // reads an upgrade socket, so neither the client's close nor app.close() would
  // ever end it. A hijacked (upgraded) request never reaches onResponse.
  app.addHook('onResponse', (request, _reply, done) => {
    if (isUpgradeRequest(request.raw)) request.raw.socket.destroy();
    done();
  });

  const paths = options.natsPath === undefined ? ['/', '/*'] : [options.natsPath, MQTT_PATH];
  for (const url of paths) {
    app.route({
      method: 'GET',
      url,
      onRequest: checkUpgrade,
      handler: (_request, reply) => reply.code(400).send('WebSocket upgrade required'),
      wsHandler: serve,
    });
  }
}

// Like fastify-plugin: routes and the hook above belong to the app registering
// this plugin, so the hook also sees requests for the app's own routes and 404s.
(websocketRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

function clientAddress(request: FastifyRequest, trustForwardedFor: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustForwardedFor && typeof forwarded === 'string') {
    const first = forwarded.split(',')[0].trim();
    if (isIP(first) !== 0) return first;
  }
  return request.socket.remoteAddress ?? '';
}

function isUpgradeRequest(request: IncomingMessage): boolean {
  return request.headers.upgrade?.toLowerCase() === 'websocket';
}

function endpointOf(url: string, natsPath: string | undefined): Endpoint | null {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  // nats-server matches the suffix, so a proxy may mount the endpoint under a prefix.
  if (path.endsWith(MQTT_PATH)) return 'mqtt';
  if (natsPath === undefined || path === natsPath) return 'nats';
  return null;
}

function isTls(request: FastifyRequest): boolean {
  return (request.socket as Partial<TLSSocket>).encrypted === true;
}
