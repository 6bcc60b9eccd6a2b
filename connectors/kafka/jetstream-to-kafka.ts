// JetStream -> Kafka, at-least-once: a durable pull consumer hands out batches
// in stream order; a batch is written to Kafka (acks=all, idempotent producer)
// and only then is each message acknowledged to JetStream. While Kafka is down
// the batch is retried with backoff and kept alive with +WPI, and no further
// batch is pulled: the backlog waits in the stream (bounded by its limits) and
// drains in order once Kafka is back. A crash before the acks means
// redelivery: possibly a duplicate in Kafka, never a loss.

import { setMaxListeners } from 'node:events';
import type { Broker, BrokerMessage } from '../../core/broker/broker.ts';
import { Backoff, settleWithin, sleep } from './backoff.ts';
import type { NatsToKafkaConfig } from './config.ts';
import { parseAckReply } from '../../core/jetstream-client/ack-reply.ts';
import { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import { AckActions, PullConsumer, type AckAction } from '../../core/jetstream-client/pull-consumer.ts';
import { errorMessage, KafkaMappingError, toConsumerCreateError } from './errors.ts';
import { isPoisonError, type ProducerHandle } from './kafka-client.ts';
import { connectProducer, groupByTopic, KafkaRecordBuilder, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, type OutgoingRecord } from './kafka-writer.ts';
import { MappingMetrics } from './mapping-metrics.ts';
import { hasKafkaOrigin } from './record-codec.ts';

const PULL_EXPIRES_MS = 1_000;
const API_TIMEOUT_MS = 5_000;

interface Delivery {
  message: BrokerMessage;
  record: OutgoingRecord;
}

export interface JetStreamToKafkaDeps {
  broker: Broker;
  producer: ProducerHandle;
}

export class JetStreamToKafkaMapping {
  readonly metrics: MappingMetrics;
  private readonly records: KafkaRecordBuilder;
  private readonly jetstream: JetStreamClient;
  private readonly fetcher: PullConsumer;
  private readonly abort = new AbortController();
  private readonly ackWaitMs: number;
  private loop: Promise<void> | null = null;

  constructor(readonly config: NatsToKafkaConfig & { stream: string; consumer: string }, private readonly deps: JetStreamToKafkaDeps) {
    this.metrics = new MappingMetrics(config.name, 'nats-to-kafka');
    this.records = new KafkaRecordBuilder(config);
    this.jetstream = new JetStreamClient(deps.broker, API_TIMEOUT_MS);
    this.fetcher = new PullConsumer(deps.broker, this.jetstream, config.stream, config.consumer);
    this.ackWaitMs = config.ackWaitMs ?? 30_000;
    setMaxListeners(0, this.abort.signal);
  }

  async start(): Promise<void> {
    this.metrics.state = 'connecting';
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.fetcher.stop();
    // Unacked messages are redelivered to the next bridge; a Kafka request in flight ends when the producer closes.
    await settleWithin(this.loop, 2_000);
    this.metrics.state = 'stopped';
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const backoff = new Backoff(200, 5_000);
    // The consumer first: without it there is nothing to pull (a missing stream is retried, and shown).
    while (!signal.aborted) {
      try {
        await this.ensureConsumer();
        await this.fetcher.start();
        break;
      } catch (error) {
        this.metrics.error(error);
        this.metrics.state = 'retrying';
        await sleep(backoff.next(), signal);
      }
    }
    await connectProducer(this.deps.producer, this.metrics, this.config.name, signal);
    while (!signal.aborted) {
      let messages: BrokerMessage[];
      try {
        messages = await this.fetcher.fetch(MAX_BATCH_MESSAGES, PULL_EXPIRES_MS);
      } catch (error) {
        this.metrics.error(new KafkaMappingError(this.config.name, `pull from ${this.config.stream}/${this.config.consumer} failed: ${errorMessage(error)}`, { cause: error }));
        await sleep(backoff.next(), signal);
        continue;
      }
      if (messages.length === 0) continue;
      const last = messages[messages.length - 1].reply;
      const pending = last === null ? null : parseAckReply(last)?.pending;
      if (pending !== null && pending !== undefined) this.metrics.lag = pending + messages.length;
      await this.deliver(this.translate(messages), signal);
    }
  }

  /** Records for the batch; loop-prevented and untranslatable messages are settled here and counted. */
  private translate(messages: BrokerMessage[]): Delivery[] {
    const out: Delivery[] = [];
    for (const message of messages) {
      if (!this.config.forwardKafkaOrigin && hasKafkaOrigin(message.headers)) {
        this.metrics.loopsPrevented++;
        this.settle(message, AckActions.ack);
        continue;
      }
      const record = this.records.build(message);
      if (record instanceof KafkaMappingError) {
        this.metrics.dropped++;
        this.metrics.error(record);
        // +TERM: redelivering cannot make it translatable.
        this.settle(message, AckActions.term);
        continue;
      }
      out.push({ message, record });
    }
    return out;
  }

  /** Write the deliveries to Kafka in order, in requests of at most MAX_BATCH_BYTES, then ack each. */
  private async deliver(deliveries: Delivery[], signal: AbortSignal): Promise<void> {
    let start = 0;
    while (start < deliveries.length && !signal.aborted) {
      let end = start;
      let bytes = 0;
      while (end < deliveries.length && (end === start || bytes + deliveries[end].record.bytes <= MAX_BATCH_BYTES)) bytes += deliveries[end++].record.bytes;
      const written = await this.writeUntilAcked(deliveries.slice(start, end), signal);
      if (written === 0) return; // stopping: the unacked rest is redelivered to the next bridge
      start += written;
    }
  }

  /** Returns how many deliveries were settled (all of them, or 1 for a poison record); 0 when stopping. */
  private async writeUntilAcked(chunk: Delivery[], signal: AbortSignal): Promise<number> {
    const backoff = new Backoff();
    let lastProgress = Date.now();
    let size = chunk.length;
    while (!signal.aborted) {
      const part = chunk.slice(0, size);
      try {
        const producer = await this.deps.producer.get();
        await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(part.map((d) => d.record)) });
        // Kafka has them: only now may JetStream forget them.
        for (const d of part) this.settle(d.message, AckActions.ack);
        this.metrics.delivered(part.length, part.reduce((n, d) => n + d.record.bytes, 0));
        this.metrics.lag = Math.max(0, this.metrics.lag - part.length);
        this.metrics.state = 'running';
        return part.length;
      } catch (error) {
        this.metrics.error(new KafkaMappingError(this.config.name, `write to Kafka failed: ${errorMessage(error)}`, { cause: error }));
        if (isPoisonError(error)) {
          if (size > 1) {
            size = Math.max(1, Math.floor(size / 2));
            continue;
          }
          this.metrics.dropped++;
          this.settle(part[0].message, AckActions.term);
          return 1;
        }
        this.metrics.state = 'retrying';
        await this.deps.producer.invalidate(error);
        // Keep the batch ours while Kafka is away, so JetStream does not redeliver it meanwhile.
        if (Date.now() - lastProgress > this.ackWaitMs / 3) {
          for (const d of chunk) this.settle(d.message, AckActions.progress);
          lastProgress = Date.now();
        }
        await sleep(backoff.next(), signal);
      }
    }
    return 0;
  }

  private settle(message: BrokerMessage, action: AckAction): void {
    if (message.reply === null) return;
    this.fetcher.settle(message.reply, action).catch((error: unknown) => this.metrics.error(error));
  }

  /** Create the durable consumer, or accept the existing one with the same configuration. */
  private async ensureConsumer(): Promise<void> {
    const { stream, consumer, subject, name } = this.config;
    const config: Record<string, unknown> = {
      durable_name: consumer,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      replay_policy: 'instant',
      ack_wait: this.ackWaitMs * 1_000_000,
      max_ack_pending: MAX_BATCH_MESSAGES * 2,
    };
    if (subject !== null && subject !== '>') config.filter_subject = subject;
    try {
      await this.jetstream.createConsumer(stream, config);
    } catch (error) {
      throw toConsumerCreateError(name, this.jetstream.apiSubject('CONSUMER.CREATE', stream, consumer), stream, consumer, API_TIMEOUT_MS, error);
    }
  }
}
