// NATS -> Kafka for a core subject. Messages are taken from the subscription into
// a bounded buffer and written to Kafka in order, one batch in flight at a time,
// acks=all. While Kafka is unreachable the buffer holds them (bounded by count and
// bytes) and the writer retries with backoff, so nothing is lost during an outage
// the buffer can absorb; what does not fit is counted as dropped, never silently.
// Guarantee: at-most-once across a crash of the bridge (the buffer is in memory),
// at-least-once across Kafka outages (a batch whose ack was lost is sent again).

import type { Broker, BrokerMessage, BrokerSubscription } from '../../core/broker/broker.ts';
import { Backoff, settleWithin, sleep } from './backoff.ts';
import type { NatsToKafkaConfig } from './config.ts';
import { errorMessage, KafkaMappingError } from './errors.ts';
import { isPoisonError, type ProducerHandle } from './kafka-client.ts';
import { connectProducer, groupByTopic, KafkaRecordBuilder, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, type OutgoingRecord } from './kafka-writer.ts';
import { MappingMetrics } from './mapping-metrics.ts';
import { hasKafkaOrigin } from './record-codec.ts';

type Pending = OutgoingRecord;
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
  private readonly records: KafkaRecordBuilder;
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
    this.records = new KafkaRecordBuilder(config);
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
    // A request still in flight ends when the bridge closes the producer right after.
    await settleWithin(this.writer, 2_000);
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
    const record = this.records.build(message);
    if (record instanceof KafkaMappingError) {
      this.metrics.dropped++;
      this.metrics.error(record);
      return;
    }
    const bytes = record.bytes;
    if (this.pending() >= this.maxMessages || this.bufferedBytes + bytes > this.maxBytes) {
      this.metrics.dropped++;
      this.metrics.error(new KafkaMappingError(this.config.name, `buffer full (${this.pending()} messages, ${this.bufferedBytes} bytes): message on ${JSON.stringify(message.subject)} dropped`));
      return;
    }
    this.buffer.push(record);
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
    await connectProducer(this.deps.producer, this.metrics, this.config.name, signal);
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
