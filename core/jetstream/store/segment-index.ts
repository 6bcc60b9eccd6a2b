// Index file of a segment (`<segment>.idx`): what a restart needs from that
// segment without reading its payloads. Written when the segment is sealed,
// and for the active segment on a clean close; it is a cache, so a missing,
// stale or damaged one only means the segment is scanned instead.
//
//   0  u32 magic 'SBX3'   4 u32 entry count N   8 u32 subject count S
//  12  u32 range count R  16 f64 segment size covered   24 f64 newest time
//  32  u32 crc32 of the whole segment file   36 u32 flags: bit 0 = no crc32 recorded
//  40  subjects: S x (u16 length, UTF-8 bytes), zero-padded to a multiple of 8
//      columns:  f64 seq[N], f64 time[N], u32 offset[N], u32 size[N],
//                u32 subject index[N], u8 has-header[N], padding to 8, f64 ranges[2R]
//                (tombstones stored here for older segments, [from, to])
//      u32 crc32 of everything before it
// Columns, not rows: loading is a copy into typed arrays, not 5N field reads.

import { crc32 } from './segment-codec.ts';

const MAGIC = 0x33584253; // 'SBX3'
const HEAD = 40;
/** Flag: the crc32 field is not set (indexes written before this flag existed always have one). */
const NO_CRC = 1;

const pad8 = (n: number): number => (n + 7) & ~7;

/** Bytes of the column block for n entries and r ranges. */
function columnsBytes(n: number, r: number): number {
  return pad8(29 * n) + 16 * r;
}

export interface SegmentIndex {
  /** Bytes of the segment the index describes; must equal the file size to be used. */
  segmentSize: number;
  /**
   * crc32 of those bytes: lets the active segment's index be trusted after a
   * check cheaper than a scan. null when not recorded: a segment indexed as it
   * is sealed skips reading itself back, since only the last segment is checked
   * (if a crash while rotating leaves it last after all, it is scanned).
   */
  segmentCrc: number | null;
  newestTime: number;
  subjects: string[];
  /** Parallel arrays, one element per live message at sealing time. */
  seqs: Float64Array;
  times: Float64Array;
  offsets: Uint32Array;
  sizes: Uint32Array;
  subjectIds: Uint32Array;
  /** 1 when the message has a header block (a restart may need it for dedupe). */
  hasHeader: Uint8Array;
  /** Inclusive [from, to] pairs deleted by tombstones stored in this segment. */
  ranges: number[];
}

/**
 * A segment's live messages collected for its index, straight into the column
 * layout: sealing a 16 MB segment of small messages lists ~100k of them, and an
 * object per message made that a visible pause on the event loop.
 */
export class SegmentIndexBuilder {
  private n = 0;
  private seqs = new Float64Array(1024);
  private times = new Float64Array(1024);
  private offsets = new Uint32Array(1024);
  private sizes = new Uint32Array(1024);
  private subjectIds = new Uint32Array(1024);
  private hasHeader = new Uint8Array(1024);
  private newestTime = 0;
  private readonly ids = new Map<string, number>();
  private readonly names: Buffer[] = [];

  add(seq: number, time: number, offset: number, size: number, subject: string, hasHeader: boolean): void {
    if (this.n === this.seqs.length) this.grow();
    let id = this.ids.get(subject);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(subject, id);
      this.names.push(Buffer.from(subject));
    }
    const i = this.n++;
    this.seqs[i] = seq;
    this.times[i] = time;
    this.offsets[i] = offset;
    this.sizes[i] = size;
    this.subjectIds[i] = id;
    this.hasHeader[i] = hasHeader ? 1 : 0;
    if (time > this.newestTime) this.newestTime = time;
  }

  encode(segmentSize: number, segmentCrc: number | null, ranges: number[]): Buffer {
    const names = this.names;
    const namesBytes = pad8(HEAD + names.reduce((n, b) => n + 2 + b.length, 0)) - HEAD;
    const n = this.n;
    const r = ranges.length / 2;
    const buf = Buffer.alloc(HEAD + namesBytes + columnsBytes(n, r) + 4);
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt32LE(n, 4);
    buf.writeUInt32LE(names.length, 8);
    buf.writeUInt32LE(r, 12);
    buf.writeDoubleLE(segmentSize, 16);
    buf.writeDoubleLE(this.newestTime, 24);
    buf.writeUInt32LE(segmentCrc ?? 0, 32);
    buf.writeUInt32LE(segmentCrc === null ? NO_CRC : 0, 36);
    let off = HEAD;
    for (const name of names) {
      buf.writeUInt16LE(name.length, off);
      name.copy(buf, off + 2);
      off += 2 + name.length;
    }
    off = HEAD + namesBytes;
    const column = (a: Float64Array | Uint32Array | Uint8Array, count = n): void => {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, count * a.BYTES_PER_ELEMENT);
      buf.set(bytes, off);
      off += bytes.length;
    };
    column(this.seqs);
    column(this.times);
    column(this.offsets);
    column(this.sizes);
    column(this.subjectIds);
    column(this.hasHeader);
    off = HEAD + namesBytes + pad8(29 * n);
    column(new Float64Array(ranges), ranges.length);
    buf.writeUInt32LE(crc32(buf.subarray(0, off)), off);
    return buf;
  }

  private grow(): void {
    const size = this.seqs.length * 2;
    const grown = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(size);
      b.set(a);
      return b;
    };
    this.seqs = grown(this.seqs, Float64Array);
    this.times = grown(this.times, Float64Array);
    this.offsets = grown(this.offsets, Uint32Array);
    this.sizes = grown(this.sizes, Uint32Array);
    this.subjectIds = grown(this.subjectIds, Uint32Array);
    this.hasHeader = grown(this.hasHeader, Uint8Array);
  }
}

/** The decoded index, or null when it is damaged or not an index. */
export function decodeSegmentIndex(buf: Buffer): SegmentIndex | null {
  if (buf.length < HEAD + 4 || buf.readUInt32LE(0) !== MAGIC) return null;
  if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) return null;
  const n = buf.readUInt32LE(4);
  const s = buf.readUInt32LE(8);
  const r = buf.readUInt32LE(12);
  const subjects: string[] = [];
  let off = HEAD;
  for (let i = 0; i < s; i++) {
    const len = buf.readUInt16LE(off);
    subjects.push(buf.toString('utf8', off + 2, off + 2 + len));
    off += 2 + len;
  }
  off = pad8(off);
  if (off + columnsBytes(n, r) + 4 !== buf.length) return null;
  // Typed arrays need aligned offsets: view the columns in place when they
  // are (a file read into its own memory), else copy them (a restart loads
  // every sealed segment's index: 2M messages are ~60 MB of columns).
  const at = buf.byteOffset + off;
  const inPlace = at % 8 === 0;
  const cols = inPlace ? buf.buffer : new ArrayBuffer(columnsBytes(n, r));
  const base = inPlace ? at : 0;
  if (!inPlace) new Uint8Array(cols).set(buf.subarray(off, off + columnsBytes(n, r)));
  const subjectIds = new Uint32Array(cols, base + 24 * n, n);
  for (let i = 0; i < n; i++) if (subjectIds[i] >= s) return null;
  return {
    segmentSize: buf.readDoubleLE(16),
    segmentCrc: (buf.readUInt32LE(36) & NO_CRC) !== 0 ? null : buf.readUInt32LE(32),
    newestTime: buf.readDoubleLE(24),
    subjects,
    seqs: new Float64Array(cols, base, n),
    times: new Float64Array(cols, base + 8 * n, n),
    offsets: new Uint32Array(cols, base + 16 * n, n),
    sizes: new Uint32Array(cols, base + 20 * n, n),
    subjectIds,
    hasHeader: new Uint8Array(cols, base + 28 * n, n),
    ranges: [...new Float64Array(cols, base + pad8(29 * n), 2 * r)],
  };
}
