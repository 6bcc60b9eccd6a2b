// GET /varz: server identity, configured limits and totals, with nats-server's
// field names and JSON types (durations in nanoseconds where it uses
// time.Duration, seconds where it uses float seconds).

import { availableParallelism } from 'node:os';
import { NATS_COMPAT_VERSION } from '../nats-server.ts';
import { compactUptime } from './durations.ts';
import { json, outTotals, type MonitorContext, type MonitorResponse } from './monitor-context.ts';

const NS_PER_MS = 1_000_000;

export interface Varz {
  server_id: string;
  server_name: string;
  version: string;
  proto: number;
  go: string;
  host: string;
  port: number;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_verify?: boolean;
  max_connections: number;
  ping_interval: number;
  ping_max: number;
  http_host: string;
  http_port: number;
  http_base_path: string;
  https_port: number;
  auth_timeout: number;
  max_control_line: number;
  max_payload: number;
  max_pending: number;
  cluster: Record<string, never>;
  gateway: Record<string, never>;
  leaf: Record<string, never>;
  /** Filled by the MQTT and WebSocket gateways' monitor extensions; {} without them, as nats-server. */
  mqtt: Record<string, unknown>;
  websocket: Record<string, unknown>;
  /** Switchboard's own sections (http_gateway, kafka), present only when that part runs. */
  [section: string]: unknown;
  jetstream: Record<string, never>;
  tls_timeout: number;
  write_deadline: number;
  start: string;
  now: string;
  uptime: string;
  mem: number;
  cores: number;
  gomaxprocs: number;
  cpu: number;
  connections: number;
  total_connections: number;
  routes: number;
  remotes: number;
  leafnodes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  slow_consumers: number;
  subscriptions: number;
  http_req_stats: Record<string, number>;
  config_load_time: string;
}

/** Each monitor extension's /varz section by its key. */
function extensionSections(ctx: MonitorContext): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const extension of ctx.extensions ?? []) if (extension.varz !== undefined) sections[extension.varz.key] = extension.varz.value();
  return sections;
}

export function buildVarz(ctx: MonitorContext): Varz {
  const { server } = ctx;
  const { mqtt = {}, websocket = {}, ...ownSections } = extensionSections(ctx);
  const o = server.options;
  const now = new Date();
  const out = outTotals(server);
  const cores = availableParallelism();
  return {
    server_id: server.serverId,
    server_name: o.serverName,
    version: NATS_COMPAT_VERSION,
    proto: 1,
    go: `node ${process.version}`,
    host: o.host,
    port: server.port,
    ...(server.authorizer.authRequired ? { auth_required: true } : {}),
    ...(ctx.tls ? { tls_required: true, ...(ctx.tls.verify ? { tls_verify: true } : {}) } : {}),
    max_connections: o.maxConnections,
    ping_interval: o.pingIntervalMs * NS_PER_MS,
    ping_max: o.maxPingsOut,
    http_host: ctx.httpHost,
    http_port: ctx.httpPort,
    http_base_path: '',
    https_port: ctx.httpsPort,
    auth_timeout: o.authTimeoutMs / 1000,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: {},
    gateway: {},
    leaf: {},
    mqtt,
    websocket,
    jetstream: {},
    ...ownSections,
    tls_timeout: 2,
    write_deadline: o.writeDeadlineMs * NS_PER_MS,
    start: server.startedAt.toISOString(),
    now: now.toISOString(),
    uptime: compactUptime(now.getTime() - server.startedAt.getTime()),
    mem: process.memoryUsage.rss(),
    cores,
    gomaxprocs: cores,
    cpu: ctx.cpuPercent(),
    connections: server.clients.size,
    total_connections: server.stats.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: (ctx.extensions ?? []).reduce((n, extension) => n + (extension.leafnodes?.() ?? 0), 0),
    in_msgs: server.router.stats.inMsgs,
    out_msgs: out.msgs,
    in_bytes: server.router.stats.inBytes,
    out_bytes: out.bytes,
    slow_consumers: server.stats.slowConsumers,
    subscriptions: server.router.sublist.count,
    http_req_stats: { ...ctx.requestStats },
    config_load_time: server.startedAt.toISOString(),
  };
}

export function varz(ctx: MonitorContext): MonitorResponse {
  return json(buildVarz(ctx));
}
