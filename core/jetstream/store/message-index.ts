// The in-memory index both stores keep: one slot per sequence in typed arrays
// (subject id, time, accounted size, and for the file store the record's offset
// in its segment) plus an interned subject table with per-subject count, first
// and last sequence. About 20 bytes per message and one string per distinct
// subject; payloads are not part of it, so a file stream of 10M messages needs
// ~200 MB of index, not its payloads. (nats-server keeps per-block subject
// state instead; Derek Collison cites 20 GB for 40M subjects there.)

import { growF64, growU32 } from './grow-array.ts';
import { FIRST_STALE, isLiteral, LAST_STALE, SubjectTable } from './subject-table.ts';

export class MessageIndex {
  /** Sequence of slot 0. */
  private base = 1;
  /** Slots in use: sequences base .. base+len-1. */
  private len = 0;
  /** Lowest slot that may be live. */
  private head = 0;
  subj = new Uint32Array(1024);
  time = new Float64Array(1024);
  size = new Uint32Array(1024);
  loc: Uint32Array<ArrayBuffer> | null;
  msgs = 0;
  bytes = 0;
  lastSeq = 0;
  lastTime = 0;
  readonly subjects = new SubjectTable();

  constructor(withLocations: boolean) {
    this.loc = withLocations ? new Uint32Array(1024) : null;
  }

  /** Record message seq (> lastSeq). Returns its subject id. */
  add(seq: number, subject: string, time: number, size: number, loc = 0): number {
    if (this.msgs === 0) {
      this.base = seq;
      this.len = 0;
      this.head = 0;
    }
    const slot = seq - this.base;
    const need = slot + 1;
    if (need > this.subj.length) this.grow(need);
    // Skipped sequences are empty slots; they take this time so slot times stay ordered (seqFromTime).
    for (let i = this.len; i < slot; i++) {
      this.subj[i] = 0;
      this.time[i] = time;
    }
    const id = this.subjects.add(subject, seq);
    this.subj[slot] = id;
    this.time[slot] = time;
    this.size[slot] = size;
    if (this.loc !== null) this.loc[slot] = loc;
    this.len = need;
    this.msgs++;
    this.bytes += size;
    this.lastSeq = seq;
    this.lastTime = time;
    return id;
  }

  /**
   * Add a segment's messages at once (recovery from its index file): seqs
   * ascending and above lastSeq, subjects as ids into `names`. Each distinct
   * subject is looked up once, not once per message: with 2M messages the
   * per-message lookup was most of the index's share of a restart (issue 29 item 6).
   * Returns their accounted bytes.
   */
  addMany(seqs: Float64Array, names: readonly string[], subjectIds: Uint32Array, times: Float64Array, sizes: Uint32Array, locs: Uint32Array): number {
    const n = seqs.length;
    if (n === 0) return 0;
    if (this.msgs === 0) {
      this.base = seqs[0];
      this.len = 0;
      this.head = 0;
    }
    const end = seqs[n - 1] - this.base + 1;
    if (end > this.subj.length) this.grow(end);
    const t = this.subjects;
    /** Segment subject id -> table id + 1 (0: not met yet). */
    const ids = new Uint32Array(names.length);
    let next = this.len;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const seq = seqs[i];
      const slot = seq - this.base;
      if (slot > next) {
        this.subj.fill(0, next, slot);
        this.time.fill(times[i], next, slot);
      }
      next = slot + 1;
      const sid = subjectIds[i];
      let id = ids[sid] - 1;
      if (id < 0) {
        id = t.add(names[sid], seq);
        ids[sid] = id + 1;
      } else {
        t.count[id]++;
        t.last[id] = seq;
      }
      this.subj[slot] = id;
      this.time[slot] = times[i];
      this.size[slot] = sizes[i];
      if (this.loc !== null) this.loc[slot] = locs[i];
      bytes += sizes[i];
    }
    this.len = end;
    this.msgs += n;
    this.bytes += bytes;
    this.lastSeq = seqs[n - 1];
    this.lastTime = times[n - 1];
    return bytes;
  }

  /** Make room for `count` more sequences after lastSeq (avoids repeated growth on recovery). */
  reserve(count: number): void {
    const need = (this.msgs === 0 ? 0 : this.len) + count;
    if (need > this.subj.length) this.grow(need);
  }

  /** Move lastSeq forward without a message (purge past the end, first_seq). */
  skipTo(lastSeq: number): void {
    if (lastSeq <= this.lastSeq) return;
    this.lastSeq = lastSeq;
    if (this.msgs === 0) {
      this.base = lastSeq + 1;
      this.len = 0;
      this.head = 0;
    }
  }

  /** Forget every sequence above seq (a failed write took them back): lastSeq becomes seq. */
  rollBack(seq: number): void {
    for (let s = Math.min(this.lastSeq, this.base + this.len - 1); s > seq; s--) this.remove(s);
    this.lastSeq = Math.min(this.lastSeq, seq);
    if (this.msgs === 0) {
      this.base = this.lastSeq + 1;
      this.len = 0;
      this.head = 0;
    } else {
      this.len = Math.min(this.len, this.lastSeq - this.base + 1);
      this.lastTime = this.time[this.lastLive() - this.base];
    }
  }

  /**
   * Put a removed message back (seq <= lastSeq, not present): a failed write
   * took back the publish whose limits or roll-up removed it. Its slot may lie
   * below the first one kept, even before the reclaimed prefix.
   */
  restore(seq: number, subject: string, time: number, size: number, loc: number): void {
    if (this.msgs === 0) {
      this.base = seq;
      this.len = 0;
      this.head = 0;
    } else if (seq < this.base) {
      const shift = this.base - seq;
      this.grow(this.len + shift);
      this.subj.copyWithin(shift, 0, this.len);
      this.time.copyWithin(shift, 0, this.len);
      this.size.copyWithin(shift, 0, this.len);
      this.loc?.copyWithin(shift, 0, this.len);
      this.subj.fill(0, 0, shift);
      // Empty slots take the restored time: slot times stay ordered (seqFromTime).
      this.time.fill(time, 0, shift);
      this.base = seq;
      this.len += shift;
      this.head += shift;
    }
    const slot = seq - this.base;
    if (slot >= this.len) {
      this.grow(slot + 1);
      this.subj.fill(0, this.len, slot);
      this.time.fill(time, this.len, slot);
      this.len = slot + 1;
    }
    this.subj[slot] = this.subjects.restore(subject, seq);
    this.time[slot] = time;
    this.size[slot] = size;
    if (this.loc !== null) this.loc[slot] = loc;
    if (slot < this.head) this.head = slot;
    this.msgs++;
    this.bytes += size;
    this.lastTime = this.time[this.lastLive() - this.base];
  }

  slot(seq: number): number {
    const s = seq - this.base;
    return s >= this.head && s < this.len && this.subj[s] !== 0 ? s : -1;
  }

  has(seq: number): boolean {
    return this.slot(seq) >= 0;
  }

  /** Remove seq from the index; returns its accounted size, or -1 when absent. */
  remove(seq: number): number {
    const s = this.slot(seq);
    if (s < 0) return -1;
    const id = this.subj[s];
    this.subj[s] = 0;
    this.subjects.removeOne(id, seq);
    this.msgs--;
    const size = this.size[s];
    this.bytes -= size;
    if (this.msgs === 0) {
      this.base = this.lastSeq + 1;
      this.len = 0;
      this.head = 0;
    } else if (s === this.head) {
      this.advanceHead();
    }
    return size;
  }

  firstSeq(): number {
    if (this.msgs === 0) return this.lastSeq === 0 ? 0 : this.lastSeq + 1;
    return this.base + this.head;
  }

  firstTime(): number {
    return this.msgs === 0 ? 0 : this.time[this.head];
  }

  timeOf(seq: number): number {
    const s = this.slot(seq);
    return s < 0 ? 0 : this.time[s];
  }

  subjectOf(seq: number): string | null {
    const s = this.slot(seq);
    return s < 0 ? null : this.subjects.name(this.subj[s]);
  }

  /** Next live sequence >= fromSeq matching filter, or 0. */
  nextSeq(fromSeq: number, filter: string | null): number {
    if (this.msgs === 0) return 0;
    let start = Math.max(fromSeq - this.base, this.head);
    if (filter === null) {
      for (let s = start; s < this.len; s++) if (this.subj[s] !== 0) return this.base + s;
      return 0;
    }
    if (isLiteral(filter)) {
      const id = this.subjects.idOf(filter);
      if (id === 0) return 0;
      start = Math.max(start, this.resolveFirst(id) - this.base);
      const end = this.subjects.last[id] - this.base;
      for (let s = start; s <= end && s < this.len; s++) if (this.subj[s] === id) return this.base + s;
      return 0;
    }
    // Wildcard: walk forward with a per-subject match memo; the cost follows the
    // distance to the next match, not the number of subjects.
    const t = this.subjects;
    for (let s = start; s < this.len; s++) {
      const id = this.subj[s];
      if (id !== 0 && t.matches(filter, id)) return this.base + s;
    }
    return 0;
  }

  /** Newest live sequence matching filter, or 0. */
  lastSeqOf(filter: string | null): number {
    if (this.msgs === 0) return 0;
    if (filter === null) return this.lastLive();
    let best = 0;
    for (const id of this.subjects.matching(filter)) best = Math.max(best, this.resolveLast(id));
    return best;
  }

  /** Live messages with seq >= fromSeq matching filter. */
  numPending(fromSeq: number, filter: string | null): number {
    if (this.msgs === 0) return 0;
    const first = this.base + this.head;
    if (filter === null) {
      if (fromSeq <= first) return this.msgs;
      let n = 0;
      for (let s = fromSeq - this.base; s < this.len; s++) if (this.subj[s] !== 0) n++;
      return n;
    }
    const fromSlot = Math.max(fromSeq - this.base, this.head);
    if (!isLiteral(filter) && this.len - fromSlot < this.subjects.size * 4) {
      // A short tail (a consumer catching up): count it directly.
      const t = this.subjects;
      let n = 0;
      for (let s = fromSlot; s < this.len; s++) {
        const id = this.subj[s];
        if (id !== 0 && t.matches(filter, id)) n++;
      }
      return n;
    }
    const ids = this.subjects.matching(filter);
    let total = 0;
    const partial: number[] = [];
    for (const id of ids) {
      if (fromSeq <= this.resolveFirst(id)) total += this.subjects.count[id];
      else if (fromSeq <= this.subjects.last[id]) partial.push(id);
    }
    if (partial.length > 0) {
      const wanted = new Set(partial);
      for (let s = fromSeq - this.base; s < this.len; s++) if (wanted.has(this.subj[s])) total++;
    }
    return total;
  }

  /** Live sequences matching filter below `below` (exclusive), oldest first. */
  collect(filter: string | null, below = Infinity): number[] {
    const out: number[] = [];
    const end = Math.min(this.len, below - this.base);
    if (filter !== null && isLiteral(filter)) {
      // One subject (KV purge, Nats-Rollup: sub): from its first message, stop after its count.
      const id = this.subjects.idOf(filter);
      if (id === 0) return out;
      const count = this.subjects.count[id];
      for (let s = Math.max(this.head, this.resolveFirst(id) - this.base); s < end && out.length < count; s++) {
        if (this.subj[s] === id) out.push(this.base + s);
      }
      return out;
    }
    const wanted = filter === null ? null : new Set(this.subjects.matching(filter));
    if (wanted !== null && wanted.size === 0) return out;
    for (let s = this.head; s < end; s++) {
      const id = this.subj[s];
      if (id !== 0 && (wanted === null || wanted.has(id))) out.push(this.base + s);
    }
    return out;
  }

  /** Oldest live sequence of subject id (resolving a stale bound). */
  resolveFirst(id: number): number {
    const t = this.subjects;
    if ((t.flags[id] & FIRST_STALE) !== 0) {
      let s = Math.max(t.first[id] - this.base, this.head);
      while (s < this.len && this.subj[s] !== id) s++;
      t.first[id] = this.base + s;
      t.flags[id] &= ~FIRST_STALE;
    }
    return t.first[id];
  }

  resolveLast(id: number): number {
    const t = this.subjects;
    if ((t.flags[id] & LAST_STALE) !== 0) {
      let s = t.last[id] - this.base;
      while (s >= this.head && this.subj[s] !== id) s--;
      t.last[id] = this.base + s;
      t.flags[id] &= ~LAST_STALE;
    }
    return t.last[id];
  }

  /**
   * Per subject id: the newest live sequence at or below maxSeq (0 when it has
   * none there). One backward scan from maxSeq serves every id whose newest
   * message is above it (direct get multi_last with up_to_seq, ADR-31).
   */
  lastAtOrBelow(ids: readonly number[], maxSeq: number): number[] {
    const out = ids.map((id) => this.resolveLast(id));
    const wanted = new Map<number, number>();
    for (let i = 0; i < ids.length; i++) {
      if (out[i] > maxSeq) {
        out[i] = 0;
        wanted.set(ids[i], i);
      }
    }
    for (let s = Math.min(maxSeq - this.base, this.len - 1); s >= this.head && wanted.size > 0; s--) {
      const i = wanted.get(this.subj[s]);
      if (i === undefined) continue;
      out[i] = this.base + s;
      wanted.delete(this.subj[s]);
    }
    return out;
  }

  /**
   * The first live sequence stored at or after `time`, else lastSeq + 1 (NS
   * GetSeqFromTime). Store times do not go backwards, so a binary search over
   * the slots finds it; removed slots keep their time.
   */
  seqFromTime(time: number): number {
    if (this.msgs === 0 || time > this.lastTime) return this.lastSeq + 1;
    let lo = this.head;
    let hi = this.len - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    for (let s = lo; s < this.len; s++) if (this.subj[s] !== 0) return this.base + s;
    return this.lastSeq + 1;
  }

  deletedSeqs(): number[] {
    const out: number[] = [];
    for (let s = this.head; s < this.len; s++) if (this.subj[s] === 0) out.push(this.base + s);
    return out;
  }

  private lastLive(): number {
    for (let s = this.len - 1; s >= this.head; s--) if (this.subj[s] !== 0) return this.base + s;
    return 0;
  }

  private advanceHead(): void {
    let h = this.head;
    while (h < this.len && this.subj[h] === 0) h++;
    this.head = h;
    // Reclaim the dead prefix once it is large and at least half the slots.
    if (h >= 4096 && h * 2 >= this.len) {
      const n = this.len - h;
      this.subj.copyWithin(0, h, this.len);
      this.time.copyWithin(0, h, this.len);
      this.size.copyWithin(0, h, this.len);
      this.loc?.copyWithin(0, h, this.len);
      this.base += h;
      this.len = n;
      this.head = 0;
    }
  }

  private grow(need: number): void {
    this.subj = growU32(this.subj, need);
    this.time = growF64(this.time, need);
    this.size = growU32(this.size, need);
    if (this.loc !== null) this.loc = growU32(this.loc, need);
  }
}
