import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubjectMap } from '../../core/subject/subject-map.ts';

describe('subject map', () => {
  it('subject map - a pattern finds the values of every literal subject it matches', () => {
    const m = new SubjectMap<string>();
    for (const s of ['a.b', 'a.c', 'a.b.c', 'x.b', '_INBOX.one', '_INBOX.two.three']) m.add(s, s);
    m.add('a.b', 'second');
    const found = (pattern: string): string[] => m.matching(pattern).sort();
    assert.deepEqual(found('a.b'), ['a.b', 'second']);
    assert.deepEqual(found('a.*'), ['a.b', 'a.c', 'second']);
    assert.deepEqual(found('*.b'), ['a.b', 'second', 'x.b']);
    assert.deepEqual(found('a.>'), ['a.b', 'a.b.c', 'a.c', 'second']);
    assert.deepEqual(found('>'), ['_INBOX.one', '_INBOX.two.three', 'a.b', 'a.b.c', 'a.c', 'second', 'x.b']);
    assert.deepEqual(found('_INBOX.*'), ['_INBOX.one']);
    assert.deepEqual(found('a'), []);
    assert.deepEqual(found('a.b.c.d'), []);
    assert.deepEqual([...m.get('a.b')].sort(), ['a.b', 'second']);
    assert.equal(m.size, 6);
  });

  it('subject map - deleting the last value of a subject forgets it and prunes its branch', () => {
    const m = new SubjectMap<number>();
    m.add('d.1.x', 1);
    m.add('d.1.x', 1);
    m.add('d.1.x', 2);
    m.add('d.2', 3);
    m.delete('d.1.x', 1);
    assert.deepEqual(m.get('d.1.x'), [2]);
    m.delete('d.1.x', 2);
    m.delete('d.1.x', 2);
    m.delete('nope.x', 2);
    assert.deepEqual(m.get('d.1.x'), []);
    assert.deepEqual(m.matching('d.>'), [3]);
    assert.equal(m.size, 1);
    m.add('d.1.x', 4);
    assert.deepEqual(m.matching('d.*.x'), [4]);
  });
});
