// Messages in append-only segment files (storage: file). Each segment is
// named after the first sequence it may hold; records carry a CRC32 (see
// segment-codec.ts). Removals are logged as tombstone records in the active
// segment and a segment file is unlinked once it is the oldest and holds no
// live message, so tombstones never outlive what they delete.
//
// Durability: append() only buffers; commit() writes everything buffered with
// one write, which puts it in the OS page cache, so kill -9 loses nothing
// committed. The engine commits once per turn through the thread pool
// (segment-writer.ts) and sends PubAcks when the write is done; reads of
// records not written yet come from memory or force the write first. With
// sync: 'always' each write is also fsynced (power loss).
// Start-up replays the segments into the index; a torn or corrupt record ends
// its segment, which is truncated there and never served.
//
// A failed write leaves nothing behind (issue 29 item 7): the segment is cut
// back to its last written record and every message after it leaves the
// index, the sequence goes back with them (rollBack), and the engine's
// commits covering them fail, so each was answered with an error PubAck.
// What such a publish removed comes back (pending-removals.ts).

import * as fs from 'node:fs';
import { BaseStreamStore } from './base-stream-store.ts';
import { SyncPolicy, type FileStoreOptions, type RecoveryReport } from './file-store-options.ts';
import { RecordCache } from './record-cache.ts';
import { PendingRemovals, type Restorable } from './pending-removals.ts';
import { compactSegment, encodeDeleteRecord, messageFromRecord, messageRecordLength, WriteArena, writeMessageRecord, type DecodedRecord } from './segment-codec.ts';
import { syncDirectory, writeFileAtomic } from '../atomic-file.ts';
import { indexPath, olderRanges, openSegment, SEGMENT_OPEN_FLAGS, SEGMENT_SUFFIX, segmentOf, storeIo, type Segment } from './segment-files.ts';
import { writeSegmentIndex } from './segment-index-writer.ts';
import { SegmentLoader } from './segment-loader.ts';
import { SegmentReader } from './segment-reader.ts';
import { SegmentWriter, type WriteDone } from './segment-writer.ts';
import { nowMs, StoreIoError, subjectByteLength, UNLIMITED, type PurgeOptions, type StoredMessage, type StoreLimits } from './stream-store.ts';

export { SyncPolicy, type FileStoreOptions, type RecoveryReport } from './file-store-options.ts';

const WRITE_THRESHOLD = 4 * 1024 * 1024;
/** Segments smaller than this are not worth compacting. */
const COMPACT_MIN = 64 * 1024;

export class FileStreamStore extends BaseStreamStore {
  readonly kind = 'file' as const;
  readonly dir: string;
  readonly recovery: RecoveryReport;
  private readonly sync: SyncPolicy;
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  private readonly pending = new WriteArena();
  private readonly writer: SegmentWriter;
  /** Sealed segments whose fsync runs on the thread pool. */
  private readonly syncing = new Map<Segment, Promise<void>>();
  private readonly compactable = new Set<Segment>();
  /** Segments rewritten so far (for tests and monitoring). */
  compactions = 0;
  private readonly removals = new PendingRemovals();
  /** The last sequence whose record was handed to the writer (a rollback's mark). */
  private takenSeq = 0;
  /** Appended since the last commit(done): a rollback now also fails that commit. */
  private turnAppends = false;
  /** Why the next commit(done) fails: a rollback took back messages appended for it. */
  private failedTurn: StoreIoError | null = null;
  onRollBack?: (lastSeq: number) => void;
  private readonly cache: RecordCache;
  private readonly reader = new SegmentReader();
  private readonly loader = new SegmentLoader({
    index: this.index,
    messageSize: (subject, header, data) => this.messageSize(subject, header, data),
    lost: (seq, slot) => this.segmentLost(segmentOf(this.segments, seq), slot),
    readRecord: (seg, off) => this.readRecord(seg, off),
  });

  constructor(name: string, limits: StoreLimits = UNLIMITED, options: FileStoreOptions) {
    super(name, limits, true);
    this.dir = options.dir;
    this.sync = options.sync ?? SyncPolicy.Os;
    this.segmentBytes = Math.min(options.segmentBytes ?? 16 * 1024 * 1024, 1 << 30);
    this.cache = new RecordCache(options.cacheBytes ?? 8 * 1024 * 1024);
    this.writer = new SegmentWriter(this.sync === SyncPolicy.Always, (seg, cut, mark, err) => this.rollBack(seg, cut, mark, err));
    const started = performance.now();
    storeIo('mkdir', this.dir, () => fs.mkdirSync(this.dir, { recursive: true }));
    const report = this.recover(options.firstSeq ?? 1, options.onRecover, options.recoverHeadersSince ?? 0);
    this.takenSeq = this.index.lastSeq;
    this.enforceAllLimits();
    this.commit();
    this.recovery = { ...report, millis: performance.now() - started };
  }

  /** nats-server filestore accounting: 22 + subject + header + data + 8 (+4 with headers). */
  protected messageSize(subject: string, header: Buffer | null, data: Buffer): number {
    return 30 + subjectByteLength(subject) + data.length + (header === null ? 0 : header.length + 4);
  }

  protected writeMessage(seq: number, subject: string, header: Buffer | null, data: Buffer, time: number): number {
    // The rest of a turn whose earlier messages were rolled back fails with them.
    if (this.failedTurn !== null) throw this.failedTurn;
    this.turnAppends = true;
    // A long turn starts writing before its end (no one waits on these bytes yet).
    if (this.pending.bytes >= WRITE_THRESHOLD) this.queueWrite();
    const slen = subjectByteLength(subject);
    const len = messageRecordLength(slen, header, data);
    let active = this.activeSegment();
    if (active.size + this.pending.bytes + len > this.segmentBytes && active.size + this.pending.bytes > 0) {
      this.commit();
      active = this.rotate(seq);
    }
    const loc = active.size + this.pending.bytes;
    const rec = this.pending.reserve(len);
    writeMessageRecord(rec, seq, subject, slen, header, data, time);
    if (header !== null) active.headerSeqs.push(seq);
    active.live++;
    active.liveBytes += this.messageSize(subject, header, data);
    this.cache.put(seq, rec);
    return loc;
  }

  protected readMessage(seq: number, slot: number): StoredMessage {
    const hit = this.cache.get(seq);
    // Written records never change, so the message may point into the record itself.
    if (hit !== undefined) return messageFromRecord(hit, 0, hit.length, false, this.subjectAt(slot)) as StoredMessage;
    const seg = segmentOf(this.segments, seq);
    const off = (this.index.loc as Uint32Array)[slot];
    if (off >= this.writer.writtenTo(seg)) this.commit();
    const msg = this.reader.readMessage(seg, off, this.writer.writtenTo(seg), this.subjectAt(slot));
    if (msg === null || msg.seq !== seq) throw new StoreIoError(seg.path, `read of sequence ${seq} at offset ${off}`);
    return msg;
  }

  /** The index keeps each subject once: reads take it from there instead of decoding the record's copy. */
  private subjectAt(slot: number): string {
    return this.index.subjects.name(this.index.subj[slot]);
  }

  protected dropMessage(seq: number, slot: number): void {
    const ix = this.index;
    const undo = this.removingFor > 0 ? { cause: this.removingFor, seq, subject: this.subjectAt(slot), time: ix.time[slot], size: ix.size[slot], loc: (ix.loc as Uint32Array)[slot] } : null;
    this.segmentLost(segmentOf(this.segments, seq), slot);
    this.removals.add(seq, undo);
    this.cache.drop(seq);
  }

  /** A message of seg went away; a sealed segment under half live becomes a compaction candidate. */
  private segmentLost(seg: Segment, slot: number): void {
    seg.live--;
    seg.liveBytes -= this.index.size[slot];
    if (seg !== this.activeSegment() && seg.size > COMPACT_MIN && seg.liveBytes * 2 < seg.size) this.compactable.add(seg);
  }

  protected afterReset(lastSeq: number): void {
    this.commit();
    const active = this.activeSegment();
    if (active.id !== lastSeq + 1) this.rotate(lastSeq + 1);
    this.dropDeadSegments();
  }

  /**
   * Without `done`: write everything appended or removed now, synchronously
   * (throws StoreIoError). With `done`: hand it to the thread pool and call
   * done once it is written, or with the error (then it was rolled back).
   * A commit(done) closes a turn: after a rollback, appends are refused until
   * the next one, which fails (its turn's earlier messages are gone).
   */
  commit(done?: WriteDone): void {
    if (this.closed) {
      done?.(null);
      return;
    }
    try {
      this.logRemovals();
      if (done === undefined) this.writeNow();
      else {
        this.queueWrite();
        const upTo = this.takenSeq;
        if (this.removals.restoring) this.writer.whenWritten((err) => err === null && this.removals.confirmed(upTo));
      }
    } catch (err) {
      if (done === undefined) throw err;
      this.endTurn();
      done(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    // Registered before the housekeeping: the write is queued, and a failure to
    // drop or compact an old segment must not fail the PubAcks of what it writes.
    if (done !== undefined) {
      const lost = this.endTurn();
      this.writer.whenWritten(lost === null ? done : () => done(lost));
    }
    try {
      this.dropDeadSegments();
      if (this.compactable.size > 0) this.compactCandidates();
    } catch (err) {
      if (done === undefined) throw err;
      process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'StoreHousekeepingWarning');
    }
  }

  /**
   * A commit(done) closes the turn. Returns why it fails when a rollback took
   * back messages it answers for: since the last one, or just now in an
   * inline write (then no callback of the writer's carries the error).
   */
  private endTurn(): StoreIoError | null {
    const lost = this.failedTurn;
    this.failedTurn = null;
    this.turnAppends = false;
    return lost;
  }

  /** Removals since the last commit become one tombstone record. */
  private logRemovals(): void {
    if (!this.removals.unlogged) return;
    const active = this.activeSegment();
    const ranges = this.removals.tombstone(active, this.writer.writtenTo(active), active.size + this.pending.bytes);
    this.pending.push(encodeDeleteRecord(ranges, nowMs()));
    active.tombstones.push(...ranges);
  }

  private writeNow(): void {
    const active = this.activeSegment();
    const total = this.pending.bytes;
    const mark = this.takenSeq;
    this.takenSeq = this.index.lastSeq;
    // A failure has rolled back before this throws.
    this.writer.writeSync(active, this.pending.take(), active.size, mark);
    this.committed(active, total);
    this.removals.confirmed(this.takenSeq);
  }

  /**
   * A purge of its own (no publish asked for it) would also have removed what a
   * rollback puts back: the removals recorded so far hold.
   */
  override purge(options: PurgeOptions = {}): number {
    if (options.causedBy === undefined) this.removals.settle();
    return super.purge(options);
  }

  /** New limits could refuse what a rollback puts back: the removals recorded so far hold. */
  override setLimits(limits: StoreLimits): void {
    this.removals.settle();
    super.setLimits(limits);
  }

  private queueWrite(): void {
    if (this.pending.bytes === 0) return;
    const active = this.activeSegment();
    const at = active.size;
    const total = this.pending.bytes;
    const mark = this.takenSeq;
    this.takenSeq = this.index.lastSeq;
    // Counted first: a failed inline write rolls the size back inside queue().
    this.committed(active, total);
    this.writer.queue(active, at, this.pending.take(), total, mark);
  }

  /**
   * A write to seg failed and was cut at `cut`; `mark` is the last sequence
   * written before it. Everything after is gone: the records not written,
   * their messages (the index and the sequence go back to mark), and the
   * tombstones among them, whose removals still hold and are logged again,
   * except those the lost publishes caused: those messages come back.
   */
  private rollBack(seg: Segment, cut: number, mark: number, err: StoreIoError): void {
    this.pending.take();
    const back = this.removals.rollBack(seg, cut, mark);
    for (let s = this.index.lastSeq; s > mark; s--) {
      const slot = this.index.slot(s);
      if (slot >= 0) this.segmentLost(segmentOf(this.segments, s), slot);
      this.cache.drop(s);
    }
    this.index.rollBack(mark);
    for (const r of back) this.putBack(r);
    while (seg.headerSeqs.length > 0 && seg.headerSeqs[seg.headerSeqs.length - 1] > mark) seg.headerSeqs.pop();
    seg.size = cut;
    this.reader.forget(seg);
    this.takenSeq = mark;
    if (this.turnAppends) this.failedTurn = err;
    this.onRollBack?.(mark);
  }

  /** A removal the rolled-back publish caused is undone: its record is still where the index said. */
  private putBack(r: Restorable): void {
    this.index.restore(r.seq, r.subject, r.time, r.size, r.loc);
    const seg = segmentOf(this.segments, r.seq);
    seg.live++;
    seg.liveBytes += r.size;
  }

  private committed(active: Segment, bytes: number): void {
    if (bytes === 0) return;
    active.size += bytes;
    active.dirty = this.sync !== SyncPolicy.Always;
  }

  /** Rewrite sealed segments that are mostly dead (KV-style updates leave a few live keys per segment). */
  private compactCandidates(): void {
    const candidates = [...this.compactable];
    this.compactable.clear();
    for (const seg of candidates) {
      const at = this.segments.indexOf(seg);
      // Gone, the active one, or the oldest and empty (dropDeadSegments unlinks that).
      if (at < 0 || at === this.segments.length - 1 || (at === 0 && seg.live === 0)) continue;
      // Its descriptor is about to be replaced: not while a background write still uses it,
      // nor while a rollback may need a record it would drop.
      if (this.writer.busyOn(seg) || this.removals.holds(seg, this.segments[at + 1].id)) {
        this.compactable.add(seg);
        continue;
      }
      this.compact(seg, this.segments[at + 1].id);
    }
  }

  private compact(seg: Segment, endSeq: number): void {
    const ix = this.index;
    const loc = ix.loc as Uint32Array;
    const slots: number[] = [];
    const offsets: number[] = [];
    for (let seq = Math.max(seg.id, ix.firstSeq()); seq < endSeq && seq <= ix.lastSeq; seq++) {
      const slot = ix.slot(seq);
      if (slot < 0) continue;
      slots.push(slot);
      offsets.push(loc[slot]);
    }
    const raw = storeIo('read', seg.path, () => fs.readFileSync(seg.path));
    const older = olderRanges(seg);
    const rebuilt = compactSegment(raw, offsets, older, nowMs());
    // Old or new contents, never half: temp file, fsync, rename, fsync the directory.
    storeIo('compact', seg.path, () => {
      writeFileAtomic(seg.path, rebuilt.data);
      this.release(seg, seg.fd);
      seg.fd = fs.openSync(seg.path, SEGMENT_OPEN_FLAGS);
    });
    slots.forEach((slot, i) => (loc[slot] = rebuilt.offsets[i]));
    seg.size = rebuilt.data.length;
    seg.tombstones = older;
    this.markSynced(seg);
    this.reader.forget(seg);
    writeSegmentIndex(this.index, seg, endSeq, rebuilt.data);
    this.compactions++;
  }

  async flush(): Promise<void> {
    this.commit();
    await Promise.all(this.syncing.values());
    for (const seg of this.segments) {
      if (!seg.dirty) continue;
      storeIo('fsync', seg.path, () => fs.fsyncSync(seg.fd));
      this.markSynced(seg);
    }
  }

  protected async closeResources(): Promise<void> {
    await this.flush();
    await this.writer.idle();
    this.indexActiveSegment();
    for (const seg of this.segments) fs.closeSync(seg.fd);
    this.segments = [];
    this.cache.clear();
  }

  async destroy(): Promise<void> {
    await this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- segments ----

  private recover(firstSeq: number, onRecover: FileStoreOptions['onRecover'], headersSince: number): Omit<RecoveryReport, 'millis'> {
    const names = storeIo('readdir', this.dir, () => fs.readdirSync(this.dir))
      .filter((n) => n.endsWith(SEGMENT_SUFFIX))
      .map((n) => Number.parseInt(n, 10))
      .filter((id) => Number.isSafeInteger(id) && id > 0)
      .sort((a, b) => a - b);
    let truncatedBytes = 0;
    let indexed = 0;
    // Slots are per sequence: room for every sealed segment's at once, not grown by doubling as they load.
    if (names.length > 1) {
      const span = names[names.length - 1] - names[0];
      this.index.reserve(span + Math.ceil(span / (names.length - 1)));
    }
    names.forEach((id, i) => {
      const seg = openSegment(this.dir, id);
      this.segments.push(seg);
      const sealed = i < names.length - 1;
      // The active segment has a usable index only after a clean close (see indexActiveSegment).
      if (this.loader.loadIndex(seg, onRecover, headersSince, !sealed)) {
        indexed++;
        return;
      }
      truncatedBytes += this.loader.scan(seg, onRecover);
      // A sealed segment without a usable index gets one now, so the next start is fast.
      if (sealed) writeSegmentIndex(this.index, seg, names[i + 1]);
    });
    if (this.segments.length === 0) {
      this.segments.push(openSegment(this.dir, Math.max(1, firstSeq)));
      this.syncDir();
    }
    // What a previous run wrote is read with its CRC checked; only appends from now on are trusted.
    for (const seg of this.segments) this.markSynced(seg);
    this.index.skipTo(this.activeSegment().id - 1);
    const report = { segments: this.segments.length, indexed, messages: this.index.msgs, truncatedBytes };
    this.dropDeadSegments();
    return report;
  }

  /**
   * On a clean close the active segment gets an index too, so the next start
   * reads no message. It stays valid only while the file keeps the size it
   * records: any later append or tombstone (or a torn write after kill -9)
   * changes the size, and loadIndex then falls back to a scan.
   */
  private indexActiveSegment(): void {
    const active = this.activeSegment();
    if (active === undefined) return;
    try {
      // The next start checks this segment's bytes against the index: record their crc32.
      const raw = storeIo('read', active.path, () => fs.readFileSync(active.path));
      writeSegmentIndex(this.index, active, this.index.lastSeq + 1, raw);
    } catch (err) {
      // Only a start-up shortcut is lost; the segment will be scanned.
      process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'StreamIndexWarning');
    }
  }

  /**
   * seg's bytes are on the device (or from a previous run): reads of them
   * check CRCs again; only what is appended from now on is trusted. With
   * sync: always every write is fsynced, so nothing is.
   */
  private markSynced(seg: Segment): void {
    seg.dirty = false;
    seg.trustedFrom = this.sync === SyncPolicy.Always ? Infinity : seg.size;
  }

  private rotate(nextSeq: number): Segment {
    const prev = this.activeSegment();
    writeSegmentIndex(this.index, prev, nextSeq);
    const seg = openSegment(this.dir, nextSeq);
    this.markSynced(seg);
    if (prev.dirty) this.syncSealed(prev);
    this.segments.push(seg);
    this.syncDir();
    return seg;
  }

  /**
   * fsync a segment just sealed, on the thread pool: power-loss safety that
   * nothing waits for, where a synchronous fsync of 16 MB stalled the event
   * loop for about 10 ms per rotation. Its descriptor stays open until then.
   */
  private syncSealed(seg: Segment): void {
    this.markSynced(seg);
    const synced = new Promise<void>((resolve) => {
      fs.fsync(seg.fd, (err) => {
        this.syncing.delete(seg);
        if (err !== null) {
          // flush() or the sync timer tries again.
          seg.dirty = true;
          process.emitWarning(new StoreIoError(seg.path, 'fsync', { cause: err }));
        }
        resolve();
      });
    });
    this.syncing.set(seg, synced);
  }

  /**
   * Close one of seg's descriptors, once its background fsync is done:
   * closed earlier, its number could go to another file before the fsync runs.
   */
  private release(seg: Segment, fd: number): void {
    const synced = this.syncing.get(seg);
    if (synced === undefined) fs.closeSync(fd);
    // Its file is gone or replaced already: a failed close has nothing left to report to.
    else void synced.then(() => fs.close(fd, () => undefined));
  }

  private activeSegment(): Segment {
    return this.segments[this.segments.length - 1];
  }

  /** Unlink the oldest segments while they hold nothing live (never the active one). */
  private dropDeadSegments(): void {
    // A segment a background write still uses keeps its descriptor until the next commit.
    // Nor one holding a record a rollback may put back.
    while (this.segments.length > 1 && this.segments[0].live === 0 && !this.writer.busyOn(this.segments[0]) && !this.removals.holds(this.segments[0], this.segments[1].id)) {
      const seg = this.segments.shift() as Segment;
      this.release(seg, seg.fd);
      storeIo('unlink', seg.path, () => fs.unlinkSync(seg.path));
      fs.rmSync(indexPath(seg.path), { force: true });
      this.reader.forget(seg);
    }
  }

  private readRecord(seg: Segment, off: number): DecodedRecord | null {
    return this.reader.read(seg, off, this.writer.writtenTo(seg));
  }

  private syncDir(): void {
    // A new or removed segment name must survive power loss too (sync: always).
    if (this.sync !== SyncPolicy.Always) return;
    syncDirectory(this.dir);
  }
}
