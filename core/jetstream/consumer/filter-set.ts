// A consumer's subject filters against its stream's store: matching a subject,
// and the next / pending / last lookups taken over every filter. A filter that
// covers all of the stream's subjects is dropped, so the store can use its
// cheaper unfiltered paths.

import { hasWildcardToken, subjectIsSubsetOf } from '../../subject/subject.ts';
import type { StreamStore } from '../store/stream-store.ts';
import type { StreamConfig } from '../stream-config.ts';

/**
 * What a stream's stored subjects are known to fall under: its `subjects`, or
 * nothing known when a subject transform rewrites them (then no filter is
 * taken to cover the whole stream).
 */
export function storedSubjectsOf(stream: StreamConfig): readonly string[] {
  return stream.transform === null ? stream.subjects : [];
}

interface Pattern {
  readonly text: string;
  /** null for a literal filter (plain string comparison). */
  readonly tokens: string[] | null;
}

function matchTokens(p: string[], subject: string): boolean {
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    const tok = p[i];
    if (tok === '>') return start < subject.length;
    if (start > subject.length) return false;
    let end = subject.indexOf('.', start);
    if (end < 0) end = subject.length;
    if (tok !== '*' && (end - start !== tok.length || !subject.startsWith(tok, start))) return false;
    start = end + 1;
  }
  return start > subject.length;
}

export class FilterSet {
  /** Empty: the whole stream. */
  readonly patterns: readonly Pattern[];

  constructor(filters: readonly string[], streamSubjects: readonly string[]) {
    const covering = filters.some((f) => streamSubjects.length > 0 && streamSubjects.every((s) => subjectIsSubsetOf(s, f)));
    this.patterns = covering ? [] : filters.map((text) => ({ text, tokens: hasWildcardToken(text) ? text.split('.') : null }));
  }

  get isAll(): boolean {
    return this.patterns.length === 0;
  }

  matches(subject: string): boolean {
    const ps = this.patterns;
    if (ps.length === 0) return true;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      if (p.tokens === null ? p.text === subject : matchTokens(p.tokens, subject)) return true;
    }
    return false;
  }

  nextSeq(store: StreamStore, from: number): number {
    const ps = this.patterns;
    if (ps.length === 0) return store.nextSeq(from, null);
    let best = 0;
    for (const p of ps) {
      const s = store.nextSeq(from, p.text);
      if (s > 0 && (best === 0 || s < best)) best = s;
    }
    return best;
  }

  /** Filters never overlap (config validation), so per-filter counts add up. */
  numPending(store: StreamStore, from: number): number {
    const ps = this.patterns;
    if (ps.length === 0) return store.numPending(from, null);
    let n = 0;
    for (const p of ps) n += store.numPending(from, p.text);
    return n;
  }

  lastSeq(store: StreamStore): number {
    const ps = this.patterns;
    if (ps.length === 0) return store.state().lastSeq;
    let best = 0;
    for (const p of ps) best = Math.max(best, store.lastSeqOf(p.text));
    return best;
  }

  /** The newest sequence of every matching subject, oldest first (deliver last_per_subject). */
  lastPerSubject(store: StreamStore): Float64Array {
    const ps = this.patterns;
    if (ps.length <= 1) return store.lastPerSubject(ps.length === 0 ? null : ps[0].text);
    // Filters never overlap, so no subject appears twice in the merged set.
    const parts = ps.map((p) => store.lastPerSubject(p.text));
    const out = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out.sort();
  }
}
