// Consumer configuration: the wire JSON (nats-server field names, durations in
// nanoseconds) in its own type, the internal camelCase form, and the one mapper
// between them. The mapper applies nats-server's defaults
// (setConsumerConfigDefaults) and its checks (checkConsumerCfg), answering with
// the same err_codes (NS server/errors.json).

import { hasWildcardToken, isValidPublishSubject, isValidSubscriptionSubject, subjectIsSubsetOf, subjectsOverlap } from '../../subject/subject.ts';
import { JsError } from '../errors.ts';
import { JetStreamApiError } from '../../protocol/jetstream-api-error.ts';
import { formatInstant, formatTime, parseTime, ZERO_TIME } from '../rfc3339.ts';
import type { StreamConfig } from '../stream-config.ts';
import { ConsumerErr } from './consumer-errors.ts';
import { applyAckFlowControlDefaults, checkAckFlowControl } from './ack-flow-control.ts';
import { applyPriorityDefaults, checkPriorityConfig, PriorityPolicy } from './priority-config.ts';

export const DeliverPolicy = {
  All: 'all',
  Last: 'last',
  New: 'new',
  ByStartSequence: 'by_start_sequence',
  ByStartTime: 'by_start_time',
  LastPerSubject: 'last_per_subject',
} as const;
export type DeliverPolicy = (typeof DeliverPolicy)[keyof typeof DeliverPolicy];
/** flow_control (nats-server 2.14): acknowledged by the answers to flow-control requests, see ack-flow-control.ts. */
export const AckPolicy = { None: 'none', All: 'all', Explicit: 'explicit', FlowControl: 'flow_control' } as const;
export type AckPolicy = (typeof AckPolicy)[keyof typeof AckPolicy];
export const ReplayPolicy = { Instant: 'instant', Original: 'original' } as const;
export type ReplayPolicy = (typeof ReplayPolicy)[keyof typeof ReplayPolicy];

/** As nats-server reads and writes it. Every field is optional on input. */
export interface ConsumerConfigWire {
  durable_name?: string;
  name?: string;
  description?: string;
  deliver_policy?: string;
  opt_start_seq?: number;
  opt_start_time?: string;
  ack_policy?: string;
  ack_wait?: number;
  max_deliver?: number;
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy?: string;
  rate_limit_bps?: number;
  sample_freq?: string;
  max_waiting?: number;
  max_ack_pending?: number;
  idle_heartbeat?: number;
  flow_control?: boolean;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: number;
  max_bytes?: number;
  deliver_subject?: string;
  deliver_group?: string;
  inactive_threshold?: number;
  num_replicas?: number;
  mem_storage?: boolean;
  metadata?: Record<string, string>;
  /** RFC 3339: no deliveries until then (nats-server 2.11). */
  pause_until?: string;
  /** ADR-42 (nats-server 2.11): pull consumer priority groups. */
  priority_groups?: string[];
  priority_policy?: string;
  /** Nanoseconds a pin lasts without a pull from its client (nats-server PinnedTTL). */
  priority_timeout?: number;
  /** nats-server's own mirror and source consumers (stream.go): exempt from the work-queue rules. */
  direct?: boolean;
  sourcing?: boolean;
  [unknown: string]: unknown;
}

export interface ConsumerConfig {
  durableName: string;
  name: string;
  description: string;
  deliverPolicy: DeliverPolicy;
  optStartSeq: number;
  /** Milliseconds since the epoch (0 = unset), and the wire text it came from. */
  optStartTime: number;
  optStartTimeText: string;
  ackPolicy: AckPolicy;
  /** Nanoseconds, as on the wire. */
  ackWait: number;
  maxDeliver: number;
  /** Nanoseconds. */
  backoff: number[];
  filterSubject: string;
  filterSubjects: string[];
  replayPolicy: ReplayPolicy;
  rateLimitBps: number;
  sampleFreq: string;
  maxWaiting: number;
  maxAckPending: number;
  /** Nanoseconds. */
  idleHeartbeat: number;
  flowControl: boolean;
  headersOnly: boolean;
  maxBatch: number;
  /** Nanoseconds. */
  maxExpires: number;
  maxBytes: number;
  deliverSubject: string;
  deliverGroup: string;
  /** Nanoseconds. */
  inactiveThreshold: number;
  numReplicas: number;
  memStorage: boolean;
  metadata: Record<string, string> | null;
  /** Milliseconds since the epoch, fractional; null: none (Go's nil/zero time). Answered in UTC as nats-server does. */
  pauseUntil: number | null;
  priorityGroups: string[];
  priorityPolicy: PriorityPolicy;
  /** Nanoseconds. */
  priorityTimeout: number;
  direct: boolean;
  sourcing: boolean;
}

const NS_PER_MS = 1_000_000;
/** nats-server JsAckWaitDefault, JsDefaultMaxAckPending, JSWaitQueueDefaultMax, JsDeleteWaitTimeDefault. */
export const DEFAULT_ACK_WAIT = 30_000 * NS_PER_MS;
export const DEFAULT_MAX_ACK_PENDING = 1000;
export const DEFAULT_MAX_WAITING = 512;
export const EPHEMERAL_INACTIVE_DEFAULT = 5_000 * NS_PER_MS;
const MAX_DESCRIPTION = 4096;
const MAX_NAME = 255;

function badJson(): JetStreamApiError {
  return new JetStreamApiError(JsError.InvalidJson);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, bad: () => JetStreamApiError): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw bad();
}

function int(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badJson();
  return Math.trunc(value);
}

function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw badJson();
  return value;
}

function flag(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw badJson();
  return value;
}

/** nats-server isValidAssetName: names become subject tokens and directory names. */
function validName(name: string): boolean {
  return name.length > 0 && !/[.*>\s\\/]/.test(name);
}

/** Effective filters (an empty list means the whole stream). */
export function filtersOf(c: ConsumerConfig): string[] {
  if (c.filterSubjects.length > 0) return c.filterSubjects;
  return c.filterSubject === '' ? [] : [c.filterSubject];
}

export function isDurable(c: ConsumerConfig): boolean {
  return c.durableName !== '';
}

export function isPush(c: ConsumerConfig): boolean {
  return c.deliverSubject !== '';
}

/**
 * Parse, default and validate a consumer config for `stream`. `name` is the
 * consumer name the API subject settled on (possibly '' for a legacy ephemeral).
 */
export function consumerConfigFromWire(w: ConsumerConfigWire, stream: StreamConfig): ConsumerConfig {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new JetStreamApiError(ConsumerErr.ConsumerConfigRequired);
  const durableName = str(w.durable_name);
  const name = str(w.name);
  if (durableName !== '' && name !== '' && durableName !== name) throw new JetStreamApiError(ConsumerErr.ConsumerCreateDurableAndNameMismatch);
  if (name !== '' && !validName(name)) throw JetStreamApiError.of(JsError.StreamInvalidConfig, "consumer name can not contain '.', '*', '>', '\\', '/'");
  if (durableName !== '' && !validName(durableName)) throw JetStreamApiError.of(JsError.StreamInvalidConfig, "consumer durable name can not contain '.', '*', '>', '\\', '/'");
  const effectiveName = durableName || name;
  if (effectiveName.length > MAX_NAME) throw new JetStreamApiError(ConsumerErr.ConsumerNameTooLong, { max: MAX_NAME });
  if (w.backoff !== undefined && w.backoff !== null && (!Array.isArray(w.backoff) || w.backoff.some((b) => typeof b !== 'number'))) throw badJson();
  for (const list of [w.filter_subjects, w.priority_groups]) {
    if (list !== undefined && list !== null && (!Array.isArray(list) || list.some((s) => typeof s !== 'string'))) throw badJson();
  }
  const c: ConsumerConfig = {
    durableName,
    name: effectiveName,
    description: str(w.description),
    deliverPolicy: oneOf(w.deliver_policy, Object.values(DeliverPolicy), DeliverPolicy.All, badJson),
    optStartSeq: int(w.opt_start_seq, 0),
    optStartTime: 0,
    optStartTimeText: str(w.opt_start_time),
    ackPolicy: oneOf(w.ack_policy, Object.values(AckPolicy), AckPolicy.None, () => new JetStreamApiError(ConsumerErr.ConsumerAckPolicyInvalid)),
    ackWait: int(w.ack_wait, 0),
    maxDeliver: int(w.max_deliver, 0),
    backoff: (w.backoff ?? []).map((b) => Math.trunc(b)),
    filterSubject: str(w.filter_subject),
    filterSubjects: [...(w.filter_subjects ?? [])],
    replayPolicy: oneOf(w.replay_policy, Object.values(ReplayPolicy), ReplayPolicy.Instant, () => new JetStreamApiError(ConsumerErr.ConsumerReplayPolicyInvalid)),
    rateLimitBps: int(w.rate_limit_bps, 0),
    sampleFreq: str(w.sample_freq),
    maxWaiting: int(w.max_waiting, 0),
    maxAckPending: int(w.max_ack_pending, 0),
    idleHeartbeat: int(w.idle_heartbeat, 0),
    flowControl: flag(w.flow_control),
    headersOnly: flag(w.headers_only),
    maxBatch: int(w.max_batch, 0),
    maxExpires: int(w.max_expires, 0),
    maxBytes: int(w.max_bytes, 0),
    deliverSubject: str(w.deliver_subject),
    deliverGroup: str(w.deliver_group),
    inactiveThreshold: int(w.inactive_threshold, 0),
    numReplicas: int(w.num_replicas, 0),
    memStorage: flag(w.mem_storage),
    metadata: w.metadata !== undefined && w.metadata !== null ? { ...w.metadata } : null,
    pauseUntil: null,
    priorityGroups: [...(w.priority_groups ?? [])],
    // An unknown policy fails nats-server's JSON decoding (PriorityPolicy.UnmarshalJSON).
    priorityPolicy: oneOf(w.priority_policy, Object.values(PriorityPolicy), PriorityPolicy.None, badJson),
    priorityTimeout: int(w.priority_timeout, 0),
    direct: flag(w.direct),
    sourcing: flag(w.sourcing),
  };
  setPauseUntil(c, str(w.pause_until));
  if (c.optStartTimeText !== '') {
    const t = Date.parse(c.optStartTimeText);
    if (Number.isNaN(t)) throw badJson();
    c.optStartTime = t;
  }
  applyDefaults(c);
  check(c, stream);
  return c;
}

const GO_ZERO_TIME_MS = parseTime(ZERO_TIME);

/** Set (or, with '' or Go's zero time, clear) pause_until; an unreadable time is invalid JSON, as for nats-server. */
export function setPauseUntil(c: ConsumerConfig, text: string): void {
  const t = text === '' ? GO_ZERO_TIME_MS : parseTime(text);
  if (Number.isNaN(t)) throw badJson();
  // Go's zero time (0001-01-01T00:00:00Z) means none; any other instant, 1970 too (nats.js resumes with it), is kept.
  c.pauseUntil = t === GO_ZERO_TIME_MS ? null : t;
}

/** NS setConsumerConfigDefaults. */
function applyDefaults(c: ConsumerConfig): void {
  if (c.maxDeliver === 0 || c.maxDeliver < -1) c.maxDeliver = -1;
  if (c.maxWaiting < 0) c.maxWaiting = 0;
  if (c.maxAckPending < -1) c.maxAckPending = -1;
  if (c.maxBatch < 0) c.maxBatch = 0;
  if (c.maxExpires < 0) c.maxExpires = 0;
  if (c.maxBytes < 0) c.maxBytes = 0;
  if (c.idleHeartbeat < 0) c.idleHeartbeat = 0;
  if (c.inactiveThreshold < 0) c.inactiveThreshold = 0;
  if (c.deliverSubject === '' && c.maxWaiting === 0) c.maxWaiting = DEFAULT_MAX_WAITING;
  // flow_control acks have no ack wait: nothing is redelivered on a timer.
  if (c.ackWait === 0 && (c.ackPolicy === AckPolicy.Explicit || c.ackPolicy === AckPolicy.All)) c.ackWait = DEFAULT_ACK_WAIT;
  // A backoff list overrides ack_wait with its first entry.
  if (c.backoff.length > 0) c.ackWait = c.backoff[0];
  if (c.maxAckPending === 0 && c.ackPolicy !== AckPolicy.None) c.maxAckPending = DEFAULT_MAX_ACK_PENDING;
  // Ephemerals go away after 5s without interest unless told otherwise (NS consumer.go).
  if (c.durableName === '' && c.inactiveThreshold === 0) c.inactiveThreshold = EPHEMERAL_INACTIVE_DEFAULT;
  applyPriorityDefaults(c);
  applyAckFlowControlDefaults(c);
}

/** NS checkConsumerCfg, in its order, for the fields Switchboard supports. */
function check(c: ConsumerConfig, stream: StreamConfig): void {
  if (c.numReplicas < 0) throw JetStreamApiError.of(JsError.StreamInvalidConfig, 'replicas count cannot be negative');
  if (c.numReplicas > 1) throw new JetStreamApiError(ConsumerErr.ConsumerReplicasExceedsStream);
  if (c.backoff.some((b) => b < 0)) throw new JetStreamApiError(ConsumerErr.ConsumerBackOffNegative);
  if (c.ackWait < 0) throw new JetStreamApiError(ConsumerErr.ConsumerAckWaitNegative);
  checkAckFlowControl(c);
  if (c.backoff.length > 0 && c.maxDeliver !== -1 && c.backoff.length > c.maxDeliver) throw new JetStreamApiError(ConsumerErr.ConsumerMaxDeliverBackoff);
  if (c.description.length > MAX_DESCRIPTION) throw new JetStreamApiError(ConsumerErr.ConsumerDescriptionTooLong, { max: MAX_DESCRIPTION });
  if (c.deliverSubject !== '') {
    if (hasWildcardToken(c.deliverSubject)) throw new JetStreamApiError(ConsumerErr.ConsumerDeliverToWildcards);
    if (!isValidPublishSubject(c.deliverSubject)) throw new JetStreamApiError(ConsumerErr.ConsumerInvalidDeliverSubject);
    if (stream.subjects.some((s) => subjectIsSubsetOf(c.deliverSubject, s))) throw new JetStreamApiError(ConsumerErr.ConsumerDeliverCycle);
    if (c.maxWaiting !== 0) throw new JetStreamApiError(ConsumerErr.ConsumerPushMaxWaiting);
    if (c.maxAckPending > 0 && c.ackPolicy === AckPolicy.None) throw new JetStreamApiError(ConsumerErr.ConsumerMaxPendingAckPolicyRequired);
    if (c.idleHeartbeat > 0 && c.idleHeartbeat < 100 * NS_PER_MS) throw new JetStreamApiError(ConsumerErr.ConsumerSmallHeartbeat);
  } else {
    if (c.ackPolicy === AckPolicy.None && stream.retention === 'workqueue') throw new JetStreamApiError(ConsumerErr.ConsumerPullRequiresAck);
    if (c.rateLimitBps > 0) throw new JetStreamApiError(ConsumerErr.ConsumerPullWithRateLimit);
    if (c.idleHeartbeat > 0) throw new JetStreamApiError(ConsumerErr.ConsumerHBRequiresPush);
    if (c.flowControl) throw new JetStreamApiError(ConsumerErr.ConsumerFCRequiresPush);
    if (c.maxExpires !== 0 && c.maxExpires < NS_PER_MS) throw new JetStreamApiError(ConsumerErr.ConsumerMaxRequestExpiresTooSmall);
  }
  if (c.flowControl && c.idleHeartbeat <= 0) throw new JetStreamApiError(ConsumerErr.ConsumerWithFlowControlNeedsHeartbeats);
  if (c.filterSubject !== '' && c.filterSubjects.length > 0) throw new JetStreamApiError(ConsumerErr.ConsumerDuplicateFilterSubjects);
  if (c.filterSubject !== '' && !isValidSubscriptionSubject(c.filterSubject)) throw JetStreamApiError.of(JsError.StreamInvalidConfig, 'invalid subject');
  for (const f of c.filterSubjects) {
    if (f === '') throw new JetStreamApiError(ConsumerErr.ConsumerEmptyFilter);
    if (!isValidSubscriptionSubject(f)) throw JetStreamApiError.of(JsError.StreamInvalidConfig, 'invalid subject');
  }
  const filters = filtersOf(c);
  for (let i = 0; i < filters.length; i++) {
    for (let j = i + 1; j < filters.length; j++) {
      if (subjectsOverlap(filters[i], filters[j])) throw new JetStreamApiError(ConsumerErr.ConsumerOverlappingSubjectFilters);
    }
    // A filter must select something the stream can hold. A subject transform
    // stores subjects outside `subjects` (split() and slice() even change their
    // length), and nats-server 2.10+ makes no such check at all: skip it then.
    if (stream.transform === null && !stream.subjects.some((s) => subjectsOverlap(filters[i], s))) throw new JetStreamApiError(ConsumerErr.ConsumerFilterNotSubset);
  }
  checkDeliverPolicy(c);
  checkPriorityConfig(c);
  // NS addConsumerWithAssignment: mirror and source consumers are exempt.
  if (stream.retention === 'workqueue' && !c.direct && !c.sourcing) {
    if (c.ackPolicy !== AckPolicy.Explicit && c.ackPolicy !== AckPolicy.FlowControl) throw new JetStreamApiError(ConsumerErr.ConsumerWQRequiresExplicitAck);
    if (c.deliverPolicy !== DeliverPolicy.All) throw new JetStreamApiError(ConsumerErr.ConsumerWQConsumerNotDeliverAll);
  }
}

function checkDeliverPolicy(c: ConsumerConfig): void {
  const p = c.deliverPolicy;
  const invalid = (text: string): JetStreamApiError => JetStreamApiError.of(ConsumerErr.ConsumerInvalidPolicy, text);
  const label: Record<DeliverPolicy, string> = {
    all: 'deliver all',
    last: 'deliver last',
    new: 'deliver new',
    by_start_sequence: 'deliver by start sequence',
    by_start_time: 'deliver by start time',
    last_per_subject: 'deliver last per subject',
  };
  if (p === DeliverPolicy.ByStartSequence) {
    if (c.optStartSeq <= 0) throw invalid('consumer delivery policy is deliver by start sequence, but optional start sequence is not set');
    if (c.optStartTime > 0) throw invalid('consumer delivery policy is deliver by start sequence, but optional start time is also set');
    return;
  }
  if (p === DeliverPolicy.ByStartTime) {
    if (c.optStartTime <= 0) throw invalid('consumer delivery policy is deliver by start time, but optional start time is not set');
    if (c.optStartSeq > 0) throw invalid('consumer delivery policy is deliver by start time, but optional start sequence is also set');
    return;
  }
  if (c.optStartSeq > 0) throw invalid(`consumer delivery policy is ${label[p]}, but optional start sequence is also set`);
  if (c.optStartTime > 0) throw invalid(`consumer delivery policy is ${label[p]}, but optional start time is also set`);
}

/** The config as nats-server answers it (omitempty fields left out when empty). */
export function consumerConfigToWire(c: ConsumerConfig): ConsumerConfigWire {
  const w: ConsumerConfigWire = {};
  if (c.durableName !== '') w.durable_name = c.durableName;
  if (c.name !== '') w.name = c.name;
  if (c.description !== '') w.description = c.description;
  w.deliver_policy = c.deliverPolicy;
  if (c.optStartSeq > 0) w.opt_start_seq = c.optStartSeq;
  if (c.optStartTime > 0) w.opt_start_time = c.optStartTimeText !== '' ? c.optStartTimeText : formatTime(c.optStartTime);
  w.ack_policy = c.ackPolicy;
  if (c.ackWait > 0) w.ack_wait = c.ackWait;
  if (c.maxDeliver !== 0) w.max_deliver = c.maxDeliver;
  if (c.backoff.length > 0) w.backoff = [...c.backoff];
  if (c.filterSubject !== '') w.filter_subject = c.filterSubject;
  if (c.filterSubjects.length > 0) w.filter_subjects = [...c.filterSubjects];
  w.replay_policy = c.replayPolicy;
  if (c.rateLimitBps > 0) w.rate_limit_bps = c.rateLimitBps;
  if (c.sampleFreq !== '') w.sample_freq = c.sampleFreq;
  if (c.maxWaiting > 0) w.max_waiting = c.maxWaiting;
  if (c.maxAckPending !== 0) w.max_ack_pending = c.maxAckPending;
  if (c.idleHeartbeat > 0) w.idle_heartbeat = c.idleHeartbeat;
  if (c.flowControl) w.flow_control = true;
  if (c.headersOnly) w.headers_only = true;
  if (c.maxBatch > 0) w.max_batch = c.maxBatch;
  if (c.maxExpires > 0) w.max_expires = c.maxExpires;
  if (c.maxBytes > 0) w.max_bytes = c.maxBytes;
  if (c.deliverSubject !== '') w.deliver_subject = c.deliverSubject;
  if (c.deliverGroup !== '') w.deliver_group = c.deliverGroup;
  if (c.inactiveThreshold > 0) w.inactive_threshold = c.inactiveThreshold;
  w.num_replicas = c.numReplicas;
  if (c.memStorage) w.mem_storage = true;
  if (c.metadata !== null) w.metadata = { ...c.metadata };
  if (c.pauseUntil !== null) w.pause_until = formatInstant(c.pauseUntil);
  if (c.priorityGroups.length > 0) w.priority_groups = [...c.priorityGroups];
  if (c.priorityPolicy !== PriorityPolicy.None) w.priority_policy = c.priorityPolicy;
  if (c.priorityTimeout > 0) w.priority_timeout = c.priorityTimeout;
  if (c.direct) w.direct = true;
  if (c.sourcing) w.sourcing = true;
  return w;
}

/** Fields an update may not change (NS acceptableConsumerUpdate, simplified to what we support). */
export function validateConsumerUpdate(old: ConsumerConfig, next: ConsumerConfig): void {
  const fail = (field: string): never => {
    throw JetStreamApiError.of(ConsumerErr.ConsumerCreate, `${field} can not be updated`);
  };
  if (old.deliverPolicy !== next.deliverPolicy) fail('deliver policy');
  if (old.optStartSeq !== next.optStartSeq) fail('start sequence');
  if (old.optStartTime !== next.optStartTime) fail('start time');
  if (old.ackPolicy !== next.ackPolicy) fail('ack policy');
  if (old.replayPolicy !== next.replayPolicy) fail('replay policy');
  if (isPush(old) !== isPush(next)) fail('deliver subject');
  if (old.memStorage !== next.memStorage) fail('mem storage');
}

/** Same config for the purpose of an idempotent create (metadata aside). */
export function sameConsumerConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  const wa = consumerConfigToWire(a);
  const wb = consumerConfigToWire(b);
  delete wa.metadata;
  delete wb.metadata;
  return JSON.stringify(wa) === JSON.stringify(wb);
}
