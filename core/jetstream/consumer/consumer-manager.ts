// Every consumer of every stream, and the plumbing they share: one internal
// Subscriber for pull requests (`$JS.API.CONSUMER.MSG.NEXT.>`), acks
// (`$JS.ACK.>`) and flow-control replies (`$JS.FC.>`); one DeadlineScheduler;
// one end-of-turn pass that pumps the consumers woken this turn, saves the
// ones that changed, and only then confirms acks that asked for a reply.
//
// Idle consumers cost nothing per message: an append wakes only the "hungry"
// consumers of that stream (a pull consumer with waiting requests, a push
// consumer with a subscriber), and only when their filter matches.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JetStreamEngine } from '../jetstream-engine.ts';
import { JetStreamApiError } from '../../protocol/jetstream-api-error.ts';
import { JS_API_PREFIX } from '../../protocol/jetstream-wire.ts';
import { formatTime } from '../rfc3339.ts';
import type { Stream } from '../stream.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../../server/subscription.ts';
import { hasWildcardToken, subjectsOverlap } from '../../subject/subject.ts';
import { SubjectMap } from '../../subject/subject-map.ts';
import { ACK_PREFIX, AckKind, parseAckPayload, parseAckSubject } from './ack-subjects.ts';
import { Consumer, type ConsumerHost } from './consumer.ts';
import { AckPolicy, consumerConfigFromWire, consumerConfigToWire, filtersOf, isDurable, sameConsumerConfig, validateConsumerUpdate, type ConsumerConfig } from './consumer-config.ts';
import { ConsumerErr } from './consumer-errors.ts';
import { consumerInfo, type ConsumerInfoWire } from './consumer-info.ts';
import { ConsumerStateStore } from './consumer-state-store.ts';
import { DeadlineScheduler } from './deadline-scheduler.ts';
import { FC_PREFIX } from './push-delivery.ts';
import { randomName } from './random-name.ts';

const NEXT_PREFIX = `${JS_API_PREFIX}.CONSUMER.MSG.NEXT.`;
const ADVISORY_PREFIX = '$JS.EVENT.ADVISORY.CONSUMER.';
/** Messages examined when a deleted consumer leaves an interest stream (bounded work per delete). */
const INTEREST_SWEEP_LIMIT = 1_000_000;
/** Messages one consumer sends per pass before yielding to the event loop. */
const PUMP_BUDGET = 1024;
/**
 * State files are rewritten at most this often, unless a double ack waits for its
 * confirmation (then at once, before the confirmation). An unconfirmed ack lost
 * to a crash inside the window only means a redelivery: at-least-once holds.
 */
const SAVE_INTERVAL_MS = 50;
const ACTION_ADVISORY = 'io.nats.jetstream.advisory.v1.consumer_action';

export type ConsumerAction = 'create' | 'update' | '';

interface StreamConsumers {
  readonly byName: Map<string, Consumer>;
  readonly hungry: Set<Consumer>;
}

export class ConsumerManager implements Subscriber, ConsumerHost {
  readonly id = nextInternalSubscriberId();
  readonly echo = true;
  readonly scheduler = new DeadlineScheduler();
  private readonly byStream = new Map<string, StreamConsumers>();
  private readonly stores = new Map<Consumer, ConsumerStateStore>();
  /** Push consumers by deliver subject, told when that subject gains or loses a subscriber. */
  private pushWatch = new SubjectMap<Consumer>();
  private subs: Subscription[] = [];
  private unobserve: (() => void) | null = null;
  private dirty = new Set<Consumer>();
  private readonly toSave = new Set<Consumer>();
  private readonly storesTouched = new Set<Stream>();
  private confirms: string[] = [];
  private scheduled = false;
  private lastSave = 0;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(private readonly engine: JetStreamEngine) {}

  get router() {
    return this.engine.router;
  }

  start(): void {
    for (const subject of [`${NEXT_PREFIX}>`, `${ACK_PREFIX}>`, `${FC_PREFIX}>`]) {
      const sub = new Subscription(this, subject, null, `js-consumers:${subject}`);
      // Every ack subject is unique: the router hands them over without a sublist match.
      if (subject === `${ACK_PREFIX}>`) this.router.subscribeClaim(sub);
      else this.router.subscribe(sub);
      this.subs.push(sub);
    }
    this.unobserve = this.router.observe((sub) => this.interestChanged(sub.subject));
  }

  stop(): void {
    this.flush();
    this.saveStates(true);
    for (const sub of this.subs) this.router.unsubscribe(sub);
    this.subs = [];
    this.unobserve?.();
    this.unobserve = null;
    this.scheduler.stop();
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    for (const group of this.byStream.values()) for (const c of group.byName.values()) c.deleted = true;
    this.byStream.clear();
    this.pushWatch = new SubjectMap();
    this.stores.clear();
  }

  // ---- registry ----

  private group(stream: Stream): StreamConsumers {
    let g = this.byStream.get(stream.name);
    if (g === undefined) {
      g = { byName: new Map(), hungry: new Set() };
      this.byStream.set(stream.name, g);
    }
    return g;
  }

  get(stream: Stream, name: string): Consumer {
    const c = this.byStream.get(stream.name)?.byName.get(name);
    if (c === undefined) throw new JetStreamApiError(ConsumerErr.ConsumerNotFound);
    return c;
  }

  /** Consumers of a stream, sorted by name as nats-server lists them. */
  list(stream: Stream): Consumer[] {
    const g = this.byStream.get(stream.name);
    if (g === undefined) return [];
    return [...g.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  count(): number {
    let n = 0;
    for (const g of this.byStream.values()) n += g.byName.size;
    return n;
  }

  info(c: Consumer): ConsumerInfoWire {
    return consumerInfo(c, c.isPush && this.hasInterest(c.config.deliverSubject));
  }

  /** Create, update or (same config) return a consumer (NS addConsumerWithAssignment). */
  create(stream: Stream, config: ConsumerConfig, action: ConsumerAction): Consumer {
    const g = this.group(stream);
    if (config.name === '') {
      do config.name = randomName();
      while (g.byName.has(config.name));
    }
    const existing = g.byName.get(config.name);
    if (existing !== undefined) {
      // NS jsConsumerCreateRequest: an update never changes pause_until (CONSUMER.PAUSE does).
      config.pauseUntil = existing.config.pauseUntil;
      if (action === 'create' && !sameConsumerConfig(existing.config, config)) throw new JetStreamApiError(ConsumerErr.ConsumerAlreadyExists);
      if (!sameConsumerConfig(existing.config, config)) this.update(existing, config);
      return existing;
    }
    if (action === 'update') throw new JetStreamApiError(ConsumerErr.ConsumerDoesNotExist);
    const max = stream.config.maxConsumers;
    if (max > 0 && g.byName.size >= max) throw new JetStreamApiError(ConsumerErr.MaximumConsumersLimit);
    if (stream.config.retention === 'workqueue') this.checkWorkQueue(g, config);
    const c = new Consumer(this, stream, config, formatTime(Date.now()), this.persists(stream, config));
    c.start();
    if (c.persistent) {
      const store = new ConsumerStateStore(ConsumerStateStore.dirFor(this.streamDir(stream), c.name), this.engine.options.sync === 'always');
      try {
        store.writeMeta({ config: consumerConfigToWire(config), created: c.created });
        store.writeState(c.snapshot());
      } catch (err) {
        throw JetStreamApiError.of(ConsumerErr.ConsumerStoreFailed, err instanceof Error ? err.message : String(err), { cause: err });
      }
      this.stores.set(c, store);
    }
    this.attach(g, c);
    this.advise(c, 'CREATED', { type: ACTION_ADVISORY, action: 'create' });
    return c;
  }

  /** Apply a validated config change (an update, or a pause from CONSUMER.PAUSE), persisted. */
  update(c: Consumer, next: ConsumerConfig): void {
    validateConsumerUpdate(c.config, next);
    const oldDeliver = c.config.deliverSubject;
    c.reconfigure(next);
    if (c.isPush && oldDeliver !== next.deliverSubject) {
      this.unwatch(c, oldDeliver);
      this.watch(c);
    }
    this.stores.get(c)?.writeMeta({ config: consumerConfigToWire(next), created: c.created });
    this.wake(c);
  }

  /** NS: one unfiltered consumer, or non-overlapping filters, on a workqueue stream; mirror and source consumers aside (partitionUnique). */
  private checkWorkQueue(g: StreamConsumers, config: ConsumerConfig): void {
    if (config.direct || config.sourcing) return;
    const mine = filtersOf(config);
    for (const other of g.byName.values()) {
      if (other.config.direct || other.config.sourcing) continue;
      const theirs = filtersOf(other.config);
      if (mine.length === 0 && theirs.length === 0) throw new JetStreamApiError(ConsumerErr.ConsumerWQMultipleUnfiltered);
      if (mine.length === 0 || theirs.length === 0 || mine.some((a) => theirs.some((b) => subjectsOverlap(a, b)))) {
        throw new JetStreamApiError(ConsumerErr.ConsumerWQConsumerNotUnique);
      }
    }
  }

  private attach(g: StreamConsumers, c: Consumer): void {
    g.byName.set(c.name, c);
    c.stream.consumerCount = g.byName.size;
    if (c.isPush) this.watch(c);
    c.armInactive();
  }

  /** Push consumers learn about subscribers on their deliver subject through the router's observer. */
  private watch(c: Consumer): void {
    this.pushWatch.add(c.config.deliverSubject, c);
    c.checkPushInterest();
  }

  private unwatch(c: Consumer, subject: string): void {
    this.pushWatch.delete(subject, c);
  }

  delete(stream: Stream, name: string): void {
    const c = this.get(stream, name);
    this.remove(c);
    this.stores.get(c)?.destroy();
    this.stores.delete(c);
  }

  private remove(c: Consumer): void {
    const g = this.byStream.get(c.stream.name);
    if (g === undefined || g.byName.get(c.name) !== c) return;
    c.close();
    g.byName.delete(c.name);
    g.hungry.delete(c);
    c.stream.consumerCount = g.byName.size;
    this.dirty.delete(c);
    this.toSave.delete(c);
    if (c.isPush) this.unwatch(c, c.config.deliverSubject);
    this.advise(c, 'DELETED', { type: ACTION_ADVISORY, action: 'delete' });
    if (c.stream.config.retention === 'interest') this.dropUnwanted(c, g);
  }

  /** Interest retention: what only the removed consumer still wanted goes away with it (NS checkInterestState). */
  private dropUnwanted(gone: Consumer, g: StreamConsumers): void {
    const store = gone.stream.store;
    let removed = false;
    let seq = gone.filters.nextSeq(store, gone.acks.floorStream + 1);
    for (let n = 0; seq > 0 && n < INTEREST_SWEEP_LIMIT; n++) {
      const msg = store.get(seq);
      if (msg !== null && !wantedByOthers(g, seq, msg.subject, gone) && !this.sourceNeeds(gone.stream, seq, msg.subject)) removed = store.remove(seq) || removed;
      seq = gone.filters.nextSeq(store, seq + 1);
    }
    if (removed) {
      this.storesTouched.add(gone.stream);
      this.schedule();
    }
  }

  // ---- engine hooks ----

  /** A message was stored: wake the hungry consumers it is for; interest retention drops it if nobody wants it. */
  appended(stream: Stream, seq: number, subject: string): void {
    const g = this.byStream.get(stream.name);
    if (stream.config.retention === 'interest' && (g === undefined || !filteredIn(g, subject)) && !this.sourceNeeds(stream, seq, subject)) {
      stream.store.remove(seq);
      return;
    }
    if (g === undefined || g.hungry.size === 0) return;
    for (const c of g.hungry) if (c.filters.matches(subject)) this.wake(c);
  }

  /** Interest retention: does any consumer of `stream` still want message `seq`? (A mirror or source link asks before it removes a copied message.) */
  wanted(stream: Stream, seq: number, subject: string): boolean {
    const g = this.byStream.get(stream.name);
    for (const c of g?.byName.values() ?? []) if (c.needs(seq, subject)) return true;
    return false;
  }

  /** A mirror or source link has not stored `seq` yet: interest retention keeps it (nats-server 2.14 acked sourcing). */
  private sourceNeeds(stream: Stream, seq: number, subject: string): boolean {
    return stream.feeds > 0 && this.engine.sourcing.needs(stream, seq, subject);
  }

  /** Purge or message delete. */
  streamChanged(stream: Stream): void {
    const g = this.byStream.get(stream.name);
    if (g === undefined) return;
    for (const c of g.byName.values()) {
      c.streamChanged();
      this.wake(c);
    }
  }

  streamDeleted(stream: Stream): void {
    const g = this.byStream.get(stream.name);
    if (g === undefined) return;
    for (const c of [...g.byName.values()]) {
      this.remove(c);
      this.stores.delete(c);
    }
    this.byStream.delete(stream.name);
  }

  /** After a restart: bring back the stream's durable consumers with their state. */
  recover(stream: Stream): void {
    const dir = this.streamDir(stream);
    const g = this.group(stream);
    for (const name of ConsumerStateStore.list(dir)) {
      const store = new ConsumerStateStore(ConsumerStateStore.dirFor(dir, name), this.engine.options.sync === 'always');
      const meta = store.readMeta();
      if (meta === null) continue;
      let config: ConsumerConfig;
      try {
        config = consumerConfigFromWire(meta.config, stream.config);
      } catch {
        // A config this version cannot load stays on disk untouched rather than being deleted.
        continue;
      }
      const c = new Consumer(this, stream, config, meta.created, true);
      const state = store.readState();
      if (state !== null) c.restore(state);
      else c.start();
      this.stores.set(c, store);
      this.attach(g, c);
    }
  }

  private streamDir(stream: Stream): string {
    return join(this.engine.streamsDir, stream.name);
  }

  private persists(stream: Stream, config: ConsumerConfig): boolean {
    return stream.config.storage === 'file' && !config.memStorage && isDurable(config);
  }

  // ---- Subscriber ----

  deliver(_sub: Subscription, subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    const body = headerSize > 0 ? message.subarray(headerSize) : message;
    if (subject.startsWith(ACK_PREFIX)) {
      const info = parseAckSubject(subject);
      const ack = info === null ? null : parseAckPayload(body);
      if (info === null || ack === null) return;
      const c = this.byStream.get(info.stream)?.byName.get(info.consumer);
      // NS subscribes no ack subject for ack_policy flow_control: its acks are the flow-control answers.
      if (c === undefined || c.config.ackPolicy === AckPolicy.FlowControl) return;
      if (ack.kind === AckKind.Term) this.advise(c, 'MSG_TERMINATED', { type: 'io.nats.jetstream.advisory.v1.terminated', consumer_seq: info.consumerSeq, stream_seq: info.streamSeq, deliveries: info.deliveries, reason: ack.reason });
      c.processAck(info, ack, reply);
      // Double ack: the reply goes out once the new state is saved (end of turn).
      if (reply !== null && ack.kind !== AckKind.Next) {
        this.confirms.push(reply);
        this.schedule();
      }
      return;
    }
    if (subject.startsWith(NEXT_PREFIX)) {
      if (reply === null) return;
      const [stream, name] = subject.slice(NEXT_PREFIX.length).split('.');
      const c = this.byStream.get(stream)?.byName.get(name);
      // nats-server has no subscriber for a missing consumer: the request gets no answer (clients see 503/timeout).
      if (c === undefined) return;
      c.processPull(reply, body);
      return;
    }
    if (subject.startsWith(FC_PREFIX)) {
      const [stream, name] = subject.slice(FC_PREFIX.length).split('.');
      this.byStream.get(stream)?.byName.get(name)?.flowControlReply(subject, headerSize > 0 ? message.subarray(0, headerSize) : null);
    }
  }

  subscriptionEnded(): void {}

  // ---- ConsumerHost ----

  /** Routed by the pull inbox or deliver subject, shown under the stored subject (Router.deliverAs). */
  deliverMessage(to: string, subject: string, reply: string, header: Buffer | null, data: Buffer): boolean {
    return this.router.deliverAs(to, subject, reply, header === null ? -1 : header.length, joined(header, data), null) > 0;
  }

  sendStatus(to: string, header: Buffer, reply: string | null = null): void {
    this.router.publish(to, reply, header.length, header, this);
  }

  hasInterest(subject: string): boolean {
    return this.router.hasInterest(subject);
  }

  wake(c: Consumer): void {
    this.dirty.add(c);
    this.schedule();
  }

  saveLater(c: Consumer): void {
    if (!c.persistent) return;
    this.toSave.add(c);
    this.schedule();
  }

  setHungry(c: Consumer, hungry: boolean): void {
    const g = this.byStream.get(c.stream.name);
    if (g === undefined || c.deleted) return;
    if (hungry) g.hungry.add(c);
    else g.hungry.delete(c);
  }

  acked(c: Consumer, seq: number): void {
    const stream = c.stream;
    const retention = stream.config.retention;
    if (retention === 'limits') return;
    if (retention === 'interest') {
      const msg = stream.store.get(seq);
      if (msg === null) return;
      const g = this.byStream.get(stream.name);
      if (g !== undefined && wantedByOthers(g, seq, msg.subject, c)) return;
      if (this.sourceNeeds(stream, seq, msg.subject)) return;
    }
    if (stream.store.remove(seq)) {
      this.storesTouched.add(stream);
      this.schedule();
    }
  }

  maxDeliveriesReached(c: Consumer, seq: number, deliveries: number): void {
    this.advise(c, 'MAX_DELIVERIES', { type: 'io.nats.jetstream.advisory.v1.max_deliver', stream_seq: seq, deliveries });
  }

  inactive(c: Consumer): void {
    this.remove(c);
    this.stores.get(c)?.destroy();
    this.stores.delete(c);
  }

  advise(c: Consumer, kind: string, fields: Record<string, unknown>): void {
    const subject = `${ADVISORY_PREFIX}${kind}.${c.stream.name}.${c.name}`;
    if (!this.router.hasInterest(subject)) return;
    const { type, ...rest } = fields;
    const body = { type, id: randomBytes(11).toString('hex'), timestamp: formatTime(Date.now()), stream: c.stream.name, consumer: c.name, ...rest };
    this.router.publish(subject, null, -1, Buffer.from(JSON.stringify(body)), this);
  }

  /** A subscription came or went: push consumers on the subjects it covers re-check interest. */
  private interestChanged(subject: string): void {
    if (this.pushWatch.size === 0) return;
    const watchers = hasWildcardToken(subject) ? this.pushWatch.matching(subject) : this.pushWatch.get(subject);
    for (const c of watchers) c.checkPushInterest();
  }

  // ---- end of turn ----

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Write the changed consumers' state files: now when forced or due, else once the interval is up. */
  private saveStates(force: boolean): void {
    if (this.toSave.size === 0) return;
    const now = Date.now();
    if (!force && this.confirms.length === 0 && now - this.lastSave < SAVE_INTERVAL_MS) {
      this.saveTimer ??= setTimeout(() => {
        this.saveTimer = null;
        this.saveStates(true);
      }, SAVE_INTERVAL_MS - (now - this.lastSave));
      return;
    }
    this.lastSave = now;
    for (const c of this.toSave) {
      try {
        this.stores.get(c)?.writeState(c.snapshot());
      } catch (err) {
        // Keep serving; the next change retries the write. The warning carries the path and cause.
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'ConsumerStateWarning');
      }
    }
    this.toSave.clear();
  }

  /** Pump woken consumers, save changed state, commit retention removals, then confirm acks. */
  private flush(): void {
    this.scheduled = false;
    const work = this.dirty;
    this.dirty = new Set();
    for (const c of work) if (c.pump(PUMP_BUDGET)) this.dirty.add(c);
    this.saveStates(false);
    for (const stream of this.storesTouched) {
      try {
        stream.store.commit();
      } catch (err) {
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'ConsumerRetentionWarning');
      }
    }
    this.storesTouched.clear();
    const confirms = this.confirms;
    this.confirms = [];
    for (const to of confirms) this.router.publish(to, null, -1, EMPTY, this);
    if (this.dirty.size > 0) this.schedule();
  }
}

const EMPTY = Buffer.alloc(0);

/** Interest retention: does any consumer's filter take `subject`? Stops at the first (no copy of the consumer list per message). */
function filteredIn(g: StreamConsumers, subject: string): boolean {
  for (const c of g.byName.values()) if (c.filters.matches(subject)) return true;
  return false;
}

/** Interest retention: does a consumer other than `except` still want message `seq`? */
function wantedByOthers(g: StreamConsumers, seq: number, subject: string, except: Consumer): boolean {
  for (const other of g.byName.values()) if (other !== except && other.needs(seq, subject)) return true;
  return false;
}

/**
 * Header block and body as one message. A stored message's two parts are neighbours in one
 * record (both store reads return them so): then one view spans them and nothing is copied.
 */
function joined(header: Buffer | null, data: Buffer): Buffer {
  if (header === null) return data;
  if (header.buffer === data.buffer && header.byteOffset + header.length === data.byteOffset) {
    return Buffer.from(header.buffer, header.byteOffset, header.length + data.length);
  }
  return Buffer.concat([header, data]);
}
