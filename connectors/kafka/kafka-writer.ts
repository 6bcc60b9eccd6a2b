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

export class KafkaRecordBuilder {
  private readonly topic: NatsTemplateRenderer;
  private readonly key: NatsTemplateRenderer | null;

  constructor(private readonly mapping: { name: string; subject: string; topic: string; key?: string }) {
    this.topic = compileNatsTemplate(mapping.topic, 'topic', mapping.name, mapping.subject);
    this.key = mapping.key === undefined ? null : compileNatsTemplate(mapping.key, 'key', mapping.name, mapping.subject);
  }

  /** The record for a message, or the error that says why there is none (counted by the caller). */
  build(message: BrokerMessage): OutgoingRecord | KafkaMappingError {
    const vars = { subject: message.subject, tokens: message.subject.split('.'), headers: message.headers };
    const topic = this.topic(vars);
    if (topic === null || !isValidKafkaTopic(topic)) {
      return new KafkaMappingError(this.mapping.name, `subject ${JSON.stringify(message.subject)} gives no valid Kafka topic (${JSON.stringify(topic)})`);
    }
    let key: Buffer | null | undefined;
    if (this.key !== null) {
      const rendered = this.key(vars);
      key = rendered === null ? null : Buffer.from(rendered, 'utf8');
    }
    const draft = natsToKafkaRecord(message.headers, message.data, key);
    return { topic, message: toKafkaMessage(draft), bytes: message.data.byteLength + (draft.key?.length ?? 0) + 64 };
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
