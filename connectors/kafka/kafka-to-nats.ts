// Kafka -> NATS: a consumer group reads the topics and publishes each record to
// the rendered subject, in order per partition. The offset is resolved (and so
// committed by kafkajs after the batch) only once the records reached NATS:
//   core subject: after broker.flush(), so a crash before it re-reads the batch
//     (at-least-once into the server; core subscribers get NATS's at-most-once);
//   JetStream stream: after each record's PubAck, with Nats-Msg-Id =
//     <topic>/<partition>/<offset>, so a record re-read after a crash is dropped
//     by the stream's duplicate window (effectively-once).
// Offsets are committed by this mapping, not by kafkajs's auto-commit: kafkajs
// seeks with auto-commit on commit the position and then re-read every
// partition's committed offset, and with partitions on several brokers a stale
// read can land after the seek and undo it (a start: earliest replay then
// skipped whole partitions). With auto-commit off a seek is a local position.
// A supervisor recreates the consumer with backoff whenever kafkajs gives up, so
// a Kafka outage shows up in metrics and never stops the rest of the server.

import { setMaxListeners } from 'node:events';
import type { Consumer, EachBatchPayload, Kafka, TopicPartitionOffset } from 'kafkajs';
import type { Broker } from '../../core/broker/broker.ts';
import { InvalidSubjectError } from '../../core/broker/errors.ts';
import type { MessageHeaders } from '../../core/broker/headers.ts';
import { JetStreamClient, type JetStreamPublishOptions } from '../../core/jetstream-client/jetstream-client.ts';
import { Backoff, sleep } from './backoff.ts';
import { parseTopicSelector, type KafkaToNatsConfig } from './config.ts';
import { errorMessage, KafkaMappingError, toJetStreamPublishError } from './errors.ts';
import { MappingMetrics } from './mapping-metrics.ts';
import { kafkaRecordToNatsHeaders, type RecordOrigin } from './record-codec.ts';
import { compileSubjectTemplate, type SubjectRenderer } from './templates.ts';

const EMPTY = new Uint8Array(0);

export interface KafkaToNatsDeps {
  broker: Broker;
  kafka: Kafka;
  /** How long to wait for a PubAck before retrying the publish (default 5000 ms). */
  publishTimeoutMs?: number;
}

export class KafkaToNatsMapping {
  readonly metrics: MappingMetrics;
  private readonly subjectOf: SubjectRenderer;
  /** False when the subject template has no {key}: one subject per partition, rendered once a batch. */
  private readonly subjectPerRecord: boolean;
  private readonly lag = new Map<string, number>();
  /** Partitions already moved to earliest/latest, so a consumer restart resumes instead. */
  private readonly positioned = new Set<string>();
  private readonly abort = new AbortController();
  private consumer: Consumer | null = null;
  private supervisor: Promise<void> | null = null;
  /** Bumped on every group join: a position() call begun before the latest join gives way to it. */
  private joins = 0;
  /** The position() call of the latest join, awaited by stop(). */
  private positioning: Promise<void> = Promise.resolve();
  /**
   * Bumped before every consumer.seek(), the only thing that makes a batch
   * stale: batches ask kafkajs's isStale() (a JSON key and a map lookup) only
   * when this moved, not once per record.
   */
  private seeks = 0;
  /** Stream mappings: the client that publishes and waits for the PubAck, and its options (one object, not one per record). */
  private readonly jetstream: JetStreamClient;
  private readonly expect: JetStreamPublishOptions;

  constructor(readonly config: KafkaToNatsConfig, private readonly deps: KafkaToNatsDeps) {
    this.metrics = new MappingMetrics(config.name, 'kafka-to-nats');
    this.jetstream = new JetStreamClient(deps.broker, deps.publishTimeoutMs ?? 5_000);
    // Nats-Expected-Stream: a subject captured by another stream is an error instead of a silent success elsewhere.
    this.expect = { expectedStream: config.stream };
    this.subjectOf = compileSubjectTemplate(config.subject, 'subject', config.name);
    // Braces are reserved in templates, so the text {key} can only be the placeholder.
    this.subjectPerRecord = config.subject.includes('{key}');
    // Every in-flight publish retry sleeps on this signal: up to maxInFlight listeners is expected.
    setMaxListeners(0, this.abort.signal);
  }

  start(): void {
    this.supervisor ??= this.supervise();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.supervisor;
    await this.positioning;
    this.metrics.state = 'stopped';
  }

  private async supervise(): Promise<void> {
    const backoff = new Backoff(200, 5_000);
    const signal = this.abort.signal;
    while (!signal.aborted) {
      this.metrics.state = this.metrics.errors === 0 ? 'connecting' : 'retrying';
      const consumer = this.deps.kafka.consumer({
        groupId: this.config.groupId,
        maxWaitTimeInMs: 500,
        sessionTimeout: this.config.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: Math.max(100, Math.floor((this.config.sessionTimeoutMs ?? 30_000) / 10)),
        // Give up quickly inside kafkajs; this loop retries forever with its own backoff.
        retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3, restartOnFailure: async () => false },
      });
      this.consumer = consumer;
      let onAbort = (): void => undefined;
      let failPositioning = (_error: unknown): void => undefined;
      const crashed = new Promise<unknown>((resolve) => {
        consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error));
        failPositioning = resolve;
        onAbort = () => resolve(null);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.metrics.state = 'running';
        // The backoff starts over only once the join's partitions are placed: a
        // consumer that keeps failing there must not retry every 200 ms.
        this.positioning = this.position(consumer, event.payload.memberAssignment, ++this.joins).then(() => backoff.reset(), failPositioning);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: this.config.topics.map(parseTopicSelector), fromBeginning: this.config.start !== 'latest' });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: (payload) => (this.config.stream === undefined ? this.toCore(payload) : this.toStream(payload, this.config.stream)),
        });
        const error = await crashed;
        if (error !== null) this.metrics.error(new KafkaMappingError(this.config.name, `consumer stopped: ${errorMessage(error)}`, { cause: error }));
      } catch (error) {
        if (!signal.aborted) this.metrics.error(new KafkaMappingError(this.config.name, `cannot consume: ${errorMessage(error)}`, { cause: error }));
      }
      signal.removeEventListener('abort', onAbort);
      await consumer.disconnect().catch(() => undefined);
      if (!signal.aborted) await sleep(backoff.next(), signal);
    }
  }

  /**
   * start: earliest/latest move each partition once, on its first assignment to
   * this bridge. The partitions wait paused while their log bounds are looked
   * up; the position is then committed, so a consumer restart resumes there.
   * A rebalance meanwhile (a newer join, or the commit refused for it) leaves
   * them to the next join's call, which pauses, places and resumes them again.
   */
  private async position(consumer: Consumer, assignment: Record<string, number[]>, join: number): Promise<void> {
    const start = this.config.start ?? 'committed';
    if (start === 'committed') return;
    const pending = Object.entries(assignment)
      .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((partition) => !this.positioned.has(`${topic}/${partition}`)) }))
      .filter(({ partitions }) => partitions.length > 0);
    if (pending.length === 0) return;
    consumer.pause(pending);
    const targets = await this.startOffsets(pending, start);
    if (join !== this.joins || this.abort.signal.aborted) return;
    this.seeks++;
    for (const target of targets) consumer.seek(target);
    try {
      await consumer.commitOffsets(targets);
    } catch (error) {
      if (join !== this.joins || isRebalance(error)) return;
      throw error;
    }
    // Placed and committed: even if a newer join came meanwhile, these may fetch
    // (that join's call skips them now, so nobody else would resume them).
    for (const { topic, partition } of targets) this.positioned.add(`${topic}/${partition}`);
    consumer.resume(pending);
  }

  /** Each partition's first (earliest) or next (latest) offset, read with a short-lived admin client. */
  private async startOffsets(pending: Array<{ topic: string; partitions: number[] }>, start: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]> {
    const admin = this.deps.kafka.admin();
    await admin.connect();
    try {
      const targets: TopicPartitionOffset[] = [];
      for (const { topic, partitions } of pending) {
        for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
          if (partitions.includes(partition)) targets.push({ topic, partition, offset: start === 'earliest' ? low : high });
        }
      }
      return targets;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** `partitionKey`: `<topic>/<partition>`. */
  private record(partitionKey: string, offset: string, highWatermark: string): void {
    this.lag.set(partitionKey, Math.max(0, Number(highWatermark) - 1 - Number(offset)));
    let total = 0;
    for (const n of this.lag.values()) total += n;
    this.metrics.lag = total;
  }

  /** The batch's subject when it does not depend on the record, else null. */
  private batchSubject(topic: string, partition: number): string | null {
    return this.subjectPerRecord ? null : this.subjectOf({ topic, key: null, partition });
  }

  /** isStale() of the batch, asked again only after a seek. */
  private staleness(isStale: () => boolean): () => boolean {
    let seen = -1;
    let stale = false;
    return () => {
      if (seen !== this.seeks) {
        seen = this.seeks;
        stale = isStale();
      }
      return stale;
    };
  }

  private translate(origin: RecordOrigin, record: EachBatchPayload['batch']['messages'][number], subject: string | null): { subject: string; headers: MessageHeaders; data: Uint8Array } {
    return {
      subject: subject ?? this.subjectOf({ topic: origin.topic, key: record.key ?? null, partition: origin.partition }),
      headers: kafkaRecordToNatsHeaders(origin, record),
      data: record.value ?? EMPTY,
    };
  }

  private async toCore({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const origin: RecordOrigin = { topic, partition };
    const batchSubject = this.batchSubject(topic, partition);
    const stale = this.staleness(isStale);
    let last: string | null = null;
    let count = 0;
    let bytes = 0;
    for (const record of batch.messages) {
      if (!isRunning() || stale() || this.abort.signal.aborted) break;
      const { subject, headers, data } = this.translate(origin, record, batchSubject);
      try {
        await this.deps.broker.publish(subject, data, { headers });
        count++;
        bytes += data.byteLength;
      } catch (error) {
        if (!(error instanceof InvalidSubjectError)) throw error;
        // Cannot happen with a validated template; counted rather than blocking the partition.
        this.metrics.dropped++;
        this.metrics.error(new KafkaMappingError(this.config.name, `record ${topic}/${partition}/${record.offset}: ${error.message}`));
      }
      last = record.offset;
    }
    if (last === null) return;
    // Counted once published (a subscriber may already have them), not after the commit's round trip.
    this.metrics.delivered(count, bytes);
    // The offset is committed only for what the NATS server has: at-least-once.
    await this.deps.broker.flush();
    resolveOffset(last);
    await commitOffsetsIfNecessary(nextOffsetAfter(topic, partition, last));
    this.record(`${topic}/${partition}`, last, batch.highWatermark);
    await heartbeat();
  }

  private async toStream({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload, stream: string): Promise<void> {
    const { topic, partition } = batch;
    const lagKey = `${topic}/${partition}`;
    const window = this.config.maxInFlight ?? 256;
    const inFlight: InFlightRecord[] = [];
    const origin: RecordOrigin = { topic, partition };
    const batchSubject = this.batchSubject(topic, partition);
    const stale = this.staleness(isStale);
    let settled: string | null = null;
    // Wait for the oldest PubAck, then take every one already in behind it in
    // the same step: acks arrive a turn's worth at a time, and settling them one
    // await each cost more than the publish.
    const settleAcked = async (): Promise<boolean> => {
      const first = inFlight[0];
      await first.done;
      if (!first.acked) return false;
      let count = 0;
      let bytes = 0;
      let last = first.offset;
      while (inFlight.length > 0 && inFlight[0].acked) {
        const next = inFlight.shift() as InFlightRecord;
        count++;
        bytes += next.bytes;
        last = next.offset;
      }
      // Commit strictly after the PubAck: a crash before this re-reads and the stream dedupes.
      resolveOffset(last);
      settled = last;
      this.metrics.state = 'running';
      this.metrics.delivered(count, bytes);
      this.record(lagKey, last, batch.highWatermark);
      return true;
    };
    let ok = true;
    for (const record of batch.messages) {
      if (!ok || !isRunning() || stale() || this.abort.signal.aborted) break;
      const { subject, headers, data } = this.translate(origin, record, batchSubject);
      const pending: InFlightRecord = { offset: record.offset, bytes: data.byteLength, acked: false, done: DONE };
      pending.done = this.publishUntilAcked(stream, subject, data, headers, `${lagKey}/${record.offset}`, heartbeat, isRunning, pending);
      inFlight.push(pending);
      if (inFlight.length >= window) ok = await settleAcked();
    }
    // Never resolve past a record that was not acknowledged, even if later ones were.
    while (inFlight.length > 0) {
      if (ok) ok = await settleAcked();
      else await inFlight.shift()?.done;
    }
    if (settled !== null) await commitOffsetsIfNecessary(nextOffsetAfter(topic, partition, settled));
    await heartbeat();
  }

  /** Retry one publish until the stream acknowledges it (then `pending.acked`); gives up when the mapping stops or loses the partition. */
  private async publishUntilAcked(
    stream: string,
    subject: string,
    data: Uint8Array,
    headers: MessageHeaders,
    msgId: string,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
    pending: InFlightRecord,
  ): Promise<void> {
    let backoff: Backoff | null = null;
    const signal = this.abort.signal;
    // Idempotent within the stream's duplicate window: a retry or a re-read after a crash is dropped.
    headers.set('Nats-Msg-Id', msgId);
    while (!signal.aborted && isRunning()) {
      try {
        await this.jetstream.publish(subject, data, headers, this.expect);
        pending.acked = true;
        return;
      } catch (error) {
        this.metrics.error(toJetStreamPublishError(this.config.name, subject, stream, this.jetstream.timeoutMs, error));
        this.metrics.state = 'retrying';
        await heartbeat().catch(() => undefined);
        backoff ??= new Backoff(100, 2_000);
        await sleep(backoff.next(), signal);
      }
    }
  }
}

/** A record published to the stream whose offset is not resolved yet. */
interface InFlightRecord {
  readonly offset: string;
  readonly bytes: number;
  /** True once the stream acknowledged it. */
  acked: boolean;
  /** Settles when acknowledged, or when the mapping stopped or lost the partition first. */
  done: Promise<void>;
}

/** Placeholder for InFlightRecord.done until its publish has begun. */
const DONE = Promise.resolve();

/** A commit refused because the group is rebalancing or moved to a newer generation: a new join follows. */
function isRebalance(error: unknown): boolean {
  const type = (error as { type?: unknown }).type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID';
}

/** The commit for a partition whose records up to `offset` are done: Kafka stores the next offset to read. */
function nextOffsetAfter(topic: string, partition: number, offset: string): { topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> } {
  return { topics: [{ topic, partitions: [{ partition, offset: (BigInt(offset) + 1n).toString() }] }] };
}
