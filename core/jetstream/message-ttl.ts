// Per-message TTL (ADR-43, nats-server 2.11): the `Nats-TTL` header's value,
// and the subject delete marker a stream with `subject_delete_marker_ttl`
// stores when age removes the last message of a subject. Texts and rules are
// nats-server's (stream.go parseMessageTTL, filestore.go handleRemovalOrSdm,
// sdm.go isSubjectDeleteMarker).

import { MessageHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JsError } from './errors.ts';

export const TtlHeader = {
  Ttl: 'Nats-TTL',
  MarkerReason: 'Nats-Marker-Reason',
  /** ADR-8's KV operation header: a KV purge marker counts as a delete marker. */
  KvOperation: 'KV-Operation',
} as const;

/** TTL of a message that age never removes (`Nats-TTL: never`), as parseMessageTtl returns it. */
export const TTL_NEVER = -1;

/** Go's time.ParseDuration units, in nanoseconds. */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (`1h30m`, `1.5s`, `-2m`), in nanoseconds; null when it would fail. */
export function parseGoDuration(text: string): number | null {
  const m = /^([+-]?)(.+)$/.exec(text);
  if (m === null) return null;
  if (m[2] === '0') return 0;
  let total = 0;
  let rest = m[2];
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  if (rest === '') return null;
  while (rest !== '') {
    const p = part.exec(rest);
    if (p === null) return null;
    total += Number(p[1]) * UNIT_NS[p[2]];
    rest = rest.slice(p[0].length);
  }
  return m[1] === '-' ? -total : total;
}

/** Whole seconds as Go's time.Duration prints them: `1s`, `1m0s`, `1h0m0s`. */
export function formatGoSeconds(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * A `Nats-TTL` value in whole seconds, or TTL_NEVER. A Go duration under one
 * second (a literal `0` too) or anything unparsable throws 10165; a bare
 * number is seconds.
 */
export function parseMessageTtl(value: string): number {
  if (value.toLowerCase() === 'never') return TTL_NEVER;
  const ns = parseGoDuration(value);
  if (ns !== null) {
    if (ns < 1e9) throw new JetStreamApiError(JsError.MessageTTLInvalid);
    return Math.floor(ns / 1e9);
  }
  if (/^\d+$/.test(value)) return Number(value);
  throw new JetStreamApiError(JsError.MessageTTLInvalid);
}

/** A marker (from age or a KV purge) is never replaced by another marker. */
export function isDeleteMarker(h: MessageHeaders | null): boolean {
  if (h === null) return false;
  const reason = h.get(TtlHeader.MarkerReason);
  return (reason !== undefined && reason !== '') || h.get(TtlHeader.KvOperation) === 'PURGE';
}

/**
 * The header block of the marker that replaces the last message of a subject
 * removed by age: its reason, its own TTL, and a subject roll-up that removes
 * what it replaces.
 */
export function deleteMarkerHeader(markerTtlSeconds: number): Buffer {
  return new MessageHeaders()
    .append(TtlHeader.MarkerReason, 'MaxAge')
    .append(TtlHeader.Ttl, formatGoSeconds(markerTtlSeconds))
    .append('Nats-Rollup', 'sub')
    .encode();
}
