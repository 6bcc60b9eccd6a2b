// Small pieces of FileStreamStore's file handling: the segment record kept in
// memory, file naming, and write/tombstone helpers.

import * as fs from 'node:fs';

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

/** writev until every byte is written (a regular file may take a write in parts). */
export function writeAll(fd: number, chunks: Buffer[], total: number): void {
  let done = fs.writevSync(fd, chunks);
  while (done < total) {
    let skip = done;
    let i = 0;
    while (skip >= chunks[i].length) skip -= chunks[i++].length;
    const rest = [chunks[i].subarray(skip), ...chunks.slice(i + 1)];
    done += fs.writevSync(fd, rest);
  }
}

