// StreamStore (DESIGN seam 3): what a JetStream stream keeps its messages in.
// MemoryStreamStore and FileStreamStore implement it and pass one contract
// suite (test/unit/stream-store.test.ts). The API is synchronous on purpose:
// appends land in the store's write buffer at once (readable immediately) and
// `commit()` hands the buffered records to the OS; the engine calls it once per
// event-loop turn and sends that turn's PubAcks when its `done` callback runs.

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  readonly time: number;
  /** The NATS header block (`NATS/1.0\r\n...\r\n\r\n`), or null without headers. */
  readonly header: Buffer | null;
  readonly data: Buffer;
}

export const DiscardPolicy = { Old: 'old', New: 'new' } as const;
export type DiscardPolicy = (typeof DiscardPolicy)[keyof typeof DiscardPolicy];

/** Limits a store enforces itself; a value <= 0 means unlimited. */
export interface StoreLimits {
  maxMsgs: number;
  maxBytes: number;
  maxAgeMs: number;
  maxMsgsPerSubject: number;
  discard: DiscardPolicy;
  /** With discard new: refuse a message when its subject is at max_msgs_per_subject. */
  discardNewPerSubject: boolean;
}

export const UNLIMITED: Readonly<StoreLimits> = Object.freeze({
  maxMsgs: -1,
  maxBytes: -1,
  maxAgeMs: 0,
  maxMsgsPerSubject: -1,
  discard: DiscardPolicy.Old,
  discardNewPerSubject: false,
});

export interface StoreState {
  msgs: number;
  bytes: number;
  /** 0 for a store that never held a message; lastSeq + 1 when emptied. */
  firstSeq: number;
  lastSeq: number;
  /** 0 when empty. */
  firstTime: number;
  lastTime: number;
  numSubjects: number;
  /** Gaps between firstSeq and lastSeq (removed messages). */
  numDeleted: number;
}

/** Purge variants as the STREAM.PURGE request has them (seq and keep are exclusive). */
export interface PurgeOptions {
  /** Only messages whose subject matches this (wildcards allowed). */
  filter?: string;
  /** Remove messages with a sequence below this one. */
  seq?: number;
  /** Keep this many of the newest (matching) messages. */
  keep?: number;
  /**
   * The sequence of the publish that asks for this purge (Nats-Rollup,
   * Nats-Schedule-Next: purge): when a failed write takes that publish back,
   * what it purged comes back too. Without it the removals hold.
   */
  causedBy?: number;
}

export const StoreLimitKind = {
  MaxMsgs: 'maximum messages exceeded',
  MaxBytes: 'maximum bytes exceeded',
  MaxMsgsPerSubject: 'maximum messages per subject exceeded',
} as const;
export type StoreLimitKind = (typeof StoreLimitKind)[keyof typeof StoreLimitKind];

/** Thrown by append() under discard new when a limit would be exceeded. */
export class StoreLimitError extends Error {
  constructor(readonly kind: StoreLimitKind, readonly subject: string) {
    super(kind);
    this.name = 'StoreLimitError';
  }
}

/** A store file that cannot be opened, read or written. */
/**
 * A file operation of a stream store failed. Its message reaches clients (a
 * PubAck error), so it names the operation and the errno code only: the path
 * (`path`, and the cause's message) is for the server's own log.
 */
export class StoreIoError extends Error {
  constructor(readonly path: string, readonly operation: string, options?: { cause?: unknown }) {
    const code = (options?.cause as NodeJS.ErrnoException | undefined)?.code;
    super(`stream store ${operation} failed${typeof code === 'string' ? ` (${code})` : ''}`, options);
    this.name = 'StoreIoError';
  }
}

export class StoreClosedError extends Error {
  constructor(readonly storeName: string) {
    super(`stream store ${storeName} is closed`);
    this.name = 'StoreClosedError';
  }
}

export interface StreamStore {
  readonly kind: 'memory' | 'file';
  /** The bytes a message counts for against max_bytes (checks that must not append first: atomic batches). */
  sizeOf(subject: string, header: Buffer | null, data: Buffer): number;
  /** Append one message; returns its sequence. Copies header and data. Throws StoreLimitError. */
  append(subject: string, header: Buffer | null, data: Buffer, time?: number): number;
  /**
   * Hand appended records and removals to the OS (file) so they survive kill -9:
   * at once (throws on failure), or, with `done`, in the background, calling
   * done once they are there or with the error.
   */
  commit(done?: (err: Error | null) => void): void;
  get(seq: number): StoredMessage | null;
  /** The first message with sequence >= fromSeq whose subject matches filter (null = any). */
  next(fromSeq: number, filter?: string | null): StoredMessage | null;
  /** Like next() but only the sequence, without reading the payload (0 when none). */
  nextSeq(fromSeq: number, filter?: string | null): number;
  /** The newest message whose subject matches filter (wildcards allowed). */
  last(filter: string): StoredMessage | null;
  /** Like last() but only the sequence (0 when none): no payload read. */
  lastSeqOf(filter: string): number;
  /**
   * The newest sequence of every subject matching filter, ascending (deliver
   * last_per_subject, KV watch); with upToSeq, the newest at or below it
   * (direct get multi_last, ADR-31).
   */
  lastPerSubject(filter?: string | null, upToSeq?: number): Float64Array;
  /** The first sequence stored at or after `time` (ms), else lastSeq + 1 (direct get start_time). */
  seqFromTime(time: number): number;
  /** Remove one message; false when it does not exist. */
  remove(seq: number): boolean;
  purge(options?: PurgeOptions): number;
  state(): StoreState;
  /** Messages per subject, optionally only subjects matching filter. */
  subjectCounts(filter?: string | null): Map<string, number>;
  /** How many messages with sequence >= fromSeq match filter. */
  numPending(fromSeq: number, filter?: string | null): number;
  /** Sequences of removed messages between first and last (for deleted_details). */
  deletedSeqs(): number[];
  limits(): StoreLimits;
  /** Apply new limits, removing what they no longer allow. */
  setLimits(limits: StoreLimits): void;
  /** Remove messages older than max age; returns how many. */
  expire(now?: number): number;
  /** commit() then fsync: durable against power loss. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Close and remove everything the store wrote. */
  destroy(): Promise<void>;
  /**
   * Set by the owner: a failed write took back every message above lastSeq
   * (their commit failed), and the next append reuses lastSeq + 1.
   */
  onRollBack?: (lastSeq: number) => void;
}

/** Wall-clock milliseconds with sub-millisecond precision. */
let lastSubject = '';
let lastSubjectBytes = 0;
/** UTF-8 length of a subject, remembering the last one (publishers repeat subjects). */
export function subjectByteLength(subject: string): number {
  if (subject !== lastSubject) {
    lastSubject = subject;
    lastSubjectBytes = Buffer.byteLength(subject);
  }
  return lastSubjectBytes;
}

const TIME_ORIGIN = performance.timeOrigin;
export function nowMs(): number {
  return TIME_ORIGIN + performance.now();
}
