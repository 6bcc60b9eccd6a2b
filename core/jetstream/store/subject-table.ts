// The message index's interned subjects: one id per distinct subject with its
// live count and first and last sequence, so per-subject questions (KV last
// value, num_pending on a literal filter) need no scan of the slots.

import { subjectMatches } from '../../subject/subject.ts';
import { growF64, growU32 } from './grow-array.ts';

const NONE = 0;
/** Flags of a subject: its first (or last) sequence is only a bound, resolved by MessageIndex on demand. */
export const FIRST_STALE = 1;
export const LAST_STALE = 2;

/** Interned subjects. Id 0 means "no message" in the index. */
export class SubjectTable {
  private readonly ids = new Map<string, number>();
  private names: Array<string | undefined> = [undefined];
  private free: number[] = [];
  count = new Uint32Array(16);
  first = new Float64Array(16);
  last = new Float64Array(16);
  /** FIRST_STALE / LAST_STALE: first/last is only a bound and must be rescanned. */
  flags = new Uint8Array(16);
  size = 0;
  /** Per wildcard filter, per subject id: 0 unknown, 1 matches, 2 does not. */
  private readonly memos = new Map<string, Uint8Array>();

  idOf(subject: string): number {
    return this.ids.get(subject) ?? 0;
  }

  name(id: number): string {
    return this.names[id] as string;
  }

  /** Count one more message on subject at seq (seq is the newest). */
  add(subject: string, seq: number): number {
    let id = this.ids.get(subject);
    if (id === undefined) {
      id = this.free.pop() ?? this.names.length;
      if (id === this.names.length) this.names.push(subject);
      else this.names[id] = subject;
      this.ids.set(subject, id);
      this.ensure(id + 1);
      for (const memo of this.memos.values()) if (id < memo.length) memo[id] = 0;
      this.count[id] = 0;
      this.flags[id] = NONE;
      this.size++;
    }
    if (this.count[id] === 0) this.first[id] = seq;
    this.count[id]++;
    this.last[id] = seq;
    this.flags[id] &= ~LAST_STALE;
    return id;
  }

  /**
   * A removed message at seq is back (a rollback undid the publish that
   * removed it): seq may be older than the subject's first or newer than its last.
   */
  restore(subject: string, seq: number): number {
    const id = this.ids.get(subject);
    if (id === undefined) return this.add(subject, seq);
    this.count[id]++;
    // A stale first is a lower bound and a stale last an upper one: beyond them, seq is exact.
    if (seq < this.first[id]) {
      this.first[id] = seq;
      this.flags[id] &= ~FIRST_STALE;
    }
    if (seq > this.last[id]) {
      this.last[id] = seq;
      this.flags[id] &= ~LAST_STALE;
    }
    return id;
  }

  /** One message of subject id at seq went away. */
  removeOne(id: number, seq: number): void {
    const n = --this.count[id];
    if (n === 0) {
      this.ids.delete(this.names[id] as string);
      this.names[id] = undefined;
      this.free.push(id);
      this.size--;
      return;
    }
    if (seq === this.first[id]) this.flags[id] |= FIRST_STALE;
    if (seq === this.last[id]) this.flags[id] |= LAST_STALE;
  }

  /** Does subject id match the wildcard filter? Remembered per filter (consumers ask per message). */
  matches(filter: string, id: number): boolean {
    let memo = this.memos.get(filter);
    if (memo === undefined || id >= memo.length) {
      if (memo === undefined && this.memos.size >= 64) this.memos.clear();
      const grown = new Uint8Array(Math.max(this.count.length, id + 1));
      if (memo !== undefined) grown.set(memo);
      memo = grown;
      this.memos.set(filter, memo);
    }
    let v = memo[id];
    if (v === 0) {
      v = subjectMatches(filter, this.names[id] as string) ? 1 : 2;
      memo[id] = v;
    }
    return v === 1;
  }

  /** Ids of live subjects matching filter (all when filter is null). */
  matching(filter: string | null): number[] {
    const out: number[] = [];
    if (filter === null) {
      for (const id of this.ids.values()) out.push(id);
    } else if (isLiteral(filter)) {
      const id = this.ids.get(filter);
      if (id !== undefined) out.push(id);
    } else {
      for (const [name, id] of this.ids) if (subjectMatches(filter, name)) out.push(id);
    }
    return out;
  }

  entries(): IterableIterator<[string, number]> {
    return this.ids.entries();
  }

  clear(): void {
    this.ids.clear();
    this.names = [undefined];
    this.free = [];
    this.size = 0;
  }

  private ensure(n: number): void {
    if (n <= this.count.length) return;
    const cap = Math.max(n, this.count.length * 2);
    this.count = growU32(this.count, cap);
    this.first = growF64(this.first, cap);
    this.last = growF64(this.last, cap);
    const f = new Uint8Array(cap);
    f.set(this.flags);
    this.flags = f;
  }
}

export function isLiteral(subject: string): boolean {
  return !subject.includes('*') && !subject.includes('>');
}

/** Normalise a filter: '', '>' and undefined all mean every subject. */
export function normaliseFilter(filter: string | null | undefined): string | null {
  return filter === undefined || filter === null || filter === '' || filter === '>' ? null : filter;
}
