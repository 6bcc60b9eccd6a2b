// NATS -> Kafka for a core subject. Messages are taken from the subscription into
// a bounded buffer and written to Kafka in order, one batch in flight at a time,
// acks=all. While Kafka is unreachable the buffer holds them (bounded by count and
// bytes) and the writer retries with backoff, so nothing is lost during an outage
// the buffer can absorb; what does not fit is counted as dropped, never silently.
// Guarantee: at-most-once across a crash of the bridge (the buffer is in memory),
// at-least-once across Kafka outages (a batch whose ack was lost is sent again).

import type { Message } from 'kafkajs';
import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { Backoff, sleep } from './backoff.ts';
import type { NatsToKafkaConfig } from './config.ts';
import { errorMessage, KafkaMappingError } from './errors.ts';
import { isPoisonError, type ProducerHandle } from './kafka-client.ts';
import { MappingMetrics } from './mapping-metrics.ts';
import { hasKafkaOrigin, natsToKafkaRecord, toKafkaMessage } from './record-codec.ts';
import { compileNatsTemplate, isValidKafkaTopic, type NatsTemplateRenderer } from './templates.ts';

interface Pending {
  topic: string;
  message: Message;
  bytes: number;
}

const MAX_BATCH_MESSAGES = 2_000;
// Kafka's default message.max.bytes is about 1 MB per record batch; stay under it per request.
const MAX_BATCH_BYTES = 900 * 1024;
const DEFAULT_BUFFER_MESSAGES = 100_000;
const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024;

export interface NatsToKafkaDeps {
  broker: Broker;
  producer: ProducerHandle;
  /** How long stop() keeps writing the buffer before giving up on it. */
  drainTimeoutMs?: number;
}

export class NatsToKafkaMapping {
  readonly metrics: MappingMetrics;
  private readonly topic: NatsTemplateRenderer;
  private readonly key: NatsTemplateRenderer | null;
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private buffer: Pending[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private subscription: BrokerSubscription | null = null;
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private writer: Promise<void> | null = null;
  private batchLimit = MAX_BATCH_MESSAGES;

  constructor(readonly config: NatsToKafkaConfig, private readonly deps: NatsToKafkaDeps) {
    this.metrics = new MappingMetrics(config.name, 'nats-to-kafka');
    this.topic = compileNatsTemplate(config.topic, 'topic', config.name, config.subject);
    this.key = config.key === undefined ? null : compileNatsTemplate(config.key, 'key', config.name, config.subject);
    this.maxMessages = config.bufferMessages ?? DEFAULT_BUFFER_MESSAGES;
    this.maxBytes = config.bufferBytes ?? DEFAULT_BUFFER_BYTES;
  }

  async start(): Promise<void> {
    this.metrics.state = 'connecting';
    const options = this.config.queue === undefined ? {} : { queue: this.config.queue };
    this.subscription = await this.deps.broker.subscribe(this.config.subject, (message) => this.accept(message), options);
    this.writer = this.writeLoop();
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = null;
    const deadline = Date.now() + (this.deps.drainTimeoutMs ?? 5_000);
    // Bounded drain: give Kafka a chance to take what is buffered, then let go.
    while (this.pending() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.abort.abort();
    this.wake?.();
    await this.writer;
    const left = this.pending();
    if (left > 0) {
      this.metrics.dropped += left;
      this.metrics.error(new KafkaMappingError(this.config.name, `stopped with ${left} messages not yet written to Kafka`));
    }
    this.metrics.state = 'stopped';
  }

  private pending(): number {
    return this.buffer.length - this.head;
  }

  private accept(message: BrokerMessage): void {
    if (!this.config.forwardKafkaOrigin && hasKafkaOrigin(message.headers)) {
      this.metrics.loopsPrevented++;
      return;
    }
    const vars = { subject: message.subject, tokens: message.subject.split('.'), headers: message.headers };
    const topic = this.topic(vars);
    if (topic === null || !isValidKafkaTopic(topic)) {
      this.metrics.dropped++;
      this.metrics.error(new KafkaMappingError(this.config.name, `subject ${JSON.stringify(message.subject)} gives no valid Kafka topic (${JSON.stringify(topic)})`));
      return;
    }
    let key: Buffer | null | undefined;
    if (this.key !== null) {
      const rendered = this.key(vars);
      key = rendered === null ? null : Buffer.from(rendered, 'utf8');
    }
    const draft = natsToKafkaRecord(message.headers, message.data, key);
    const bytes = message.data.byteLength + (draft.key?.length ?? 0) + 64;
    if (this.pending() >= this.maxMessages || this.bufferedBytes + bytes > this.maxBytes) {
      this.metrics.dropped++;
      this.metrics.error(new KafkaMappingError(this.config.name, `buffer full (${this.pending()} messages, ${this.bufferedBytes} bytes): message on ${JSON.stringify(message.subject)} dropped`));
      return;
    }
    this.buffer.push({ topic, message: toKafkaMessage(draft), bytes });
    this.bufferedBytes += bytes;
    this.metrics.lag = this.pending();
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private takeBatch(): Pending[] {
    const end = Math.min(this.buffer.length, this.head + this.batchLimit);
    let bytes = 0;
    let i = this.head;
    for (; i < end; i++) {
      bytes += this.buffer[i].bytes;
      if (bytes > MAX_BATCH_BYTES && i > this.head) break;
    }
    return this.buffer.slice(this.head, i);
  }

  private release(count: number): void {
    for (let i = this.head; i < this.head + count; i++) this.bufferedBytes -= this.buffer[i].bytes;
    this.head += count;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 4_096 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    this.metrics.lag = this.pending();
  }

  private async writeLoop(): Promise<void> {
    const backoff = new Backoff();
    const signal = this.abort.signal;
    // Connect before the first message so /metrics tells at once whether Kafka is there.
    while (!signal.aborted && this.metrics.state !== 'running') {
      try {
        await this.deps.producer.get();
        this.metrics.state = 'running';
      } catch (error) {
        this.metrics.error(new KafkaMappingError(this.config.name, `cannot connect to Kafka: ${errorMessage(error)}`, { cause: error }));
        this.metrics.state = 'retrying';
        await sleep(backoff.next(), signal);
      }
    }
    backoff.reset();
    while (!signal.aborted) {
      if (this.pending() === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      const batch = this.takeBatch();
      try {
        const producer = await this.deps.producer.get();
        await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(batch) });
        this.release(batch.length);
        this.metrics.delivered(batch.length, batch.reduce((n, p) => n + p.bytes, 0));
        this.metrics.state = 'running';
        this.batchLimit = MAX_BATCH_MESSAGES;
        backoff.reset();
      } catch (error) {
        this.metrics.error(new KafkaMappingError(this.config.name, `write to Kafka failed: ${errorMessage(error)}`, { cause: error }));
        if (isPoisonError(error)) {
          this.handlePoison(batch);
          continue;
        }
        this.metrics.state = 'retrying';
        await this.deps.producer.invalidate(error);
        await sleep(backoff.next(), signal);
      }
    }
  }

  /** A batch Kafka refuses outright: split it until the refused record is alone, then drop that one. */
  private handlePoison(batch: Pending[]): void {
    if (batch.length > 1) {
      this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
      return;
    }
    this.release(1);
    this.metrics.dropped++;
  }
}

function groupByTopic(batch: Pending[]): Array<{ topic: string; messages: Message[] }> {
  const byTopic = new Map<string, Message[]>();
  for (const p of batch) {
    const list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, [p.message]);
    else list.push(p.message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
