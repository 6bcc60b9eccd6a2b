// What both NATS -> Kafka sources (a core subject, a JetStream consumer) share:
// turning a NATS message into a Kafka record under the mapping's templates, and
// grouping a batch per topic for one acks=all request.

import type { Message } from 'kafkajs';
import type { BrokerMessage } from '../../core/broker/broker.ts';
import { Backoff, sleep } from './backoff.ts';
import { errorMessage, KafkaMappingError } from './errors.ts';
import type { ProducerHandle } from './kafka-client.ts';
import type { MappingMetrics } from './mapping-metrics.ts';
import { natsToKafkaRecord, toKafkaMessage } from './record-codec.ts';
import { compileNatsTemplate, isValidKafkaTopic, type NatsTemplateRenderer } from './templates.ts';

export interface OutgoingRecord {
  topic: string;
  message: Message;
  /** Approximate size, for buffer and batch limits. */
  bytes: number;
}

// Kafka's default message.max.bytes is about 1 MB per record batch; stay under it per request.
export const MAX_BATCH_BYTES = 900 * 1024;
export const MAX_BATCH_MESSAGES = 2_000;

/** Where a subject's messages go: its topic and rendered key (undefined: no key template), or why it cannot go. */
type SubjectTarget = { topic: string; key: Buffer | null | undefined } | KafkaMappingError;

/** Subjects remembered per mapping; past this the memory starts over (a mapping over unbounded subjects just renders each time). */
const MAX_REMEMBERED_SUBJECTS = 10_000;

export class KafkaRecordBuilder {
  private readonly topic: NatsTemplateRenderer;
  private readonly key: NatsTemplateRenderer | null;
  /** Without {header:X}, topic and key depend on the subject alone: rendered once per subject, not per message. */
  private readonly bySubject: Map<string, SubjectTarget> | null;

  constructor(private readonly mapping: { name: string; subject: string; topic: string; key?: string }) {
    this.topic = compileNatsTemplate(mapping.topic, 'topic', mapping.name, mapping.subject);
    this.key = mapping.key === undefined ? null : compileNatsTemplate(mapping.key, 'key', mapping.name, mapping.subject);
    const readsHeaders = mapping.topic.includes('{header:') || (mapping.key?.includes('{header:') ?? false);
    this.bySubject = readsHeaders ? null : new Map();
  }

  /** The record for a message, or the error that says why there is none (counted by the caller). */
  build(message: BrokerMessage): OutgoingRecord | KafkaMappingError {
    const target = this.targetOf(message);
    if (target instanceof KafkaMappingError) return target;
    const draft = natsToKafkaRecord(message.headers, message.data, target.key);
    return { topic: target.topic, message: toKafkaMessage(draft), bytes: message.data.byteLength + (draft.key?.length ?? 0) + 64 };
  }

  private targetOf(message: BrokerMessage): SubjectTarget {
    const remembered = this.bySubject?.get(message.subject);
    if (remembered !== undefined) return remembered;
    const target = this.render(message);
    if (this.bySubject !== null) {
      if (this.bySubject.size >= MAX_REMEMBERED_SUBJECTS) this.bySubject.clear();
      this.bySubject.set(message.subject, target);
    }
    return target;
  }

  private render(message: BrokerMessage): SubjectTarget {
    const vars = { subject: message.subject, tokens: message.subject.split('.'), headers: message.headers };
    const topic = this.topic(vars);
    if (topic === null || !isValidKafkaTopic(topic)) {
      return new KafkaMappingError(this.mapping.name, `subject ${JSON.stringify(message.subject)} gives no valid Kafka topic (${JSON.stringify(topic)})`);
    }
    if (this.key === null) return { topic, key: undefined };
    const rendered = this.key(vars);
    return { topic, key: rendered === null ? null : Buffer.from(rendered, 'utf8') };
  }
}

export function groupByTopic(batch: readonly OutgoingRecord[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const record of batch) {
    const list = byTopic.get(record.topic);
    if (list === undefined) byTopic.set(record.topic, [record.message]);
    else list.push(record.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Connect the producer before the first message, so /metrics tells at once whether Kafka is there. */
export async function connectProducer(producer: ProducerHandle, metrics: MappingMetrics, name: string, signal: AbortSignal): Promise<void> {
  const backoff = new Backoff();
  while (!signal.aborted && metrics.state !== 'running') {
    try {
      await producer.get();
      metrics.state = 'running';
    } catch (error) {
      metrics.error(new KafkaMappingError(name, `cannot connect to Kafka: ${errorMessage(error)}`, { cause: error }));
      metrics.state = 'retrying';
      await sleep(backoff.next(), signal);
    }
  }
}
