// One stream: its configuration, its store, and what happens to a message
// captured on one of its subjects (dedupe by Nats-Msg-Id, Nats-Expected-*
// checks, store limits, Nats-Rollup). Returns the PubAck or throws JetStreamApiError.

import { parseHeaders, type MessageHeaders } from '../protocol/headers.ts';
import type { PubAck, StreamInfoWire, StreamStateWire } from '../protocol/jetstream-wire.ts';
import type { Subscription } from '../server/subscription.ts';
import { counterBody, incrementOf, nextTotal } from './counter.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { MessageExpiry, type TtlCollector } from './message-expiry.ts';
import { checkSchedulePublish, SCHEDULE_NEXT_PURGE, ScheduleHeader } from './message-schedule.ts';
import { MessageScheduler, type ScheduleCollector } from './message-scheduler.ts';
import { parseMessageTtl, TtlHeader } from './message-ttl.ts';
import { formatTime } from './rfc3339.ts';
import { maxAgeMsOf, storeLimitsOf, streamConfigToWire, type StreamConfig } from './stream-config.ts';
import { nowMs, StoreLimitError, type StreamStore } from './store/stream-store.ts';

/** Publish headers JetStream acts on (ADR-8, nats-server stream.go). */
export const JsHeader = {
  MsgId: 'Nats-Msg-Id',
  ExpectedStream: 'Nats-Expected-Stream',
  ExpectedLastSeq: 'Nats-Expected-Last-Sequence',
  ExpectedLastSubjSeq: 'Nats-Expected-Last-Subject-Sequence',
  ExpectedLastMsgId: 'Nats-Expected-Last-Msg-Id',
  Rollup: 'Nats-Rollup',
} as const;

/**
 * What every header JetStream acts on starts with (JsHeader, Nats-Incr and the
 * counter's incompatible headers): the others are not decoded on ingest.
 */
export const JS_HEADER_PREFIX = 'nats-';

const MAX_HEADER_BYTES = 64 * 1024;
const MSG_ID_BYTES = Buffer.from(JsHeader.MsgId);

export interface StateOptions {
  subjectsFilter?: string;
  deletedDetails?: boolean;
}

/** Collects Nats-Msg-Id values inside the dedupe window while a store replays. */
export class MsgIdCollector {
  readonly ids: Array<[string, number, number]> = [];
  lastSeq = 0;
  lastId = '';

  constructor(private readonly cutoff: number) {}

  readonly observe = (seq: number, time: number, header: Buffer | null): void => {
    this.lastSeq = seq;
    this.lastId = '';
    if (header === null || time <= this.cutoff || header.indexOf(MSG_ID_BYTES) < 0) return;
    const id = parseHeaders(header, JS_HEADER_PREFIX).get(JsHeader.MsgId);
    if (id === undefined || id === '') return;
    this.ids.push([id, seq, time]);
    this.lastId = id;
  };

  /** Messages from `seq` on were taken back after replay (a partial atomic batch): their ids are free again. */
  forgetFrom(seq: number): void {
    while (this.ids.length > 0 && this.ids[this.ids.length - 1][1] >= seq) this.ids.pop();
    this.lastId = '';
  }
}

/** Would parseMessageTtl accept it? */
function readableTtl(text: string): boolean {
  try {
    parseMessageTtl(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * `id` as a string of its own. A parsed header value is a V8 slice of the
 * whole decoded header block, and a dedupe entry lives for the duplicate
 * window (2 minutes by default): kept as it is, each entry held the block's
 * text (~10x the id, measured 109 -> 60 MB heap after 300k Kafka records).
 * Slicing a concatenation makes V8 flatten the id into a string of its own.
 */
function detached(id: string): string {
  return (id + ' ').slice(0, -1);
}

export class Stream {
  subscriptions: Subscription[] = [];
  /** Kept by the consumer manager; reported as state.consumer_count. */
  consumerCount = 0;
  /** Mirror and source links reading from this stream (StreamSourcing keeps it): > 0 wakes them after writes. */
  feeds = 0;
  private readonly dedupe = new Map<string, { seq: number; time: number }>();
  private lastMsgId = '';
  /** Time of the dedupe map's first (oldest) entry, or lower; Infinity when empty. Spares a map iterator per publish. */
  private oldestMsgIdTime = Infinity;
  private ackPrefix: Buffer | undefined;
  /**
   * Messages up to this sequence are written (as their PubAcks say): consumers
   * deliver nothing past it, so no client can see, ack and lose one that a
   * kill -9 then takes. The engine moves it when a turn's writes are done.
   */
  writtenSeq: number;
  /** With allow_msg_ttl: when messages are due (armed by enableExpiry). */
  expiry: MessageExpiry | null = null;
  /** With allow_msg_schedules: when schedules run (armed by enableSchedules). */
  scheduler: MessageScheduler | null = null;
  /** Set by the engine: a failed write took back the messages above lastSeq (mirror and source links rewind). */
  afterRollBack: ((lastSeq: number) => void) | null = null;

  constructor(public config: StreamConfig, readonly created: string, readonly store: StreamStore) {
    this.writtenSeq = store.state().lastSeq;
    store.onRollBack = (lastSeq) => this.forgetAfter(lastSeq);
  }

  /**
   * A failed write took back the messages above lastSeq (each got an error
   * PubAck): a retry with the same Nats-Msg-Id must be stored, not called a
   * duplicate of a message that is not there; their TTLs must not remove the
   * messages that get those sequences next.
   */
  forgetAfter(lastSeq: number): void {
    for (const [id, entry] of this.dedupe) if (entry.seq > lastSeq) this.dedupe.delete(id);
    if (this.lastMsgId !== '' && !this.dedupe.has(this.lastMsgId)) this.lastMsgId = '';
    this.expiry?.forgetAfter(lastSeq);
    this.scheduler?.forgetAfter(lastSeq);
    this.afterRollBack?.(lastSeq);
  }

  /** Start tracking TTLs and max_age (allow_msg_ttl); `onDue` runs when some are due. Idempotent. */
  enableExpiry(onDue: () => void, recovered?: TtlCollector): void {
    if (this.expiry === null) this.expiry = new MessageExpiry(this.store, maxAgeMsOf(this.config), onDue);
    for (const [seq, time, ttl] of recovered?.entries ?? []) this.expiry.track(seq, time, ttl);
    this.expiry.schedule();
  }

  /** Start running message schedules (allow_msg_schedules); `onDue` runs when some are due. Idempotent. */
  enableSchedules(onDue: () => void, recovered?: ScheduleCollector): void {
    this.scheduler ??= new MessageScheduler(this.store, onDue, () => this.writtenSeq);
    if (recovered !== undefined) this.scheduler.recover(recovered);
  }

  get name(): string {
    return this.config.name;
  }

  /** `{"stream":"<name>","seq":` — the PubAck up to the sequence (a stream's name never changes). */
  get ackPrefixBytes(): Buffer {
    return (this.ackPrefix ??= Buffer.from(`{"stream":${JSON.stringify(this.config.name)},"seq":`));
  }

  /**
   * The subject a captured message is stored under: the input transform comes
   * before anything else (NS stream.go processJetStreamMsg); a subject it does
   * not match is stored as it is.
   */
  storedSubject(subject: string): string {
    const t = this.config.transform;
    return t === null ? subject : (t.apply(subject) ?? subject);
  }

  /**
   * Store one captured message (`subject` as storedSubject() gave it). `message` holds the header block first when headerSize >= 0.
   * `trusted`: made by a schedule of this stream or copied from a stream that checked it (NS `sourced`), so the
   * schedule headers only the server may set are not refused.
   */
  ingest(subject: string, headerSize: number, message: Buffer, trusted = false): PubAck {
    const cfg = this.config;
    if (cfg.sealed) throw new JetStreamApiError(JsError.StreamSealed);
    const hlen = headerSize > 0 ? headerSize : 0;
    if (hlen > MAX_HEADER_BYTES) throw new JetStreamApiError(JsError.StreamHeaderExceedsMaximum);
    if (cfg.maxMsgSize > 0 && message.length > cfg.maxMsgSize) throw new JetStreamApiError(JsError.StreamMessageExceedsMaximum);
    let header = hlen > 0 ? message.subarray(0, hlen) : null;
    let data = message.subarray(hlen);
    const now = nowMs();
    let msgId = '';
    let seen: { seq: number; time: number } | undefined;
    let rollup = '';
    let increment: bigint | null = null;
    let ttlText: string | undefined;
    let h: MessageHeaders | null = null;
    if (header !== null) {
      h = parseHeaders(header, JS_HEADER_PREFIX);
      // Counter checks come first, before dedupe and expectations (NS stream.go processJetStreamMsg).
      increment = incrementOf(h, cfg.allowMsgCounter, data.length);
      msgId = h.get(JsHeader.MsgId) ?? '';
      if (msgId !== '') {
        seen = this.dedupe.get(msgId);
        if (seen !== undefined && seen.time > now - this.windowMs()) return { stream: cfg.name, seq: seen.seq, duplicate: true };
      }
      // A stream without allow_msg_ttl refuses a Nats-TTL it could read (NS: an unreadable one fails below, as invalid).
      ttlText = h.get(TtlHeader.Ttl);
      if (ttlText !== undefined && !cfg.allowMsgTtl && readableTtl(ttlText)) throw new JetStreamApiError(JsError.MessageTTLDisabled);
      this.checkExpectations(h, subject);
      // ADR-51: a schedule replaces the one before it on its subject, by a roll-up added here when it has none.
      if (!trusted && checkSchedulePublish(h, subject, this, now)) {
        h.set(JsHeader.Rollup, 'sub');
        header = parseHeaders(header).set(JsHeader.Rollup, 'sub').encode();
      }
      rollup = h.get(JsHeader.Rollup) ?? '';
      if (rollup !== '') {
        if (!cfg.allowRollupHdrs) throw JetStreamApiError.of(JsError.StreamRollupFailed, 'rollup not permitted');
        if (rollup !== 'sub' && rollup !== 'all') throw JetStreamApiError.of(JsError.StreamRollupFailed, `rollup value invalid: ${rollup}`);
      }
    }
    let total: bigint | null = null;
    if (cfg.allowMsgCounter) {
      if (increment === null) throw new JetStreamApiError(JsError.MessageIncrMissing);
      total = nextTotal(this.store, subject, increment);
      data = counterBody(total);
    }
    let ttl = 0;
    let stored = header;
    if (ttlText !== undefined && ttlText !== '') {
      ttl = parseMessageTtl(ttlText);
      // ADR-43: below the marker TTL a message could outlive the marker that replaced it; raise it (and say so in the header).
      const floor = Math.floor(cfg.subjectDeleteMarkerTtl / 1e9);
      if (ttl > 0 && floor > 0 && cfg.maxMsgsPerSubject !== 1 && ttl < floor) {
        ttl = floor;
        stored = parseHeaders(header as Buffer).set(TtlHeader.Ttl, String(floor)).encode();
      }
    }
    let seq: number;
    try {
      seq = this.store.append(subject, stored, data, now);
    } catch (err) {
      if (err instanceof StoreLimitError) throw JetStreamApiError.of(JsError.StreamStoreFailed, err.kind, { cause: err });
      throw JetStreamApiError.of(JsError.StreamStoreFailed, err instanceof Error ? err.message : String(err), { cause: err });
    }
    if (rollup === 'sub') this.store.purge({ filter: subject, seq, causedBy: seq });
    else if (rollup === 'all') this.store.purge({ seq, causedBy: seq });
    // ADR-51: a one-off's produced message, or a client's, ends the schedule named in Nats-Scheduler.
    const scheduler = h?.get(ScheduleHeader.Scheduler);
    if (scheduler !== undefined && scheduler !== '' && h?.get(ScheduleHeader.Next) === SCHEDULE_NEXT_PURGE) this.store.purge({ filter: scheduler, causedBy: seq });
    this.scheduler?.stored(seq, subject, h, now);
    this.expiry?.track(seq, now, ttl);
    this.lastMsgId = msgId;
    if (msgId !== '') this.remember(msgId, seq, now, seen !== undefined);
    return total === null ? { stream: cfg.name, seq } : { stream: cfg.name, seq, val: total.toString() };
  }

  private checkExpectations(h: MessageHeaders, subject: string): void {
    const expectedStream = h.get(JsHeader.ExpectedStream);
    if (expectedStream !== undefined && expectedStream !== this.config.name) throw new JetStreamApiError(JsError.StreamNotMatch);
    const expectedLast = h.get(JsHeader.ExpectedLastSeq);
    if (expectedLast !== undefined) {
      // state() builds the whole state object: only for publishes that ask.
      const lastSeq = this.store.state().lastSeq;
      if (Number(expectedLast) !== lastSeq) throw new JetStreamApiError(JsError.StreamWrongLastSequence, { seq: lastSeq });
    }
    const expectedMsgId = h.get(JsHeader.ExpectedLastMsgId);
    if (expectedMsgId !== undefined && expectedMsgId !== this.lastMsgId) {
      throw new JetStreamApiError(JsError.StreamWrongLastMsgId, { id: this.lastMsgId });
    }
    const expectedSubj = h.get(JsHeader.ExpectedLastSubjSeq);
    if (expectedSubj !== undefined) {
      const actual = this.store.lastSeqOf(subject);
      if (Number(expectedSubj) !== actual) throw new JetStreamApiError(JsError.StreamWrongLastSequence, { seq: actual });
    }
  }

  /** Is `msgId` inside the duplicate window (a publish with it would be a duplicate)? */
  knowsMsgId(msgId: string): boolean {
    const seen = this.dedupe.get(msgId);
    return seen !== undefined && seen.time > nowMs() - this.windowMs();
  }

  private windowMs(): number {
    return this.config.duplicateWindow / 1_000_000;
  }

  /** `present`: the map may hold msgId already (it moves to the end, newest). */
  private remember(msgId: string, seq: number, time: number, present: boolean): void {
    if (present) this.dedupe.delete(msgId);
    this.dedupe.set(detached(msgId), { seq, time });
    if (this.dedupe.size === 1) this.oldestMsgIdTime = time;
    const cutoff = time - this.windowMs();
    if (cutoff < this.oldestMsgIdTime) return;
    this.oldestMsgIdTime = Infinity;
    for (const [id, entry] of this.dedupe) {
      if (entry.time > cutoff) {
        this.oldestMsgIdTime = entry.time;
        break;
      }
      this.dedupe.delete(id);
    }
  }

  /** After a restart: seed the dedupe window from what the store replayed. */
  seedDedupe(collector: MsgIdCollector): void {
    for (const [id, seq, time] of collector.ids) this.remember(id, seq, time, true);
    if (collector.lastSeq === this.store.state().lastSeq) this.lastMsgId = collector.lastId;
  }

  /** Apply an already validated update (the engine arms expiry when allow_msg_ttl comes on). */
  update(next: StreamConfig): void {
    this.config = next;
    this.store.setLimits(storeLimitsOf(next));
    this.expiry?.setMaxAge(maxAgeMsOf(next));
  }

  state(options: StateOptions = {}): StreamStateWire {
    const s = this.store.state();
    const wire: StreamStateWire = {
      messages: s.msgs,
      bytes: s.bytes,
      first_seq: s.firstSeq,
      first_ts: formatTime(s.firstTime),
      last_seq: s.lastSeq,
      last_ts: formatTime(s.lastTime),
      consumer_count: this.consumerCount,
    };
    if (s.numSubjects > 0) wire.num_subjects = s.numSubjects;
    if (options.subjectsFilter) {
      const counts = this.store.subjectCounts(options.subjectsFilter);
      if (counts.size > 0) wire.subjects = Object.fromEntries(counts);
    }
    if (s.numDeleted > 0) {
      wire.num_deleted = s.numDeleted;
      if (options.deletedDetails) wire.deleted = this.store.deletedSeqs();
    }
    return wire;
  }

  info(options: StateOptions = {}): StreamInfoWire {
    return { config: streamConfigToWire(this.config), created: this.created, state: this.state(options) };
  }
}
