// Configuration of the Kafka bridge and its validator. The lead calls
// validateKafkaBridgeConfig() on the `kafka` section of the config file (or the
// CLI flags turned into the same shape); every error names the key path and the
// mapping, and unknown keys are refused so a typo never silently does nothing.

import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { isValidQueueName, isValidSubscriptionSubject } from '../../core/subject/subject.ts';
import { KafkaConfigError } from './errors.ts';
import { assertTopicTemplateLiterals, compileNatsTemplate, compileSubjectTemplate } from './templates.ts';

export type SaslConfig =
  | { mechanism: 'plain'; username: string; password: string }
  | { mechanism: 'scram-sha-256'; username: string; password: string }
  | { mechanism: 'scram-sha-512'; username: string; password: string };

export interface KafkaClientConfig {
  /** host:port of one or more brokers. */
  brokers: string[];
  clientId?: string;
  /** true, or Node TLS options (ca, cert, key, rejectUnauthorized...) passed to kafkajs. */
  ssl?: boolean | TlsOptions;
  sasl?: SaslConfig;
  /** Per-connection timeout (default 3000 ms). */
  connectionTimeoutMs?: number;
  /** Idempotent producer (default true): Kafka drops the duplicates of its own retries. */
  idempotent?: boolean;
}

export type StartPosition = 'earliest' | 'latest' | 'committed';

export interface KafkaToNatsConfig {
  name: string;
  direction: 'kafka-to-nats';
  /** Topic names, or regular expressions written as "/pattern/flags". */
  topics: string[];
  groupId: string;
  /** Subject template: {topic} {key} {partition}. */
  subject: string;
  /** When set, publish into this JetStream stream and wait for its PubAck (effectively-once). */
  stream?: string;
  /** earliest/latest: where a partition starts on the bridge's first assignment; committed: resume (earliest when none). */
  start?: StartPosition;
  /** JetStream only: publishes in flight per partition batch (default 256). */
  maxInFlight?: number;
  /** Consumer group session timeout (default 30000 ms): how soon a crashed bridge's partitions move to another copy. */
  sessionTimeoutMs?: number;
}

export interface NatsToKafkaConfig {
  name: string;
  direction: 'nats-to-kafka';
  /** Core NATS subject, wildcards allowed; with `stream`, the consumer's filter subject. */
  subject: string;
  /** Read from this JetStream stream through a durable pull consumer (at-least-once) instead of a core subscription. */
  stream?: string;
  /** Durable consumer name (default kafka-<mapping name>). */
  consumer?: string;
  /** JetStream: how long a delivered message may wait for Kafka before redelivery (default 30000 ms; kept alive with +WPI). */
  ackWaitMs?: number;
  /** Queue group, so several bridge copies share the subject instead of each writing it. */
  queue?: string;
  /** Topic template: {subject} {1}..{n} {header:Name}. */
  topic: string;
  /** Key template; default: the Kafka-Key header of a message that came from Kafka, else no key. */
  key?: string;
  /** Messages buffered while Kafka is unreachable (default 100000); beyond it they are counted as dropped. */
  bufferMessages?: number;
  /** Bytes buffered while Kafka is unreachable (default 64 MiB). */
  bufferBytes?: number;
  /** Forward messages that came from Kafka (carry Kafka-Topic). Default false: loop prevention. */
  forwardKafkaOrigin?: boolean;
}

export type MappingConfig = KafkaToNatsConfig | NatsToKafkaConfig;

export interface KafkaBridgeConfig {
  kafka: KafkaClientConfig;
  mappings: MappingConfig[];
}

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, path: string, mapping: string | null): Raw {
  if (!isObject(value)) throw new KafkaConfigError(path, 'must be an object', mapping);
  return value;
}

function rejectUnknown(raw: Raw, allowed: readonly string[], path: string, mapping: string | null): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw new KafkaConfigError(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`, mapping);
  }
}

function str(raw: Raw, key: string, path: string, mapping: string | null, required: true): string;
function str(raw: Raw, key: string, path: string, mapping: string | null, required: false): string | undefined;
function str(raw: Raw, key: string, path: string, mapping: string | null, required: boolean): string | undefined {
  const value = raw[key];
  if (value === undefined) {
    if (required) throw new KafkaConfigError(`${path}.${key}`, 'is required', mapping);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0) throw new KafkaConfigError(`${path}.${key}`, 'must be a non-empty string', mapping);
  return value;
}

function positiveInt(raw: Raw, key: string, path: string, mapping: string | null): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new KafkaConfigError(`${path}.${key}`, 'must be a positive integer', mapping);
  }
  return value;
}

function bool(raw: Raw, key: string, path: string, mapping: string | null): boolean | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new KafkaConfigError(`${path}.${key}`, 'must be true or false', mapping);
  return value;
}

function validateClient(value: unknown): KafkaClientConfig {
  const path = 'kafka';
  const raw = expectObject(value, path, null);
  rejectUnknown(raw, ['brokers', 'clientId', 'ssl', 'sasl', 'connectionTimeoutMs', 'idempotent'], path, null);
  const brokers = raw.brokers;
  if (!Array.isArray(brokers) || brokers.length === 0) throw new KafkaConfigError('kafka.brokers', 'must be a non-empty list of host:port', null);
  brokers.forEach((broker, i) => {
    if (typeof broker !== 'string' || !/^[^\s:]+:[0-9]{1,5}$/.test(broker)) {
      throw new KafkaConfigError(`kafka.brokers[${i}]`, `${JSON.stringify(broker)} is not host:port`, null);
    }
  });
  const out: KafkaClientConfig = { brokers: brokers as string[] };
  const clientId = str(raw, 'clientId', path, null, false);
  if (clientId !== undefined) out.clientId = clientId;
  if (raw.ssl !== undefined) {
    if (typeof raw.ssl !== 'boolean' && !isObject(raw.ssl)) throw new KafkaConfigError('kafka.ssl', 'must be true, false or TLS options', null);
    out.ssl = raw.ssl as boolean | TlsOptions;
  }
  if (raw.sasl !== undefined) {
    const sasl = expectObject(raw.sasl, 'kafka.sasl', null);
    rejectUnknown(sasl, ['mechanism', 'username', 'password'], 'kafka.sasl', null);
    const mechanism = str(sasl, 'mechanism', 'kafka.sasl', null, true);
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new KafkaConfigError('kafka.sasl.mechanism', `${JSON.stringify(mechanism)} is not one of plain, scram-sha-256, scram-sha-512`, null);
    }
    out.sasl = { mechanism, username: str(sasl, 'username', 'kafka.sasl', null, true), password: str(sasl, 'password', 'kafka.sasl', null, true) };
  }
  const timeout = positiveInt(raw, 'connectionTimeoutMs', path, null);
  if (timeout !== undefined) out.connectionTimeoutMs = timeout;
  const idempotent = bool(raw, 'idempotent', path, null);
  if (idempotent !== undefined) out.idempotent = idempotent;
  return out;
}

/** "/orders\\..*\/i" -> RegExp; anything else is a literal topic name. */
export function parseTopicSelector(selector: string): string | RegExp {
  const match = /^\/(.+)\/([a-z]*)$/.exec(selector);
  return match === null ? selector : new RegExp(match[1], match[2]);
}

function validateKafkaToNats(raw: Raw, path: string, name: string): KafkaToNatsConfig {
  rejectUnknown(raw, ['name', 'direction', 'topics', 'groupId', 'subject', 'stream', 'start', 'maxInFlight', 'sessionTimeoutMs'], path, name);
  const topics = raw.topics;
  if (!Array.isArray(topics) || topics.length === 0) throw new KafkaConfigError(`${path}.topics`, 'must be a non-empty list of topic names or /regex/', name);
  topics.forEach((topic, i) => {
    if (typeof topic !== 'string' || topic.length === 0) throw new KafkaConfigError(`${path}.topics[${i}]`, 'must be a non-empty string', name);
    try {
      parseTopicSelector(topic);
    } catch (error) {
      throw new KafkaConfigError(`${path}.topics[${i}]`, `bad regular expression: ${(error as Error).message}`, name);
    }
  });
  const out: KafkaToNatsConfig = {
    name,
    direction: 'kafka-to-nats',
    topics: topics as string[],
    groupId: str(raw, 'groupId', path, name, true),
    subject: str(raw, 'subject', path, name, true),
  };
  compileSubjectTemplate(out.subject, `${path}.subject`, name);
  const stream = str(raw, 'stream', path, name, false);
  if (stream !== undefined) {
    if (/[\s.*>]/.test(stream)) throw new KafkaConfigError(`${path}.stream`, `${JSON.stringify(stream)} is not a valid stream name`, name);
    out.stream = stream;
  }
  const start = str(raw, 'start', path, name, false);
  if (start !== undefined) {
    if (start !== 'earliest' && start !== 'latest' && start !== 'committed') {
      throw new KafkaConfigError(`${path}.start`, `${JSON.stringify(start)} is not one of earliest, latest, committed`, name);
    }
    out.start = start;
  }
  const maxInFlight = positiveInt(raw, 'maxInFlight', path, name);
  if (maxInFlight !== undefined) out.maxInFlight = maxInFlight;
  const sessionTimeoutMs = positiveInt(raw, 'sessionTimeoutMs', path, name);
  if (sessionTimeoutMs !== undefined) out.sessionTimeoutMs = sessionTimeoutMs;
  return out;
}

function validateNatsToKafka(raw: Raw, path: string, name: string): NatsToKafkaConfig {
  rejectUnknown(raw, ['name', 'direction', 'subject', 'queue', 'topic', 'key', 'bufferMessages', 'bufferBytes', 'forwardKafkaOrigin', 'stream', 'consumer', 'ackWaitMs'], path, name);
  const subject = str(raw, 'subject', path, name, true);
  if (!isValidSubscriptionSubject(subject)) throw new KafkaConfigError(`${path}.subject`, `${JSON.stringify(subject)} is not a valid NATS subject`, name);
  const out: NatsToKafkaConfig = { name, direction: 'nats-to-kafka', subject, topic: str(raw, 'topic', path, name, true) };
  assertTopicTemplateLiterals(out.topic, `${path}.topic`, name);
  compileNatsTemplate(out.topic, `${path}.topic`, name, subject);
  const queue = str(raw, 'queue', path, name, false);
  if (queue !== undefined) {
    if (!isValidQueueName(queue)) throw new KafkaConfigError(`${path}.queue`, `${JSON.stringify(queue)} is not a valid queue group`, name);
    out.queue = queue;
  }
  const key = raw.key;
  if (key !== undefined) {
    if (typeof key !== 'string') throw new KafkaConfigError(`${path}.key`, 'must be a string template', name);
    compileNatsTemplate(key, `${path}.key`, name, subject);
    out.key = key;
  }
  const bufferMessages = positiveInt(raw, 'bufferMessages', path, name);
  if (bufferMessages !== undefined) out.bufferMessages = bufferMessages;
  const bufferBytes = positiveInt(raw, 'bufferBytes', path, name);
  if (bufferBytes !== undefined) out.bufferBytes = bufferBytes;
  const forward = bool(raw, 'forwardKafkaOrigin', path, name);
  if (forward !== undefined) out.forwardKafkaOrigin = forward;
  validateJetStreamSource(raw, out, path, name);
  return out;
}

const NAME = /^[A-Za-z0-9_-]+$/;

function validateJetStreamSource(raw: Raw, out: NatsToKafkaConfig, path: string, name: string): void {
  const stream = str(raw, 'stream', path, name, false);
  const consumer = str(raw, 'consumer', path, name, false);
  const ackWaitMs = positiveInt(raw, 'ackWaitMs', path, name);
  if (stream === undefined) {
    if (consumer !== undefined || ackWaitMs !== undefined) throw new KafkaConfigError(`${path}.${consumer !== undefined ? 'consumer' : 'ackWaitMs'}`, 'only applies with "stream"', name);
    return;
  }
  if (!NAME.test(stream)) throw new KafkaConfigError(`${path}.stream`, `${JSON.stringify(stream)} is not a valid stream name`, name);
  // The stream holds the backlog: a queue group or an in-memory buffer would only weaken that.
  for (const key of ['queue', 'bufferMessages', 'bufferBytes'] as const) {
    if (raw[key] !== undefined) throw new KafkaConfigError(`${path}.${key}`, 'does not apply with "stream" (the stream is the buffer)', name);
  }
  out.stream = stream;
  out.consumer = consumer ?? `kafka-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (!NAME.test(out.consumer)) throw new KafkaConfigError(`${path}.consumer`, `${JSON.stringify(out.consumer)} is not a valid consumer name`, name);
  if (ackWaitMs !== undefined) out.ackWaitMs = ackWaitMs;
}

/** Validate an untrusted `kafka` config section; throws KafkaConfigError naming the path and mapping. */
export function validateKafkaBridgeConfig(value: unknown): KafkaBridgeConfig {
  const raw = expectObject(value, '(kafka bridge)', null);
  rejectUnknown(raw, ['kafka', 'mappings'], '(kafka bridge)', null);
  const kafka = validateClient(raw.kafka);
  if (!Array.isArray(raw.mappings)) throw new KafkaConfigError('mappings', 'must be a list', null);
  const names = new Set<string>();
  const mappings = raw.mappings.map((entry, i): MappingConfig => {
    const path = `mappings[${i}]`;
    const mapping = expectObject(entry, path, null);
    const name = str(mapping, 'name', path, null, true);
    if (names.has(name)) throw new KafkaConfigError(`${path}.name`, 'duplicate mapping name', name);
    names.add(name);
    const direction = mapping.direction;
    if (direction === 'kafka-to-nats') return validateKafkaToNats(mapping, path, name);
    if (direction === 'nats-to-kafka') return validateNatsToKafka(mapping, path, name);
    throw new KafkaConfigError(`${path}.direction`, `${JSON.stringify(direction)} is not one of kafka-to-nats, nats-to-kafka`, name);
  });
  return { kafka, mappings };
}
