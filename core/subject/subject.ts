// Subject grammar, as nats-server applies it (ND nats-concepts/subjects.md):
// tokens are separated by '.', no token is empty, no whitespace anywhere,
// '*' matches exactly one token and '>' matches one or more trailing tokens.
// Wildcards are only wildcards when they are a whole token ("a*b" is literal).

const DOT = 46;
const STAR = 42;
const GT = 62;

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11;
}

/**
 * A subject a subscription may use: wildcards allowed as whole tokens, '>' only last.
 * Checked with one pass over the characters and no allocation.
 */
export function isValidSubscriptionSubject(subject: string): boolean {
  const n = subject.length;
  if (n === 0) return false;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? subject.charCodeAt(i) : DOT;
    if (c === DOT) {
      const len = i - tokenStart;
      if (len === 0) return false;
      if (len === 1 && subject.charCodeAt(tokenStart) === GT && i !== n) return false;
      tokenStart = i + 1;
    } else if (isWhitespace(c)) {
      return false;
    }
  }
  return true;
}

/** A subject a message may be published to: valid and without wildcard tokens. */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubscriptionSubject(subject) && !hasWildcardToken(subject);
}

/** True when some token of the subject is exactly '*' or '>'. */
export function hasWildcardToken(subject: string): boolean {
  const n = subject.length;
  for (let i = 0; i < n; i++) {
    const c = subject.charCodeAt(i);
    if ((c === STAR || c === GT) && (i === 0 || subject.charCodeAt(i - 1) === DOT) && (i + 1 === n || subject.charCodeAt(i + 1) === DOT)) {
      return true;
    }
  }
  return false;
}

/**
 * Subjects in a namespace that wildcards of a reserving subscription do not
 * reach: `$...` (JetStream API, KV, system, gateway state; MQTT also keeps
 * `$` topics from first-level wildcards [MQTT-4.7.2-1]) and `_INBOX...`
 * (request replies, private to their requester by NATS convention).
 */
export function isReservedSubject(subject: string): boolean {
  return subject.charCodeAt(0) === 36 || (subject.startsWith('_INBOX') && (subject.length === 6 || subject.charCodeAt(6) === DOT));
}

/** True when the first token of a subscription subject is '*' or '>'. */
export function startsWithWildcardToken(subject: string): boolean {
  const c = subject.charCodeAt(0);
  return (c === STAR || c === GT) && (subject.length === 1 || subject.charCodeAt(1) === DOT);
}

/** A queue group name: non-empty, no whitespace. */
export function isValidQueueName(queue: string): boolean {
  if (queue.length === 0) return false;
  for (let i = 0; i < queue.length; i++) if (isWhitespace(queue.charCodeAt(i))) return false;
  return true;
}

/**
 * Does the literal subject match the (possibly wildcard) pattern?
 * Used off the hot path (cache invalidation, permission checks); the router uses the sublist.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const pt = pattern.split('.');
  const st = subject.split('.');
  for (let i = 0; i < pt.length; i++) {
    const p = pt[i];
    if (p === '>') return st.length > i;
    if (i >= st.length) return false;
    if (p !== '*' && p !== st[i]) return false;
  }
  return st.length === pt.length;
}

/**
 * Could any subject matched by pattern `a` also be matched by pattern `b`?
 * Used to reject overlapping stream subjects and to scope permissions.
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const at = a.split('.');
  const bt = b.split('.');
  const n = Math.min(at.length, bt.length);
  for (let i = 0; i < n; i++) {
    const x = at[i];
    const y = bt[i];
    if (x === '>' || y === '>') return true;
    if (x !== '*' && y !== '*' && x !== y) return false;
  }
  return at.length === bt.length;
}

/**
 * Is every subject matched by `sub` also matched by `sup`? (`sup` is at least as broad.)
 */
export function subjectIsSubsetOf(sub: string, sup: string): boolean {
  const st = sub.split('.');
  const pt = sup.split('.');
  for (let i = 0; i < pt.length; i++) {
    const p = pt[i];
    if (p === '>') return st.length > i;
    if (i >= st.length) return false;
    const s = st[i];
    if (p === '*') {
      if (s === '>') return false;
      continue;
    }
    if (s !== p) return false;
  }
  return st.length === pt.length;
}
