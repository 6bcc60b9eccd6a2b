// Subject transforms (nats-server subject_transform.go): a source pattern and a
// destination that rebuilds a matching subject from its wildcard tokens, with
// `$n` or the mustache functions `{{wildcard(n)}}`, `{{partition(k,n...)}}`,
// `{{splitFromLeft(n,p)}}`, `{{splitFromRight(n,p)}}`, `{{sliceFromLeft(n,s)}}`,
// `{{sliceFromRight(n,s)}}`, `{{split(n,d)}}`, `{{left(n,l)}}`, `{{right(n,l)}}`
// and `{{random(k)}}`. Streams apply one to every captured subject before
// storing it (`subject_transform`, nats-server 2.10). Wildcard indexes count
// the source's `*` tokens from 1. Error texts are nats-server's (errors.go), since
// a stream create answers with them.

import { isValidSubscriptionSubject } from './subject.ts';

const Fn = {
  Literal: 0,
  Wildcard: 1,
  Partition: 2,
  SplitFromLeft: 3,
  SplitFromRight: 4,
  SliceFromLeft: 5,
  SliceFromRight: 6,
  Split: 7,
  Left: 8,
  Right: 9,
  Random: 10,
} as const;
type Fn = (typeof Fn)[keyof typeof Fn];

const INVALID = 'invalid mapping destination';
export const TransformErrorText = {
  BadSubject: 'invalid subject',
  InvalidDestination: `${INVALID}: invalid transform`,
  UnknownFunction: `${INVALID}: unknown function`,
  IndexOutOfRange: `${INVALID}: wildcard index out of range`,
  NotEnoughArgs: `${INVALID}: not enough arguments passed to the function`,
  InvalidArg: `${INVALID}: function argument is invalid or in the wrong format`,
  TooManyArgs: `${INVALID}: too many arguments passed to the function`,
} as const;

/** A source or destination nats-server would refuse; `message` is its text. */
export class SubjectTransformError extends Error {
  constructor(readonly reason: string, readonly token = '') {
    super(token === '' ? reason : `${reason} in ${token}`);
    this.name = 'SubjectTransformError';
  }
}

interface DestToken {
  fn: Fn;
  /** The literal token (Literal), else the source token positions (0-based) the function reads. */
  literal: string;
  sources: number[];
  int: number;
  text: string;
}

/** Function names as the destination may spell them (nats-server accepts either case of each word's first letter). */
const FUNCTIONS: Array<[RegExp, Fn]> = [
  [/^\{\{\s*[pP]artition\s*\((.*)\)\s*\}\}$/, Fn.Partition],
  [/^\{\{\s*[wW]ildcard\s*\((.*)\)\s*\}\}$/, Fn.Wildcard],
  [/^\{\{\s*[sS]plit[fF]rom[lL]eft\s*\((.*)\)\s*\}\}$/, Fn.SplitFromLeft],
  [/^\{\{\s*[sS]plit[fF]rom[rR]ight\s*\((.*)\)\s*\}\}$/, Fn.SplitFromRight],
  [/^\{\{\s*[sS]lice[fF]rom[lL]eft\s*\((.*)\)\s*\}\}$/, Fn.SliceFromLeft],
  [/^\{\{\s*[sS]lice[fF]rom[rR]ight\s*\((.*)\)\s*\}\}$/, Fn.SliceFromRight],
  [/^\{\{\s*[sS]plit\s*\((.*)\)\s*\}\}$/, Fn.Split],
  [/^\{\{\s*[lL]eft\s*\((.*)\)\s*\}\}$/, Fn.Left],
  [/^\{\{\s*[rR]ight\s*\((.*)\)\s*\}\}$/, Fn.Right],
  [/^\{\{\s*[rR]andom\s*\((.*)\)\s*\}\}$/, Fn.Random],
];

const isMustache = (t: string): boolean => t.length > 4 && t.startsWith('{{') && t.endsWith('}}');

function integer(text: string, token: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new SubjectTransformError(TransformErrorText.InvalidArg, token);
  const n = Number(t);
  if (n > 2 ** 31 - 1) throw new SubjectTransformError(TransformErrorText.InvalidArg, token);
  return n;
}

/** One destination token: its function, wildcard indexes (1-based) and arguments. */
function parseToken(token: string): { fn: Fn; indexes: number[]; int: number; text: string } {
  const plain = { fn: Fn.Literal, indexes: [], int: -1, text: '' };
  if (token.length > 1 && token[0] === '$') {
    // `$1` is the old spelling of wildcard(1); any other `$x` stays a literal token.
    return /^\d+$/.test(token.slice(1)) ? { fn: Fn.Wildcard, indexes: [Number(token.slice(1))], int: -1, text: '' } : plain;
  }
  if (!isMustache(token)) return plain;
  for (const [re, fn] of FUNCTIONS) {
    const m = re.exec(token);
    if (m === null) continue;
    const args = m[1].split(/,\s*/);
    const fail = (reason: string): never => {
      throw new SubjectTransformError(reason, token);
    };
    switch (fn) {
      case Fn.Wildcard:
        if (args.length === 1 && args[0] === '') fail(TransformErrorText.NotEnoughArgs);
        if (args.length > 1) fail(TransformErrorText.TooManyArgs);
        return { fn, indexes: [integer(args[0], token)], int: -1, text: '' };
      case Fn.Partition:
        return { fn, indexes: args.slice(1).map((a) => integer(a, token)), int: integer(args[0], token), text: '' };
      case Fn.Random:
        if (args.length !== 1) fail(TransformErrorText.NotEnoughArgs);
        return { fn, indexes: [], int: integer(args[0], token), text: '' };
      case Fn.Split:
        if (args.length < 2) fail(TransformErrorText.NotEnoughArgs);
        if (args.length > 2) fail(TransformErrorText.TooManyArgs);
        if (args[1].includes(' ') || args[1].includes('.')) fail(TransformErrorText.InvalidArg);
        return { fn, indexes: [integer(args[0], token)], int: -1, text: args[1] };
      default:
        if (args.length < 2) fail(TransformErrorText.NotEnoughArgs);
        if (args.length > 2) fail(TransformErrorText.TooManyArgs);
        return { fn, indexes: [integer(args[0], token)], int: integer(args[1], token), text: '' };
    }
  }
  throw new SubjectTransformError(TransformErrorText.UnknownFunction, token);
}

/** 32-bit FNV-1a of the UTF-8 bytes, as partition() hashes its key. */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function splitAt(token: string, position: number, fromRight: boolean): string {
  if (position <= 0 || position >= token.length) return token;
  const at = fromRight ? token.length - position : position;
  return `${token.slice(0, at)}.${token.slice(at)}`;
}

function slice(token: string, size: number, fromRight: boolean): string {
  if (size <= 0 || size >= token.length) return token;
  const parts: string[] = [];
  // From the right, the short piece (if any) comes first; from the left, last.
  let at = fromRight ? token.length % size : 0;
  if (at > 0) parts.push(token.slice(0, at));
  for (; at < token.length; at += size) parts.push(token.slice(at, at + size));
  return parts.join('.');
}

export class SubjectTransform {
  private readonly sourceTokens: string[];
  private readonly dest: DestToken[];
  private readonly destEndsWithFwc: boolean;
  private readonly identity: boolean;

  /** Throws SubjectTransformError. An empty source means `>`. */
  constructor(readonly source: string, readonly destination: string) {
    const src = source === '' ? '>' : source;
    if (!isValidSubscriptionSubject(src) || !isValidSubscriptionSubject(destination)) throw new SubjectTransformError(TransformErrorText.BadSubject);
    this.sourceTokens = src.split('.');
    const destTokens = destination.split('.');
    const srcFwc = this.sourceTokens[this.sourceTokens.length - 1] === '>';
    this.destEndsWithFwc = destTokens[destTokens.length - 1] === '>';
    if (destTokens.includes('*') || srcFwc !== this.destEndsWithFwc) throw new SubjectTransformError(TransformErrorText.BadSubject);
    this.identity = src === '>' && destination === '>';
    // Source position of the n-th `*` (n from 1).
    const star: number[] = [];
    this.sourceTokens.forEach((t, i) => {
      if (t === '*') star.push(i);
    });
    const wildcards = star.length > 0 || srcFwc;
    this.dest = destTokens.map((token) => {
      const p = parseToken(token);
      if (p.fn === Fn.Literal) return { fn: p.fn, literal: token, sources: [], int: -1, text: '' };
      // Without source wildcards only partition() (over the whole subject) and random() make sense.
      if (!wildcards && p.fn !== Fn.Random && p.fn !== Fn.Partition) throw new SubjectTransformError(TransformErrorText.IndexOutOfRange, token);
      if (!wildcards) return { fn: p.fn, literal: '', sources: [], int: p.int, text: '' };
      const sources = p.indexes.map((n) => {
        if (n > star.length) throw new SubjectTransformError(TransformErrorText.IndexOutOfRange, `${token}: [${n}]`);
        return star[n - 1] ?? 0;
      });
      return { fn: p.fn, literal: '', sources, int: p.int, text: p.text };
    });
  }

  /** nats-server ValidateMapping: the checks a stream create makes on a destination before building it. */
  static validate(source: string, destination: string): SubjectTransform {
    let afterFwc = false;
    for (const t of destination.split('.')) {
      if (t.length === 0 || afterFwc) throw new SubjectTransformError(TransformErrorText.InvalidDestination, t);
      if (isMustache(t)) {
        if (!FUNCTIONS.some(([re]) => re.test(t))) throw new SubjectTransformError(TransformErrorText.UnknownFunction, t);
        continue;
      }
      if (t === '>') afterFwc = true;
      else if (/[\t\n\f\r ]/.test(t)) throw new SubjectTransformError(TransformErrorText.InvalidDestination);
    }
    return new SubjectTransform(source, destination);
  }

  /** The transformed subject, or null when `subject` does not match the source. Precondition: a literal subject. */
  apply(subject: string): string | null {
    if (this.identity) return subject;
    const tokens = subject.split('.');
    if (!this.matches(tokens)) return null;
    const out: string[] = [];
    for (const d of this.dest) {
      if (d.fn === Fn.Literal) {
        if (d.literal === '>') break;
        out.push(d.literal);
        continue;
      }
      const src = tokens[d.sources[0]] ?? '';
      switch (d.fn) {
        case Fn.Wildcard:
          out.push(src);
          break;
        case Fn.Partition: {
          const key = d.sources.length > 0 ? d.sources.map((i) => tokens[i]).join('') : subject;
          out.push(String(d.int === 0 ? 0 : fnv1a(key) % d.int));
          break;
        }
        case Fn.SplitFromLeft:
        case Fn.SplitFromRight:
          out.push(splitAt(src, d.int, d.fn === Fn.SplitFromRight));
          break;
        case Fn.SliceFromLeft:
        case Fn.SliceFromRight:
          out.push(slice(src, d.int, d.fn === Fn.SliceFromRight));
          break;
        case Fn.Split:
          out.push(src.split(d.text).filter((s) => s !== '').join('.'));
          break;
        case Fn.Left:
          out.push(d.int > 0 && d.int < src.length ? src.slice(0, d.int) : src);
          break;
        case Fn.Right:
          out.push(d.int > 0 && d.int < src.length ? src.slice(src.length - d.int) : src);
          break;
        case Fn.Random:
          out.push(String(d.int === 0 ? 0 : Math.floor(Math.random() * d.int)));
          break;
      }
    }
    // `>` in the destination takes the source's remaining tokens.
    if (this.destEndsWithFwc) out.push(...tokens.slice(this.sourceTokens.length - 1));
    return out.join('.');
  }

  private matches(tokens: string[]): boolean {
    const s = this.sourceTokens;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '>') return tokens.length > i;
      if (i >= tokens.length || (s[i] !== '*' && s[i] !== tokens[i])) return false;
    }
    return tokens.length === s.length;
  }
}
