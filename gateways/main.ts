// Composition root and command line: reads the configuration (file,
// environment, flags), builds the core (NATS server, monitoring, JetStream when
// asked) and starts it, or in cluster mode (--nats-url) only the gateways on a
// NatsBroker; reloads users, permissions, certificates and limits on SIGHUP
// (config-reload.ts); shuts down cleanly on SIGTERM/SIGINT and enters lame
// duck on SIGUSR2 (stop-signals.ts).

import { readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalloutContext, CalloutTransport } from '../core/auth/callout-authorizer.ts';
import { createAuthorizer } from '../core/auth/create-authorizer.ts';
import { ReloadableAuthorizer, type ReloadOutcome } from '../core/auth/reloadable-authorizer.ts';
import { ConfigError } from '../core/config/config-error.ts';
import type { SwitchboardConfig } from '../core/config/switchboard-config.ts';
import { createCore, type Core, type CoreOptions } from '../core/create-core.ts';
import type { LeafNodeConfig } from '../core/config/leafnode-options.ts';
import type { JetStreamEngine } from '../core/jetstream/jetstream-engine.ts';
import { logObserver } from '../core/server/log-observer.ts';
import { createLogger, type Logger } from '../core/server/logger.ts';
import type { MonitorServer } from '../core/server/monitoring/monitor-server.ts';
import { SWITCHBOARD_VERSION, NATS_COMPAT_VERSION, type NatsServer } from '../core/server/nats-server.ts';
import { JetStreamUnavailableError, NatsConnectError } from '../core/broker/errors.ts';
import { awaitJetStream } from '../core/jetstream-client/jetstream-available.ts';
import { NatsBroker } from '../core/broker/nats-broker.ts';
import { DEFAULT_SERVER_OPTIONS } from '../core/config/server-options.ts';
import { reloadConfiguration } from './config-reload.ts';
import { createGateways, type Gateways } from './create-gateways.ts';
import { loadConfig, parseSections, USAGE } from './registry.ts';
import { processSignal, SignalError } from './process-signal.ts';
import { natsTcpRelay } from './websocket/nats-tcp-relay.ts';
import { handleStopSignals } from './stop-signals.ts';

/** Exit code when the NATS cluster cannot be reached, or has no JetStream, at startup (1 is invalid configuration). */
export const EXIT_CLUSTER_UNREACHABLE = 2;
/** Logged once everything is listening, in either mode. */
export const READY_MESSAGE = 'Switchboard ready';

export interface App {
  readonly nats: NatsServer;
  readonly monitor: MonitorServer | null;
  readonly jetstream: JetStreamEngine | null;
  readonly gateways: Gateways;
  start(): Promise<void>;
  /** Lame duck on every listener at once (the core's NATS clients, each gateway's); stop() follows. */
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
  /**
   * Apply `next` in place of the running configuration (config-reload.ts);
   * throws ConfigError, changing nothing, when it cannot. `source` names the
   * file in errors.
   */
  reload(next: SwitchboardConfig, source?: string): Promise<ReloadOutcome>;
}

/**
 * How an auth callout reaches its service: a request on the Broker (embedded
 * or the cluster's), which exists only once the core or the cluster
 * connection does, hence `transport` is looked up per request.
 */
function calloutContext(config: SwitchboardConfig, transport: () => CalloutTransport | null, logger: Logger): CalloutContext {
  return {
    transport: {
      request(subject, data, options) {
        const broker = transport();
        return broker === null ? Promise.reject(new Error('not connected to the broker yet')) : broker.request(subject, data, options);
      },
    },
    serverName: config.server.serverName,
    host: config.server.host,
    version: NATS_COMPAT_VERSION,
    timeoutMs: config.server.authTimeoutMs,
    onRejected: (reason) => logger.warn({ reason }, 'auth callout refused a client'),
  };
}

/** The `leafnodes` block as createCore takes it. */
function leafNodesOf(leaf: LeafNodeConfig, domain: string | undefined): NonNullable<CoreOptions['leafnodes']> {
  const listener = leaf.listener;
  return {
    remotes: leaf.remotes,
    domain,
    ...(listener === undefined
      ? {}
      : {
          listener: { host: listener.host, port: listener.port, authTimeoutMs: listener.authTimeoutMs, ...(listener.tls === undefined ? {} : { tls: { verify: listener.tls.verify } }) },
          authorization: listener.authorization,
          tls: listener.tls,
        }),
  };
}

/** The core the configuration asks for (createCore does the wiring). */
function coreFor(config: SwitchboardConfig, authorizer: ReloadableAuthorizer, logger: Logger): Core {
  const { jetstream, monitor } = config;
  return createCore({
    server: config.server,
    authorizer,
    tls: config.tls,
    jetstream: jetstream.enabled
      ? {
          storeDir: jetstream.storeDir ?? join(tmpdir(), 'switchboard', 'jetstream'),
          maxMemory: jetstream.maxMemoryStore,
          maxStorage: jetstream.maxFileStore,
          maxBufferedMsgs: jetstream.maxBufferedMsgs,
          maxBufferedSize: jetstream.maxBufferedSize,
          strict: jetstream.strict,
        }
      : null,
    observer: logObserver(logger),
    monitor,
    logger,
    leafnodes: config.leafnodes === null ? null : leafNodesOf(config.leafnodes, jetstream.domain),
  });
}

/** Build everything the configuration asks for; nothing listens until start(). */
export function createApp(config: SwitchboardConfig, logger: Logger): App {
  const callout = calloutContext(config, () => core.broker, logger);
  const authorizer = new ReloadableAuthorizer(createAuthorizer(config.auth, callout));
  const core = coreFor(config, authorizer, logger);
  let running = config;
  const gateways = createGateways(parseSections(config.sections, config.server.host), {
    broker: core.broker,
    nats: (connection) => core.nats.accept(connection),
    connectionIds: () => core.nats.nextConnectionId(),
    authorizer,
    jetstream: core.jetstream !== null,
    maxPayload: config.server.maxPayload,
    logger,
    ...(core.monitor === null ? {} : { coreMonitor: core.monitor }),
  });
  for (const extension of gateways.monitorExtensions) core.monitor?.extend(extension);
  return {
    nats: core.nats,
    monitor: core.monitor,
    jetstream: core.jetstream,
    gateways,
    async start() {
      await core.start();
      await gateways.start();
      logger.info(READY_MESSAGE);
    },
    async lameDuck(durationMs, graceMs) {
      await Promise.all([gateways.lameDuck(durationMs, graceMs), core.lameDuck(durationMs, graceMs)]);
    },
    async stop() {
      // Gateways first (they publish into the core), then stop accepting and
      // flush every client's pending output, then the stores.
      await gateways.stop();
      await core.stop();
    },
    async reload(next, source) {
      const outcome = await reloadConfiguration(running, next, { authorizer, callout, core, gateways }, source);
      running = next;
      return outcome;
    },
  };
}

export interface ClusterApp {
  /** null until start() has connected to the cluster. */
  readonly gateways: Gateways | null;
  start(): Promise<void>;
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
  reload(next: SwitchboardConfig, source?: string): Promise<ReloadOutcome>;
}

/**
 * Cluster mode: no embedded core (no NATS listener, JetStream engine or
 * monitor); every gateway runs on one NatsBroker against the cluster's
 * JetStream. start() rejects with NatsConnectError naming the URLs when no
 * server of the cluster can be reached, and JetStreamUnavailableError when
 * they run without JetStream.
 */
export function createClusterApp(config: SwitchboardConfig, logger: Logger): ClusterApp {
  const cluster = config.cluster;
  if (cluster === null) throw new Error('createClusterApp needs a cluster configuration (nats_url)');
  const sections = parseSections(config.sections, config.server.host);
  let broker: NatsBroker | null = null;
  const callout = calloutContext(config, () => broker, logger);
  const authorizer = new ReloadableAuthorizer(createAuthorizer(config.auth, callout));
  let running = config;
  // Each gateway owns the MQTT sessions it serves, by name: a cluster needs one name per instance.
  const name = config.server.serverName === DEFAULT_SERVER_OPTIONS.serverName ? `switchboard-${hostname()}` : config.server.serverName;
  let gateways: Gateways | null = null;
  return {
    get gateways() {
      return gateways;
    },
    async start() {
      broker = await NatsBroker.connect({
        servers: cluster.servers,
        user: cluster.user,
        pass: cluster.pass,
        token: cluster.token,
        tls: cluster.tls,
        name,
        streamReplicas: cluster.streamReplicas,
      });
      logger.info({ servers: cluster.servers, streamReplicas: cluster.streamReplicas, name }, `cluster mode: connected to NATS at ${cluster.servers.join(', ')}`);
      await awaitJetStream(broker, cluster.servers);
      if (cluster.tls !== undefined && sections.websocket.enabled) {
        logger.warn('NATS over WebSocket is not relayed to a TLS cluster; use the cluster\'s own websocket listener (MQTT over WebSocket still works)');
      }
      gateways = createGateways(sections, {
        broker,
        nats: cluster.tls === undefined ? natsTcpRelay({ servers: cluster.servers, onError: (server, error) => logger.warn({ server, err: error.message }, 'NATS over WebSocket: server unreachable') }) : (connection) => connection.destroy(),
        authorizer,
        name,
        jetstream: true,
        maxPayload: config.server.maxPayload,
        logger,
      });
      await gateways.start();
      logger.info(READY_MESSAGE);
    },
    async lameDuck(durationMs, graceMs) {
      await gateways?.lameDuck(durationMs, graceMs);
    },
    async stop() {
      await gateways?.stop();
      await broker?.close();
    },
    async reload(next, source) {
      const outcome = await reloadConfiguration(running, next, { authorizer, callout, core: null, gateways }, source);
      running = next;
      return outcome;
    },
  };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let app: App | ClusterApp;
  let logger: Logger;
  let configFile: string | undefined;
  let server: SwitchboardConfig['server'];
  try {
    const loaded = loadConfig(argv, env);
    if (loaded.kind === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (loaded.kind === 'signal') {
      processSignal(loaded.signal, readIfFile);
      return 0;
    }
    if (loaded.kind === 'version') {
      process.stdout.write(`switchboard ${SWITCHBOARD_VERSION} (NATS protocol ${NATS_COMPAT_VERSION})\n`);
      return 0;
    }
    logger = createLogger(loaded.config.log);
    server = loaded.config.server;
    // Building validates what only the core can check (TLS material) before anything listens.
    app = loaded.config.cluster === null ? createApp(loaded.config, logger) : createClusterApp(loaded.config, logger);
    configFile = loaded.configFile;
    if (configFile) logger.info({ file: configFile }, 'configuration loaded');
    for (const warning of loaded.config.warnings) logger.warn(warning);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SignalError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  // The stop signals are handled from before the listeners start: a SIGTERM while they come up (a
  // supervisor stopping a server it just started) stops cleanly once start has settled, where the
  // default action would end the process by the signal (no exit code, nothing flushed).
  const running = app;
  let starting: Promise<void> = Promise.resolve();
  const afterStart = (): Promise<void> => starting.catch(() => undefined);
  const stoppable = {
    async lameDuck(durationMs: number, graceMs: number): Promise<void> {
      await afterStart();
      await running.lameDuck(durationMs, graceMs);
    },
    async stop(): Promise<void> {
      await afterStart();
      await running.stop();
    },
  };
  handleStopSignals(stoppable, logger, { durationMs: server.lameDuckDurationMs, graceMs: server.lameDuckGracePeriodMs });
  try {
    starting = app.start();
    await starting;
  } catch (error) {
    if (!(error instanceof NatsConnectError || error instanceof JetStreamUnavailableError)) throw error;
    process.stderr.write(`switchboard: ${error.message}\n`);
    await app.stop();
    return EXIT_CLUSTER_UNREACHABLE;
  }

  // One reload at a time, in the order the signals came.
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(() => reload(running, argv, env, configFile, logger));
  });
  return -1;
}

/**
 * SIGHUP: read the configuration again and apply it. A failure of any kind
 * leaves the running configuration as it was and is logged with the file,
 * the key and the reason.
 */
async function reload(app: App | ClusterApp, argv: string[], env: NodeJS.ProcessEnv, configFile: string | undefined, logger: Logger): Promise<void> {
  logger.info({ signal: 'SIGHUP', file: configFile }, 'reloading configuration');
  try {
    const loaded = loadConfig(argv, env);
    if (loaded.kind !== 'config') return;
    const outcome = await app.reload(loaded.config, loaded.configFile);
    logger.info({ file: loaded.configFile, connections: outcome.checked, revoked: outcome.revoked }, 'configuration reloaded');
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      logger.error({ file: configFile, err: error instanceof Error ? error.message : String(error) }, 'configuration reload failed; the running configuration is unchanged');
      return;
    }
    logger.error({ file: error.source ?? configFile, key: error.key, reason: error.reason }, `configuration reload failed: ${error.message}; the running configuration is unchanged`);
  }
}

/** A pid file's contents, or undefined when `path` names no readable file (it is then the pid itself). */
function readIfFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Run as a program: exit with main's code, or stay up until a signal when it returns -1. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`switchboard: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) run(process.argv.slice(2));
