// JetStream's /metrics series, per stream and per consumer (nats-server's
// /jsz?streams=1&consumers=1 figures as Prometheus gauges). createCore()
// hands them to the monitor as an extension: core/server never imports the
// engine (DESIGN "Dependency rule").

import type { MetricFamily, Sample } from '../server/monitoring/prometheus-text.ts';
import type { JetStreamEngine } from './jetstream-engine.ts';

export function jetStreamFamilies(engine: JetStreamEngine): MetricFamily[] {
  const streamMessages: Sample[] = [];
  const streamBytes: Sample[] = [];
  const streamConsumers: Sample[] = [];
  const pending: Sample[] = [];
  const ackPending: Sample[] = [];
  const redelivered: Sample[] = [];
  for (const stream of engine.streamList()) {
    const state = stream.store.state();
    const labels = { stream: stream.name };
    streamMessages.push({ labels, value: state.msgs });
    streamBytes.push({ labels, value: state.bytes });
    streamConsumers.push({ labels, value: stream.consumerCount });
    for (const consumer of engine.consumers.list(stream)) {
      const consumerLabels = { stream: stream.name, consumer: consumer.name };
      pending.push({ labels: consumerLabels, value: consumer.numPending() });
      ackPending.push({ labels: consumerLabels, value: consumer.acks.size });
      redelivered.push({ labels: consumerLabels, value: consumer.acks.redelivered });
    }
  }
  const usage = engine.usage();
  return [
    { name: 'switchboard_jetstream_streams', type: 'gauge', help: 'JetStream streams', samples: [{ value: usage.streams }] },
    { name: 'switchboard_jetstream_consumers', type: 'gauge', help: 'JetStream consumers', samples: [{ value: engine.consumers.count() }] },
    { name: 'switchboard_jetstream_memory_bytes', type: 'gauge', help: 'Bytes stored by memory streams', samples: [{ value: usage.memory }] },
    { name: 'switchboard_jetstream_storage_bytes', type: 'gauge', help: 'Bytes stored by file streams', samples: [{ value: usage.storage }] },
    { name: 'switchboard_jetstream_api_requests_total', type: 'counter', help: '$JS.API requests answered', samples: [{ value: engine.stats.apiTotal }] },
    { name: 'switchboard_jetstream_api_errors_total', type: 'counter', help: '$JS.API requests answered with an error', samples: [{ value: engine.stats.apiErrors }] },
    { name: 'switchboard_jetstream_stream_messages', type: 'gauge', help: 'Messages in the stream', samples: streamMessages },
    { name: 'switchboard_jetstream_stream_bytes', type: 'gauge', help: 'Bytes in the stream', samples: streamBytes },
    { name: 'switchboard_jetstream_stream_consumers', type: 'gauge', help: 'Consumers of the stream', samples: streamConsumers },
    { name: 'switchboard_jetstream_consumer_pending', type: 'gauge', help: 'Messages the consumer has not delivered yet (num_pending)', samples: pending },
    { name: 'switchboard_jetstream_consumer_ack_pending', type: 'gauge', help: 'Messages delivered and not yet acknowledged (num_ack_pending)', samples: ackPending },
    { name: 'switchboard_jetstream_consumer_redelivered', type: 'gauge', help: 'Unacknowledged messages delivered more than once (num_redelivered)', samples: redelivered },
    ...sourceFamilies(engine),
  ];
}

/**
 * One series per mirror or source link (issue 23 item 5), labelled by the
 * destination stream, the origin and the role (and the API prefix of an
 * external origin). Lag in bytes is not reported: neither a local store nor
 * an origin's consumer gives it without reading every pending message.
 */
function sourceFamilies(engine: JetStreamEngine): MetricFamily[] {
  const connected: Sample[] = [];
  const lag: Sample[] = [];
  const error: Sample[] = [];
  const lastTransfer: Sample[] = [];
  const backlogAge: Sample[] = [];
  for (const { stream, link, state } of engine.sourcing.states()) {
    const labels = { stream: stream.name, origin: state.name, role: state.role, ...(link.config.external !== null ? { api: link.config.external.api } : {}) };
    connected.push({ labels, value: state.connected ? 1 : 0 });
    lag.push({ labels, value: state.lag });
    error.push({ labels, value: state.error?.errCode ?? 0 });
    lastTransfer.push({ labels, value: state.lastTransferMs / 1000 });
    backlogAge.push({ labels, value: state.backlogAgeMs / 1000 });
  }
  return [
    { name: 'switchboard_jetstream_source_connected', type: 'gauge', help: 'Mirror or source link working (1) or not (0)', samples: connected },
    { name: 'switchboard_jetstream_source_lag_messages', type: 'gauge', help: 'Origin messages not stored by the link yet', samples: lag },
    { name: 'switchboard_jetstream_source_last_error_code', type: 'gauge', help: 'JetStream err_code of the link\'s last error (0: none)', samples: error },
    { name: 'switchboard_jetstream_source_last_transfer_timestamp_seconds', type: 'gauge', help: 'When the link last stored a message (0: never)', samples: lastTransfer },
    { name: 'switchboard_jetstream_source_backlog_age_seconds', type: 'gauge', help: 'Age of the oldest origin message not stored yet (0: caught up)', samples: backlogAge },
  ];
}
