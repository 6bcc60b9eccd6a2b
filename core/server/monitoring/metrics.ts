// GET /metrics: one registry (prometheus-text.ts) of the core's series and
// every monitor extension's, in Prometheus text format 0.0.4. The varz and
// subsz figures keep prometheus-nats-exporter's names (gnatsd_varz_*,
// gnatsd_subsz_*) so dashboards built for nats-server work unchanged; figures
// Switchboard adds use the switchboard_ prefix, and those every protocol has
// (connections, messages, bytes, dropped messages) are one family each with a
// protocol label, to which the gateways add their samples.

import { CONNECTION_TYPES, type ConnectionType } from './connection-source.ts';
import { sublistFigures } from './subsz.ts';
import { buildVarz } from './varz.ts';
import { outTotals, type MonitorContext, type MonitorResponse, type ProtocolTraffic } from './monitor-context.ts';
import { prometheusText, type MetricFamily } from './prometheus-text.ts';

interface Metric {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  value: number;
}

export function collectMetrics(ctx: MonitorContext): Metric[] {
  const v = buildVarz(ctx);
  const s = sublistFigures(ctx);
  const gauge = (name: string, help: string, value: number): Metric => ({ name, type: 'gauge', help, value });
  const counter = (name: string, help: string, value: number): Metric => ({ name, type: 'counter', help, value });
  return [
    gauge('gnatsd_varz_connections', 'Open client connections', v.connections),
    counter('gnatsd_varz_total_connections', 'Client connections accepted since start', v.total_connections),
    gauge('gnatsd_varz_subscriptions', 'Subscriptions', v.subscriptions),
    counter('gnatsd_varz_in_msgs', 'Messages received from clients', v.in_msgs),
    counter('gnatsd_varz_out_msgs', 'Messages sent to clients', v.out_msgs),
    counter('gnatsd_varz_in_bytes', 'Payload bytes received from clients', v.in_bytes),
    counter('gnatsd_varz_out_bytes', 'Payload bytes sent to clients', v.out_bytes),
    counter('gnatsd_varz_slow_consumers', 'Clients cut off as slow consumers', v.slow_consumers),
    gauge('gnatsd_varz_mem', 'Resident memory, bytes', v.mem),
    gauge('gnatsd_varz_cpu', 'CPU use, percent of one core', v.cpu),
    gauge('gnatsd_varz_cores', 'CPU cores', v.cores),
    gauge('gnatsd_varz_max_connections', 'Configured connection limit', v.max_connections),
    gauge('gnatsd_varz_max_payload', 'Configured maximum payload, bytes', v.max_payload),
    gauge('gnatsd_varz_max_pending', 'Configured per-client pending limit, bytes', v.max_pending),
    gauge('gnatsd_varz_start_time', 'Start time, seconds since the epoch', Math.floor(ctx.server.startedAt.getTime() / 1000)),
    gauge('gnatsd_subsz_num_subscriptions', 'Subscriptions in the index', s.num_subscriptions),
    gauge('gnatsd_subsz_num_cache', 'Cached match results', s.num_cache),
    counter('gnatsd_subsz_num_inserts', 'Subscriptions inserted since start', s.num_inserts),
    counter('gnatsd_subsz_num_removes', 'Subscriptions removed since start', s.num_removes),
    counter('gnatsd_subsz_num_matches', 'Subject matches since start', s.num_matches),
    gauge('gnatsd_subsz_cache_hit_rate', 'Fraction of matches answered from the cache', s.cache_hit_rate),
    gauge('gnatsd_subsz_max_fanout', 'Largest fan-out among cached results', s.max_fanout),
    gauge('gnatsd_subsz_avg_fanout', 'Mean fan-out among cached results', s.avg_fanout),
    counter('switchboard_auth_failures_total', 'Connections refused with Authorization Violation', ctx.server.stats.authFailures),
  ];
}

/** Open connections by type, every type present (0 when none), whoever owns them. */
function connectionsFamily(ctx: MonitorContext): MetricFamily {
  const counts = new Map<ConnectionType, number>(CONNECTION_TYPES.map((type) => [type, 0]));
  for (const client of ctx.server.clients.values()) {
    const type = client.connection.transport === 'websocket' ? 'websocket-nats' : 'nats';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  for (const extension of ctx.extensions ?? []) for (const c of extension.connections?.() ?? []) counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
  return { name: 'switchboard_connections', type: 'gauge', help: 'Open connections by type (nats, websocket-nats, mqtt, websocket-mqtt, http-stream, kafka-mapping)', samples: [...counts].map(([type, value]) => ({ labels: { type }, value })) };
}

/** The series every protocol reports, one family each with a protocol label: the core's NATS figures and each extension's. */
function trafficFamilies(all: readonly ProtocolTraffic[]): MetricFamily[] {
  const family = (name: string, help: string, value: (t: ProtocolTraffic) => number): MetricFamily => ({
    name,
    type: 'counter',
    help,
    samples: all.map((t) => ({ labels: { protocol: t.protocol }, value: value(t) })),
  });
  return [
    family('switchboard_messages_received_total', 'Messages received from clients, by protocol', (t) => t.msgsIn),
    family('switchboard_messages_sent_total', 'Messages sent to clients, by protocol', (t) => t.msgsOut),
    family('switchboard_bytes_received_total', 'Payload bytes received from clients, by protocol', (t) => t.bytesIn),
    family('switchboard_bytes_sent_total', 'Payload bytes sent to clients, by protocol', (t) => t.bytesOut),
    {
      name: 'switchboard_dropped_messages_total',
      type: 'counter',
      help: 'Messages not delivered, by protocol and reason (slow_consumer counts connections cut)',
      samples: all.flatMap((t) => Object.entries(t.dropped).map(([reason, value]) => ({ labels: { protocol: t.protocol, reason }, value }))),
    },
  ];
}

function natsTraffic(ctx: MonitorContext): ProtocolTraffic {
  const out = outTotals(ctx.server);
  const { stats } = ctx.server.router;
  return {
    protocol: 'nats',
    msgsIn: stats.inMsgs,
    bytesIn: stats.inBytes,
    msgsOut: out.msgs,
    bytesOut: out.bytes,
    dropped: { slow_consumer: ctx.server.stats.slowConsumers, permission: ctx.server.stats.deniedPublishes },
  };
}

export function metrics(ctx: MonitorContext): MonitorResponse {
  const serverId = { server_id: ctx.server.serverId };
  const families: MetricFamily[] = collectMetrics(ctx).map((m) => ({ name: m.name, type: m.type, help: m.help, samples: [{ labels: serverId, value: m.value }] }));
  const extensions = ctx.extensions ?? [];
  const traffic = [natsTraffic(ctx), ...extensions.flatMap((e) => (e.traffic === undefined ? [] : [e.traffic()]))];
  families.push(connectionsFamily(ctx), ...trafficFamilies(traffic));
  for (const extension of extensions) families.push(...(extension.metrics?.() ?? []));
  return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: prometheusText(families) };
}
