// SubjectTransform, by itself: the cases nats-server's subject_transform_test.go
// covers for each function, and the validation a stream create applies.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SubjectTransform, SubjectTransformError } from '../../core/subject/subject-transform.ts';

const apply = (src: string, dest: string, subject: string): string | null => new SubjectTransform(src, dest).apply(subject);

describe('subject transform', () => {
  it('subject transform - $n and wildcard(n) reorder tokens; a subject off the source gives null', () => {
    assert.equal(apply('a.*.*', 'b.$2.{{wildcard(1)}}', 'a.x.y'), 'b.y.x');
    assert.equal(apply('a.*.*', 'b.$2.$1', 'a.x'), null);
    assert.equal(apply('a.*.*', 'b.$2.$1', 'c.x.y'), null);
    assert.equal(apply('a.*.>', 'b.$1.>', 'a.x.y.z'), 'b.x.y.z');
    assert.equal(apply('', '>', 'any.thing'), 'any.thing');
    assert.equal(apply('a', 'b.$x', 'a'), 'b.$x');
  });

  it('subject transform - split, slice, left and right functions', () => {
    assert.equal(apply('*', '{{splitFromLeft(1,3)}}', 'abcdef'), 'abc.def');
    assert.equal(apply('*', '{{splitFromRight(1,2)}}', 'abcdef'), 'abcd.ef');
    assert.equal(apply('*', '{{splitFromLeft(1,9)}}', 'abc'), 'abc');
    assert.equal(apply('*', '{{sliceFromLeft(1,2)}}', 'abcde'), 'ab.cd.e');
    assert.equal(apply('*', '{{sliceFromRight(1,2)}}', 'abcde'), 'a.bc.de');
    assert.equal(apply('*', '{{split(1,-)}}', '-a--b-'), 'a.b');
    assert.equal(apply('*', '{{left(1,2)}}.{{right(1,2)}}', 'abcde'), 'ab.de');
  });

  it('subject transform - partition hashes the chosen tokens with FNV-1a, the whole subject without them', () => {
    const p = (subject: string): string | null => apply('p.*.*', 'x.{{partition(5,1,2)}}', subject);
    assert.equal(p('p.abcd.1234567'), 'x.1');
    assert.equal(p('p.xy.ab'), 'x.2');
    assert.equal(apply('s.*', '{{partition(3)}}', 's.one'), '0');
    const r = Number(apply('a', '{{random(4)}}', 'a'));
    assert.ok(r >= 0 && r < 4);
  });

  it('subject transform - invalid sources and destinations throw with nats-server\'s texts', () => {
    const bad = (src: string, dest: string): string => {
      try {
        SubjectTransform.validate(src, dest);
      } catch (err) {
        assert.ok(err instanceof SubjectTransformError);
        return err.message;
      }
      return 'accepted';
    };
    assert.equal(bad('a.*', 'x.{{nope(1)}}'), 'invalid mapping destination: unknown function in {{nope(1)}}');
    assert.equal(bad('a.*', 'x.$3'), 'invalid mapping destination: wildcard index out of range in $3: [3]');
    assert.equal(bad('a.*', 'x.{{split(1)}}'), 'invalid mapping destination: not enough arguments passed to the function in {{split(1)}}');
    assert.equal(bad('a.*', 'x.{{left(1,2,3)}}'), 'invalid mapping destination: too many arguments passed to the function in {{left(1,2,3)}}');
    assert.equal(bad('a', 'x.{{wildcard(1)}}'), 'invalid mapping destination: wildcard index out of range in {{wildcard(1)}}');
    assert.equal(bad('a.>', 'x'), 'invalid subject');
    assert.equal(bad('a', 'x.{{partition(2)}}'), 'accepted');
  });
});
