// Topic <-> subject mapping: every valid topic round-trips exactly, mapped
// subjects are valid NATS subjects, filters map to the right subscriptions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidPublishSubject, isValidSubscriptionSubject, subjectMatches } from '../../core/subject/subject.ts';
import {
  filterToSubjects,
  isValidTopicFilter,
  isValidTopicName,
  parseSharedFilter,
  subjectToTopic,
  topicMatchesFilter,
  topicToSubject,
} from '../../gateways/mqtt/topic-mapping.ts';

/** A deterministic pseudo-random generator, so failures reproduce. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const ALPHABET = ['a', 'b', '/', '.', ' ', '%', '*', '>', '$', '\t', 'é', '2', 'E', '%2E', '\n'];

describe('mqtt topic mapping', () => {
  it('mqtt - fixed examples map as documented', () => {
    assert.equal(topicToSubject('a/b/c'), 'a.b.c');
    assert.equal(topicToSubject('a.b/c d'), 'a%2Eb.c%20d');
    assert.equal(topicToSubject('/lead'), '%.lead');
    assert.equal(topicToSubject('trail/'), 'trail.%');
    assert.equal(topicToSubject('x//y'), 'x.%.y');
    assert.equal(topicToSubject('100%'), '100%25');
    assert.equal(topicToSubject('*/>/a*'), '%2A.%3E.a*');
    assert.equal(topicToSubject('$SYS/broker'), '$SYS.broker');
    assert.deepEqual(filterToSubjects('a/+/c'), ['a.*.c']);
    assert.deepEqual(filterToSubjects('a/#'), ['a.>', 'a']);
    assert.deepEqual(filterToSubjects('#'), ['>']);
    assert.deepEqual(filterToSubjects('+/x/#'), ['*.x.>', '*.x']);
  });

  it('mqtt - 20,000 random topics round-trip exactly and map to valid subjects', () => {
    const rnd = lcg(42);
    for (let n = 0; n < 20_000; n++) {
      const len = 1 + Math.floor(rnd() * 12);
      let topic = '';
      for (let i = 0; i < len; i++) topic += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
      if (!isValidTopicName(topic)) continue;
      const subject = topicToSubject(topic);
      assert.ok(isValidPublishSubject(subject), `${JSON.stringify(topic)} -> invalid subject ${JSON.stringify(subject)}`);
      assert.equal(subjectToTopic(subject), topic);
    }
  });

  it('mqtt - a topic matches a filter exactly when its subject matches one of the filter subjects', () => {
    const topics = ['a', 'a/b', 'a/b/c', 'a/', '/a', 'a.b', 'x/a', '$s/a', 'a//c'];
    const filters = ['a', 'a/+', 'a/#', '+/a', '#', '+', 'a/+/c', '+/+', 'a.b', '/+', 'a//c'];
    for (const filter of filters) {
      assert.ok(isValidTopicFilter(filter), filter);
      const subjects = filterToSubjects(filter);
      for (const s of subjects) assert.ok(isValidSubscriptionSubject(s), s);
      for (const topic of topics) {
        const viaSubjects = subjects.some((s) => subjectMatches(s, topicToSubject(topic)));
        // The '$' rule is applied by the gateway on delivery, not by the subjects.
        const expected = topicMatchesFilter(filter, topic) || (topic.startsWith('$') && viaSubjects && /^[+#]/.test(filter));
        assert.equal(viaSubjects, expected, `${filter} vs ${topic}`);
      }
    }
  });

  it('mqtt - a subject token with / + # stays one topic level, by the %XX escape, and maps back', () => {
    assert.equal(subjectToTopic('nx.a/b'), 'nx/a%2Fb');
    assert.equal(subjectToTopic('nx.a+b'), 'nx/a%2Bb');
    assert.equal(subjectToTopic('nx.#.c'), 'nx/%23/c');
    assert.equal(subjectToTopic('nx.a\u0000b'), 'nx/a%00b');
    assert.equal(topicToSubject('nx/a%2Fb'), 'nx.a/b'); // an MQTT client can publish (reply) to that subject
    assert.equal(topicToSubject('nx/a%2fb'), 'nx.a%252fb'); // only the upper-case escapes the reverse map writes
    assert.equal(subjectToTopic('nx.a%2Fb'), 'nx/a%2Fb'); // a foreign escape of '/' does not become a level either
    const rnd = lcg(7);
    const parts = ['a', '/', '+', '#', '%', '2F', 'x', '\u0000', 'é'];
    for (let n = 0; n < 5_000; n++) {
      const tokens: string[] = [];
      const count = 1 + Math.floor(rnd() * 4);
      for (let t = 0; t < count; t++) {
        let token = '';
        for (let i = 0, len = 1 + Math.floor(rnd() * 5); i < len; i++) token += parts[Math.floor(rnd() * parts.length)];
        tokens.push(token);
      }
      const subject = tokens.join('.');
      const topic = subjectToTopic(subject);
      assert.ok(isValidTopicName(topic), `${JSON.stringify(subject)} -> illegal topic ${JSON.stringify(topic)}`); // [MQTT-4.7.1-1] [MQTT-4.7.3-2]
      assert.equal(topic.split('/').length, tokens.length, `${JSON.stringify(subject)} -> ${JSON.stringify(topic)}`);
      // Each filter matches the topic exactly when its subject matches the subject.
      const literal = /%|\u0000/.test(subject) ? [] : [`${topic.split('/')[0]}/+`]; // a foreign '%' or NUL is not what a filter's escape makes
      for (const filter of ['+', '+/+', '#', ...literal]) {
        assert.equal(topicMatchesFilter(filter, topic), filterToSubjects(filter).some((s) => subjectMatches(s, subject)), `${filter} vs ${subject}`);
      }
      // Back to the same subject, unless the subject itself held a '%' escape or NUL.
      if (!/%|\u0000/.test(subject)) assert.equal(topicToSubject(topic), subject);
    }
  });

  it('mqtt - invalid filters and topics are recognised', () => {
    for (const f of ['a/#/b', 'a#', 'a/b+', '', '+a', '#/']) assert.equal(isValidTopicFilter(f), false, f);
    for (const t of ['a/+', 'a/#', '', 'a\u0000b']) assert.equal(isValidTopicName(t), false, t);
  });

  it('mqtt - $share/<group>/<filter> parses; malformed shares throw', () => {
    assert.deepEqual(parseSharedFilter('$share/g1/a/+/c'), { group: 'g1', filter: 'a/+/c' });
    assert.equal(parseSharedFilter('a/b'), null);
    for (const bad of ['$share/g', '$share//a', '$share/g+/a', '$share/g/a/#/b']) assert.throws(() => parseSharedFilter(bad), bad);
  });
});
