// GET /metrics: the varz and subsz figures in Prometheus text format 0.0.4,
// then the series of any monitor extensions (e.g. the Kafka bridge's).
// Names follow prometheus-nats-exporter (gnatsd_varz_*, gnatsd_subsz_*) so
// dashboards built for nats-server work unchanged; figures Switchboard adds
// use the switchboard_ prefix.

import { sublistFigures } from './subsz.ts';
import { buildVarz } from './varz.ts';
import type { MonitorContext, MonitorResponse } from './monitor-context.ts';

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

export function metrics(ctx: MonitorContext): MonitorResponse {
  const server = JSON.stringify(ctx.server.serverId);
  let body = '';
  for (const m of collectMetrics(ctx)) {
    body += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name}{server_id=${server}} ${m.value}\n`;
  }
  for (const extension of ctx.extensions ?? []) body += extension.prometheus?.() ?? '';
  return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body };
}
