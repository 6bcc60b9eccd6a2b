// Reads records back from segment files: single records through a
// read-ahead block (reads of neighbouring sequences, a consumer catching up
// or a KV history, mostly come out of the previous read instead of a syscall
// each), and whole segments on start-up.
//
// Messages are handed out as views of the block, not copies: each read from
// disk fills a new block, so a block is never rewritten while a message
// points into it (as cached messages point into the write arena).
//
// A message read skips its CRC when the record lies in the segment's trusted
// range (Segment.trustedFrom): bytes this process wrote since the segment's
// last fsync. The CRC is there for two kinds of damage. A torn write shows
// only after a crash, so after a restart, and then nothing is trusted (every
// record a previous run wrote is checked); within a run a write still running
// is never read (writtenTo). Damage on the device shows only once the bytes
// went there: from the fsync on, their reads are checked again. What is left
// in between is our own write in the page cache. Start-up scans and reads
// for dedupe always check.

import * as fs from 'node:fs';
import { decodeRecord, messageFromRecord, RecordType, type DecodedRecord } from './segment-codec.ts';
import { storeIo, type Segment } from './segment-files.ts';
import type { StoredMessage } from './stream-store.ts';

const READ_AHEAD = 64 * 1024;

export class SegmentReader {
  private block: Buffer = Buffer.alloc(0);
  private segmentId = -1;
  private start = 0;
  /** Where the record found by locate() is: `found` (the block, or a record too big for one) at `at`, up to `end`. */
  private found: Buffer = this.block;
  private at = 0;
  private end = 0;

  /**
   * The record at `off` of `seg`, checked, or null when no whole record is there.
   * `writtenTo`: how far the segment's bytes are known to be written; a running
   * write's range may be half there, and must not stay in the block.
   */
  read(seg: Segment, off: number, writtenTo: number): DecodedRecord | null {
    return this.locate(seg, off, writtenTo) ? decodeRecord(this.found, this.at, this.end) : null;
  }

  /** The message at `off` of `seg` (subject from the caller's index), its CRC checked outside seg's trusted range. */
  readMessage(seg: Segment, off: number, writtenTo: number, subject: string): StoredMessage | null {
    if (!this.locate(seg, off, writtenTo)) return null;
    return messageFromRecord(this.found, this.at, this.end, off < seg.trustedFrom, subject);
  }

  /** Puts the whole record at `off` in `found`, reading from disk when the block does not hold it; false when it is not all there. */
  private locate(seg: Segment, off: number, writtenTo: number): boolean {
    const length = this.block.length;
    if (this.segmentId === seg.id && off >= this.start && off + 4 <= this.start + length) {
      const rel = off - this.start;
      if (rel + this.block.readUInt32LE(rel) <= length) return this.use(this.block, rel, length);
    }
    const block = Buffer.allocUnsafe(READ_AHEAD);
    const n = Math.max(0, Math.min(storeIo('read', seg.path, () => fs.readSync(seg.fd, block, 0, READ_AHEAD, off)), writtenTo - off));
    this.block = block.subarray(0, n);
    this.segmentId = seg.id;
    this.start = off;
    if (n < 4) return false;
    const len = block.readUInt32LE(0);
    if (len <= n) return this.use(this.block, 0, n);
    const big = Buffer.allocUnsafe(len);
    return this.use(big, 0, storeIo('read', seg.path, () => fs.readSync(seg.fd, big, 0, len, off)));
  }

  private use(buf: Buffer, at: number, end: number): true {
    this.found = buf;
    this.at = at;
    this.end = end;
    return true;
  }

  /** The segment's file was rewritten or removed: what the block holds of it is stale. */
  forget(seg: Segment): void {
    if (this.segmentId === seg.id) this.segmentId = -1;
  }
}

/**
 * Replays every record of a segment file in order: messages to `onMessage`
 * (which answers false to end the segment there), tombstones to `onDelete`.
 * The segment ends at its first torn, corrupt or refused record; it is
 * truncated there (and fsynced), so that tail is never served. Sets seg.size
 * and returns the bytes cut.
 */
export function scanSegmentFile(seg: Segment, onMessage: (rec: DecodedRecord, offset: number) => boolean, onDelete: (ranges: readonly number[]) => void): number {
  const buf = storeIo('read', seg.path, () => fs.readFileSync(seg.path));
  let off = 0;
  while (off < buf.length) {
    const rec = decodeRecord(buf, off, buf.length);
    if (rec === null) break;
    if (rec.type === RecordType.Message) {
      if (!onMessage(rec, off)) break;
    } else {
      onDelete(rec.ranges);
    }
    off += rec.length;
  }
  seg.size = off;
  if (off === buf.length) return 0;
  storeIo('truncate', seg.path, () => {
    fs.ftruncateSync(seg.fd, off);
    fs.fsyncSync(seg.fd);
  });
  return buf.length - off;
}
