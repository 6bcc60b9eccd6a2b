// The bridge's metrics() as Prometheus metric families, one series per mapping
// (labels mapping and direction), served on GET /metrics by the monitor
// extension (kafka-monitor.ts); the JSON form, GET /kafkaz, is metrics() itself.

import type { MetricFamily } from '../../gateways/descriptor.ts';
import type { KafkaBridgeMetrics } from './kafka-bridge.ts';
import type { MappingMetricsSnapshot } from './mapping-metrics.ts';

interface Series {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  value: (m: MappingMetricsSnapshot) => number;
}

const SERIES: Series[] = [
  { name: 'switchboard_kafka_bridge_up', type: 'gauge', help: '1 while the mapping is connected and running', value: (m) => (m.state === 'running' ? 1 : 0) },
  { name: 'switchboard_kafka_bridge_messages_total', type: 'counter', help: 'Messages delivered to the destination', value: (m) => m.messages },
  { name: 'switchboard_kafka_bridge_bytes_total', type: 'counter', help: 'Payload bytes delivered to the destination', value: (m) => m.bytes },
  { name: 'switchboard_kafka_bridge_rate', type: 'gauge', help: 'Messages per second over the last 10 s', value: (m) => m.rate },
  { name: 'switchboard_kafka_bridge_lag', type: 'gauge', help: 'Kafka to NATS: records behind the high watermark; NATS to Kafka: messages buffered', value: (m) => m.lag },
  { name: 'switchboard_kafka_bridge_errors_total', type: 'counter', help: 'Errors (failed writes, reconnects, untranslatable messages)', value: (m) => m.errors },
  { name: 'switchboard_kafka_bridge_dropped_total', type: 'counter', help: 'Messages dropped (buffer full, untranslatable, unwritten at stop)', value: (m) => m.dropped },
  { name: 'switchboard_kafka_bridge_loops_prevented_total', type: 'counter', help: 'Messages from Kafka not sent back to Kafka', value: (m) => m.loopsPrevented },
  {
    name: 'switchboard_kafka_bridge_last_error_timestamp_seconds',
    type: 'gauge',
    help: 'Time of the last error, seconds since the epoch (0: none)',
    value: (m) => (m.lastError === null ? 0 : Date.parse(m.lastError.at) / 1000),
  },
];

export function kafkaBridgeFamilies(metrics: KafkaBridgeMetrics): MetricFamily[] {
  return SERIES.map((series) => ({
    name: series.name,
    type: series.type,
    help: series.help,
    samples: metrics.mappings.map((m) => ({ labels: { mapping: m.name, direction: m.direction }, value: series.value(m) })),
  }));
}
