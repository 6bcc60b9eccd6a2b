// Start-up of a FileStreamStore, one segment at a time (oldest first): its
// messages into the index, from its index file when that can be trusted, else
// by replaying its records, where a torn or corrupt record ends the segment
// (it is truncated there and never served). Its tombstones remove what they
// name, in this segment or older ones.

import * as fs from 'node:fs';
import type { FileStoreOptions } from './file-store-options.ts';
import type { MessageIndex } from './message-index.ts';
import { crc32, type DecodedRecord } from './segment-codec.ts';
import { indexPath, storeIo, type Segment } from './segment-files.ts';
import { decodeSegmentIndex } from './segment-index.ts';
import { scanSegmentFile } from './segment-reader.ts';

type OnRecover = FileStoreOptions['onRecover'];

/** What the loader needs of its store. */
export interface SegmentLoaderHost {
  readonly index: MessageIndex;
  /** Accounted size of a message (the store's messageSize). */
  messageSize(subject: string, header: Buffer | null, data: Buffer): number;
  /** The message at seq (in slot) was removed from its segment's live count; the index still has it. */
  lost(seq: number, slot: number): void;
  readRecord(seg: Segment, off: number): DecodedRecord | null;
}

export class SegmentLoader {
  constructor(private readonly host: SegmentLoaderHost) {}

  /** Replay every record of a segment; cut it at the first torn or corrupt one. Returns bytes cut. */
  scan(seg: Segment, onRecover: OnRecover): number {
    const index = this.host.index;
    return scanSegmentFile(seg, (rec, off) => {
      // A sequence not above the last one (or below the segment's first) is damage: the segment ends there.
      if (rec.seq <= index.lastSeq || rec.seq < seg.id) return false;
      const size = this.host.messageSize(rec.subject, rec.header, rec.data);
      index.add(rec.seq, rec.subject, rec.time, size, off);
      seg.live++;
      seg.liveBytes += size;
      if (rec.header !== null) seg.headerSeqs.push(rec.seq);
      onRecover?.(rec.seq, rec.time, rec.header);
      return true;
    }, (ranges) => {
      this.replayDelete(ranges);
      seg.tombstones.push(...ranges);
    });
  }

  /** Load a segment from its index file; false (nothing changed) when it cannot be used. */
  loadIndex(seg: Segment, onRecover: OnRecover, headersSince: number, checkBytes: boolean): boolean {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(indexPath(seg.path));
    } catch {
      return false;
    }
    const idx = decodeSegmentIndex(raw);
    if (idx === null || idx.segmentSize !== fs.fstatSync(seg.fd).size) return false;
    // The active segment is where a torn or corrupt tail would be: its bytes must be exactly what was indexed.
    if (checkBytes && (idx.segmentCrc === null || crc32(storeIo('read', seg.path, () => fs.readFileSync(seg.path))) !== idx.segmentCrc)) return false;
    const index = this.host.index;
    let last = index.lastSeq;
    for (let i = 0; i < idx.seqs.length; i++) {
      if (idx.seqs[i] <= last || idx.seqs[i] < seg.id) return false;
      last = idx.seqs[i];
    }
    const liveBytes = index.addMany(idx.seqs, idx.subjects, idx.subjectIds, idx.times, idx.sizes, idx.offsets);
    // Only the active segment gets sealed (and needs its header flags) later.
    if (checkBytes) for (let i = 0; i < idx.seqs.length; i++) if (idx.hasHeader[i] === 1) seg.headerSeqs.push(idx.seqs[i]);
    seg.live = idx.seqs.length;
    seg.liveBytes = liveBytes;
    seg.size = idx.segmentSize;
    // Only messages with headers inside the caller's window are read back (for dedupe).
    if (onRecover !== undefined && idx.newestTime > headersSince) {
      for (let i = 0; i < idx.seqs.length; i++) {
        if (idx.hasHeader[i] === 0 || idx.times[i] <= headersSince) continue;
        const rec = this.host.readRecord(seg, idx.offsets[i]);
        if (rec !== null && rec.seq === idx.seqs[i]) onRecover(rec.seq, rec.time, rec.header);
      }
    }
    this.replayDelete(idx.ranges);
    seg.tombstones.push(...idx.ranges);
    return true;
  }

  private replayDelete(ranges: readonly number[]): void {
    const index = this.host.index;
    const first = index.firstSeq();
    for (let i = 0; i + 1 < ranges.length; i += 2) {
      const to = Math.min(ranges[i + 1], index.lastSeq);
      for (let s = Math.max(ranges[i], first); s <= to; s++) {
        const slot = index.slot(s);
        if (slot < 0) continue;
        this.host.lost(s, slot);
        index.remove(s);
      }
    }
  }
}
