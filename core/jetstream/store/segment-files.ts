// Small pieces of FileStreamStore's file handling: the segment record kept in
// memory, file naming, I/O errors, and write/tombstone helpers.

import * as fs from 'node:fs';
import { join } from 'node:path';
import { StoreIoError } from './stream-store.ts';

export const SEGMENT_SUFFIX = '.seg';
export const INDEX_SUFFIX = '.idx';

export interface Segment {
  readonly id: number;
  readonly path: string;
  fd: number;
  size: number;
  live: number;
  /** Accounted bytes of live messages (about their record bytes): decides compaction. */
  liveBytes: number;
  dirty: boolean;
  /**
   * Bytes from here to `size` were written by this process since the
   * segment's last fsync: reads skip their CRC (why that is safe:
   * segment-reader.ts). Infinity trusts nothing (after start-up, sync: always).
   */
  trustedFrom: number;
  /** Tombstone ranges written into this segment (kept in its index when sealed). */
  tombstones: number[];
  /**
   * Ascending sequences of this segment's messages with a header block, kept
   * until it is sealed: its index records them, and reading the flag back from
   * every record would mean reading the whole segment again.
   */
  headerSeqs: number[];
}

/** Tombstones stored in seg for sequences of older segments (clipped to them). */
export function olderRanges(seg: Segment): number[] {
  const older: number[] = [];
  for (let i = 0; i + 1 < seg.tombstones.length; i += 2) {
    if (seg.tombstones[i] < seg.id) older.push(seg.tombstones[i], Math.min(seg.tombstones[i + 1], seg.id - 1));
  }
  return older;
}

export function indexPath(segmentPath: string): string {
  return segmentPath.slice(0, -SEGMENT_SUFFIX.length) + INDEX_SUFFIX;
}

/**
 * How segments are opened: read-write without O_APPEND, because every write
 * says where it goes (see segment-writer.ts: a synchronous write may land
 * beside a running one).
 */
export const SEGMENT_OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

/** Open (or create) segment `id` of the stream in dir: named after its first sequence, zero-padded so names sort. */
export function openSegment(dir: string, id: number): Segment {
  const path = join(dir, `${String(id).padStart(20, '0')}${SEGMENT_SUFFIX}`);
  const fd = storeIo('open', path, () => fs.openSync(path, SEGMENT_OPEN_FLAGS));
  return { id, path, fd, size: 0, live: 0, liveBytes: 0, dirty: false, trustedFrom: Infinity, tombstones: [], headerSeqs: [] };
}

/** The segment holding seq: the last one (of segments, ascending by id) whose id (first possible seq) is <= seq. */
export function segmentOf(segments: readonly Segment[], seq: number): Segment {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid].id <= seq) lo = mid;
    else hi = mid - 1;
  }
  return segments[lo];
}

/** The chunks after the first `done` bytes (a regular file may take a write in parts). */
function rest(chunks: Buffer[], done: number): Buffer[] {
  let skip = done;
  let i = 0;
  while (skip >= chunks[i].length) skip -= chunks[i++].length;
  return [chunks[i].subarray(skip), ...chunks.slice(i + 1)];
}

function byteLength(chunks: Buffer[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

/** writev at `position` until every byte is written. */
export function writeAllAt(fd: number, chunks: Buffer[], position: number): void {
  const total = byteLength(chunks);
  let done = fs.writevSync(fd, chunks, position);
  while (done < total) done += fs.writevSync(fd, rest(chunks, done), position + done);
}

/** writeAllAt on the thread pool, then fsync when asked; `cb` gets the first error. */
export function writeAt(fd: number, chunks: Buffer[], position: number, fsync: boolean, cb: (err: Error | null) => void): void {
  const total = byteLength(chunks);
  const step = (done: number, parts: Buffer[]): void => {
    fs.writev(fd, parts, position + done, (err, n) => {
      if (err !== null) cb(err);
      else if (done + n < total) step(done + n, rest(chunks, done + n));
      else if (fsync) fs.fsync(fd, cb);
      else cb(null);
    });
  };
  step(0, chunks);
}

/** Runs a file operation; any failure becomes a StoreIoError naming the operation and the path. */
export function storeIo<T>(operation: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new StoreIoError(path, operation, { cause });
  }
}
