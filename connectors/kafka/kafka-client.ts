// kafkajs client construction and the one producer the NATS -> Kafka mappings
// share. kafkajs's own retries are kept short on purpose: the bridge retries
// forever itself (with backoff, counted in metrics), so a dead cluster shows up
// in /metrics within seconds instead of hiding inside a library retry loop.

import type { Kafka, logLevel as KafkaLogLevel, KafkaConfig, Producer, SASLOptions } from 'kafkajs';
// kafkajs itself comes from here, never from a value import of 'kafkajs' (see the module's header).
import { kafkajs } from './kafkajs-loader.ts';
import type { KafkaClientConfig } from './config.ts';

export type BridgeLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** Where kafkajs's log lines go (e.g. the server's pino logger); default: kafkajs's console JSON. */
export type BridgeLogger = (entry: { level: Exclude<BridgeLogLevel, 'nothing'>; namespace: string; message: string; extra: Record<string, unknown> }) => void;

export function createKafkaClient(config: KafkaClientConfig, logLevel: BridgeLogLevel, logger?: BridgeLogger): Kafka {
  // kafkajs loads here, with the first client, not at import (see kafkajs-loader.ts).
  const { logLevel: KAFKA_LOG_LEVELS, Kafka: KafkaClient } = kafkajs();
  const NAMES: Partial<Record<KafkaLogLevel, Exclude<BridgeLogLevel, 'nothing'>>> = {
    [KAFKA_LOG_LEVELS.ERROR]: 'error',
    [KAFKA_LOG_LEVELS.WARN]: 'warn',
    [KAFKA_LOG_LEVELS.INFO]: 'info',
    [KAFKA_LOG_LEVELS.DEBUG]: 'debug',
  };
  const LEVELS: Record<BridgeLogLevel, KafkaLogLevel> = {
    nothing: KAFKA_LOG_LEVELS.NOTHING,
    error: KAFKA_LOG_LEVELS.ERROR,
    warn: KAFKA_LOG_LEVELS.WARN,
    info: KAFKA_LOG_LEVELS.INFO,
    debug: KAFKA_LOG_LEVELS.DEBUG,
  };
  const options: KafkaConfig = {
    brokers: config.brokers,
    clientId: config.clientId ?? 'switchboard-kafka-bridge',
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    requestTimeout: 30_000,
    logLevel: LEVELS[logLevel],
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
  };
  if (logger !== undefined) {
    options.logCreator = () => (entry) => {
      const level = NAMES[entry.level];
      if (level === undefined) return;
      const { message, ...extra } = entry.log;
      logger({ level, namespace: entry.namespace, message, extra });
    };
  }
  if (config.ssl !== undefined) options.ssl = config.ssl;
  if (config.sasl !== undefined) options.sasl = config.sasl as SASLOptions;
  return new KafkaClient(options);
}

/** Error types after which the producer is replaced: its idempotence state (PID, sequences) no longer matches the cluster's. */
const PRODUCER_STATE_ERRORS = new Set(['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

/** Errors no retry can cure: the batch is split, then the single record dropped and counted. */
const POISON_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_TOPIC_EXCEPTION', 'CORRUPT_MESSAGE', 'INVALID_RECORD', 'INVALID_REQUIRED_ACKS']);

function protocolType(error: unknown, depth = 0): string | null {
  if (typeof error !== 'object' || error === null || depth > 4) return null;
  const e = error as { type?: unknown; cause?: unknown; originalError?: unknown };
  if (typeof e.type === 'string') return e.type;
  return protocolType(e.cause, depth + 1) ?? protocolType(e.originalError, depth + 1);
}

export function isPoisonError(error: unknown): boolean {
  const type = protocolType(error);
  return type !== null && POISON_ERRORS.has(type);
}

export class ProducerHandle {
  private current: Promise<Producer> | null = null;

  constructor(private readonly kafka: Kafka, private readonly idempotent: boolean) {}

  /** The connected producer, created on first use and after invalidate(). */
  get(): Promise<Producer> {
    if (this.current === null) {
      const producer = this.kafka.producer({
        idempotent: this.idempotent,
        // Kafka allows up to 5 in flight with idempotence and still keeps order per partition.
        maxInFlightRequests: this.idempotent ? 5 : undefined,
        createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
        retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
      });
      const connecting = producer.connect().then(() => producer);
      this.current = connecting;
      connecting.catch(() => {
        if (this.current === connecting) this.current = null;
        void producer.disconnect().catch(() => undefined);
      });
    }
    return this.current;
  }

  /** Drop the producer after a failure that may have left its state wrong (or the cluster gone). */
  async invalidate(error: unknown): Promise<void> {
    const type = protocolType(error);
    const stateError = type !== null && PRODUCER_STATE_ERRORS.has(type);
    const connectionError = error instanceof Error && /Connection|BrokerNotFound|NumberOfRetriesExceeded|ECONNREFUSED|timeout/i.test(`${error.name} ${error.message}`);
    if (!stateError && !connectionError) return;
    const old = this.current;
    this.current = null;
    if (old !== null) await old.then((p) => p.disconnect()).catch(() => undefined);
  }

  async close(): Promise<void> {
    const old = this.current;
    this.current = null;
    if (old !== null) await old.then((p) => p.disconnect()).catch(() => undefined);
  }
}
