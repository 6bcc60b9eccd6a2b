// Subscription index: a trie over subject tokens with a bounded match cache, the
// structure nats-server's sublist.go uses. A match walks literal, '*' and '>'
// branches once per distinct subject; repeat publishes to the same subject are a
// single Map lookup from the second publish on (one-off subjects are not
// cached, so they cannot evict the ones that repeat). Results are immutable
// snapshots, so a delivery loop may remove subscriptions (auto-unsubscribe)
// while it iterates.

import { hasWildcardToken, subjectMatches } from './subject.ts';

export interface SublistEntry {
  readonly subject: string;
  readonly queue: string | null;
}

export interface SublistMatch<T> {
  /** Plain subscribers: every one gets the message. */
  readonly psubs: readonly T[];
  /** Queue groups, merged by name across matching nodes: one member of each gets it. */
  readonly qsubs: readonly (readonly T[])[];
}

class TrieNode<T> {
  children: Map<string, TrieNode<T>> | null = null;
  star: TrieNode<T> | null = null;
  tail: TrieNode<T> | null = null;
  psubs: T[] = [];
  qsubs: Map<string, T[]> | null = null;

  isEmpty(): boolean {
    return this.psubs.length === 0 && (this.qsubs === null || this.qsubs.size === 0) &&
      (this.children === null || this.children.size === 0) && this.star === null && this.tail === null;
  }
}

export interface SublistStats {
  subscriptions: number;
  cache: number;
  matches: number;
  cacheHits: number;
  inserts: number;
  removes: number;
  maxFanout: number;
  avgFanout: number;
}

const NO_GROUPS: readonly never[] = Object.freeze([]);
const EMPTY_MATCH: SublistMatch<never> = Object.freeze({ psubs: NO_GROUPS, qsubs: NO_GROUPS });
/** nats-server keeps 1024 cached results and sweeps when over. */
const CACHE_MAX = 1024;
const CACHE_SWEEP = 256;
/** Subjects seen once and not cached yet; forgotten wholesale when it fills. */
const SEEN_ONCE_MAX = 4096;
const LAST_TOKEN_MAX = 1024;

export class Sublist<T extends SublistEntry> {
  private readonly root = new TrieNode<T>();
  private readonly cache = new Map<string, SublistMatch<T>>();
  /**
   * Subjects matched once and not cached (yet). Request replies and JetStream
   * ack subjects are each published once; caching them would only evict the
   * entries that repeat. A subject is cached on its second sighting.
   */
  private readonly seenOnce = new Set<string>();
  /** Results by subject minus its last token, for siblingMatch; emptied by any insert or remove. */
  private readonly lastTokenCache = new Map<string, { frontier: TrieNode<T>[]; result: SublistMatch<T> }>();
  /**
   * The last subject matched and its result: a publisher mostly repeats its subject, and
   * the parser hands over the same string each time, so this is one pointer compare where
   * the cache is a hash lookup. Cleared by any insert or remove.
   */
  private lastSubject = '';
  private lastResult: SublistMatch<T> = EMPTY_MATCH;
  private subCount = 0;
  private matchCount = 0;
  private cacheHits = 0;
  private inserts = 0;
  private removes = 0;

  get count(): number {
    return this.subCount;
  }

  /** Figures for monitoring (subsz); fan-out is measured over the cached results, as nats-server does. */
  stats(): SublistStats {
    let maxFanout = 0;
    let fanoutSum = 0;
    for (const m of this.cache.values()) {
      const fanout = m.psubs.length + m.qsubs.length;
      fanoutSum += fanout;
      if (fanout > maxFanout) maxFanout = fanout;
    }
    return {
      subscriptions: this.subCount,
      cache: this.cache.size,
      matches: this.matchCount,
      cacheHits: this.cacheHits,
      inserts: this.inserts,
      removes: this.removes,
      maxFanout,
      avgFanout: this.cache.size === 0 ? 0 : fanoutSum / this.cache.size,
    };
  }

  /** Precondition: sub.subject is a valid subscription subject. */
  insert(sub: T): void {
    let node = this.root;
    for (const token of sub.subject.split('.')) {
      node = this.childFor(node, token);
    }
    if (sub.queue === null) {
      // A first push would grow the empty array to 17 slots; most subjects (an MQTT
      // client's own topics, its handover subject) have one subscriber (issue 20).
      if (node.psubs.length === 0) node.psubs = [sub];
      else node.psubs.push(sub);
    } else {
      node.qsubs ??= new Map();
      const group = node.qsubs.get(sub.queue);
      if (group) group.push(sub);
      else node.qsubs.set(sub.queue, [sub]);
    }
    this.subCount++;
    this.inserts++;
    this.invalidate(sub.subject);
  }

  /** Returns false when the subscription was not in the list. */
  remove(sub: T): boolean {
    const tokens = sub.subject.split('.');
    const path: TrieNode<T>[] = [this.root];
    let node: TrieNode<T> | null = this.root;
    for (const token of tokens) {
      node = this.childOf(node, token);
      if (node === null) return false;
      path.push(node);
    }
    if (!this.removeFromNode(node, sub)) return false;
    this.subCount--;
    this.removes++;
    this.prune(path, tokens);
    this.invalidate(sub.subject);
    return true;
  }

  /** Precondition: subject is a literal (publish) subject. */
  match(subject: string): SublistMatch<T> {
    this.matchCount++;
    if (subject === this.lastSubject) {
      this.cacheHits++;
      return this.lastResult;
    }
    const cached = this.cache.get(subject);
    if (cached !== undefined) {
      this.cacheHits++;
      this.lastSubject = subject;
      this.lastResult = cached;
      return cached;
    }
    const lastDot = subject.lastIndexOf('.');
    const result = (lastDot < 0 ? null : this.siblingMatch(subject, lastDot)) ??
      this.walk(subject.split('.'), lastDot < 0 ? null : subject.slice(0, lastDot));
    if (!this.seenOnce.has(subject)) {
      if (this.seenOnce.size >= SEEN_ONCE_MAX) this.seenOnce.clear();
      this.seenOnce.add(subject);
      return result;
    }
    this.seenOnce.delete(subject);
    if (this.cache.size >= CACHE_MAX) this.sweepCache();
    this.cache.set(subject, result);
    return result;
  }

  /**
   * The result of a subject walked before that differs from this one only in a
   * last token no subscription names literally: it is the same result
   * (`_INBOX.abc.7` gets what `_INBOX.abc.6` got through `_INBOX.abc.*`). That
   * is the shape of request replies, each published once. Null when unknown.
   */
  private siblingMatch(subject: string, lastDot: number): SublistMatch<T> | null {
    if (this.lastTokenCache.size === 0) return null;
    const known = this.lastTokenCache.get(subject.slice(0, lastDot));
    if (known === undefined) return null;
    const last = subject.slice(lastDot + 1);
    for (let i = 0; i < known.frontier.length; i++) if (known.frontier[i].children?.has(last) === true) return null;
    return known.result;
  }

  /** Walk the trie level by level; remembers the result under `prefix` when the last token matched no literal node. */
  private walk(tokens: string[], prefix: string | null): SublistMatch<T> {
    const found: Found<T> = { psubs: [], groups: null };
    let frontier: TrieNode<T>[] = [this.root];
    const last = tokens.length - 1;
    for (let i = 0; i < last && frontier.length > 0; i++) {
      const next: TrieNode<T>[] = [];
      for (const node of frontier) {
        // '>' needs at least one remaining token: here there are two or more.
        if (node.tail !== null) addResults(node.tail, found);
        const child = node.children?.get(tokens[i]);
        if (child !== undefined) next.push(child);
        if (node.star !== null) next.push(node.star);
      }
      frontier = next;
    }
    let literal = false;
    for (const node of frontier) {
      if (node.tail !== null) addResults(node.tail, found);
      const child = node.children?.get(tokens[last]);
      if (child !== undefined) {
        addResults(child, found);
        literal = true;
      }
      if (node.star !== null) addResults(node.star, found);
    }
    const result: SublistMatch<T> = found.psubs.length === 0 && found.groups === null
      ? EMPTY_MATCH
      : { psubs: found.psubs, qsubs: found.groups === null ? NO_GROUPS : [...found.groups.values()] };
    if (prefix !== null && !literal) {
      if (this.lastTokenCache.size >= LAST_TOKEN_MAX) this.lastTokenCache.clear();
      this.lastTokenCache.set(prefix, { frontier, result });
    }
    return result;
  }

  /** Every subscription, for monitoring and shutdown. */
  all(): T[] {
    const out: T[] = [];
    const walk = (node: TrieNode<T>): void => {
      out.push(...node.psubs);
      if (node.qsubs) for (const group of node.qsubs.values()) out.push(...group);
      if (node.children) for (const child of node.children.values()) walk(child);
      if (node.star) walk(node.star);
      if (node.tail) walk(node.tail);
    };
    walk(this.root);
    return out;
  }

  private childFor(node: TrieNode<T>, token: string): TrieNode<T> {
    if (token === '*') return (node.star ??= new TrieNode<T>());
    if (token === '>') return (node.tail ??= new TrieNode<T>());
    node.children ??= new Map();
    let child = node.children.get(token);
    if (child === undefined) {
      child = new TrieNode<T>();
      node.children.set(token, child);
    }
    return child;
  }

  private childOf(node: TrieNode<T>, token: string): TrieNode<T> | null {
    if (token === '*') return node.star;
    if (token === '>') return node.tail;
    return node.children?.get(token) ?? null;
  }

  private removeFromNode(node: TrieNode<T>, sub: T): boolean {
    if (sub.queue === null) return removeItem(node.psubs, sub);
    const group = node.qsubs?.get(sub.queue);
    if (!group || !removeItem(group, sub)) return false;
    if (group.length === 0) node.qsubs!.delete(sub.queue);
    return true;
  }

  /** Drop empty nodes bottom-up so churned subjects do not leak trie nodes. */
  private prune(path: TrieNode<T>[], tokens: string[]): void {
    for (let i = tokens.length; i > 0; i--) {
      const node = path[i];
      if (!node.isEmpty()) return;
      const parent = path[i - 1];
      const token = tokens[i - 1];
      if (token === '*') parent.star = null;
      else if (token === '>') parent.tail = null;
      else parent.children?.delete(token);
    }
  }

  /**
   * A change to `pattern` can only affect cached subjects it matches. A literal
   * pattern touches one entry; a wildcard scans the (bounded) cache, as nats-server does.
   */
  private invalidate(pattern: string): void {
    this.lastSubject = '';
    this.lastResult = EMPTY_MATCH;
    if (this.lastTokenCache.size > 0) this.lastTokenCache.clear();
    if (this.cache.size === 0) return;
    if (!hasWildcardToken(pattern)) {
      this.cache.delete(pattern);
      return;
    }
    for (const subject of this.cache.keys()) {
      if (subjectMatches(pattern, subject)) this.cache.delete(subject);
    }
  }

  private sweepCache(): void {
    let n = 0;
    for (const key of this.cache.keys()) {
      this.cache.delete(key);
      if (++n >= CACHE_SWEEP) return;
    }
  }
}

/** What a match walk has collected; the queue-group map is made only when a group turns up. */
interface Found<T> {
  readonly psubs: T[];
  groups: Map<string, T[]> | null;
}

function addResults<T extends SublistEntry>(node: TrieNode<T>, found: Found<T>): void {
  for (let i = 0; i < node.psubs.length; i++) found.psubs.push(node.psubs[i]);
  if (node.qsubs === null || node.qsubs.size === 0) return;
  const groups = (found.groups ??= new Map());
  for (const [name, members] of node.qsubs) {
    const existing = groups.get(name);
    if (existing) existing.push(...members);
    else groups.set(name, members.slice());
  }
}

function removeItem<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  // Order within a node does not matter for delivery, so swap-remove in O(1).
  list[i] = list[list.length - 1];
  list.pop();
  return true;
}
