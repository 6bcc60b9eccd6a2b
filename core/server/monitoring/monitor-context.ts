// What every monitoring endpoint reads: the NATS server (clients, router,
// counters), where the monitor itself listens, and a few process samples.
// Endpoints are pure functions of this context and the query string.

import type { NatsServer } from '../nats-server.ts';
import type { ClosedConnections } from './closed-connections.ts';
import type { ConnectionSnapshot } from './connection-source.ts';
import type { MetricFamily } from './prometheus-text.ts';
import type { JetStreamFigures } from './jsz.ts';

export interface MonitorContext {
  readonly server: NatsServer;
  readonly httpHost: string;
  readonly httpPort: number;
  /** The bound port when monitoring is HTTPS (https_port), else 0. */
  readonly httpsPort: number;
  /** Requests served per path, as varz http_req_stats. */
  readonly requestStats: Record<string, number>;
  /** TLS on the NATS listener (varz tls_required/tls_verify). */
  readonly tls?: { readonly verify: boolean };
  /** Percent of one core used since the previous sample. */
  cpuPercent(): number;
  /** Recently closed connections, when recorded (connz state=closed). */
  closed?: ClosedConnections;
  /** JetStream figures, when an engine is attached (varz jetstream, /jsz). */
  jetstream?: () => JetStreamFigures;
  /** Figures of parts core/server does not know (e.g. the Kafka bridge), appended to /metrics. */
  extensions?: readonly MonitorExtension[];
}

/**
 * A part of the process that core/server does not know (DESIGN dependency
 * rule), reported by the monitor: its own JSON endpoint (nats-server style,
 * e.g. /kafkaz), series appended to /metrics, its connections in /connz and
 * its section of /varz. The composition root wires it; each part is optional.
 */
export interface MonitorExtension {
  /** The JSON endpoint's path, e.g. '/kafkaz', with json() its answer to the request's query. */
  readonly path?: string;
  json?(query?: URLSearchParams): unknown;
  /** Its series on /metrics, as data: the monitor's one registry encodes them with the core's (prometheus-text.ts). */
  metrics?(): Iterable<MetricFamily>;
  /** Its totals in the series every protocol reports (switchboard_messages_received_total{protocol}, ...). */
  traffic?(): ProtocolTraffic;
  /** Its open connections, listed by /connz beside the NATS clients. */
  connections?(): Iterable<ConnectionSnapshot>;
  /** Close its connection `cid` on an operator's request (MonitorServer.disconnect); false when it has none by that id. */
  disconnect?(cid: number): boolean;
  /** Its /varz section: nats-server's `mqtt` and `websocket`, Switchboard's `http_gateway` and `kafka`. */
  readonly varz?: { readonly key: string; value(): Record<string, unknown> };
  /** Its open leafnode links, counted in /varz `leafnodes`. */
  leafnodes?(): number;
}

/** One protocol's message totals since start, as /metrics reports them for every protocol alike. */
export interface ProtocolTraffic {
  readonly protocol: string;
  readonly msgsIn: number;
  readonly msgsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Messages not delivered by reason: slow_consumer, queue_full, expired, max_packet_size, permission. */
  readonly dropped: Readonly<Record<string, number>>;
}

/** A monitoring request that cannot be answered: HTTP 400 with nats-server's text. */
export class MonitorQueryError extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
    this.name = 'MonitorQueryError';
  }
}

export interface MonitorResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export function json(value: unknown): MonitorResponse {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(value, null, 2) };
}

/** Out messages: those counted when clients closed plus the live clients' counters. */
export function outTotals(server: NatsServer): { msgs: number; bytes: number } {
  let msgs = server.stats.outMsgs;
  let bytes = server.stats.outBytes;
  for (const client of server.clients.values()) {
    msgs += client.stats.outMsgs;
    bytes += client.stats.outBytes;
  }
  return { msgs, bytes };
}

export function cpuSampler(): () => number {
  let lastUsage = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  let lastPercent = 0;
  return () => {
    const now = process.hrtime.bigint();
    const elapsedUs = Number(now - lastAt) / 1000;
    // Sample at most once a second, so back-to-back scrapes see a stable figure.
    if (elapsedUs < 1_000_000 && lastPercent > 0) return lastPercent;
    const usage = process.cpuUsage(lastUsage);
    lastUsage = process.cpuUsage();
    lastAt = now;
    lastPercent = elapsedUs > 0 ? Math.round(((usage.user + usage.system) / elapsedUs) * 1000) / 10 : 0;
    return lastPercent;
  };
}
