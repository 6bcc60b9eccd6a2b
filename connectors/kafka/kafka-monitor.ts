// What the Kafka bridge adds to the core's monitor besides /kafkaz and its
// series: each mapping in /connz as type kafka-mapping (a mapping is the
// bridge's connection into the broker: kafka-to-nats ones publish, counted
// in; nats-to-kafka ones subscribe, counted out), and the /varz `kafka` section.

import type { ConnectionIds, ConnectionSnapshot, MonitorExtension } from '../../gateways/descriptor.ts';
import type { MappingConfig } from './config.ts';
import type { KafkaBridge } from './kafka-bridge.ts';
import { kafkaBridgeFamilies } from './metrics-text.ts';
import type { MappingMetricsSnapshot } from './mapping-metrics.ts';

function brokerAddress(brokers: readonly string[]): { ip: string; port: number } {
  const first = brokers[0] ?? '';
  const colon = first.lastIndexOf(':');
  return colon < 0 ? { ip: first, port: 0 } : { ip: first.slice(0, colon), port: Number(first.slice(colon + 1)) || 0 };
}

function snapshot(cid: number, config: MappingConfig, m: MappingMetricsSnapshot, startedAt: number, brokers: readonly string[]): ConnectionSnapshot {
  const inbound = config.direction === 'kafka-to-nats';
  const lastMs = m.lastError === null ? startedAt : Math.max(startedAt, Date.parse(m.lastError.at));
  return {
    cid,
    type: 'kafka-mapping',
    ...brokerAddress(brokers),
    startMs: startedAt,
    lastMs,
    rttMs: -1,
    pendingBytes: 0,
    inMsgs: inbound ? m.messages : 0,
    inBytes: inbound ? m.bytes : 0,
    outMsgs: inbound ? 0 : m.messages,
    outBytes: inbound ? 0 : m.bytes,
    subscriptionCount: inbound ? 0 : 1,
    subscriptions: () => (inbound ? [] : [{ subject: config.subject, ...(config.queue === undefined ? {} : { qgroup: config.queue }), sid: config.name, msgs: m.messages }]),
    name: config.name,
    details: {
      kafka: {
        mapping: config.name,
        direction: config.direction,
        state: m.state,
        ...(inbound ? { topics: config.topics, group_id: config.groupId, subject: config.subject } : { subject: config.subject, topic: config.topic }),
        ...(config.stream === undefined ? {} : { stream: config.stream }),
        lag: m.lag,
        rate: m.rate,
        errors: m.errors,
        dropped: m.dropped,
        last_error: m.lastError,
      },
    },
  };
}

export function kafkaMonitor(bridge: KafkaBridge, connectionIds: ConnectionIds): MonitorExtension {
  const { config } = bridge;
  const byName = new Map(config.mappings.map((mapping) => [mapping.name, { config: mapping, cid: connectionIds() }]));
  const startedAt = Date.now();
  return {
    path: '/kafkaz',
    json: () => ({ now: new Date().toISOString(), ...bridge.metrics() }),
    metrics: () => kafkaBridgeFamilies(bridge.metrics()),
    traffic: () => {
      const traffic = { protocol: 'kafka', msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, dropped: { undelivered: 0 } };
      // Kafka to NATS is what the bridge brings in; NATS to Kafka what it takes out.
      for (const m of bridge.metrics().mappings) {
        if (m.direction === 'kafka-to-nats') {
          traffic.msgsIn += m.messages;
          traffic.bytesIn += m.bytes;
        } else {
          traffic.msgsOut += m.messages;
          traffic.bytesOut += m.bytes;
        }
        traffic.dropped.undelivered += m.dropped;
      }
      return traffic;
    },
    *connections() {
      for (const m of bridge.metrics().mappings) {
        const mapping = byName.get(m.name);
        if (mapping !== undefined) yield snapshot(mapping.cid, mapping.config, m, startedAt, config.kafka.brokers);
      }
    },
    varz: {
      key: 'kafka',
      value: () => {
        const metrics = bridge.metrics();
        return {
          brokers: metrics.brokers,
          client_id: config.kafka.clientId ?? null,
          tls: config.kafka.ssl !== undefined && config.kafka.ssl !== false,
          mappings: metrics.mappings.length,
          running: metrics.mappings.filter((m) => m.state === 'running').length,
          kafkajs_speedups: metrics.kafkajsSpeedups,
        };
      },
    },
  };
}
