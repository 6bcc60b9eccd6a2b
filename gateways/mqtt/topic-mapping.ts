// MQTT topic <-> NATS subject mapping (see gateways/mqtt/README.md, "Topic mapping").
//
//   level separator  '/'  <->  '.'
//   '+'  <->  '*'            '#'  <->  '>' plus a subscription on the parent level
//   characters legal in a topic level but not in a subject token are escaped with
//   '%' and two upper-case hex digits: '.' -> %2E, whitespace -> %20 %09 ..., and '%'
//   itself -> %25 (so every '%' in a mapped subject starts an escape);
//   a level that is exactly '*' or '>' -> %2A / %3E (they would be wildcards);
//   an empty level (leading, trailing or doubled '/') -> the token '%'.
//   A subject token may hold what a topic level cannot: '/', '+', '#' and NUL
//   [MQTT-4.7.1-1] [MQTT-4.7.3-2]. They become %2F %2B %23 %00 in the topic, so
//   one token is always one level (a filter 'nx/+' matches exactly the subjects
//   'nx.*' matches); %2F %2B %23 in a topic level map back to the character in
//   the subject token (NUL does not: a subject with NUL is no use to anyone).
//
// subjectToTopic() undoes each rule, so topicToSubject() then subjectToTopic()
// restores the exact topic. A NATS subject that was not produced by this mapping
// and holds a '%' not followed by two hex digits keeps that '%' literally; one
// holding %2F, %2B, %23 or %00 itself keeps them too (they map back to the character).

export class TopicMappingError extends Error {
  constructor(readonly topic: string, detail: string) {
    super(`cannot map MQTT topic ${JSON.stringify(topic)}: ${detail}`);
    this.name = 'TopicMappingError';
  }
}

const EMPTY_LEVEL = '%';

function needsEscape(code: number): boolean {
  // '.', '%', and every whitespace the subject grammar rejects.
  return code === 46 || code === 37 || code === 32 || (code >= 9 && code <= 13);
}

function hex(code: number): string {
  return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Characters a subject token may hold and a topic level may not: '/', '+', '#', NUL. */
function illegalInLevel(code: number): boolean {
  return code === 47 || code === 43 || code === 35 || code === 0;
}

/** In a topic level, the escapes of the characters a level cannot hold map back to them in the subject (NUL stays escaped). */
const LEVEL_ESCAPES = new Map([['%2F', '/'], ['%2B', '+'], ['%23', '#']]);

/** One topic level -> one subject token. */
export function escapeLevel(level: string): string {
  if (level.length === 0) return EMPTY_LEVEL;
  if (level === '*' || level === '>') return hex(level.charCodeAt(0));
  let out = '';
  let start = 0;
  for (let i = 0; i < level.length; i++) {
    const c = level.charCodeAt(i);
    if (!needsEscape(c)) continue;
    const raw = c === 37 ? LEVEL_ESCAPES.get(level.slice(i, i + 3)) : undefined;
    out += level.slice(start, i) + (raw ?? hex(c));
    if (raw !== undefined) i += 2;
    start = i + 1;
  }
  return start === 0 ? level : out + level.slice(start);
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** One subject token -> one topic level. */
export function unescapeToken(token: string): string {
  if (token === EMPTY_LEVEL) return '';
  if (!needsUnescape(token)) return token;
  let out = '';
  let i = 0;
  while (i < token.length) {
    const c = token.charCodeAt(i);
    if (c === 37 && i + 2 < token.length && isHex(token.charCodeAt(i + 1)) && isHex(token.charCodeAt(i + 2))) {
      const code = Number.parseInt(token.slice(i + 1, i + 3), 16);
      // An escape that would make an extra level or a wildcard stays as it is (a foreign subject).
      out += illegalInLevel(code) ? token.slice(i, i + 3) : String.fromCharCode(code);
      i += 3;
    } else {
      out += illegalInLevel(c) ? hex(c) : token[i];
      i++;
    }
  }
  return out;
}

/** A token that is not its own topic level: an escape, or a character no level may hold. */
function needsUnescape(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 37 || illegalInLevel(c)) return true;
  }
  return false;
}

/** Hot topics repeat: a small bounded cache per direction saves the split/escape/join. */
const CACHE_MAX = 4096;
const toSubjectCache = new Map<string, string>();
const toTopicCache = new Map<string, string>();

function remember(cache: Map<string, string>, key: string, value: string): string {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, value);
  return value;
}

/** Topic name (no wildcards) -> publish subject. [MQTT-4.7.3-1] topics are at least one character. */
export function topicToSubject(topic: string): string {
  const cached = toSubjectCache.get(topic);
  if (cached !== undefined) return cached;
  if (topic.length === 0) throw new TopicMappingError(topic, 'empty topic');
  return remember(toSubjectCache, topic, topic.split('/').map(escapeLevel).join('.'));
}

/** Subject -> topic name: the exact inverse of topicToSubject. */
export function subjectToTopic(subject: string): string {
  const cached = toTopicCache.get(subject);
  if (cached !== undefined) return cached;
  // The subject '%' is no mapped topic ('' is none [MQTT-4.7.3-1]): a foreign one keeps its '%'.
  if (subject === EMPTY_LEVEL) return EMPTY_LEVEL;
  return remember(toTopicCache, subject, subject.split('.').map(unescapeToken).join('/'));
}

/** [MQTT-4.7.1-1] wildcards are not allowed in topic names; [MQTT-4.7.3-2] no U+0000. */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 43 || c === 35 || c === 0) return false;
  }
  return true;
}

/** [MQTT-4.7.1-2] '#' only alone and last; [MQTT-4.7.1-3] '+' only alone in its level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.indexOf('\u0000') >= 0) return false;
    if (level === '#') {
      if (i !== levels.length - 1) return false;
      continue;
    }
    if (level === '+') continue;
    if (level.indexOf('#') >= 0 || level.indexOf('+') >= 0) return false;
  }
  return true;
}

/**
 * Topic filter -> the subjects to subscribe to. 'a/#' becomes ['a.>', 'a'] because
 * MQTT's '#' also matches the parent level [MQTT-4.7.1-2] while NATS's '>' needs at
 * least one more token. Precondition: isValidTopicFilter(filter).
 */
export function filterToSubjects(filter: string): string[] {
  const levels = filter.split('/');
  const tokens = levels.map((level) => (level === '+' ? '*' : level === '#' ? '>' : escapeLevel(level)));
  const subject = tokens.join('.');
  if (levels[levels.length - 1] !== '#' || levels.length === 1) return [subject];
  return [subject, tokens.slice(0, -1).join('.')];
}

/** True when the filter's first level is a wildcard: such filters never match '$' topics [MQTT-4.7.2-1]. */
export function startsWithWildcard(filter: string): boolean {
  return filter.startsWith('+') || filter.startsWith('#');
}

export interface SharedFilter {
  readonly group: string;
  readonly filter: string;
}

/**
 * `$share/<group>/<filter>` -> group and filter (MQTT 5 §4.8.2); null for an ordinary
 * filter. A malformed share (no filter, group with '+', '#' or '/') throws.
 */
export function parseSharedFilter(topic: string): SharedFilter | null {
  if (!topic.startsWith('$share/')) return null;
  const rest = topic.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new TopicMappingError(topic, 'a shared subscription needs $share/<group>/<filter>');
  const group = rest.slice(0, slash);
  const filter = rest.slice(slash + 1);
  if (/[+#\s]/.test(group)) throw new TopicMappingError(topic, 'share name must not contain +, # or whitespace');
  if (filter.length === 0 || !isValidTopicFilter(filter)) throw new TopicMappingError(topic, 'invalid filter in shared subscription');
  return { group, filter };
}

/** Does the topic name match the filter (MQTT rules, '$' topics included)? Used for retained messages. */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && startsWithWildcard(filter)) return false; // [MQTT-4.7.2-1]
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // also matches the parent level
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
