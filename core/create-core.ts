// createCore(): the one way to build the embedded core: router, JetStream
// engine, NATS server, an EmbeddedBroker for the gateways, and monitoring
// with its JetStream figures. It sits above core/jetstream and core/broker
// (DESIGN.md "Dependency rule"): core/server never imports core/jetstream, so
// this is where the engine is attached to the router and its figures are
// handed to /jsz. Build separately from listen (CONVENTIONS 4): nothing
// listens until start(); stop() releases everything.

import type { Authorizer } from './auth/authorizer.ts';
import { EmbeddedBroker } from './broker/embedded-broker.ts';
import { resolveServerOptions, type ServerOptions } from './config/server-options.ts';
import type { TlsOptions } from './config/tls-options.ts';
import { JetStreamEngine, type JetStreamOptions } from './jetstream/jetstream-engine.ts';
import { jetStreamFamilies } from './jetstream/jetstream-metrics.ts';
import { tlsServerOptions, type TlsServerOptions } from './connection/tls-material.ts';
import { createAuthorizer } from './auth/create-authorizer.ts';
import type { AuthOptions } from './config/auth-options.ts';
import { LeafNodes, type LeafNodesOptions } from './leafnode/leaf-nodes.ts';
import { listenerConnections } from './server/listener-connections.ts';
import { silentLogger, type Logger } from './server/logger.ts';
import { ClosedConnections, combineObservers, DEFAULT_MAX_CLOSED } from './server/monitoring/closed-connections.ts';
import type { JetStreamFigures } from './server/monitoring/jsz.ts';
import { MonitorServer } from './server/monitoring/monitor-server.ts';
import { NATS_COMPAT_VERSION, NatsServer, type ServerObserver } from './server/nats-server.ts';
import { Router } from './server/router.ts';

export interface CoreMonitorOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * False for the no-config default port: if it is taken, start() warns and
   * runs without monitoring. Default true: failing to bind stops start().
   */
  required?: boolean;
  /** How many closed connections /connz?state=closed keeps (default nats-server's 10,000). */
  maxClosed?: number;
  /** HTTPS with the NATS listener's tls block (nats-server's https_port); needs `tls`. */
  tls?: boolean;
}

/** JetStream limits as /jsz reports them; the engine itself does not enforce them. */
export interface JetStreamLimits {
  /** Bytes; absent = no limit (-1 in /jsz). */
  maxMemory?: number;
  maxStorage?: number;
}

export interface CoreOptions {
  /** The NATS listener (defaults: nats-server's). */
  server?: Partial<ServerOptions>;
  authorizer?: Authorizer;
  /** The engine's options; absent or null = no JetStream (and none advertised in INFO). */
  jetstream?: (JetStreamOptions & JetStreamLimits) | null;
  /** TLS on the NATS listener (and reported by varz); its material is loaded by createCore(). */
  tls?: TlsOptions;
  observer?: ServerObserver;
  /** Absent or null = no monitoring listener. */
  monitor?: CoreMonitorOptions | null;
  /** Startup lines (listening, JetStream enabled); at level trace, every protocol operation. Default silent. */
  logger?: Logger;
  /** Leaf links (nats-server's `leafnodes` block): remotes to dial, a listener for leaves, with its authorization and tls. */
  leafnodes?: (LeafNodesOptions & { authorization?: AuthOptions; tls?: TlsOptions }) | null;
}

export interface Core {
  readonly router: Router;
  readonly jetstream: JetStreamEngine | null;
  readonly nats: NatsServer;
  /** The Broker port on this core, for gateways and connectors. */
  readonly broker: EmbeddedBroker;
  /** null without monitoring. Parts the core does not know add their figures with monitor.extend() before start(). */
  readonly monitor: MonitorServer | null;
  /** null without a `leafnodes` block. */
  readonly leafnodes: LeafNodes | null;
  /** JetStream (recovering streams from disk), then the NATS listener, then monitoring. */
  start(): Promise<void>;
  /** Lame duck: stop accepting NATS clients, tell them (INFO ldm), close them over the duration; monitoring stays up. stop() afterwards. */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  /** Stop accepting and flush every client's pending output, then the stores, then monitoring. */
  stop(): Promise<void>;
  /**
   * A config reload (SIGHUP): the new limits apply to every NATS client, and
   * `tls` (the top-level block's material, loaded and checked by the caller)
   * to the handshakes of the NATS listener and HTTPS monitoring from now on.
   * The rules of the authorizer are reloaded by whoever built it.
   */
  reload(update: { server: ServerOptions; tls?: TlsServerOptions }): void;
}

/** The engine's figures for /jsz (core/server cannot import core/jetstream). */
function jetStreamFigures(engine: JetStreamEngine, limits: JetStreamLimits): JetStreamFigures {
  const usage = engine.usage();
  let consumers = 0;
  let messages = 0;
  let bytes = 0;
  for (const stream of engine.streamList()) {
    consumers += stream.consumerCount;
    const state = stream.store.state();
    messages += state.msgs;
    bytes += state.bytes;
  }
  return {
    storeDir: engine.options.storeDir,
    maxMemory: limits.maxMemory ?? -1,
    maxStorage: limits.maxStorage ?? -1,
    memory: usage.memory,
    storage: usage.storage,
    streams: usage.streams,
    consumers,
    messages,
    bytes,
    apiTotal: engine.stats.apiTotal,
    apiErrors: engine.stats.apiErrors,
    streamDetail: () =>
      engine.streamList().map((stream) => {
        const info = engine.streamInfo(stream);
        return { name: stream.name, created: info.created, state: info.state, ...(info.mirror !== undefined ? { mirror: info.mirror } : {}), ...(info.sources !== undefined ? { sources: info.sources } : {}) };
      }),
  };
}

/** The leaf links of a `leafnodes` block: they share the NATS listener's limits and connection ids. */
function leafNodesFor(options: CoreOptions, router: Router, nats: NatsServer, jetstream: boolean, logger: Logger): LeafNodes | null {
  const leaf = options.leafnodes ?? null;
  if (leaf === null) return null;
  const o = nats.options;
  return new LeafNodes(
    { listener: leaf.listener, remotes: leaf.remotes, domain: jetstream ? leaf.domain : undefined },
    {
      router,
      identity: { serverId: nats.serverId, name: o.serverName, version: NATS_COMPAT_VERSION, jetstream, domain: jetstream ? leaf.domain : undefined },
      link: { pingIntervalMs: o.pingIntervalMs, maxPingsOut: o.maxPingsOut, maxPending: o.maxPending, maxPayload: o.maxPayload, maxControlLine: o.maxControlLine },
      nextId: () => nats.nextConnectionId(),
      logger,
      authorizer: leaf.authorization === undefined ? undefined : createAuthorizer(leaf.authorization),
      connections: listenerConnections(leaf.tls, logger, o),
    },
  );
}

export function createCore(options: CoreOptions = {}): Core {
  const logger = options.logger ?? silentLogger();
  const router = new Router();
  const js = options.jetstream ?? null;
  const jetstream = js === null ? null : new JetStreamEngine(router, js);
  const monitorOptions = options.monitor ?? null;
  // Recent closed connections for /connz?state=closed, kept only when monitoring is on.
  const closed = monitorOptions === null ? null : new ClosedConnections(monitorOptions.maxClosed ?? DEFAULT_MAX_CLOSED);
  const observers = [options.observer, closed?.observer].filter((o): o is ServerObserver => o !== undefined);
  const connections = listenerConnections(options.tls, logger, resolveServerOptions(options.server));
  const nats = new NatsServer(options.server, {
    router,
    authorizer: options.authorizer,
    jetstream: jetstream !== null,
    connectionFactory: connections,
    observer: observers.length > 1 ? combineObservers(...observers) : observers[0],
  });
  const broker = new EmbeddedBroker(router, undefined, jetstream !== null);
  const monitor =
    monitorOptions === null
      ? null
      : new MonitorServer(nats, {
          host: monitorOptions.host,
          port: monitorOptions.port,
          tls: options.tls === undefined ? undefined : { verify: options.tls.verify },
          https: monitorOptions.tls === true && options.tls !== undefined ? tlsServerOptions(options.tls, 'tls') : undefined,
          closed: closed ?? undefined,
          jetstream: jetstream === null || js === null ? undefined : () => jetStreamFigures(jetstream, js),
          extensions: jetstream === null ? [] : [{ metrics: () => jetStreamFamilies(jetstream) }],
        });
  const leafnodes = leafNodesFor(options, router, nats, jetstream !== null, logger);
  if (leafnodes !== null) {
    monitor?.extend({ path: '/leafz', json: (query) => leafnodes.leafz(nats.serverId, query), varz: { key: 'leaf', value: () => leafnodes.varzLeaf() }, leafnodes: () => leafnodes.activeCount, metrics: () => leafnodes.metrics() });
  }
  return {
    router,
    jetstream,
    nats,
    broker,
    monitor,
    leafnodes,
    async start() {
      if (jetstream !== null) {
        await jetstream.start();
        logger.info({ storeDir: jetstream.options.storeDir }, 'JetStream enabled');
      }
      await nats.start();
      logger.info({ host: nats.options.host, port: nats.port, tls: nats.options.tls !== undefined, auth: nats.authorizer.authRequired }, `NATS listening on ${nats.options.host}:${nats.port}`);
      if (leafnodes !== null) {
        await leafnodes.start();
        if (leafnodes.options.listener !== undefined) logger.info({ host: leafnodes.options.listener.host, port: leafnodes.port }, `leafnode listening on ${leafnodes.options.listener.host}:${leafnodes.port}`);
      }
      if (monitor === null) return;
      try {
        await monitor.start();
        logger.info({ host: monitor.options.host, port: monitor.port }, `monitoring listening on ${monitor.options.https === undefined ? 'http' : 'https'}://${monitor.options.host}:${monitor.port}`);
      } catch (error) {
        if (monitorOptions?.required !== false || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        logger.warn({ host: monitor.options.host, port: monitor.options.port }, 'default monitoring port in use: running without monitoring (set -m to require one)');
      }
    },
    lameDuck: (durationMs, graceMs) => nats.lameDuck(durationMs, graceMs),
    async stop() {
      await broker.close();
      await leafnodes?.stop();
      await nats.stop();
      await jetstream?.stop();
      await monitor?.stop();
    },
    reload({ server, tls }) {
      const { host: _host, port: _port, serverName: _name, tls: _tls, ...limits } = server;
      nats.applyLimits(limits);
      if (tls === undefined) return;
      connections.replaceTls(tls);
      monitor?.replaceTls(tls);
    },
  };
}
