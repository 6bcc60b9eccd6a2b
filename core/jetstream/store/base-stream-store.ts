// What the memory and file stores share: the index, limit enforcement
// (discard old/new, per subject, max age), purge variants and queries. A
// subclass only stores and loads payloads and persists removals.

import { MessageIndex } from './message-index.ts';
import { normaliseFilter } from './subject-table.ts';
import {
  DiscardPolicy,
  nowMs,
  StoreClosedError,
  StoreLimitError,
  StoreLimitKind,
  UNLIMITED,
  type PurgeOptions,
  type StoredMessage,
  type StoreLimits,
  type StoreState,
  type StreamStore,
} from './stream-store.ts';

export abstract class BaseStreamStore implements StreamStore {
  abstract readonly kind: 'memory' | 'file';
  protected readonly index: MessageIndex;
  protected limitsValue: StoreLimits;
  protected closed = false;
  private ageTimer: NodeJS.Timeout | null = null;
  /**
   * The publish whose append is removing messages now (its limits, its
   * Nats-Rollup), 0 outside one: a store that can roll a publish back puts
   * what it removed back with it (issue 29 item 7).
   */
  protected removingFor = 0;

  protected constructor(readonly name: string, limits: StoreLimits, withLocations: boolean) {
    this.index = new MessageIndex(withLocations);
    this.limitsValue = { ...UNLIMITED, ...limits };
  }

  /** Accounted size of one message (nats-server's per-store formula). */
  protected abstract messageSize(subject: string, header: Buffer | null, data: Buffer): number;
  /** Keep the payload; returns the location stored in the index. */
  protected abstract writeMessage(seq: number, subject: string, header: Buffer | null, data: Buffer, time: number): number;
  protected abstract readMessage(seq: number, slot: number): StoredMessage;
  /** The message left the index (payload may be dropped; file store logs a tombstone). */
  protected abstract dropMessage(seq: number, slot: number): void;
  /** Called after a purge left the store empty with lastSeq as given. */
  protected abstract afterReset(lastSeq: number): void;
  abstract commit(done?: (err: Error | null) => void): void;
  abstract flush(): Promise<void>;
  protected abstract closeResources(): Promise<void>;
  abstract destroy(): Promise<void>;

  sizeOf(subject: string, header: Buffer | null, data: Buffer): number {
    return this.messageSize(subject, header, data);
  }

  append(subject: string, header: Buffer | null, data: Buffer, time = nowMs()): number {
    if (this.closed) throw new StoreClosedError(this.name);
    const size = this.messageSize(subject, header, data);
    const l = this.limitsValue;
    if (l.discard === DiscardPolicy.New) {
      if (l.maxMsgs > 0 && this.index.msgs >= l.maxMsgs) throw new StoreLimitError(StoreLimitKind.MaxMsgs, subject);
      if (l.maxBytes > 0 && this.index.bytes + size > l.maxBytes) throw new StoreLimitError(StoreLimitKind.MaxBytes, subject);
      if (l.discardNewPerSubject && l.maxMsgsPerSubject > 0) {
        const id = this.index.subjects.idOf(subject);
        if (id !== 0 && this.index.subjects.count[id] >= l.maxMsgsPerSubject) {
          throw new StoreLimitError(StoreLimitKind.MaxMsgsPerSubject, subject);
        }
      }
    }
    const seq = this.index.lastSeq + 1;
    const loc = this.writeMessage(seq, subject, header, data, time);
    const id = this.index.add(seq, subject, time, size, loc);
    this.removingFor = seq;
    try {
      if (l.maxMsgsPerSubject > 0) {
        while (this.index.subjects.count[id] > l.maxMsgsPerSubject) this.removeInternal(this.index.resolveFirst(id));
      }
      if (l.discard === DiscardPolicy.Old) this.enforceCounts();
    } finally {
      this.removingFor = 0;
    }
    if (l.maxAgeMs > 0 && this.ageTimer === null) this.scheduleExpiry();
    return seq;
  }

  get(seq: number): StoredMessage | null {
    const slot = this.index.slot(seq);
    return slot < 0 ? null : this.readMessage(seq, slot);
  }

  nextSeq(fromSeq: number, filter?: string | null): number {
    return this.index.nextSeq(Math.max(1, fromSeq), normaliseFilter(filter));
  }

  next(fromSeq: number, filter?: string | null): StoredMessage | null {
    const seq = this.nextSeq(fromSeq, filter);
    return seq === 0 ? null : this.get(seq);
  }

  last(filter: string): StoredMessage | null {
    const seq = this.lastSeqOf(filter);
    return seq === 0 ? null : this.get(seq);
  }

  lastSeqOf(filter: string): number {
    return this.index.lastSeqOf(normaliseFilter(filter));
  }

  lastPerSubject(filter?: string | null, upToSeq = Infinity): Float64Array {
    const ids = this.index.subjects.matching(normaliseFilter(filter));
    let out = new Float64Array(ids.length);
    if (upToSeq >= this.index.lastSeq) {
      for (let i = 0; i < ids.length; i++) out[i] = this.index.resolveLast(ids[i]);
    } else {
      // Subjects with nothing at or below upToSeq drop out.
      out = Float64Array.from(this.index.lastAtOrBelow(ids, upToSeq).filter((seq) => seq > 0));
    }
    // A typed array sorts numerically in native code: a million keys take milliseconds.
    return out.sort();
  }

  seqFromTime(time: number): number {
    return this.index.seqFromTime(time);
  }

  remove(seq: number): boolean {
    if (this.closed) throw new StoreClosedError(this.name);
    return this.removeInternal(seq);
  }

  purge(options: PurgeOptions = {}): number {
    if (this.closed) throw new StoreClosedError(this.name);
    const filter = normaliseFilter(options.filter);
    const seq = options.seq !== undefined && options.seq > 0 ? options.seq : undefined;
    const keep = options.keep !== undefined && options.keep > 0 ? options.keep : 0;
    this.removingFor = options.causedBy ?? 0;
    try {
      return this.purgeMatching(filter, seq, keep);
    } finally {
      this.removingFor = 0;
    }
  }

  private purgeMatching(filter: string | null, seq: number | undefined, keep: number): number {
    const before = this.index.msgs;
    if (filter === null && seq === undefined && keep === 0) {
      for (const s of this.index.collect(null)) this.removeInternal(s);
      this.afterReset(this.index.lastSeq);
      return before;
    }
    let victims = this.index.collect(filter, seq ?? Infinity);
    if (keep > 0 && seq === undefined) victims = victims.slice(0, Math.max(0, victims.length - keep));
    for (const s of victims) this.removeInternal(s);
    // Compacting past the end moves the sequence forward (nats-server does the same).
    if (filter === null && seq !== undefined && seq > this.index.lastSeq + 1) {
      this.index.skipTo(seq - 1);
      this.afterReset(seq - 1);
    } else if (this.index.msgs === 0 && victims.length > 0) {
      this.afterReset(this.index.lastSeq);
    }
    return victims.length;
  }

  state(): StoreState {
    const ix = this.index;
    const firstSeq = ix.firstSeq();
    return {
      msgs: ix.msgs,
      bytes: ix.bytes,
      firstSeq,
      lastSeq: ix.lastSeq,
      firstTime: ix.firstTime(),
      lastTime: ix.lastTime,
      numSubjects: ix.subjects.size,
      numDeleted: ix.msgs === 0 ? 0 : ix.lastSeq - firstSeq + 1 - ix.msgs,
    };
  }

  subjectCounts(filter?: string | null): Map<string, number> {
    const out = new Map<string, number>();
    const t = this.index.subjects;
    for (const id of t.matching(normaliseFilter(filter))) out.set(t.name(id), t.count[id]);
    return out;
  }

  numPending(fromSeq: number, filter?: string | null): number {
    return this.index.numPending(Math.max(1, fromSeq), normaliseFilter(filter));
  }

  deletedSeqs(): number[] {
    return this.index.deletedSeqs();
  }

  limits(): StoreLimits {
    return { ...this.limitsValue };
  }

  setLimits(limits: StoreLimits): void {
    this.limitsValue = { ...UNLIMITED, ...limits };
    const l = this.limitsValue;
    if (l.maxMsgsPerSubject > 0) {
      const t = this.index.subjects;
      for (const [, id] of [...t.entries()]) {
        while (t.count[id] > l.maxMsgsPerSubject) this.removeInternal(this.index.resolveFirst(id));
      }
    }
    this.enforceCounts();
    this.expire();
    if (this.ageTimer !== null) {
      clearTimeout(this.ageTimer);
      this.ageTimer = null;
    }
    if (l.maxAgeMs > 0 && this.index.msgs > 0) this.scheduleExpiry();
  }

  expire(now = nowMs()): number {
    const maxAge = this.limitsValue.maxAgeMs;
    if (maxAge <= 0 || this.closed) return 0;
    const cutoff = now - maxAge;
    let n = 0;
    while (this.index.msgs > 0 && this.index.firstTime() <= cutoff) {
      this.removeInternal(this.index.firstSeq());
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.ageTimer !== null) clearTimeout(this.ageTimer);
    this.ageTimer = null;
    await this.closeResources();
    this.closed = true;
  }

  /** Apply the limits after recovery (they may have removed messages a crash kept). */
  protected enforceAllLimits(): void {
    this.setLimits(this.limitsValue);
  }

  protected removeInternal(seq: number): boolean {
    const slot = this.index.slot(seq);
    if (slot < 0) return false;
    this.dropMessage(seq, slot);
    this.index.remove(seq);
    return true;
  }

  private enforceCounts(): void {
    const l = this.limitsValue;
    const ix = this.index;
    if (l.maxMsgs > 0) while (ix.msgs > l.maxMsgs) this.removeInternal(ix.firstSeq());
    if (l.maxBytes > 0) while (ix.bytes > l.maxBytes && ix.msgs > 0) this.removeInternal(ix.firstSeq());
  }

  private scheduleExpiry(): void {
    const maxAge = this.limitsValue.maxAgeMs;
    if (maxAge <= 0 || this.closed) return;
    const first = this.index.firstTime();
    const delay = first === 0 ? maxAge : Math.max(1, first + maxAge - nowMs() + 1);
    this.ageTimer = setTimeout(() => {
      this.ageTimer = null;
      this.expire();
      this.onExpired();
      if (this.index.msgs > 0) this.scheduleExpiry();
    }, Math.min(delay, 2_147_000_000));
    this.ageTimer.unref();
  }

  /** Hook: removals made by the age timer (the file store commits its tombstones). */
  protected onExpired(): void {
    this.commit();
  }
}
