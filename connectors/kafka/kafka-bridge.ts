// The Kafka bridge's entry point: createKafkaBridge({ broker, kafka, mappings }).
// It sees only the Broker port (DESIGN dependency rule). start() never fails
// because Kafka is down: mappings retry in the background and report it in
// metrics(); start({ requireReachable: true }) is for a CLI check that wants the
// error up front (KafkaUnreachableError naming the waiting mappings).

import type { Broker } from '../../core/broker/broker.ts';
import { validateKafkaBridgeConfig, type KafkaBridgeConfig, type KafkaClientConfig, type MappingConfig } from './config.ts';
import { KafkaUnreachableError } from './errors.ts';
import { createKafkaClient, ProducerHandle, type BridgeLogger, type BridgeLogLevel } from './kafka-client.ts';
import { KafkaToNatsMapping } from './kafka-to-nats.ts';
import { kafkajsSpeedups, type KafkajsSpeedupsState } from './kafkajs-loader.ts';
import type { MappingListener, MappingMetricsSnapshot } from './mapping-metrics.ts';
import { JetStreamToKafkaMapping } from './jetstream-to-kafka.ts';
import { NatsToKafkaMapping } from './nats-to-kafka.ts';

export interface KafkaBridgeOptions {
  broker: Broker;
  kafka: KafkaClientConfig;
  mappings: MappingConfig[];
  /** kafkajs's own log output (default 'error'). */
  logLevel?: BridgeLogLevel;
  /** Receives kafkajs's log lines at or above logLevel, instead of kafkajs's console output. */
  logger?: BridgeLogger;
  /** PubAck wait per JetStream publish before a retry (default 5000 ms). */
  publishTimeoutMs?: number;
  /** How long stop() keeps writing buffered NATS -> Kafka messages (default 5000 ms). */
  drainTimeoutMs?: number;
  /** Each mapping's state changes and errors as they happen (what is dropped at stop included). */
  events?: MappingListener;
}

export interface KafkaBridgeMetrics {
  brokers: string[];
  /** Whether kafkajs runs with the produce-path stand-ins (kafkajs-loader.ts), or why not. */
  kafkajsSpeedups: KafkajsSpeedupsState;
  mappings: MappingMetricsSnapshot[];
}

export interface StartOptions {
  /** Fail start() with KafkaUnreachableError when no broker answers within timeoutMs. */
  requireReachable?: boolean;
  timeoutMs?: number;
}

export interface KafkaBridge {
  readonly config: KafkaBridgeConfig;
  start(options?: StartOptions): Promise<void>;
  stop(): Promise<void>;
  metrics(): KafkaBridgeMetrics;
}

/** Throws KafkaConfigError for a bad configuration, before anything connects. */
export function createKafkaBridge(options: KafkaBridgeOptions): KafkaBridge {
  const config = validateKafkaBridgeConfig({ kafka: options.kafka, mappings: options.mappings });
  const kafka = createKafkaClient(config.kafka, options.logLevel ?? 'error', options.logger);
  const producer = new ProducerHandle(kafka, config.kafka.idempotent ?? true);
  const fromKafka: KafkaToNatsMapping[] = [];
  const toKafka: Array<NatsToKafkaMapping | JetStreamToKafkaMapping> = [];
  for (const mapping of config.mappings) {
    if (mapping.direction === 'kafka-to-nats') {
      fromKafka.push(new KafkaToNatsMapping(mapping, { broker: options.broker, kafka, publishTimeoutMs: options.publishTimeoutMs }));
    } else if (mapping.stream !== undefined && mapping.consumer !== undefined) {
      toKafka.push(new JetStreamToKafkaMapping({ ...mapping, stream: mapping.stream, consumer: mapping.consumer }, { broker: options.broker, producer }));
    } else {
      toKafka.push(new NatsToKafkaMapping(mapping, { broker: options.broker, producer, drainTimeoutMs: options.drainTimeoutMs }));
    }
  }
  if (options.events !== undefined) for (const mapping of [...fromKafka, ...toKafka]) mapping.metrics.listener = options.events;
  let started = false;

  return {
    config,
    async start(startOptions = {}) {
      if (started) return;
      if (startOptions.requireReachable) await checkKafkaReachable(config, options.logLevel ?? 'error', startOptions.timeoutMs ?? 5_000, options.logger);
      started = true;
      for (const mapping of toKafka) await mapping.start();
      for (const mapping of fromKafka) mapping.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      await Promise.all([...toKafka.map((m) => m.stop()), ...fromKafka.map((m) => m.stop())]);
      await producer.close();
    },
    metrics() {
      return { brokers: config.kafka.brokers, kafkajsSpeedups: kafkajsSpeedups(), mappings: [...fromKafka, ...toKafka].map((m) => m.metrics.snapshot()) };
    },
  };
}

/** Ask the cluster for its metadata; throws KafkaUnreachableError naming every mapping that would wait. */
export async function checkKafkaReachable(config: KafkaBridgeConfig, logLevel: BridgeLogLevel = 'nothing', timeoutMs = 5_000, logger?: BridgeLogger): Promise<void> {
  const admin = createKafkaClient(config.kafka, logLevel, logger).admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect().then(() => admin.describeCluster()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new KafkaUnreachableError(config.kafka.brokers, config.mappings.map((m) => m.name), { cause: error });
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
