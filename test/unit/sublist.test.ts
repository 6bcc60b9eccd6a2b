import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sublist } from '../../core/subject/sublist.ts';
import {
  isValidPublishSubject,
  isValidSubscriptionSubject,
  subjectIsSubsetOf,
  subjectMatches,
  subjectsOverlap,
} from '../../core/subject/subject.ts';

interface Entry {
  subject: string;
  queue: string | null;
  id: string;
}

function entry(subject: string, id = subject, queue: string | null = null): Entry {
  return { subject, queue, id };
}

function ids(list: readonly Entry[]): string[] {
  return list.map((e) => e.id).sort();
}

describe('subjects', () => {
  it('subject - validity for subscriptions and publishes', () => {
    for (const ok of ['a', 'a.b', 'a.*', '*', '>', 'a.>', 'a*b', '$JS.API.>', 'ü.ñ']) assert.ok(isValidSubscriptionSubject(ok), ok);
    for (const bad of ['', '.', 'a.', '.a', 'a..b', '>.a', 'a.>.b', 'a b', 'a\tb', 'a\r']) assert.ok(!isValidSubscriptionSubject(bad), bad);
    assert.ok(isValidPublishSubject('a.b'));
    assert.ok(isValidPublishSubject('a*b.c>'));
    for (const bad of ['a.*', '>', 'a.>', '*']) assert.ok(!isValidPublishSubject(bad), bad);
  });

  it('subject - pattern matching', () => {
    const cases: Array<[string, string, boolean]> = [
      ['a.b', 'a.b', true], ['a.*', 'a.b', true], ['a.*', 'a', false], ['a.*', 'a.b.c', false],
      ['a.>', 'a.b.c', true], ['a.>', 'a', false], ['>', 'a', true], ['*.b', 'a.b', true], ['a.b', 'a.bc', false],
    ];
    for (const [p, s, want] of cases) assert.equal(subjectMatches(p, s), want, `${p} ~ ${s}`);
  });

  it('subject - overlap and subset', () => {
    assert.ok(subjectsOverlap('a.*', 'a.b'));
    assert.ok(subjectsOverlap('a.>', '*.b.c'));
    assert.ok(!subjectsOverlap('a.*', 'a.b.c'));
    assert.ok(!subjectsOverlap('a.b', 'a.c'));
    assert.ok(subjectIsSubsetOf('a.b', 'a.*'));
    assert.ok(subjectIsSubsetOf('a.*.c', 'a.>'));
    assert.ok(!subjectIsSubsetOf('a.>', 'a.*'));
    assert.ok(!subjectIsSubsetOf('a', 'a.>'));
  });
});

describe('sublist', () => {
  it('sublist - literal, * and > matches', () => {
    const s = new Sublist<Entry>();
    for (const subject of ['foo.bar', 'foo.*', 'foo.>', '*.bar', '>', 'foo', 'foo.bar.baz']) s.insert(entry(subject));
    assert.deepEqual(ids(s.match('foo.bar').psubs), ['*.bar', '>', 'foo.*', 'foo.>', 'foo.bar']);
    assert.deepEqual(ids(s.match('foo').psubs), ['>', 'foo']);
    assert.deepEqual(ids(s.match('foo.bar.baz').psubs), ['>', 'foo.>', 'foo.bar.baz']);
    assert.deepEqual(ids(s.match('x.y').psubs), ['>']);
    assert.equal(s.count, 7);
  });

  it('sublist - queue groups are merged by name across matching nodes', () => {
    const s = new Sublist<Entry>();
    s.insert(entry('a.b', 'q1', 'g'));
    s.insert(entry('a.*', 'q2', 'g'));
    s.insert(entry('a.>', 'h1', 'h'));
    const m = s.match('a.b');
    assert.equal(m.psubs.length, 0);
    const groups = m.qsubs.map((g) => ids(g)).sort();
    assert.deepEqual(groups, [['h1'], ['q1', 'q2']]);
  });

  it('sublist - the cache follows inserts and removals, including wildcards', () => {
    const s = new Sublist<Entry>();
    // Matched twice each time: the second sighting is what puts a subject in the cache.
    const matched = (subject: string): string[] => {
      s.match(subject);
      return ids(s.match(subject).psubs);
    };
    const a = entry('a.b', 'a');
    s.insert(a);
    assert.deepEqual(matched('a.b'), ['a']);
    assert.equal(s.stats().cache, 1);
    const w = entry('a.*', 'w');
    s.insert(w);
    assert.deepEqual(matched('a.b'), ['a', 'w']);
    assert.ok(s.remove(a));
    assert.deepEqual(matched('a.b'), ['w']);
    assert.ok(s.remove(w));
    assert.deepEqual(matched('a.b'), []);
    assert.ok(!s.remove(w), 'second removal reports absence');
    assert.equal(s.count, 0);
  });

  it('sublist - a subject matched again and again sees every insert and removal at once', () => {
    const s = new Sublist<Entry>();
    const a = entry('x.y', 'a');
    s.insert(a);
    for (let i = 0; i < 3; i++) assert.deepEqual(ids(s.match('x.y').psubs), ['a']);
    const w = entry('x.>', 'w');
    s.insert(w);
    assert.deepEqual(ids(s.match('x.y').psubs), ['a', 'w']);
    assert.deepEqual(ids(s.match('x.y').psubs), ['a', 'w']);
    assert.ok(s.remove(a));
    assert.deepEqual(ids(s.match('x.y').psubs), ['w']);
    assert.deepEqual(ids(s.match('x.z').psubs), ['w']);
    assert.deepEqual(ids(s.match('x.y').psubs), ['w']);
    assert.equal(s.stats().matches, 8);
  });

  it('sublist - a result snapshot is unaffected by later removals', () => {
    const s = new Sublist<Entry>();
    const a = entry('x', 'a');
    const b = entry('x', 'b');
    s.insert(a);
    s.insert(b);
    const snapshot = s.match('x');
    s.remove(a);
    assert.deepEqual(ids(snapshot.psubs), ['a', 'b']);
    assert.deepEqual(ids(s.match('x').psubs), ['b']);
  });

  it('sublist - empty nodes are pruned after churn', () => {
    const s = new Sublist<Entry>();
    for (let i = 0; i < 1000; i++) {
      const e = entry(`inbox.${i}.reply`);
      s.insert(e);
      s.remove(e);
    }
    assert.equal(s.all().length, 0);
    assert.equal(s.count, 0);
  });

  it('sublist - the cache stays bounded under many distinct subjects', () => {
    const s = new Sublist<Entry>();
    s.insert(entry('>', 'all'));
    for (let i = 0; i < 5000; i++) {
      assert.equal(s.match(`s.${i}`).psubs.length, 1);
      assert.equal(s.match(`s.${i}`).psubs.length, 1);
    }
    assert.ok(s.stats().cache <= 1024);
  });

  it('sublist - subjects seen once (replies, acks) are not cached and do not evict repeated ones', () => {
    const s = new Sublist<Entry>();
    s.insert(entry('svc.*', 'svc'));
    s.insert(entry('_INBOX.c.*', 'inbox'));
    const hot = Array.from({ length: 500 }, (_, i) => `svc.${i}`);
    for (const subject of [...hot, ...hot]) s.match(subject);
    assert.equal(s.stats().cache, 500);
    const hits = s.stats().cacheHits;
    for (let n = 0; n < 20_000; n++) {
      assert.deepEqual(ids(s.match(`_INBOX.c.${n}`).psubs), ['inbox']);
      assert.deepEqual(ids(s.match(hot[n % hot.length]).psubs), ['svc']);
    }
    assert.equal(s.stats().cache, 500);
    assert.equal(s.stats().cacheHits - hits, 20_000, 'every repeated subject was answered from the cache');
  });

  it('sublist - matches agree with subjectMatches over random subscriptions, publishes and removals', () => {
    // A seeded generator, so a failure repeats.
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const literal = ['a', 'b', 'c', 'r1', 'r2', 'r3'];
    const pattern = (): string => {
      const n = 1 + rnd(3);
      return Array.from({ length: n }, (_, i) => token(i === n - 1)).join('.');
    };
    const token = (last: boolean): string => {
      const k = rnd(10);
      if (k === 0 && last) return '>';
      if (k <= 2) return '*';
      return literal[rnd(literal.length)];
    };
    const subject = (): string => Array.from({ length: 1 + rnd(3) }, () => literal[rnd(literal.length)]).join('.');
    const s = new Sublist<Entry>();
    const live: Entry[] = [];
    for (let step = 0; step < 4000; step++) {
      const op = rnd(10);
      if (op === 0 && live.length > 0) {
        const [gone] = live.splice(rnd(live.length), 1);
        assert.ok(s.remove(gone));
      } else if (op <= 2) {
        const e = entry(pattern(), `s${step}`, rnd(4) === 0 ? 'q' : null);
        s.insert(e);
        live.push(e);
      } else {
        const subj = subject();
        const m = s.match(subj);
        const got = [...ids(m.psubs), ...m.qsubs.flatMap((g) => ids(g))].sort();
        const want = live.filter((e) => subjectMatches(e.subject, subj)).map((e) => e.id).sort();
        assert.deepEqual(got, want, `match ${subj} at step ${step}`);
      }
    }
  });
});
