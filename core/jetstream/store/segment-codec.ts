// On-disk record format of FileStreamStore segments. Every record carries its
// own length and a CRC32 over everything after the checksum, so a torn or
// corrupt tail is recognised on start and cut off instead of served.
//
//   0  u32  record length L (header included)
//   4  u32  crc32 of bytes [8, L)
//   8  u8   type: 1 message, 2 delete (tombstone ranges)
//   9  u8   flags: bit 0 = has header block
//  10  u16  subject length S
//  12  f64  sequence (message) or number of ranges (delete)
//  20  f64  time, ms since epoch
//  28  u32  header block length H
//  32  subject (S) | header block (H) | data (L - 32 - S - H)
// A delete record's body is pairs of f64 [from, to] (inclusive).

import * as zlib from 'node:zlib';
import type { StoredMessage } from './stream-store.ts';

export const RECORD_HEADER = 32;
export const RecordType = { Message: 1, Delete: 2 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
/** Upper bound used to reject garbage lengths while scanning. */
export const MAX_RECORD = 256 * 1024 * 1024;

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function tableCrc32(buf: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

type Crc32 = (data: Uint8Array) => number;
/** node:zlib has crc32 from Node 20.15; fall back to a table CRC32 (same polynomial). */
export const crc32: Crc32 = typeof (zlib as { crc32?: Crc32 }).crc32 === 'function'
  ? (zlib as unknown as { crc32: Crc32 }).crc32
  : tableCrc32;
export const crc32Fallback: Crc32 = tableCrc32;

export function messageRecordLength(subjectBytes: number, header: Buffer | null, data: Buffer): number {
  return RECORD_HEADER + subjectBytes + (header?.length ?? 0) + data.length;
}

/**
 * Write a message record into `rec` (exactly messageRecordLength() bytes).
 * `subjectBytes` is the subject's UTF-8 length; equal to its length means ASCII.
 */
export function writeMessageRecord(rec: Buffer, seq: number, subject: string, subjectBytes: number, header: Buffer | null, data: Buffer, time: number): void {
  const hlen = header?.length ?? 0;
  rec.writeUInt32LE(rec.length, 0);
  rec[8] = RecordType.Message;
  rec[9] = header === null ? 0 : 1;
  rec.writeUInt16LE(subjectBytes, 10);
  rec.writeDoubleLE(seq, 12);
  rec.writeDoubleLE(time, 20);
  rec.writeUInt32LE(hlen, 28);
  if (subjectBytes === subject.length) {
    // ASCII (the common case): a byte loop beats Buffer#write for short strings.
    for (let i = 0; i < subjectBytes; i++) rec[RECORD_HEADER + i] = subject.charCodeAt(i);
  } else {
    rec.write(subject, RECORD_HEADER, subjectBytes, 'utf8');
  }
  // set, not Buffer#copy: copy's argument handling costs more than the 1 KiB memcpy itself.
  if (header !== null) rec.set(header, RECORD_HEADER + subjectBytes);
  rec.set(data, RECORD_HEADER + subjectBytes + hlen);
  rec.writeUInt32LE(crc32(rec.subarray(8)), 4);
}

export function encodeMessageRecord(seq: number, subject: string, header: Buffer | null, data: Buffer, time: number): Buffer {
  const slen = Buffer.byteLength(subject);
  const rec = Buffer.allocUnsafe(messageRecordLength(slen, header, data));
  writeMessageRecord(rec, seq, subject, slen, header, data, time);
  return rec;
}

/**
 * Records of one turn, laid out back to back in large buffers so a commit is
 * one write (writev) with no per-record allocation or concatenation. Reserved
 * bytes are never reused: cached messages may still point into them.
 */
export class WriteArena {
  private arena: Buffer;
  private used = 0;
  private start = 0;
  private chunks: Buffer[] = [];
  bytes = 0;

  constructor(private readonly size = 1 << 20) {
    this.arena = Buffer.allocUnsafe(size);
  }

  reserve(n: number): Buffer {
    this.bytes += n;
    if (n > this.size >> 2) {
      this.closeRegion();
      const own = Buffer.allocUnsafe(n);
      this.chunks.push(own);
      return own;
    }
    if (this.used + n > this.size) {
      this.closeRegion();
      this.arena = Buffer.allocUnsafe(this.size);
      this.used = 0;
      this.start = 0;
    }
    const rec = this.arena.subarray(this.used, this.used + n);
    this.used += n;
    return rec;
  }

  /** Append an already encoded record. */
  push(rec: Buffer): void {
    this.closeRegion();
    this.chunks.push(rec);
    this.bytes += rec.length;
  }

  /** Everything reserved since the last take(), in order. */
  take(): Buffer[] {
    this.closeRegion();
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }

  private closeRegion(): void {
    if (this.used > this.start) {
      this.chunks.push(this.arena.subarray(this.start, this.used));
      this.start = this.used;
    }
  }
}

/** ranges: flat [from0, to0, from1, to1, ...], inclusive. */
export function encodeDeleteRecord(ranges: number[], time: number): Buffer {
  const len = RECORD_HEADER + ranges.length * 8;
  const rec = Buffer.alloc(len);
  rec.writeUInt32LE(len, 0);
  rec[8] = RecordType.Delete;
  rec.writeDoubleLE(ranges.length / 2, 12);
  rec.writeDoubleLE(time, 20);
  for (let i = 0; i < ranges.length; i++) rec.writeDoubleLE(ranges[i], RECORD_HEADER + i * 8);
  rec.writeUInt32LE(crc32(rec.subarray(8)), 4);
  return rec;
}

/** Sorted sequences to inclusive [from, to] pairs. */
export function toRanges(seqs: number[]): number[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: number[] = [];
  for (const s of sorted) {
    const n = out.length;
    if (n > 0 && out[n - 1] + 1 >= s) out[n - 1] = Math.max(out[n - 1], s);
    else out.push(s, s);
  }
  return out;
}

export interface DecodedRecord {
  type: RecordType;
  length: number;
  seq: number;
  time: number;
  subject: string;
  header: Buffer | null;
  data: Buffer;
  /** Delete records only; message records share one empty, frozen array. */
  ranges: readonly number[];
}

const NO_RANGES: readonly number[] = Object.freeze([]);

/**
 * The length of the whole record at buf[off], or -1 when it is incomplete
 * (torn) or, with `verify`, fails its checksum.
 */
function recordLength(buf: Buffer, off: number, end: number, verify: boolean): number {
  if (end - off < RECORD_HEADER) return -1;
  const len = buf.readUInt32LE(off);
  if (len < RECORD_HEADER || len > MAX_RECORD || off + len > end) return -1;
  if (verify && crc32(buf.subarray(off + 8, off + len)) !== buf.readUInt32LE(off + 4)) return -1;
  return len;
}

/** Where a message record's header block and data lie (absolute offsets in its buffer). */
interface MessageLayout {
  subjectAt: number;
  subjectEnd: number;
  /** -1 without a header block. */
  headerAt: number;
  dataAt: number;
}

const layout: MessageLayout = { subjectAt: 0, subjectEnd: 0, headerAt: 0, dataAt: 0 };

/** Fills the shared `layout` (records are decoded one at a time); false when the lengths do not fit in `len`. */
function layOut(buf: Buffer, off: number, len: number): boolean {
  const slen = buf.readUInt16LE(off + 10);
  const hlen = buf.readUInt32LE(off + 28);
  if (RECORD_HEADER + slen + hlen > len) return false;
  layout.subjectAt = off + RECORD_HEADER;
  layout.subjectEnd = layout.subjectAt + slen;
  layout.headerAt = (buf[off + 9] & 1) === 1 ? layout.subjectEnd : -1;
  layout.dataAt = layout.subjectEnd + hlen;
  return true;
}

/** Decode the record at buf[off]; null when it is incomplete (torn) or fails its checksum. */
export function decodeRecord(buf: Buffer, off: number, end: number): DecodedRecord | null {
  const len = recordLength(buf, off, end, true);
  if (len < 0) return null;
  const type = buf[off + 8];
  const time = buf.readDoubleLE(off + 20);
  if (type === RecordType.Message) {
    if (!layOut(buf, off, len)) return null;
    const { subjectAt, subjectEnd, headerAt, dataAt } = layout;
    return {
      type,
      length: len,
      seq: buf.readDoubleLE(off + 12),
      time,
      subject: buf.toString('utf8', subjectAt, subjectEnd),
      header: headerAt < 0 ? null : buf.subarray(headerAt, dataAt),
      data: buf.subarray(dataAt, off + len),
      ranges: NO_RANGES,
    };
  }
  if (type === RecordType.Delete) {
    const n = buf.readDoubleLE(off + 12);
    if (!Number.isInteger(n) || RECORD_HEADER + n * 16 !== len) return null;
    const ranges: number[] = [];
    for (let i = 0; i < n * 2; i++) ranges.push(buf.readDoubleLE(off + RECORD_HEADER + i * 8));
    return { type, length: len, seq: 0, time, subject: '', header: null, data: buf.subarray(0, 0), ranges };
  }
  return null;
}

/**
 * The message in the record at buf[off] as a StoredMessage whose header and
 * data are views of `buf` (no copy: the caller hands out only buffers that are
 * never rewritten). `subject` comes from the caller's index. Null when the
 * record is torn, fails a `verify`, or is not a message.
 */
export function messageFromRecord(buf: Buffer, off: number, end: number, verify: boolean, subject: string): StoredMessage | null {
  const len = recordLength(buf, off, end, verify);
  if (len < 0 || buf[off + 8] !== RecordType.Message || !layOut(buf, off, len)) return null;
  const { headerAt, dataAt } = layout;
  return {
    seq: buf.readDoubleLE(off + 12),
    subject,
    time: buf.readDoubleLE(off + 20),
    header: headerAt < 0 ? null : buf.subarray(headerAt, dataAt),
    data: buf.subarray(dataAt, off + len),
  };
}

/**
 * A sealed segment rebuilt from its live records (same order, so sequences
 * stay ascending) plus one tombstone record for older segments.
 * Returns the new file contents and each live record's new offset.
 */
export function compactSegment(raw: Buffer, liveOffsets: number[], olderRanges: number[], time: number): { data: Buffer; offsets: number[] } {
  let total = 0;
  for (const off of liveOffsets) total += raw.readUInt32LE(off);
  const tomb = olderRanges.length > 0 ? encodeDeleteRecord(olderRanges, time) : null;
  const data = Buffer.allocUnsafe(total + (tomb?.length ?? 0));
  const offsets: number[] = [];
  let at = 0;
  for (const off of liveOffsets) {
    const len = raw.readUInt32LE(off);
    raw.copy(data, at, off, off + len);
    offsets.push(at);
    at += len;
  }
  if (tomb !== null) tomb.copy(data, at);
  return { data, offsets };
}
