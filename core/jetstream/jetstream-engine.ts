// The JetStream engine. It attaches itself to the router as an internal
// Subscriber, as nats-server does: one subscription on `$JS.API.>` for the API
// and one per stream subject for capture. core/server never imports this file;
// whoever builds the core wires the two together (DESIGN "Dependency rule").
//
// It owns the streams and their publish path; the rest is delegated, one job
// per module: answering $JS.API (api-dispatch.ts), holding answers until the
// turn's writes are done (write-turns.ts: an acknowledged message has always
// reached the OS, or the disk with sync: always, before its PubAck leaves),
// reopening streams at start (stream-recovery.ts, stream-files.ts), TTL and
// schedule runs (stream-timers.ts), batches (publish-batches.ts), mirrors and
// sources (stream-sourcing.ts) and consumers (consumer/).

import { join } from 'node:path';
import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';
import { subjectsOverlap } from '../subject/subject.ts';
import { API_SUBJECT_START, ApiDispatch, type JetStreamStats } from './api-dispatch.ts';
import { ConsumerManager } from './consumer/consumer-manager.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { formatTime } from './rfc3339.ts';
import type { TtlCollector } from './message-expiry.ts';
import type { ScheduleCollector } from './message-scheduler.ts';
import { Stream, type StateOptions } from './stream.ts';
import type { SourceHost } from './source-link.ts';
import { StreamSourcing } from './stream-sourcing.ts';
import { AckEncoder, errorPubAck } from './ack-encoder.ts';
import { WriteTurns } from './write-turns.ts';
import { DEFAULT_ATOMIC_BATCH_LIMITS, type AtomicBatchLimits } from './atomic-batch.ts';
import { PublishBatches } from './publish-batches.ts';
import { DEFAULT_INGEST_LIMITS, IngestBacklog, TOO_MANY_REQUESTS_HEADER, tooManyRequests } from './ingest-backlog.ts';
import { sameConfig, validateUpdate, type StreamConfig } from './stream-config.ts';
import { StreamFiles } from './stream-files.ts';
import { StreamTimers } from './stream-timers.ts';
import { recoverStream, StreamRecoveryError, type RecoveredStream } from './stream-recovery.ts';
import type { PubAck, StreamInfoWire } from '../protocol/jetstream-wire.ts';
import type { SyncPolicy } from './store/file-stream-store.ts';
import { nowMs, type StreamStore } from './store/stream-store.ts';

export interface JetStreamOptions {
  /** Root directory; streams live in <storeDir>/streams/<name>/. */
  storeDir: string;
  /** 'os' (default): writes reach the OS before the PubAck. 'always': fsync before the PubAck. */
  sync?: SyncPolicy;
  /** Segment file size for file streams. */
  segmentBytes?: number;
  /** Most streams allowed (-1 unlimited). */
  maxStreams?: number;
  /** Refuse API requests with fields nats-server does not know (nats-server's jetstream `strict`, default true). */
  strict?: boolean;
  /** Ingest limits per stream: messages and bytes not yet written (nats-server's jetstream max_buffered_msgs/_size). */
  maxBufferedMsgs?: number;
  maxBufferedSize?: number;
  /** ADR-50 atomic batch limits (nats-server's jetstream.limits max_batch_*); defaults are nats-server's. */
  atomicBatchLimits?: Partial<AtomicBatchLimits>;
  /** With sync 'os': fsync every file stream this often (nats-server's sync_interval, 2 min). 0 = never. */
  syncIntervalMs?: number;
}

export class JetStreamEngine implements Subscriber, SourceHost {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  /** Streams found on disk that could not be opened at start (left untouched on disk). */
  readonly recoveryErrors: StreamRecoveryError[] = [];
  private readonly byName = new Map<string, Stream>();
  private readonly capture = new Map<Subscription, Stream>();
  /** $JS.API requests (api-dispatch.ts). */
  private readonly api: ApiDispatch;
  /** Consumers, acks and redelivery (core/jetstream/consumer). */
  readonly consumers: ConsumerManager;
  /** Mirror and source links (stream-sourcing.ts). */
  readonly sourcing = new StreamSourcing(this);
  private apiSub: Subscription | null = null;
  /** Each turn's commits, and the answers and messages that wait for them (write-turns.ts). */
  private readonly turns: WriteTurns;
  private readonly acks = new AckEncoder();
  private running = false;
  private syncTimer: NodeJS.Timeout | null = null;
  /** ADR-50 atomic and fast batch publishes (publish-batches.ts). */
  private readonly batches: PublishBatches;
  /** Messages appended but not yet written, per stream (ingest-backlog.ts). */
  private readonly backlog: IngestBacklog;
  /** The streams' directories (stream-files.ts). */
  private readonly files: StreamFiles;
  /** TTL expiry and schedule runs (stream-timers.ts). */
  private readonly timers: StreamTimers;

  constructor(readonly router: Router, readonly options: JetStreamOptions) {
    this.turns = new WriteTurns({
      settled: (a, written) => {
        this.backlog.written(a.stream, a.bytes);
        if (!written) return;
        if (a.seq > a.stream.writtenSeq) a.stream.writtenSeq = a.seq;
        this.consumers.appended(a.stream, a.seq, a.subject);
        if (a.stream.feeds > 0) this.sourcing.originWritten(a.stream);
      },
      publish: (subject, headerSize, message) => this.router.publish(subject, null, headerSize, message, this),
    });
    this.files = new StreamFiles(join(options.storeDir, 'streams'), { sync: options.sync, segmentBytes: options.segmentBytes });
    this.api = new ApiDispatch(this, options.strict !== false, (to, header, payload) => this.turns.queue({ subject: to, header, payload, store: null, stream: '' }));
    this.consumers = new ConsumerManager(this);
    this.timers = new StreamTimers({
      current: (stream) => this.byName.get(stream.name) === stream,
      running: () => this.running,
      store: (stream, subject, headerSize, message, trusted) => this.store(stream, subject, headerSize, message, trusted),
      touched: (stream) => this.touched(stream),
    });
    this.backlog = new IngestBacklog({
      maxBufferedMsgs: options.maxBufferedMsgs ?? DEFAULT_INGEST_LIMITS.maxBufferedMsgs,
      maxBufferedSize: options.maxBufferedSize ?? DEFAULT_INGEST_LIMITS.maxBufferedSize,
    });
    this.batches = new PublishBatches(
      {
        store: (stream, subject, headerSize, message) => this.store(stream, subject, headerSize, message),
        unstore: (stream, seqs) => {
          for (const seq of seqs) stream.store.remove(seq);
          // Their Nats-Msg-Id values were never acknowledged: a retry of the batch is no duplicate.
          if (seqs.length > 0) stream.forgetAfter(seqs[0] - 1);
          this.touched(stream);
        },
        publish: (subject, body) => this.router.publish(subject, null, -1, body, this),
        hasInterest: (subject) => this.router.hasInterest(subject),
        answer: (reply, payload, stream, written) => this.turns.queue({ subject: reply, header: null, payload, store: written ? stream.store : null, stream: stream.name }),
      },
      { ...DEFAULT_ATOMIC_BATCH_LIMITS, ...options.atomicBatchLimits },
    );
  }

  get stats(): JetStreamStats {
    return this.api.stats;
  }

  get streamsDir(): string {
    return this.files.dir;
  }

  /** Recover streams from disk, then start serving the API and capturing. */
  async start(): Promise<void> {
    if (this.running) return;
    for (const name of this.files.names()) {
      // One unreadable stream must not keep the others (or the server) down.
      let recovered: RecoveredStream | null;
      try {
        recovered = recoverStream(this.files, name);
      } catch (err) {
        if (!(err instanceof StreamRecoveryError)) throw err;
        this.recoveryErrors.push(err);
        continue;
      }
      if (recovered === null) continue;
      this.attach(recovered.stream, recovered.ttls, recovered.schedules);
      this.consumers.recover(recovered.stream);
    }
    this.apiSub = new Subscription(this, `${API_SUBJECT_START}>`, null, 'js-api');
    this.router.subscribe(this.apiSub);
    this.consumers.start();
    this.running = true;
    const every = this.options.syncIntervalMs ?? 120_000;
    if (every > 0 && this.options.sync !== 'always') {
      this.syncTimer = setInterval(() => void this.syncAll(), every);
      this.syncTimer.unref();
    }
  }

  /** fsync every file stream (power-loss safety between the OS's own writebacks). */
  async syncAll(): Promise<void> {
    for (const stream of this.byName.values()) {
      if (stream.config.storage === 'file') await stream.store.flush();
    }
  }

  /** Stop serving, send what is pending, flush and close every store. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.syncTimer = null;
    if (this.apiSub !== null) this.router.unsubscribe(this.apiSub);
    this.apiSub = null;
    this.consumers.stop();
    this.sourcing.stop();
    this.batches.stop();
    for (const sub of this.capture.keys()) this.router.unsubscribe(sub);
    this.turns.flush();
    for (const stream of this.byName.values()) {
      this.timers.stop(stream);
      await stream.store.close();
    }
    this.byName.clear();
    this.capture.clear();
  }

  // ---- Subscriber ----

  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    if (sub === this.apiSub) {
      this.api.handle(subject, reply, headerSize, message);
      return;
    }
    const stream = this.capture.get(sub);
    if (stream === undefined) return;
    // nats-server queueInbound: over the stream's ingest limit a publish is refused (429), even without acks.
    if (this.backlog.full(stream, subject.length + (reply?.length ?? 0) + message.length)) {
      if (reply !== null) this.turns.queue({ subject: reply, header: TOO_MANY_REQUESTS_HEADER, payload: tooManyRequests(stream), store: null, stream: stream.name });
      return;
    }
    if (this.batches.claim(stream, subject, reply, headerSize, message)) return;
    let payload: Buffer;
    try {
      const ack = this.store(stream, stream.storedSubject(subject), headerSize, message);
      if (reply === null || stream.config.noAck) return;
      // A counter's ack also carries its total; the rest take the allocation-free path.
      payload = ack.val === undefined ? this.acks.encode(stream.ackPrefixBytes, ack.seq, ack.duplicate === true) : Buffer.from(JSON.stringify(ack));
    } catch (err) {
      if (reply === null || stream.config.noAck) return;
      const error = err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamStoreFailed, String(err), { cause: err });
      payload = errorPubAck(stream.name, error);
    }
    this.turns.queue({ subject: reply, header: null, payload, store: stream.store, stream: stream.name });
  }

  subscriptionEnded(): void {}

  /**
   * Store one message (captured, or made by the server: a delete marker, a scheduled message); consumers hear of it
   * once written. `trusted`: see Stream.ingest.
   */
  private store(stream: Stream, subject: string, headerSize: number, message: Buffer, trusted = false): PubAck {
    const ack = stream.ingest(subject, headerSize, message, trusted);
    this.turns.markDirty(stream.store);
    if (ack.duplicate !== true) {
      const bytes = subject.length + message.length;
      this.backlog.added(stream, bytes);
      this.turns.stored({ stream, seq: ack.seq, subject, bytes });
    }
    return ack;
  }

  // ---- streams ----

  stream(name: string): Stream {
    const s = this.byName.get(name);
    if (s === undefined) throw new JetStreamApiError(JsError.StreamNotFound);
    return s;
  }

  /** The stream called `name`, if any (hot paths such as direct get: no sorted list, no throw). */
  findStream(name: string): Stream | undefined {
    return this.byName.get(name);
  }

  streams(): Iterable<Stream> {
    return this.byName.values();
  }

  /** Stream info: the stream's own, with its mirror or sources state (nats-server StreamInfo). */
  streamInfo(stream: Stream, options: StateOptions = {}): StreamInfoWire {
    return { ...stream.info(options), ...this.sourcing.info(stream) };
  }

  /** SourceHost: a sourced message goes through the destination's publish path (dedupe by Nats-Msg-Id, limits). */
  ingestCopy(dest: Stream, subject: string, header: Buffer, data: Buffer): void {
    this.store(dest, subject, header.length, Buffer.concat([header, data]), true);
  }

  /** SourceHost: run `fn` once this turn's writes to `dest` are done. */
  whenWritten(dest: Stream, fn: () => void): void {
    this.turns.whenWritten(dest.store, fn);
  }

  /** SourceHost: does a consumer of `origin` still want `seq` (interest retention)? */
  wanted(origin: Stream, seq: number, subject: string): boolean {
    return this.consumers.wanted(origin, seq, subject);
  }

  /** SourceHost: a mirror appended `seq` itself. */
  copied(dest: Stream, seq: number, subject: string): void {
    this.turns.markDirty(dest.store);
    this.backlog.added(dest, 0);
    this.turns.stored({ stream: dest, seq, subject, bytes: 0 });
  }

  /** Streams sorted by name, as nats-server lists them. */
  streamList(): Stream[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Create (or, with an identical config, return) a stream. */
  createStream(config: StreamConfig): { stream: Stream; created: boolean } {
    const existing = this.byName.get(config.name);
    if (existing !== undefined) {
      if (sameConfig(existing.config, config)) return { stream: existing, created: false };
      throw new JetStreamApiError(JsError.StreamNameExist);
    }
    if (config.sealed) throw JetStreamApiError.of(JsError.StreamInvalidConfig, 'stream configuration for create can not be sealed');
    const max = this.options.maxStreams ?? -1;
    if (max >= 0 && this.byName.size >= max) throw new JetStreamApiError(JsError.MaximumStreamsLimit);
    this.checkOverlap(config, null);
    const created = formatTime(nowMs());
    let store: StreamStore;
    try {
      this.files.create(config, created);
      store = this.files.open(config);
    } catch (err) {
      throw JetStreamApiError.of(JsError.StreamCreate, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const stream = new Stream(config, created, store);
    this.attach(stream);
    return { stream, created: true };
  }

  updateStream(config: StreamConfig): Stream {
    const stream = this.stream(config.name);
    validateUpdate(stream.config, config);
    this.checkOverlap(config, stream);
    try {
      this.files.writeMeta(config, stream.created);
    } catch (err) {
      throw JetStreamApiError.of(JsError.StreamUpdate, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const subjectsChanged = stream.config.subjects.join('\n') !== config.subjects.join('\n');
    stream.update(config);
    this.batches.configured(stream);
    this.sourcing.configure(stream);
    this.timers.arm(stream);
    this.turns.markDirty(stream.store);
    if (subjectsChanged) {
      this.detach(stream);
      this.attach(stream);
    }
    return stream;
  }

  async deleteStream(name: string): Promise<void> {
    const stream = this.stream(name);
    this.detach(stream);
    this.timers.stop(stream);
    this.batches.dropStream(stream);
    this.backlog.forget(stream);
    this.consumers.streamDeleted(stream);
    this.byName.delete(name);
    this.sourcing.removed(stream);
    this.turns.forget(stream.store);
    try {
      await stream.store.destroy();
      this.files.remove(name);
    } catch (err) {
      throw JetStreamApiError.of(JsError.StreamDelete, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** A store changed outside a publish (purge, delete): commit it before the answer goes out. */
  touched(stream: Stream): void {
    this.turns.markDirty(stream.store);
    this.consumers.streamChanged(stream);
  }

  /** Account-level usage for $JS.API.INFO. */
  usage(): { memory: number; storage: number; streams: number } {
    let memory = 0;
    let storage = 0;
    for (const s of this.byName.values()) {
      const bytes = s.store.state().bytes;
      if (s.config.storage === 'memory') memory += bytes;
      else storage += bytes;
    }
    return { memory, storage, streams: this.byName.size };
  }

  private checkOverlap(config: StreamConfig, self: Stream | null): void {
    for (const other of this.byName.values()) {
      if (other === self) continue;
      for (const a of config.subjects) {
        for (const b of other.config.subjects) {
          if (subjectsOverlap(a, b)) throw new JetStreamApiError(JsError.StreamSubjectOverlap);
        }
      }
    }
  }

  private attach(stream: Stream, recoveredTtls?: TtlCollector, recoveredSchedules?: ScheduleCollector): void {
    const known = this.byName.get(stream.name) === stream;
    this.byName.set(stream.name, stream);
    if (!known) {
      if (stream.config.mirror !== null || stream.config.sources.length > 0) this.sourcing.configure(stream);
      this.sourcing.attached(stream);
      stream.afterRollBack = () => this.sourcing.rolledBack(stream);
    }
    this.timers.arm(stream, recoveredTtls, recoveredSchedules);
    stream.subscriptions = stream.config.subjects.map((s, i) => new Subscription(this, s, null, `js:${stream.name}:${i}`));
    for (const sub of stream.subscriptions) {
      this.capture.set(sub, stream);
      this.router.subscribe(sub);
    }
  }

  private detach(stream: Stream): void {
    for (const sub of stream.subscriptions) {
      this.router.unsubscribe(sub);
      this.capture.delete(sub);
    }
    stream.subscriptions = [];
  }
}
