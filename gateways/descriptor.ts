// What a gateway or connector tells the composition root about itself: its
// config section (parsed and validated here, with the key and the reason),
// its flags, environment variables and help, and how to build it on a Broker.
// gateways/registry.ts lists one descriptor per folder; main.ts, the config
// loader and --help iterate over that list, so a new protocol is a folder and
// one line there (DESIGN "Layout": registry).

import type { Authorizer } from '../core/auth/authorizer.ts';
import type { Broker } from '../core/broker/broker.ts';
import type { ConfigWarning, ExtensionFlag } from '../core/config/config-extension.ts';
import type { Connection } from '../core/connection/connection.ts';
import type { TlsServerOptions } from '../core/connection/tls-material.ts';
import type { Logger } from '../core/server/logger.ts';
import type { ConnectionIds, ConnectionSnapshot, ConnectionSubscription } from '../core/server/monitoring/connection-source.ts';
import type { MonitorExtension, MonitorResponse } from '../core/server/monitoring/monitor-context.ts';
import type { HistogramSample, MetricFamily, Sample } from '../core/server/monitoring/prometheus-text.ts';

export type { ConnectionIds, ConnectionSnapshot, ConnectionSubscription, HistogramSample, MetricFamily, MonitorExtension, Sample };

/** Takes a Connection that carries a protocol: the NATS server's accept(), a gateway's accept(). */
export type AcceptConnection = (connection: Connection) => void;

/** What every gateway and connector is built from. */
export interface DescriptorContext {
  readonly broker: Broker;
  /** Serves NATS on a Connection: the embedded NatsServer, or a relay to the cluster. */
  readonly nats: AcceptConnection;
  readonly authorizer: Authorizer;
  /** This instance's name, unique per gateway of a cluster (default: each gateway's own). */
  readonly name?: string;
  /** With JetStream, state (MQTT sessions, retained messages) lives in streams. */
  readonly jetstream: boolean;
  readonly maxPayload: number;
  readonly logger: Logger;
  /** Ids for the connections a component lists in /connz: the NATS server's counter when embedded, so cids never collide. */
  readonly connectionIds: ConnectionIds;
  /** The accept() of a descriptor built earlier, by name (MQTT over WebSocket at /mqtt). */
  acceptor(name: string): AcceptConnection | undefined;
  /**
   * The core's monitoring (varz, connz, ...), answered without a socket: the HTTP
   * gateway serves it behind its auth, for the web console and for clients that
   * cannot reach the monitoring port. Absent in cluster mode and with no_monitor.
   */
  readonly coreMonitor?: {
    respond(path: string, query: URLSearchParams): MonitorResponse;
    /** The endpoints respond() answers, without the slash: its own and those extended into it (leafz, kafkaz). */
    readonly endpointNames: readonly string[];
    /** Publish permission on it allows closing connections (nats-server's KICK subject). */
    readonly kickSubject: string;
    /** Close connection `cid`, any protocol (DELETE /v1/connections/{cid}); false when none has it. */
    disconnect(cid: number): boolean;
  };
  /** Every monitor extension of the process, read per request (the HTTP gateway serves them too). */
  monitorExtensions(): readonly MonitorExtension[];
  /** Their /metrics series as Prometheus text (the HTTP gateway's /metrics, where there is no monitoring port). */
  extensionMetricsText(): string;
}

/** A built gateway or connector. */
export interface Component {
  start(): Promise<void>;
  /**
   * Lame duck (--signal ldm): stop accepting, tell the clients, and close them
   * spread over `durationMs` after `graceMs`; stop() follows. Absent: stop() does it all.
   */
  lameDuck?(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
  /** A listener's address: logged once bound; a default port that is taken is skipped with a warning, a port asked for must bind. */
  readonly listener?: { readonly host: string; readonly port: number; readonly required: boolean; boundPort(): number };
  readonly accept?: AcceptConnection;
  /** Figures the core's monitor serves (an endpoint and /metrics series). */
  readonly monitor?: MonitorExtension;
  /** A config reload's certificate, key and CA for its TLS listener (loaded and checked by the caller). */
  replaceTls?(material: TlsServerOptions): void;
}

export interface Descriptor<Section = unknown, Name extends string = string> {
  /** Its config section (`mqtt`, `http_gateway`, ...); also its name in the registry. */
  readonly name: Name;
  /**
   * 'gateway': a protocol listener, on by default; its help lines join the
   * Gateways block and --no_gateways turns it off. 'connector': a bridge to
   * another system; its help is a block of its own after cluster mode.
   */
  readonly kind: 'gateway' | 'connector';
  /** Used in log lines: `<label> listening on host:port`. */
  readonly label: string;
  /** A gateway's listen port when its section names none. */
  readonly defaultPort?: number;
  readonly flags: readonly ExtensionFlag[];
  /** A gateway's flag lines, or a connector's whole block (heading included), each ending in a newline. */
  readonly help: string;
  /** Lay the flag and environment settings over the raw sections (see ConfigExtension). */
  applySettings?(sections: Record<string, unknown>, settings: Readonly<Record<string, unknown>>): void;
  /** Validate the raw section (undefined when absent); throws ConfigError naming the key. Gateways listen on `defaultHost` unless told otherwise. */
  parse(raw: unknown, defaultHost: string): Section;
  /**
   * Keys of a parsed section accepted without effect (logged at startup with the file they came
   * from). A descriptor that has it is also parsed when the config loads, so its errors name the file.
   */
  warnings?(section: Section): readonly ConfigWarning[];
  /** null: configured off. */
  create(section: Section, context: DescriptorContext): Component | null;
}
