// The JetStream engine. It attaches itself to the router as an internal
// Subscriber, as nats-server does: one subscription on `$JS.API.>` for the API
// and one per stream subject for capture. core/server never imports this file;
// whoever builds the core wires the two together (DESIGN "Dependency rule").
//
// Batching: everything that arrives in one event-loop turn is appended to the
// stores at once; at the end of the turn each touched store commits with one
// write (on the thread pool, while the loop parses the next publishes), and
// only when those writes are done are that turn's PubAcks and API answers
// published, turns in order. So an acknowledged message has always reached
// the OS (or the disk, with sync: always) before its PubAck leaves, and
// consumers hear of a message (and may deliver it) only then too.

import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Router } from '../server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../server/subscription.ts';
import { subjectsOverlap } from '../subject/subject.ts';
import { infoRoutes } from './api-info.ts';
import { directRoutes } from './api-direct.ts';
import { msgRoutes } from './api-msg.ts';
import type { ApiReply, ApiRequest, ApiRoute } from './api-route.ts';
import { streamRoutes } from './api-stream.ts';
import { consumerRoutes } from './api-consumer.ts';
import { consumerControlRoutes } from './api-consumer-control.ts';
import { ConsumerManager } from './consumer/consumer-manager.ts';
import { readJsonFile, writeFileAtomic } from './atomic-file.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { formatTime } from './rfc3339.ts';
import { TtlCollector } from './message-expiry.ts';
import { ScheduleCollector } from './message-scheduler.ts';
import { deleteMarkerHeader, isDeleteMarker } from './message-ttl.ts';
import { parseHeaders } from '../protocol/headers.ts';
import { MsgIdCollector, Stream, type StateOptions } from './stream.ts';
import type { SourceHost } from './source-link.ts';
import { StreamSourcing } from './stream-sourcing.ts';
import { AckEncoder, errorPubAck } from './ack-encoder.ts';
import { DEFAULT_ATOMIC_BATCH_LIMITS, rollBackPartialBatch, type AtomicBatchLimits } from './atomic-batch.ts';
import { PublishBatches } from './publish-batches.ts';
import { checkStrictRequest } from './strict-request.ts';
import { checkRequiredApiLevel } from './required-api-level.ts';
import { DEFAULT_INGEST_LIMITS, IngestBacklog, TOO_MANY_REQUESTS_HEADER, tooManyRequests } from './ingest-backlog.ts';
import {
  sameConfig,
  storeLimitsOf,
  streamConfigFromWire,
  streamConfigToWire,
  validateUpdate,
  type StreamConfig,
} from './stream-config.ts';
import { JS_API_PREFIX, type PubAck, type StreamConfigWire, type StreamInfoWire } from '../protocol/jetstream-wire.ts';
import { FileStreamStore, type SyncPolicy } from './store/file-stream-store.ts';
import { MemoryStreamStore } from './store/memory-stream-store.ts';
import { nowMs, StoreIoError, type StreamStore } from './store/stream-store.ts';

/** `$JS.API.`: the API subjects' common start, with its dot. */
const API_SUBJECT_START = `${JS_API_PREFIX}.`;

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

export interface JetStreamStats {
  apiTotal: number;
  apiErrors: number;
}

interface Outgoing {
  subject: string;
  header: Buffer | null;
  payload: Buffer;
  /** When set: replace the payload with a store error if this store fails to commit. */
  store: StreamStore | null;
  stream: string;
}

/** A message stored in this turn: consumers hear of it once it is written. */
interface Appended {
  stream: Stream;
  seq: number;
  subject: string;
  /** What it counts for in the stream's ingest backlog. */
  bytes: number;
}

/** One turn's answers and stored messages, held until the writes of the stores it touched are done. */
interface Turn {
  out: Outgoing[];
  appended: Appended[];
  /** Commits not done yet. */
  waiting: number;
  failed: Map<StreamStore, Error> | null;
  /** Run once the named store's writes of this turn are done (a mirror or source releasing origin messages). */
  after: AfterWrite[];
}

interface AfterWrite {
  store: StreamStore;
  fn: () => void;
}

const META_FILE = 'meta.json';

type RecoverObserver = (seq: number, time: number, header: Buffer | null) => void;
function both(a: RecoverObserver, b: RecoverObserver): RecoverObserver {
  return (seq, time, header) => {
    a(seq, time, header);
    b(seq, time, header);
  };
}

/** A stream directory that could not be recovered at start. */
export class StreamRecoveryError extends Error {
  constructor(readonly stream: string, options: { cause: unknown }) {
    super(`stream ${stream} could not be recovered${options.cause instanceof Error ? `: ${options.cause.message}` : ''}`, options);
    this.name = 'StreamRecoveryError';
  }
}
const MSGS_DIR = 'msgs';

interface StreamMeta {
  config: StreamConfigWire;
  created: string;
}

export class JetStreamEngine implements Subscriber, SourceHost {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  readonly stats: JetStreamStats = { apiTotal: 0, apiErrors: 0 };
  /** Streams found on disk that could not be opened at start (left untouched on disk). */
  readonly recoveryErrors: StreamRecoveryError[] = [];
  private readonly byName = new Map<string, Stream>();
  private readonly capture = new Map<Subscription, Stream>();
  private readonly routes = new Map<string, ApiRoute>();
  /** Consumers, acks and redelivery (core/jetstream/consumer). */
  readonly consumers: ConsumerManager;
  /** Mirror and source links (stream-sourcing.ts). */
  readonly sourcing = new StreamSourcing(this);
  private apiSub: Subscription | null = null;
  private outbox: Outgoing[] = [];
  /** Turns whose answers wait for their writes, oldest first. */
  private readonly turns: Turn[] = [];
  /** Messages stored in the current turn, released to consumers with its answers. */
  private appended: Appended[] = [];
  private afterWrite: AfterWrite[] = [];
  private readonly acks = new AckEncoder();
  private readonly dirty = new Set<StreamStore>();
  private scheduled = false;
  private running = false;
  private syncTimer: NodeJS.Timeout | null = null;
  /** ADR-50 atomic and fast batch publishes (publish-batches.ts). */
  private readonly batches: PublishBatches;
  /** Messages appended but not yet written, per stream (ingest-backlog.ts). */
  private readonly backlog: IngestBacklog;

  constructor(readonly router: Router, readonly options: JetStreamOptions) {
    for (const route of [...infoRoutes, ...streamRoutes, ...msgRoutes, ...directRoutes, ...consumerRoutes, ...consumerControlRoutes]) this.routes.set(route.op, route);
    this.consumers = new ConsumerManager(this);
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
        answer: (reply, payload, stream, written) => this.queue({ subject: reply, header: null, payload, store: written ? stream.store : null, stream: stream.name }),
      },
      { ...DEFAULT_ATOMIC_BATCH_LIMITS, ...options.atomicBatchLimits },
    );
  }

  get streamsDir(): string {
    return join(this.options.storeDir, 'streams');
  }

  /** Recover streams from disk, then start serving the API and capturing. */
  async start(): Promise<void> {
    if (this.running) return;
    fs.mkdirSync(this.streamsDir, { recursive: true });
    for (const name of fs.readdirSync(this.streamsDir).sort()) {
      // One unreadable stream must not keep the others (or the server) down.
      let stream: Stream;
      let ttls: TtlCollector | undefined;
      let schedules: ScheduleCollector | undefined;
      try {
        const meta = readJsonFile<StreamMeta>(join(this.streamsDir, name, META_FILE));
        if (meta === null) continue;
        const config = streamConfigFromWire(meta.config);
        const cutoff = nowMs() - config.duplicateWindow / 1_000_000;
        const collector = new MsgIdCollector(cutoff);
        // TTL deadlines live in the messages' headers: a TTL stream replays every header, not only the dedupe window's.
        ttls = config.allowMsgTtl ? new TtlCollector() : undefined;
        // Schedules too (ADR-51): the schedule messages and what they produced rebuild when each runs next.
        schedules = config.allowMsgSchedules ? new ScheduleCollector() : undefined;
        let observe: RecoverObserver = collector.observe;
        if (ttls !== undefined) observe = both(observe, ttls.observe);
        if (schedules !== undefined) observe = both(observe, schedules.observe);
        stream = new Stream(config, meta.created, this.openStore(config, observe, ttls === undefined && schedules === undefined ? cutoff : 0));
        // ADR-50: a batch whose commit a kill -9 cut short is taken back before anyone reads the stream.
        const rolledBack = config.allowAtomic ? rollBackPartialBatch(stream.store) : 0;
        if (rolledBack > 0) collector.forgetFrom(rolledBack);
        stream.seedDedupe(collector);
      } catch (err) {
        this.recoveryErrors.push(new StreamRecoveryError(name, { cause: err }));
        continue;
      }
      this.attach(stream, ttls, schedules);
      this.consumers.recover(stream);
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
    this.flushTurn();
    for (const stream of this.byName.values()) {
      stream.expiry?.stop();
      stream.scheduler?.stop();
      await stream.store.close();
    }
    this.byName.clear();
    this.capture.clear();
  }

  // ---- Subscriber ----

  deliver(sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    if (sub === this.apiSub) {
      this.handleApi(subject, reply, headerSize, message);
      return;
    }
    const stream = this.capture.get(sub);
    if (stream === undefined) return;
    // nats-server queueInbound: over the stream's ingest limit a publish is refused (429), even without acks.
    if (this.backlog.full(stream, subject.length + (reply?.length ?? 0) + message.length)) {
      if (reply !== null) this.queue({ subject: reply, header: TOO_MANY_REQUESTS_HEADER, payload: tooManyRequests(stream), store: null, stream: stream.name });
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
    this.queue({ subject: reply, header: null, payload, store: stream.store, stream: stream.name });
  }

  subscriptionEnded(): void {}

  /**
   * Store one message (captured, or made by the server: a delete marker, a scheduled message); consumers hear of it
   * once written. `trusted`: see Stream.ingest.
   */
  private store(stream: Stream, subject: string, headerSize: number, message: Buffer, trusted = false): PubAck {
    const ack = stream.ingest(subject, headerSize, message, trusted);
    this.markDirty(stream.store);
    if (ack.duplicate !== true) {
      const bytes = subject.length + message.length;
      this.backlog.added(stream, bytes);
      this.appended.push({ stream, seq: ack.seq, subject, bytes });
    }
    return ack;
  }

  /**
   * Remove the messages of `stream` whose TTL or max_age is up (ADR-43). With
   * subject_delete_marker_ttl, the last message of a subject is replaced by a
   * marker that rolls the subject up (NS filestore handleRemovalOrSdm).
   */
  private expireDue(stream: Stream): void {
    const expiry = stream.expiry;
    if (expiry === null || !this.running || this.byName.get(stream.name) !== stream) return;
    const markerTtl = Math.floor(stream.config.subjectDeleteMarkerTtl / 1e9);
    let changed = false;
    for (const seq of expiry.takeDue()) {
      const m = stream.store.get(seq);
      if (m === null) continue;
      changed = true;
      const last = markerTtl > 0 && stream.store.subjectCounts(m.subject).get(m.subject) === 1;
      if (last && !isDeleteMarker(m.header === null ? null : parseHeaders(m.header))) {
        const header = deleteMarkerHeader(markerTtl);
        try {
          this.store(stream, m.subject, header.length, header);
          continue;
        } catch {
          // A marker the stream refuses (sealed, full under discard new): the message still goes.
        }
      }
      stream.store.remove(seq);
    }
    if (changed) this.touched(stream);
    expiry.schedule();
  }

  /** Store what the due schedules of `stream` produce (ADR-51), in the order of the schedules' sequences. */
  private runSchedules(stream: Stream): void {
    const scheduler = stream.scheduler;
    if (scheduler === null || this.byName.get(stream.name) !== stream) return;
    // Recovered schedules may come due while start() is still opening other streams: they run once it is done.
    if (!this.running) return scheduler.schedule();
    for (const due of scheduler.takeDue()) {
      try {
        this.store(stream, due.target, due.header.length, Buffer.concat([due.header, due.data]), true);
      } catch (err) {
        // As nats-server's: a run the stream refuses is not retried; the schedule itself stays stored.
        process.emitWarning(`stream ${stream.name}: schedule ${due.scheduler} could not store its message on ${due.target}: ${err instanceof Error ? err.message : String(err)}`, 'StreamScheduleWarning');
      }
    }
    this.touched(stream);
    scheduler.schedule();
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
    this.afterWrite.push({ store: dest.store, fn });
    this.markDirty(dest.store);
  }

  /** SourceHost: does a consumer of `origin` still want `seq` (interest retention)? */
  wanted(origin: Stream, seq: number, subject: string): boolean {
    return this.consumers.wanted(origin, seq, subject);
  }

  /** SourceHost: a mirror appended `seq` itself. */
  copied(dest: Stream, seq: number, subject: string): void {
    this.markDirty(dest.store);
    this.backlog.added(dest, 0);
    this.appended.push({ stream: dest, seq, subject, bytes: 0 });
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
    const dir = join(this.streamsDir, config.name);
    const created = formatTime(nowMs());
    let store: StreamStore;
    try {
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(dir, META_FILE), JSON.stringify({ config: streamConfigToWire(config), created } satisfies StreamMeta));
      store = this.openStore(config);
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
      writeFileAtomic(join(this.streamsDir, config.name, META_FILE), JSON.stringify({ config: streamConfigToWire(config), created: stream.created } satisfies StreamMeta));
    } catch (err) {
      throw JetStreamApiError.of(JsError.StreamUpdate, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const subjectsChanged = stream.config.subjects.join('\n') !== config.subjects.join('\n');
    stream.update(config);
    this.batches.configured(stream);
    this.sourcing.configure(stream);
    if (config.allowMsgTtl) stream.enableExpiry(() => this.expireDue(stream));
    if (config.allowMsgSchedules) stream.enableSchedules(() => this.runSchedules(stream));
    this.markDirty(stream.store);
    if (subjectsChanged) {
      this.detach(stream);
      this.attach(stream);
    }
    return stream;
  }

  async deleteStream(name: string): Promise<void> {
    const stream = this.stream(name);
    this.detach(stream);
    stream.expiry?.stop();
    stream.scheduler?.stop();
    this.batches.dropStream(stream);
    this.backlog.forget(stream);
    this.consumers.streamDeleted(stream);
    this.byName.delete(name);
    this.sourcing.removed(stream);
    this.dirty.delete(stream.store);
    try {
      await stream.store.destroy();
      fs.rmSync(join(this.streamsDir, name), { recursive: true, force: true });
    } catch (err) {
      throw JetStreamApiError.of(JsError.StreamDelete, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** A store changed outside a publish (purge, delete): commit it before the answer goes out. */
  touched(stream: Stream): void {
    this.markDirty(stream.store);
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

  private openStore(config: StreamConfig, onRecover?: (seq: number, time: number, header: Buffer | null) => void, recoverHeadersSince?: number): StreamStore {
    const limits = storeLimitsOf(config);
    const firstSeq = config.firstSeq > 0 ? config.firstSeq : undefined;
    if (config.storage === 'memory') return new MemoryStreamStore(config.name, limits, { firstSeq });
    return new FileStreamStore(config.name, limits, {
      dir: join(this.streamsDir, config.name, MSGS_DIR),
      sync: this.options.sync,
      segmentBytes: this.options.segmentBytes,
      firstSeq,
      onRecover,
      recoverHeadersSince,
    });
  }

  private attach(stream: Stream, recoveredTtls?: TtlCollector, recoveredSchedules?: ScheduleCollector): void {
    const known = this.byName.get(stream.name) === stream;
    this.byName.set(stream.name, stream);
    if (!known) {
      if (stream.config.mirror !== null || stream.config.sources.length > 0) this.sourcing.configure(stream);
      this.sourcing.attached(stream);
      stream.afterRollBack = () => this.sourcing.rolledBack(stream);
    }
    if (stream.config.allowMsgTtl) stream.enableExpiry(() => this.expireDue(stream), recoveredTtls);
    if (stream.config.allowMsgSchedules) stream.enableSchedules(() => this.runSchedules(stream), recoveredSchedules);
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

  // ---- API ----

  private handleApi(subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    const tokens = subject.slice(API_SUBJECT_START.length).split('.');
    let route: ApiRoute | undefined;
    let used = 0;
    for (let n = Math.min(3, tokens.length); n >= 1 && route === undefined; n--) {
      route = this.routes.get(tokens.slice(0, n).join('.'));
      used = n;
    }
    // Unknown API subjects get no answer, as with nats-server (no handler subscribed).
    if (route === undefined || reply === null) return;
    this.stats.apiTotal++;
    const request: ApiRequest = {
      subject,
      args: tokens.slice(used),
      header: headerSize > 0 ? message.subarray(0, headerSize) : null,
      body: message.subarray(headerSize > 0 ? headerSize : 0),
    };
    let answer: ApiReply;
    try {
      // nats-server 2.12 strict mode (on unless `strict: false`): unknown request fields are refused.
      // ADR-44 (direct get answers with a status line instead, in its own route).
      if (route.type !== 'direct') checkRequiredApiLevel(request.header);
      if (this.options.strict !== false) checkStrictRequest(route.op, request.body);
      answer = route.handle(this, request);
    } catch (err) {
      this.stats.apiErrors++;
      const error = err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, err instanceof Error ? err.message : String(err), { cause: err });
      answer = { kind: 'json', body: { type: route.type, error: error.toWire(), ...route.errorExtras } };
    }
    if (answer.kind === 'async') {
      answer.done.then(
        (late) => this.reply(reply, late, route),
        (err: unknown) => {
          this.stats.apiErrors++;
          const error = err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, String(err), { cause: err });
          this.reply(reply, { kind: 'json', body: { type: route.type, error: error.toWire(), ...route.errorExtras } }, route);
        },
      );
      return;
    }
    this.reply(reply, answer, route);
  }

  private reply(to: string, answer: Exclude<ApiReply, { kind: 'async' }>, route: ApiRoute): void {
    if (answer.kind === 'raw') {
      for (const m of answer.messages) this.queue({ subject: to, header: m.header, payload: m.data, store: null, stream: '' });
      return;
    }
    const body = 'type' in answer.body ? answer.body : { type: route.type, ...answer.body };
    this.queue({ subject: to, header: null, payload: Buffer.from(JSON.stringify(body)), store: null, stream: '' });
  }

  private queue(out: Outgoing): void {
    this.outbox.push(out);
    this.schedule();
  }

  private markDirty(store: StreamStore): void {
    this.dirty.add(store);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushTurn());
  }

  /** End of turn: commit touched stores; this turn's acks and answers go out once that is done. */
  private flushTurn(): void {
    this.scheduled = false;
    // One extra count until every store has been asked: a store may call back at once.
    const turn: Turn = { out: this.outbox, appended: this.appended, waiting: 1, failed: null, after: this.afterWrite };
    this.outbox = [];
    this.appended = [];
    this.afterWrite = [];
    this.turns.push(turn);
    const settled = (store: StreamStore | null, err: Error | null): void => {
      if (err !== null && store !== null) {
        (turn.failed ??= new Map()).set(store, err);
        // The PubAck error names no path; the server's log gets it, with the OS's own message.
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
        process.emitWarning(`${err.message}${err instanceof StoreIoError ? ` at ${err.path}` : ''}${cause}`, 'StreamStoreWarning');
      }
      if (--turn.waiting === 0) this.sendTurns();
    };
    for (const store of this.dirty) {
      turn.waiting++;
      store.commit((err) => settled(store, err));
    }
    this.dirty.clear();
    settled(null, null);
  }

  /** Publish the answers of finished turns, oldest first: a turn never overtakes an earlier one. */
  private sendTurns(): void {
    while (this.turns.length > 0 && this.turns[0].waiting === 0) {
      const { out, appended, failed, after } = this.turns.shift() as Turn;
      // Written: now consumers may deliver them (a failed write was rolled back: they are gone).
      for (const a of appended) {
        this.backlog.written(a.stream, a.bytes);
        if (failed?.has(a.stream.store) === true) continue;
        if (a.seq > a.stream.writtenSeq) a.stream.writtenSeq = a.seq;
        this.consumers.appended(a.stream, a.seq, a.subject);
        if (a.stream.feeds > 0) this.sourcing.originWritten(a.stream);
      }
      // A failed write was rolled back: what waited for it must not run, so a source never lets the
      // origin release messages whose copies are gone. Its link went back to what the destination
      // holds (StreamSourcing.rolledBack) and copies them again; the origin keeps them meanwhile.
      for (const w of after) if (failed?.has(w.store) !== true) w.fn();
      for (const m of out) {
        let payload = m.payload;
        const err = m.store !== null && failed !== null ? failed.get(m.store) : undefined;
        if (err !== undefined) {
          const error = JetStreamApiError.of(JsError.StreamStoreFailed, err.message, { cause: err });
          payload = errorPubAck(m.stream, error);
        }
        if (m.header === null) this.router.publish(m.subject, null, -1, payload, this);
        else this.router.publish(m.subject, null, m.header.length, Buffer.concat([m.header, payload]), this);
      }
    }
  }
}
