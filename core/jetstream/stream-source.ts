// A stream's `mirror` and `sources` entries: the wire JSON (nats-server's
// StreamSource) parsed and validated into the internal form, and back. The
// links that move the messages are in source-link.ts.

import { isValidSubscriptionSubject, subjectMatches } from '../subject/subject.ts';
import { SubjectTransform, SubjectTransformError } from '../subject/subject-transform.ts';
import { JetStreamApiError, type JetStreamApiErrorDef } from '../protocol/jetstream-api-error.ts';
import type { StreamSourceWire, SubjectTransformWire } from '../protocol/jetstream-wire.ts';
import { JsError } from './errors.ts';
import { parseTime } from './rfc3339.ts';

export type SourceRole = 'mirror' | 'source';

export interface StreamSourceConfig {
  name: string;
  /** 0: from the origin's first message. */
  optStartSeq: number;
  /** As given (RFC 3339), echoed back in the config; null: none. */
  optStartTime: string | null;
  /** optStartTime in ms since the epoch (0: none). */
  startTimeMs: number;
  /** '' : every subject. */
  filterSubject: string;
  subjectTransforms: Array<{ src: string; dest: string }>;
  /** What each entry of subjectTransforms compiles to (null: the subject is kept). */
  transforms: Array<{ src: string; transform: SubjectTransform | null }>;
  external: { api: string; deliver: string } | null;
}

const ERRORS: Record<SourceRole, { multiple: JetStreamApiErrorDef; filter: JetStreamApiErrorDef; dest: JetStreamApiErrorDef; name: JetStreamApiErrorDef }> = {
  mirror: {
    multiple: JsError.MirrorMultipleFiltersNotAllowed,
    filter: JsError.MirrorInvalidSubjectFilter,
    dest: JsError.MirrorInvalidTransformDestination,
    name: JsError.MirrorInvalidStreamName,
  },
  source: {
    multiple: JsError.SourceMultipleFiltersNotAllowed,
    filter: JsError.SourceInvalidSubjectFilter,
    dest: JsError.SourceInvalidTransformDestination,
    name: JsError.SourceInvalidStreamName,
  },
};

function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new JetStreamApiError(JsError.InvalidJson);
  return value;
}

/** Parse one `mirror` or `sources` entry (nats-server checkStreamCfg's rules for it). */
export function parseStreamSource(w: StreamSourceWire, role: SourceRole): StreamSourceConfig {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) throw new JetStreamApiError(JsError.InvalidJson);
  const errors = ERRORS[role];
  const name = str(w.name);
  if (name === '' || /[.*>\s/\\]/.test(name)) throw new JetStreamApiError(errors.name);
  const optStartSeq = w.opt_start_seq ?? 0;
  if (typeof optStartSeq !== 'number' || !Number.isInteger(optStartSeq) || optStartSeq < 0) throw new JetStreamApiError(JsError.InvalidJson);
  const optStartTime = str(w.opt_start_time);
  const startTimeMs = optStartTime === '' ? 0 : parseTime(optStartTime);
  if (Number.isNaN(startTimeMs)) throw new JetStreamApiError(JsError.InvalidJson);
  const filterSubject = str(w.filter_subject);
  if (filterSubject !== '' && !isValidSubscriptionSubject(filterSubject)) throw JetStreamApiError.of(errors.filter, `invalid subject ${filterSubject}`);
  const given = w.subject_transforms ?? [];
  if (!Array.isArray(given)) throw new JetStreamApiError(JsError.InvalidJson);
  if (given.length > 0 && filterSubject !== '') throw new JetStreamApiError(errors.multiple);
  const subjectTransforms = given.map((t: SubjectTransformWire) => ({ src: str(t?.src), dest: str(t?.dest) }));
  const transforms = subjectTransforms.map(({ src, dest }) => {
    if (src !== '' && !isValidSubscriptionSubject(src)) throw JetStreamApiError.of(errors.filter, `invalid subject ${src}`);
    if (dest === '') return { src: src || '>', transform: null };
    try {
      return { src: src || '>', transform: SubjectTransform.validate(src || '>', dest) };
    } catch (err) {
      if (err instanceof SubjectTransformError) throw JetStreamApiError.of(errors.dest, err.message, { cause: err });
      throw err;
    }
  });
  const ext = w.external;
  const external = ext === undefined || ext === null ? null : { api: str(ext.api), deliver: str(ext.deliver) };
  return { name, optStartSeq, optStartTime: optStartTime === '' ? null : optStartTime, startTimeMs, filterSubject, subjectTransforms, transforms, external };
}

export function streamSourceToWire(c: StreamSourceConfig): StreamSourceWire {
  return {
    name: c.name,
    ...(c.optStartSeq > 0 ? { opt_start_seq: c.optStartSeq } : {}),
    ...(c.optStartTime !== null ? { opt_start_time: c.optStartTime } : {}),
    ...(c.filterSubject !== '' ? { filter_subject: c.filterSubject } : {}),
    ...(c.subjectTransforms.length > 0 ? { subject_transforms: c.subjectTransforms.map((t) => ({ ...t })) } : {}),
    ...(c.external !== null ? { external: { ...c.external } } : {}),
  };
}

/**
 * What identifies a source within a stream, and what its Nats-Stream-Source
 * header carries after the origin's name and sequence: the filter and the
 * transform destination ('>' when there is none), as nats-server 2.15 writes
 * them (`O 2 o.1 > o.1 <hash>`). Two sources with the same key are duplicates.
 */
export function sourceKey(c: StreamSourceConfig): string {
  const name = c.external === null ? c.name : `${c.name}:${c.external.api}`;
  if (c.subjectTransforms.length === 0) return `${name} ${c.filterSubject || '>'} >`;
  const srcs = c.subjectTransforms.map((t) => t.src || '>');
  const dests = c.subjectTransforms.map((t) => t.dest || '>');
  return `${name} ${srcs.join('\f')} ${dests.join('\f')}`;
}

/** The subject a sourced message is stored under, or null when no filter of the source takes it. */
export function sourcedSubject(c: StreamSourceConfig, subject: string): string | null {
  if (c.transforms.length === 0) return c.filterSubject === '' || subjectMatches(c.filterSubject, subject) ? subject : null;
  for (const { src, transform } of c.transforms) {
    if (!subjectMatches(src, subject)) continue;
    return transform === null ? subject : (transform.apply(subject) ?? subject);
  }
  return null;
}
