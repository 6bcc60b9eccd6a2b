// The HTTP/REST gateway (issue 9): a fastify app in front of the Broker port.
// Built separately from listening (CONVENTIONS 4): createHttpGateway() returns the
// gateway with its fastify instance, so other HTTP features (WebSocket, core
// monitoring) can register on the same server before start().

import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import { connectionIdCounter } from '../../core/connection/connection-ids.ts';
import Fastify, { type FastifyInstance, type FastifyLoggerOptions, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Authorizer } from '../../core/auth/authorizer.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { httpServerFactory, replaceServerTls, type TlsServerOptions } from '../../core/connection/tls-material.ts';
import { closeSpread } from '../../core/connection/close-spread.ts';
import type { MonitorExtension } from '../descriptor.ts';
import { HttpRequestMetrics } from './http-metrics.ts';
import { httpMonitor } from './http-monitor.ts';
import { HttpAuthenticator, redactUrl, type PrincipalCacheOptions } from './auth.ts';
import type { GatewayContext, GatewayStats } from './context.ts';
import { corsOptions, type CorsPolicy } from './cors-policy.ts';
import { installProblemHandlers } from './problem-handlers.ts';
import { EventStreamSet } from './event-stream.ts';
import { acceptEmptyJsonBodies } from './json-body.ts';
import { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import { StreamPublisher } from '../../core/jetstream-client/stream-publisher.ts';
import { RouteTable, type RecordedRoute } from './route-table.ts';
import { SessionStore, type SessionOptions } from './session-store.ts';
import { applyUserRateLimits } from './user-rate-limit.ts';
import { consoleRoutes } from './routes/console.ts';
import { batchPublishRoutes } from './routes/batch-publish.ts';
import { bucketRoutes } from './routes/buckets.ts';
import { consumerRoutes } from './routes/consumers.ts';
import { docsRoutes } from './routes/docs.ts';
import { kvRoutes } from './routes/kv.ts';
import { objectRoutes } from './routes/objects.ts';
import { sessionRoutes } from './routes/session.ts';
import { connectionRoutes } from './routes/connections.ts';
import { monitoringRoutes, type MonitoringMount } from './routes/monitoring.ts';
import { streamMessageRoutes } from './routes/stream-messages.ts';
import { streamRoutes } from './routes/streams.ts';
import { subjectRoutes } from './routes/subjects.ts';
import { lazyValidators } from './lazy-validators.ts';

export interface HttpGatewayOptions {
  broker: Broker;
  authorizer: Authorizer;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 8080; 0 = any free port). */
  port?: number;
  /** HTTPS only; `mapCertificate` (verify_and_map): the client certificate names the user. */
  tls?: TlsServerOptions & { mapCertificate?: boolean };
  /** Failed TLS handshakes: that socket is closed, nothing else affected. */
  onTlsError?: (error: Error, remote: string) => void;
  /** Largest message in bytes, headers included: the core's max_payload (default 1 MiB). */
  maxPayload?: number;
  /** Heartbeat interval for event streams in ms (default 15 s; 0 = off). */
  heartbeatMs?: number;
  /** Bytes an event-stream reader may fall behind before it is cut off (default 8 MiB). */
  maxPendingBytes?: number;
  /** Event streams (subscriptions, stream reads, watches) open at once (default 10,000). */
  maxStreams?: number;
  /** Default and largest request/reply timeout in ms (default 5 s and 5 min). */
  requestTimeoutMs?: number;
  maxRequestTimeoutMs?: number;
  authCache?: PrincipalCacheOptions;
  /** Cross-origin browser access (default none: same-origin only). */
  cors?: CorsPolicy;
  /** Browser login sessions (POST /v1/login): lifetime and how many are kept. */
  sessions?: SessionOptions;
  /** Event streams opened and closed, with route, user, address and reason (the server's logger at -D). */
  log?: { debug(fields: object, message: string): void };
  /** Connection ids for /connz (default a counter of the gateway's own). */
  connectionIds?: () => number;
  /** Core monitoring providers to serve (see routes/monitoring.ts). */
  monitoring?: MonitoringMount;
  /** Where the built web console is (default: dist/console, see routes/console.ts). */
  consoleDir?: string;
  /**
   * fastify logger options (default off). Request logs carry method, redacted URL
   * and peer only: headers (Authorization) are never logged.
   */
  logger?: boolean | FastifyLoggerOptions;
}

export interface HttpGateway {
  readonly app: FastifyInstance;
  /** The bound port (after start). */
  readonly port: number;
  /** `http://host:port`, or https:// with TLS (after start). */
  readonly url: string;
  readonly stats: Readonly<GatewayStats>;
  /** Every route served now, as the OpenAPI document and the 405 Allow header see them. */
  readonly routes: readonly RecordedRoute[];
  /** Browser sessions: revoke a user's with `sessions.revokeUser(name)`. */
  readonly sessions: SessionStore;
  /** Its event streams in /connz and its /varz section (http-monitor.ts). */
  readonly monitor: MonitorExtension;
  start(): Promise<void>;
  /** Answer 503 from now on, then end the event streams (`event: end`) spread over `durationMs` after `graceMs`. */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  /** Ends open event streams with `event: end` and the reason `server shutting down`, then closes. */
  stop(): Promise<void>;
  /** A reload's certificate (HTTPS/WSS): new handshakes use it, open connections keep theirs. */
  replaceTls(material: TlsServerOptions): void;
  /**
   * End every open event stream with `event: end` and `reason` (lame duck mode:
   * clients reconnect elsewhere); new streams may still open. Resolves with how many.
   */
  endStreams(reason: string): Promise<number>;
}

export const DEFAULT_HTTP_PORT = 8080;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

function loggerOptions(logger: boolean | FastifyLoggerOptions | undefined): false | FastifyLoggerOptions {
  if (logger === undefined || logger === false) return false;
  const base = logger === true ? {} : logger;
  return {
    ...base,
    serializers: {
      ...base.serializers,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  } as FastifyLoggerOptions;
}

export function createHttpGateway(options: HttpGatewayOptions): HttpGateway {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const app = Fastify({
    serverFactory: httpServerFactory(options.tls, options.onTlsError),
    logger: loggerOptions(options.logger),
    // Bodies above max_payload are refused while streaming in (413), never buffered whole.
    bodyLimit: maxPayload,
    // Subjects and KV keys live in the path and may be long.
    routerOptions: { maxParamLength: 4096 },
    // HEAD on every GET route: headers (ETag, Content-Length) without the body.
    exposeHeadRoutes: true,
    // stop() must also end long-lived event streams.
    forceCloseConnections: true,
    return503OnClosing: true,
    // Validators compile on a route's first request, not at every start (lazy-validators.ts).
    schemaController: { compilersFactory: { buildValidator: lazyValidators() } },
  });
  const stats: GatewayStats = { published: 0, publishedBytes: 0, requests: 0, errors: 0, activeStreams: 0, slowConsumers: 0, eventsSent: 0, streamBytes: 0 };
  const jetstream = new JetStreamClient(options.broker, options.requestTimeoutMs ?? 5_000);
  const streams = new StreamPublisher(options.broker, jetstream);
  const sessions = new SessionStore(options.sessions);
  const ctx: GatewayContext = {
    broker: options.broker,
    jetstream,
    streams,
    auth: new HttpAuthenticator(options.authorizer, { ...options.authCache, mapCertificate: options.tls?.mapCertificate === true }, sessions),
    maxPayload,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maxPendingBytes: options.maxPendingBytes ?? 8 * 1024 * 1024,
    maxStreams: options.maxStreams ?? 10_000,
    defaultRequestTimeoutMs: options.requestTimeoutMs ?? 5_000,
    maxRequestTimeoutMs: options.maxRequestTimeoutMs ?? 300_000,
    stats,
    requestMetrics: new HttpRequestMetrics(),
    log: options.log,
    openStreams: new EventStreamSet(),
    connectionIds: options.connectionIds ?? connectionIdCounter(),
  };
  ctx.requestMetrics.install(app);
  let lameDuck = false;
  // Lame duck: a load balancer's health check (and every request) is told to go elsewhere.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!lameDuck) return done();
    void reply.code(503).header('connection', 'close').header('retry-after', '1').send({ status: 'unavailable', reason: 'server is in lame duck mode' });
  });
  const table = new RouteTable(app);
  installProblemHandlers(app, table, () => {
    stats.errors++;
  });
  app.decorateRequest('principal', null as never);
  acceptEmptyJsonBodies(app);
  app.register(fastifyCookie);
  if (options.cors !== undefined) app.register(fastifyCors, corsOptions(options.cors));
  // A route served only while its provider is mounted answers like no route otherwise.
  app.addHook('onRequest', (request, reply, done) => {
    const served = request.routeOptions.config.served;
    if (served !== undefined && !served()) reply.callNotFound();
    else done();
  });

  app.register(async (v1) => {
    // Callback style, not async: this runs on every request.
    v1.addHook('onRequest', (request, _reply, done) => {
      let result: ReturnType<typeof ctx.auth.authenticate>;
      try {
        result = ctx.auth.authenticate(request);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (result instanceof Promise) {
        result.then((principal) => {
          request.principal = principal;
          done();
        }, done);
        return;
      }
      request.principal = result;
      done();
    });
    await applyUserRateLimits(v1);
    await v1.register(sessionRoutes, { ctx, sessions, secure: options.tls !== undefined });
    await v1.register(subjectRoutes, ctx);
    await v1.register(batchPublishRoutes, ctx);
    await v1.register(streamRoutes, ctx);
    await v1.register(streamMessageRoutes, ctx);
    await v1.register(consumerRoutes, ctx);
    await v1.register(kvRoutes, ctx);
    await v1.register(bucketRoutes, ctx);
    await v1.register(objectRoutes, ctx);
    await v1.register(connectionRoutes, { ctx, mount: options.monitoring ?? {} });
  });
  app.register(monitoringRoutes, { ctx, mount: options.monitoring ?? {} });
  app.register(consoleRoutes, { dir: options.consoleDir });
  app.register(docsRoutes, {
    table,
    info: {
      title: 'Switchboard HTTP API',
      version: '1',
      description:
        'Publish, request and subscribe on NATS subjects over plain HTTP. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`. Credentials: `Authorization: Bearer <token>` or Basic user:password, never in the URL; browsers may log in for a session cookie (POST /v1/login). Times are RFC 3339 with nanoseconds, next to the stream sequence.',
    },
  });

  let boundPort = -1;
  const host = options.host ?? '127.0.0.1';
  return {
    app,
    get routes() {
      return table.routes;
    },
    sessions,
    stats,
    monitor: httpMonitor(ctx, host, () => boundPort),
    get port() {
      return boundPort;
    },
    get url() {
      return `${options.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    },
    replaceTls(material) {
      replaceServerTls(app.server, material);
    },
    async start() {
      await streams.index.followAdvisories(options.broker);
      await app.listen({ host, port: options.port ?? DEFAULT_HTTP_PORT });
      boundPort = (app.server.address() as AddressInfo).port;
    },
    async lameDuck(durationMs, graceMs) {
      lameDuck = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(graceMs, durationMs)));
      await closeSpread([...ctx.openStreams], Math.max(0, durationMs - graceMs), (stream) => stream.end('lame duck mode'));
    },
    async stop() {
      streams.stop();
      // Readers are told why their stream ends (`event: end`) before the sockets close.
      await ctx.openStreams.endAll('server shutting down');
      await app.close();
    },
    endStreams: (reason) => ctx.openStreams.endAll(reason),
  };
}
