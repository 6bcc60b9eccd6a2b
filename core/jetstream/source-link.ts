// One mirror or source link within the server: it copies the origin stream's
// written messages into the destination stream, in origin order, from the
// position after the last one the destination stored.
//
// The position is not kept in a file of its own: it is read back from the
// destination's messages, so it can never disagree with them after a restart
// or kill -9 (a mirror keeps the origin's sequence numbers, a sourced message
// carries `Nats-Stream-Source: <origin> <seq> ...`), as nats-server recovers
// it (stream.go startingSequenceForSources). A copy and the position it moves
// to are one record: a retry never stores a duplicate, and nothing is skipped.

import { createHash } from 'node:crypto';
import { parseHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { StreamSourceInfoWire } from '../protocol/jetstream-wire.ts';
import type { Router } from '../server/router.ts';
import { JsError } from './errors.ts';
import { ExternalFeed, type FeedLink } from './external-feed.ts';
import { formatTime } from './rfc3339.ts';
import type { Stream } from './stream.ts';
import { sourcedSubject, sourceKey, type SourceRole, type StreamSourceConfig } from './stream-source.ts';
import { nowMs, type StoredMessage } from './store/stream-store.ts';

/** Header names of an atomic or fast batch (ADR-50): a copy in a mirror or source is no batch of its own. */
const BATCH_PREFIX = 'nats-batch-';
const BATCH_PREFIX_BYTES = Buffer.from('Nats-Batch-');

/** `header` without Nats-Batch-* (nats-server removes them when it mirrors); most headers have none and are kept as they are. */
function withoutBatchHeaders(header: Buffer | null): Buffer | null {
  if (header === null || header.indexOf(BATCH_PREFIX_BYTES) < 0) return header;
  const h = parseHeaders(header);
  for (const k of h.keys()) if (k.toLowerCase().startsWith(BATCH_PREFIX)) h.delete(k);
  return h.encode();
}

/** The header a sourced message carries (nats-server JSStreamSource). */
export const STREAM_SOURCE_HEADER = 'Nats-Stream-Source';
/** Headers of the origin's publish checks: a copy is not checked again (nats-server removes them). */
const EXPECTED_PREFIX = 'nats-expected-';
/** The subject of a mirror's gap placeholder: a subject of its own, so no per-subject limit of a real subject counts it. */
const GAP_SUBJECT = '$JS.MIRROR.GAP';
/** Messages copied per link per turn, so a long catch-up leaves the loop to clients between batches. */
const BATCH = 512;

/** What a link needs from the engine. */
export interface SourceHost {
  /** An external origin is reached through the router (its API prefix and deliver subjects). */
  readonly router: Router;
  findStream(name: string): Stream | undefined;
  streams(): Iterable<Stream>;
  /** Store a sourced message through the destination's publish path (dedupe, limits). */
  ingestCopy(dest: Stream, subject: string, header: Buffer, data: Buffer): void;
  /** A message a mirror appended itself: commit it with the turn, and tell consumers once written. */
  copied(dest: Stream, seq: number, subject: string): void;
  /** Run `fn` once this turn's writes to `dest` are done. */
  whenWritten(dest: Stream, fn: () => void): void;
  /** Interest retention: does a consumer of `origin` still want `seq`? */
  wanted(origin: Stream, seq: number, subject: string): boolean;
  /** `stream` changed outside a publish (messages removed): commit it, tell its consumers. */
  touched(stream: Stream): void;
}

/** What a link shows (stream info, /jsz, /metrics). */
export interface SourceLinkState {
  role: SourceRole;
  /** The origin stream's name. */
  name: string;
  /** Working: the origin is there (local) or its consumer is heard from (external), and the last copy did not fail. */
  connected: boolean;
  /** Origin messages not stored here yet (external: the origin consumer's pending count). */
  lag: number;
  /** Milliseconds since the link was last seen working; -1: never, or failing. */
  activeAgoMs: number;
  error: JetStreamApiError | null;
  /** When a copy was last stored here (ms since the epoch; 0: never). */
  lastTransferMs: number;
  /** Age of the oldest origin message not copied yet (ms); 0 when caught up. */
  backlogAgeMs: number;
}

export class SourceLink {
  /** Last origin sequence looked at (stored, or passed over by the filter); -1 until the origin is first seen. */
  position = -1;
  /** Last origin sequence stored here (stream info `seq` of a source). */
  storedSeq = 0;
  /** Origin messages up to here are stored and written here: interest retention need not keep them for this link. -1: not known yet. */
  private released = -1;
  private lastActive = 0;
  /** When a copy was last stored here (ms since the epoch; 0: never). */
  private lastTransfer = 0;
  /** The origin time of the last copy stored here (ms; 0: none yet). */
  private lastCopiedTime = 0;
  /** External: the consumer's pending count with the last delivery (the origin's own lag figure). */
  private externalLag = 0;
  /** External: the consumer through the API prefix (external-feed.ts). */
  private feed: ExternalFeed | null = null;
  /** The origin stream last read (a different object: it was deleted and created again). */
  private origin: Stream | null = null;
  private error: JetStreamApiError | null = null;
  readonly key: string;
  /** The header's fields after name and sequence (`<filter> <dest>`). */
  private readonly keyTail: string;
  private readonly hash: string;
  /** A store filter when the link has exactly one (the rest are checked per message). */
  private readonly storeFilter: string | null;

  constructor(readonly role: SourceRole, readonly config: StreamSourceConfig, readonly dest: Stream) {
    this.key = sourceKey(config);
    this.keyTail = this.key.slice(this.key.indexOf(' ') + 1);
    // nats-server ends the header with a short hash; we hash the origin's name (readers use name, sequence and key).
    this.hash = createHash('sha256').update(config.name).digest('base64url').slice(0, 8);
    const t = config.subjectTransforms;
    this.storeFilter = t.length === 0 ? config.filterSubject || null : t.length === 1 ? t[0].src || null : null;
  }

  /** Origin sequence recovered from the destination (a source's header), 0 when none. */
  recovered(seq: number): void {
    if (seq > 0) this.position = this.storedSeq = seq;
  }

  /**
   * Copies this link made were taken back (a failed write): forget the position,
   * so recovered() or the next pump reads it from the destination again. The
   * origin released none of them (that waits for their write), so all are there to copy.
   */
  rewind(): void {
    this.position = -1;
    this.storedSeq = 0;
    // An external consumer has delivered past them: the next pump asks again from the position read back.
    this.feed?.restart();
  }

  /** Whether `header` (a stored message's) says this link copied it; returns its origin sequence, or 0. */
  originSeqIn(header: Buffer | null): number {
    if (header === null) return 0;
    const value = parseHeaders(header, 'nats-stream-').get(STREAM_SOURCE_HEADER);
    if (value === undefined) return 0;
    const t = value.split(' ');
    if (t.length < 4 || `${t[0]} ${t[2]} ${t[3]}` !== `${this.config.name} ${this.keyTail}`) return 0;
    const seq = Number(t[1]);
    return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
  }

  /**
   * Copy what the origin has written past the position, at most one batch.
   * Returns true when more is waiting. A failure is kept for stream info and
   * retried by the next pump; the position stays before the failed message.
   */
  pump(host: SourceHost): boolean {
    if (this.config.external !== null) {
      // A mirror starts after what it holds; a source after the sequence recovered from its headers (0: none).
      if (this.position < 0) this.position = this.storedSeq = this.role === 'mirror' ? this.dest.store.state().lastSeq : 0;
      (this.feed ??= new ExternalFeed(host.router, this.feedLink(host))).tick();
      return false;
    }
    const origin = host.findStream(this.config.name);
    if (origin === undefined) {
      this.error = new JetStreamApiError(JsError.StreamNotFound);
      return false;
    }
    if (this.position < 0) this.position = this.startPosition(origin);
    else if (this.role === 'source' && ((this.origin !== null && this.origin !== origin) || origin.store.state().lastSeq < this.position)) {
      // The origin was deleted and created again (seen here, or its sequences are behind ours after a restart): a source starts over with it.
      this.position = this.startFloor(origin);
      this.storedSeq = 0;
      this.released = -1;
    }
    this.origin = origin;
    this.error = null;
    this.lastActive = nowMs();
    const acked = origin.config.retention !== 'limits';
    // After a restart: what was stored before the crash may not have been released from the origin yet.
    const copied: number[] = acked && this.released < 0 ? this.storedBefore(origin) : [];
    const limit = origin.writtenSeq;
    let more = true;
    for (let n = 0; n < BATCH; n++) {
      const seq = origin.store.nextSeq(this.position + 1, this.storeFilter);
      if (seq === 0 || seq > limit) {
        this.position = Math.max(this.position, limit);
        more = false;
        break;
      }
      const m = origin.store.get(seq);
      const subject = m === null ? null : sourcedSubject(this.config, m.subject);
      if (m !== null && subject !== null) {
        try {
          if (this.role === 'mirror') this.mirror(host, m, subject);
          else this.source(host, m, subject);
        } catch (err) {
          this.error = err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, String(err), { cause: err });
          more = false;
          break;
        }
        this.copiedOne(m.time, seq);
        if (acked) copied.push(seq);
      }
      this.position = seq;
    }
    if (acked) this.release(host, origin, copied);
    return more;
  }

  /** The link is removed: an external consumer is let go. */
  close(): void {
    this.feed?.close();
    this.feed = null;
  }

  private copiedOne(originTime: number, seq: number): void {
    this.storedSeq = seq;
    this.lastTransfer = nowMs();
    this.lastCopiedTime = originTime;
  }

  private feedLink(host: SourceHost): FeedLink {
    const link = this;
    return {
      config: this.config,
      // Stable for this link across restarts (the stream's creation time tells a re-created one apart), as nats-server's JS_SRC_<hash>.
      consumerName: `JS_${this.role === 'mirror' ? 'MIRROR' : 'SRC'}_${createHash('sha256').update(`${this.dest.name} ${this.dest.created} ${this.key} ${this.config.external?.api ?? ''}`).digest('hex').slice(0, 16)}`,
      get position() {
        return link.position;
      },
      accept: (m, pending) => this.acceptExternal(host, m, pending),
      whenWritten: (fn) => host.whenWritten(this.dest, fn),
      report: (error) => {
        this.error = error;
      },
    };
  }

  /** External: one delivered origin message, stored unless held already (a re-created consumer re-delivers). */
  private acceptExternal(host: SourceHost, m: StoredMessage, pending: number): boolean {
    this.lastActive = nowMs();
    this.externalLag = pending;
    if (m.seq <= this.position) return true;
    const subject = sourcedSubject(this.config, m.subject);
    if (subject !== null) {
      try {
        if (this.role === 'mirror') this.mirror(host, m, subject);
        else this.source(host, m, subject);
      } catch (err) {
        this.error = err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, String(err), { cause: err });
        return false;
      }
      this.copiedOne(m.time, m.seq);
    }
    this.position = m.seq;
    this.error = null;
    return true;
  }

  /** Interest retention: a message this link has not stored and written yet is still needed. */
  needs(seq: number, subject: string): boolean {
    return seq > this.released && sourcedSubject(this.config, subject) !== null;
  }

  /** Once the copies are written, the origin may let them go (the destination holds them now). */
  private release(host: SourceHost, origin: Stream, seqs: number[]): void {
    const upTo = this.position;
    host.whenWritten(this.dest, () => {
      if (upTo > this.released) this.released = upTo;
      if (seqs.length > 0) releaseOrigin(host, origin, seqs);
    });
  }

  /** Origin messages this link had stored (before a restart) that the origin still holds. */
  private storedBefore(origin: Stream): number[] {
    const out: number[] = [];
    for (let seq = origin.store.nextSeq(this.startFloor(origin) + 1, this.storeFilter); seq !== 0 && seq <= this.storedSeq; seq = origin.store.nextSeq(seq + 1, this.storeFilter)) {
      const m = origin.store.get(seq);
      if (m !== null && sourcedSubject(this.config, m.subject) !== null) out.push(seq);
    }
    return out;
  }

  /** The sequence before the first one to copy: where a mirror stopped, else the start options'. */
  private startPosition(origin: Stream): number {
    if (this.role === 'mirror') {
      const last = this.dest.store.state().lastSeq;
      if (last > 0) return (this.storedSeq = last);
    }
    return this.startFloor(origin);
  }

  /** The sequence before the first one the link ever copies: opt_start_seq, opt_start_time, else the origin's beginning. */
  private startFloor(origin: Stream): number {
    if (this.config.optStartSeq > 0) return this.config.optStartSeq - 1;
    if (this.config.startTimeMs > 0) {
      for (let seq = origin.store.nextSeq(1); seq !== 0; seq = origin.store.nextSeq(seq + 1)) {
        const m = origin.store.get(seq);
        if (m !== null && m.time >= this.config.startTimeMs) return seq - 1;
      }
      return origin.store.state().lastSeq;
    }
    return 0;
  }

  /** A mirror keeps the origin's sequence numbers and times; sequences it does not hold are skipped as deleted. */
  private mirror(host: SourceHost, m: StoredMessage, subject: string): void {
    const store = this.dest.store;
    let next = store.state().lastSeq + 1;
    if (m.seq < next) return; // Held already: never twice.
    if (m.seq > next && store.state().msgs === 0) {
      store.purge({ seq: m.seq });
      next = m.seq;
    }
    // nats-server skips them (deleted in the mirror's state); a store without skips appends and removes a placeholder.
    for (; next < m.seq; next++) store.remove(store.append(GAP_SUBJECT, null, Buffer.alloc(0), m.time));
    const seq = store.append(subject, withoutBatchHeaders(m.header), m.data, m.time);
    host.copied(this.dest, seq, subject);
  }

  private source(host: SourceHost, m: StoredMessage, subject: string): void {
    const h = m.header === null ? parseHeaders(Buffer.from('NATS/1.0\r\n\r\n')) : parseHeaders(m.header);
    // nats-server: expectations were the origin's; a batch was the origin's too (ADR-50 "Mirrors and Sources").
    for (const k of h.keys()) if (k.toLowerCase().startsWith(EXPECTED_PREFIX) || k.toLowerCase().startsWith(BATCH_PREFIX)) h.delete(k);
    h.set(STREAM_SOURCE_HEADER, `${this.config.name} ${m.seq} ${this.keyTail} ${m.subject} ${this.hash}`);
    host.ingestCopy(this.dest, subject, h.encode(), m.data);
  }

  /** The link as /jsz, /metrics and stream info show it (issue 23 item 5). */
  state(host: SourceHost): SourceLinkState {
    const c = this.config;
    const origin = c.external === null ? host.findStream(c.name) : undefined;
    const lag = c.external !== null ? this.externalLag : origin === undefined || this.position < 0 ? 0 : origin.store.numPending(this.position + 1, this.storeFilter);
    const now = nowMs();
    // An external link is active while its consumer is heard from (heartbeats included), as nats-server's si.last.
    const heard = c.external !== null ? (this.feed?.heardAt ?? 0) : this.lastActive;
    return {
      role: this.role,
      name: c.name,
      connected: this.error === null && (c.external !== null ? this.feed !== null && this.feed.connected : origin !== undefined && this.lastActive > 0),
      lag,
      activeAgoMs: heard === 0 || this.error !== null ? -1 : now - heard,
      error: this.error,
      lastTransferMs: this.lastTransfer,
      backlogAgeMs: lag === 0 ? 0 : Math.max(0, now - this.oldestPendingTime(origin)),
    };
  }

  info(host: SourceHost): StreamSourceInfoWire {
    const c = this.config;
    const st = this.state(host);
    return {
      name: c.name,
      ...(c.filterSubject !== '' ? { filter_subject: c.filterSubject } : {}),
      ...(c.subjectTransforms.length > 0 ? { subject_transforms: c.subjectTransforms.map((t) => ({ ...t })) } : {}),
      ...(c.external !== null ? { external: { api: c.external.api, deliver: c.external.deliver } } : {}),
      lag: st.lag,
      active: st.activeAgoMs < 0 ? -1 : Math.round(st.activeAgoMs * 1e6),
      ...(this.role === 'source' && this.storedSeq > 0 ? { seq: this.storedSeq } : {}),
      ...(st.error !== null ? { error: st.error.toWire() } : {}),
      connected: st.connected,
      ...(st.lastTransferMs > 0 ? { last_transfer: formatTime(st.lastTransferMs) } : {}),
      backlog_age: Math.round(st.backlogAgeMs * 1e6),
    };
  }

  /**
   * The origin time of the oldest message not copied yet: exact for a local
   * origin; for an external one the last copied message's time bounds it (the
   * next one is no older), or now when nothing came yet.
   */
  private oldestPendingTime(origin: Stream | undefined): number {
    if (origin !== undefined) {
      const next = origin.store.nextSeq(this.position + 1, this.storeFilter);
      const m = next === 0 ? null : origin.store.get(next);
      if (m !== null) return m.time;
    }
    return this.lastCopiedTime > 0 ? this.lastCopiedTime : nowMs();
  }
}

/**
 * Copies of `seqs` are written: a work-queue origin removes them, an interest
 * origin those no consumer still wants (nats-server 2.14 acked sourcing: the
 * origin lets go only of what the destination stored).
 */
function releaseOrigin(host: SourceHost, origin: Stream, seqs: number[]): void {
  const retention = origin.config.retention;
  if (retention === 'limits' || host.findStream(origin.name) !== origin) return;
  let removed = false;
  for (const seq of seqs) {
    const m = retention === 'interest' ? origin.store.get(seq) : null;
    if (m !== null && host.wanted(origin, seq, m.subject)) continue;
    removed = origin.store.remove(seq) || removed;
  }
  if (removed) host.touched(origin);
}
