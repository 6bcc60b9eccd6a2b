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
  ];
}
