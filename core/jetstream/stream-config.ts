// Stream configuration: the wire JSON (nats-server field names, durations in
// nanoseconds) in its own types, the internal camelCase form, and the one
// mapper between them, which also validates and applies nats-server's defaults.

import { isValidSubscriptionSubject, subjectsOverlap } from '../subject/subject.ts';
import { SubjectTransform, SubjectTransformError } from '../subject/subject-transform.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { StoreLimits } from './store/stream-store.ts';
import { parseStreamSource, sourceKey, streamSourceToWire, type StreamSourceConfig } from './stream-source.ts';
import { JS_API_PREFIX, type StreamConfigWire, type SubjectTransformWire } from '../protocol/jetstream-wire.ts';

export const RetentionPolicy = { Limits: 'limits', Interest: 'interest', WorkQueue: 'workqueue' } as const;
export type RetentionPolicy = (typeof RetentionPolicy)[keyof typeof RetentionPolicy];
export const StorageType = { File: 'file', Memory: 'memory' } as const;
export type StorageType = (typeof StorageType)[keyof typeof StorageType];

export interface StreamConfig {
  name: string;
  description: string;
  subjects: string[];
  retention: RetentionPolicy;
  maxConsumers: number;
  maxMsgs: number;
  maxBytes: number;
  /** Nanoseconds, as on the wire. */
  maxAge: number;
  maxMsgsPerSubject: number;
  maxMsgSize: number;
  discard: 'old' | 'new';
  storage: StorageType;
  numReplicas: number;
  noAck: boolean;
  /** Nanoseconds. */
  duplicateWindow: number;
  allowDirect: boolean;
  mirrorDirect: boolean;
  discardNewPerSubject: boolean;
  sealed: boolean;
  denyDelete: boolean;
  denyPurge: boolean;
  allowRollupHdrs: boolean;
  /** Every subject is a counter: publishes carry Nats-Incr and store the running total (ADR-49). */
  allowMsgCounter: boolean;
  /** ADR-43: messages may carry Nats-TTL. */
  allowMsgTtl: boolean;
  /** ADR-51: messages may carry Nats-Schedule; the stream produces messages on their schedules. */
  allowMsgSchedules: boolean;
  /** Nanoseconds; > 0: age leaves a delete marker where it removes the last message of a subject. */
  subjectDeleteMarkerTtl: number;
  /** ADR-50: Nats-Batch-* publishes commit all or nothing (nats-server 2.12). */
  allowAtomic: boolean;
  /** ADR-50 fast ingest: batches paced by the server's flow acks (nats-server 2.14). */
  allowBatched: boolean;
  metadata: Record<string, string> | null;
  firstSeq: number;
  /** `subject_transform` as given; `transform` is what it compiles to (null with an empty destination: no change). */
  subjectTransform: { src: string; dest: string } | null;
  transform: SubjectTransform | null;
  /** A read-only copy of another stream (no subjects of its own). */
  mirror: StreamSourceConfig | null;
  sources: StreamSourceConfig[];
}

const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;
/** nats-server's default duplicate window: two minutes. */
export const DEFAULT_DUPLICATE_WINDOW = 120_000 * NS_PER_MS;
const API_SUBJECTS = `${JS_API_PREFIX}.>`;

function invalid(text: string): JetStreamApiError {
  return JetStreamApiError.of(JsError.StreamInvalidConfig, text);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  // nats-server fails to unmarshal an unknown enum value.
  throw new JetStreamApiError(JsError.InvalidJson);
}

function int(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JetStreamApiError(JsError.InvalidJson);
  return Math.trunc(value);
}

/** Zero and negatives mean "unlimited" (-1), as nats-server normalises them. */
function limit(value: unknown): number {
  const n = int(value, -1);
  return n <= 0 ? -1 : n;
}

function flag(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new JetStreamApiError(JsError.InvalidJson);
  return value;
}

/** Stream names become directory names and subject tokens. */
export function validateStreamName(name: string): void {
  if (name.length === 0) throw invalid('stream name is required');
  if (name.includes('/') || name.includes('\\')) throw new JetStreamApiError(JsError.StreamNameContainsPathSeparators);
  if (/[.*>\s]/.test(name)) throw invalid('stream name can not contain whitespace, \'.\', \'*\', \'>\'');
  if (name.length > 255) throw invalid('stream name is too long, maximum allowed is 255');
}

/** Parse and validate a create/update request body into a complete config. */
export function streamConfigFromWire(w: StreamConfigWire): StreamConfig {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new JetStreamApiError(JsError.InvalidJson);
  const name = typeof w.name === 'string' ? w.name : '';
  validateStreamName(name);
  if (w.subjects !== undefined && w.subjects !== null && (!Array.isArray(w.subjects) || w.subjects.some((s) => typeof s !== 'string'))) {
    throw new JetStreamApiError(JsError.InvalidJson);
  }
  const mirror = w.mirror === undefined || w.mirror === null ? null : parseStreamSource(w.mirror, 'mirror');
  if (w.sources !== undefined && w.sources !== null && !Array.isArray(w.sources)) throw new JetStreamApiError(JsError.InvalidJson);
  const sources = (w.sources ?? []).map((s) => parseStreamSource(s, 'source'));
  // nats-server checkStreamCfg: a mirror stores only what its origin has; a stream that sources needs no subjects.
  if (mirror !== null) {
    if (w.subjects && w.subjects.length > 0) throw new JetStreamApiError(JsError.MirrorWithSubjects);
    if (sources.length > 0) throw new JetStreamApiError(JsError.MirrorWithSources);
    if (int(w.first_seq, 0) > 0) throw new JetStreamApiError(JsError.MirrorWithFirstSeq);
    if (mirror.name === name) throw invalid('detected cycle');
    // ADR-50: a mirror stores its origin's messages as they are, never a batch of its own.
    if (flag(w.allow_atomic)) throw new JetStreamApiError(JsError.MirrorWithAtomicPublish);
    if (flag(w.allow_batched)) throw new JetStreamApiError(JsError.MirrorWithBatchPublish);
  }
  const keys = new Set(sources.map(sourceKey));
  if (keys.size !== sources.length) throw new JetStreamApiError(JsError.SourceDuplicateDetected);
  if (sources.some((s) => s.name === name && s.external === null)) throw invalid('detected cycle');
  const implicit = mirror === null && sources.length === 0 ? [name] : [];
  const subjects = w.subjects && w.subjects.length > 0 ? [...w.subjects] : implicit;
  for (const s of subjects) if (!isValidSubscriptionSubject(s)) throw invalid('invalid subject');
  if (new Set(subjects).size !== subjects.length) throw invalid('duplicate subjects detected');
  for (const s of subjects) if (subjectsOverlap(s, API_SUBJECTS)) throw invalid('subjects overlap with jetstream api');
  const maxAge = int(w.max_age, 0);
  if (maxAge < 0) throw invalid('max age needs to be >= 0');
  let duplicateWindow = int(w.duplicate_window, 0);
  if (duplicateWindow < 0) throw invalid('duplicates window can not be negative');
  if (duplicateWindow === 0) duplicateWindow = maxAge > 0 && maxAge < DEFAULT_DUPLICATE_WINDOW ? maxAge : DEFAULT_DUPLICATE_WINDOW;
  if (maxAge > 0 && duplicateWindow > maxAge) throw invalid('duplicates window can not be larger then max age');
  const numReplicas = int(w.num_replicas, 1);
  if (numReplicas > 1) throw new JetStreamApiError(JsError.StreamReplicasNotSupported);
  const cfg: StreamConfig = {
    name,
    description: typeof w.description === 'string' ? w.description : '',
    subjects,
    retention: oneOf(w.retention, ['limits', 'interest', 'workqueue'], 'limits'),
    maxConsumers: limit(w.max_consumers),
    maxMsgs: limit(w.max_msgs),
    maxBytes: limit(w.max_bytes),
    maxAge,
    maxMsgsPerSubject: limit(w.max_msgs_per_subject),
    maxMsgSize: limit(w.max_msg_size),
    discard: oneOf(w.discard, ['old', 'new'], 'old'),
    storage: oneOf(w.storage, ['file', 'memory'], 'file'),
    numReplicas: Math.max(1, numReplicas),
    noAck: flag(w.no_ack),
    duplicateWindow,
    allowDirect: flag(w.allow_direct),
    mirrorDirect: flag(w.mirror_direct),
    discardNewPerSubject: flag(w.discard_new_per_subject),
    sealed: flag(w.sealed),
    denyDelete: flag(w.deny_delete),
    denyPurge: flag(w.deny_purge),
    allowRollupHdrs: flag(w.allow_rollup_hdrs),
    allowMsgCounter: flag(w.allow_msg_counter),
    allowMsgTtl: flag(w.allow_msg_ttl),
    allowMsgSchedules: flag(w.allow_msg_schedules),
    subjectDeleteMarkerTtl: int(w.subject_delete_marker_ttl, 0),
    allowAtomic: flag(w.allow_atomic),
    allowBatched: flag(w.allow_batched),
    metadata: w.metadata && typeof w.metadata === 'object' ? { ...w.metadata } : null,
    firstSeq: Math.max(0, int(w.first_seq, 0)),
    subjectTransform: null,
    transform: null,
    mirror,
    sources,
  };
  if (w.subject_transform !== undefined && w.subject_transform !== null) parseTransform(cfg, w.subject_transform);
  if (cfg.allowMsgCounter) {
    // ADR-49: a counter adds to the last value, so nothing may refuse or expire it behind the writer's back.
    if (cfg.discard === 'new') throw invalid('counter stream cannot use discard new');
    if (cfg.allowMsgTtl) throw invalid('counter stream cannot use message TTLs');
    if (cfg.allowMsgSchedules) throw invalid('counter stream cannot use message schedules');
    if (cfg.retention !== 'limits') throw invalid('counter stream can only use limits retention');
  }
  if (cfg.subjectDeleteMarkerTtl > 0) {
    // ADR-43: markers are TTL'd messages that roll up their subject, so both are switched on (nats-server without pedantic mode).
    if (cfg.subjectDeleteMarkerTtl < NS_PER_S) throw invalid('subject delete marker TTL must be at least 1 second');
    cfg.allowMsgTtl = true;
    if (!cfg.allowRollupHdrs) {
      cfg.allowRollupHdrs = true;
      cfg.denyPurge = false;
    }
  } else if (cfg.subjectDeleteMarkerTtl < 0) {
    throw invalid('subject delete marker TTL must not be negative');
  }
  if (cfg.allowMsgSchedules) {
    // ADR-51: a schedule is stored with Nats-Rollup: sub (one per subject), so roll-ups come on (nats-server without pedantic mode).
    if (cfg.discard === 'new') throw invalid('message scheduling cannot use discard new');
    if (mirror !== null) throw new JetStreamApiError(JsError.MirrorWithMsgSchedules);
    if (sources.length > 0) throw new JetStreamApiError(JsError.SourceWithMsgSchedules);
    if (!cfg.allowRollupHdrs) {
      cfg.allowRollupHdrs = true;
      cfg.denyPurge = false;
    }
  }
  if (cfg.allowRollupHdrs && cfg.denyPurge) throw invalid('roll-ups require the purge permission');
  if (cfg.discardNewPerSubject && (cfg.discard !== 'new' || cfg.maxMsgsPerSubject <= 0)) {
    throw invalid('discard new per subject requires discard new policy and max msgs per subject to be set');
  }
  if (cfg.sealed) {
    // A sealed stream refuses changes of any kind (nats-server forces these).
    cfg.denyDelete = true;
    cfg.denyPurge = true;
    cfg.discard = 'new';
  }
  return cfg;
}

/** nats-server checkStreamCfg: the source must be a subject, the destination a mapping ValidateMapping accepts. */
function parseTransform(cfg: StreamConfig, w: SubjectTransformWire): void {
  if (typeof w !== 'object' || Array.isArray(w)) throw new JetStreamApiError(JsError.InvalidJson);
  const src = w.src ?? '';
  const dest = w.dest ?? '';
  if (typeof src !== 'string' || typeof dest !== 'string') throw new JetStreamApiError(JsError.InvalidJson);
  if (src !== '' && !isValidSubscriptionSubject(src)) throw JetStreamApiError.of(JsError.StreamTransformInvalidSource, `invalid subject ${src}`);
  cfg.subjectTransform = { src, dest };
  if (dest === '') return;
  try {
    cfg.transform = SubjectTransform.validate(src, dest);
  } catch (err) {
    if (err instanceof SubjectTransformError) throw JetStreamApiError.of(JsError.StreamTransformInvalidDestination, err.message, { cause: err });
    throw err;
  }
}

/** Checks nats-server makes on STREAM.UPDATE beyond the create rules. */
export function validateUpdate(current: StreamConfig, next: StreamConfig): void {
  if (next.storage !== current.storage) throw invalid('stream configuration update can not change storage type');
  if (next.retention !== current.retention) throw invalid('stream configuration update can not change retention policy');
  if (next.maxConsumers !== current.maxConsumers) throw invalid('stream configuration update can not change MaxConsumers');
  if (current.sealed && !next.sealed) throw invalid('stream configuration update can not unseal a sealed stream');
  if (current.denyDelete && !next.denyDelete) throw invalid('stream configuration update can not cancel deny message deletes');
  if (current.denyPurge && !next.denyPurge) throw invalid('stream configuration update can not cancel deny purge');
  if (current.allowMsgTtl && !next.allowMsgTtl) throw invalid('message TTL status can not be disabled');
  if (current.allowMsgSchedules && !next.allowMsgSchedules) throw invalid('message schedules can not be disabled');
  if (current.allowMsgCounter !== next.allowMsgCounter) throw invalid('stream configuration update can not change message counter setting');
  // A mirror may be promoted to a normal stream (mirror removed, nats-server 2.12), never changed or added.
  const mirrorOf = (c: StreamConfig): string => (c.mirror === null ? '' : JSON.stringify(streamSourceToWire(c.mirror)));
  if (next.mirror !== null && mirrorOf(next) !== mirrorOf(current)) throw new JetStreamApiError(JsError.MirrorNotUpdatable);
}

export function streamConfigToWire(c: StreamConfig): StreamConfigWire {
  return {
    name: c.name,
    ...(c.description ? { description: c.description } : {}),
    ...(c.subjects.length > 0 ? { subjects: [...c.subjects] } : {}),
    retention: c.retention,
    max_consumers: c.maxConsumers,
    max_msgs: c.maxMsgs,
    max_bytes: c.maxBytes,
    max_age: c.maxAge,
    max_msgs_per_subject: c.maxMsgsPerSubject,
    max_msg_size: c.maxMsgSize,
    discard: c.discard,
    storage: c.storage,
    num_replicas: c.numReplicas,
    ...(c.noAck ? { no_ack: true } : {}),
    duplicate_window: c.duplicateWindow,
    allow_direct: c.allowDirect,
    mirror_direct: c.mirrorDirect,
    ...(c.discardNewPerSubject ? { discard_new_per_subject: true } : {}),
    sealed: c.sealed,
    deny_delete: c.denyDelete,
    deny_purge: c.denyPurge,
    allow_rollup_hdrs: c.allowRollupHdrs,
    ...(c.allowMsgCounter ? { allow_msg_counter: true } : {}),
    allow_msg_ttl: c.allowMsgTtl,
    ...(c.allowMsgSchedules ? { allow_msg_schedules: true } : {}),
    ...(c.subjectDeleteMarkerTtl > 0 ? { subject_delete_marker_ttl: c.subjectDeleteMarkerTtl } : {}),
    ...(c.allowAtomic ? { allow_atomic: true } : {}),
    ...(c.allowBatched ? { allow_batched: true } : {}),
    ...(c.metadata ? { metadata: { ...c.metadata } } : {}),
    ...(c.firstSeq > 0 ? { first_seq: c.firstSeq } : {}),
    ...(c.subjectTransform !== null ? { subject_transform: { ...c.subjectTransform } } : {}),
    ...(c.mirror !== null ? { mirror: streamSourceToWire(c.mirror) } : {}),
    ...(c.sources.length > 0 ? { sources: c.sources.map(streamSourceToWire) } : {}),
  };
}

/** Same configuration? (A repeated create with the same config is not an error.) */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return JSON.stringify(streamConfigToWire(a)) === JSON.stringify(streamConfigToWire(b));
}

/** max_age in milliseconds (0: none). */
export function maxAgeMsOf(c: StreamConfig): number {
  return c.maxAge > 0 ? c.maxAge / NS_PER_MS : 0;
}

export function storeLimitsOf(c: StreamConfig): StoreLimits {
  return {
    maxMsgs: c.maxMsgs,
    maxBytes: c.maxBytes,
    // With per-message TTLs the stream's MessageExpiry applies max_age instead (`never` outlives it, markers replace).
    maxAgeMs: c.allowMsgTtl ? 0 : maxAgeMsOf(c),
    maxMsgsPerSubject: c.maxMsgsPerSubject,
    discard: c.discard,
    discardNewPerSubject: c.discardNewPerSubject,
  };
}
