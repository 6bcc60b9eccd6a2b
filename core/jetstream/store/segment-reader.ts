// Reads records back from segment files: single records through one
// read-ahead buffer (reads of neighbouring sequences, a consumer catching up
// or a KV history, mostly come out of the previous read instead of a syscall
// each), and whole segments on start-up.

import * as fs from 'node:fs';
import { decodeRecord, RecordType, type DecodedRecord } from './segment-codec.ts';
import { storeIo, type Segment } from './segment-files.ts';

const READ_AHEAD = 64 * 1024;

export class SegmentReader {
  private readonly buf = Buffer.allocUnsafe(READ_AHEAD);
  private segmentId = -1;
  private start = 0;
  private length = 0;

  /**
   * The record at `off` of `seg`, or null when no whole record is there.
   * `writtenTo`: how far the segment's bytes are known to be written; a running
   * write's range may be half there, and must not stay in the buffer.
   */
  read(seg: Segment, off: number, writtenTo: number, withSubject = true): ReturnType<typeof decodeRecord> {
    if (this.segmentId === seg.id && off >= this.start && off + 4 <= this.start + this.length) {
      const rel = off - this.start;
      const len = this.buf.readUInt32LE(rel);
      if (rel + len <= this.length) return decodeRecord(this.buf, rel, this.length, true, withSubject);
    }
    const n = Math.max(0, Math.min(storeIo('read', seg.path, () => fs.readSync(seg.fd, this.buf, 0, READ_AHEAD, off)), writtenTo - off));
    this.segmentId = seg.id;
    this.start = off;
    this.length = n;
    if (n < 4) return null;
    const len = this.buf.readUInt32LE(0);
    if (len <= n) return decodeRecord(this.buf, 0, n, true, withSubject);
    const big = Buffer.allocUnsafe(len);
    const got = storeIo('read', seg.path, () => fs.readSync(seg.fd, big, 0, len, off));
    return decodeRecord(big, 0, got, true, withSubject);
  }

  /** The segment's file was rewritten or removed: what the buffer holds of it is stale. */
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
