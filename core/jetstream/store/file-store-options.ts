// What a FileStreamStore is opened with, and what its start-up reports.

export const SyncPolicy = { Always: 'always', Os: 'os' } as const;
export type SyncPolicy = (typeof SyncPolicy)[keyof typeof SyncPolicy];

export interface FileStoreOptions {
  /** Directory holding this stream's segment files (created if missing). */
  dir: string;
  sync?: SyncPolicy;
  /** Start a new segment past this size. */
  segmentBytes?: number;
  /** First sequence of a brand-new store (stream config first_seq). */
  firstSeq?: number;
  /** Bytes of recently appended messages kept for reads without disk I/O. */
  cacheBytes?: number;
  /**
   * Called for each message replayed on start, in sequence order (the header
   * is only valid during the call). Lets the stream rebuild its dedupe window
   * without reading the store a second time.
   */
  onRecover?: (seq: number, time: number, header: Buffer | null) => void;
  /** With onRecover: sealed segments with nothing newer than this (ms) load from their index. */
  recoverHeadersSince?: number;
}

export interface RecoveryReport {
  segments: number;
  /** Sealed segments loaded from their .idx file instead of being scanned. */
  indexed: number;
  messages: number;
  truncatedBytes: number;
  millis: number;
}
