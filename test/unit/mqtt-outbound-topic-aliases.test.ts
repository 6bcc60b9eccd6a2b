// The per-connection table of topic aliases the server sends (MQTT 5 §3.3.2.3.4).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutboundTopicAliases } from '../../gateways/mqtt/outbound-topic-aliases.ts';

/** Send `topic` through the table as the client does: choose, then use. */
function send(aliases: OutboundTopicAliases, topic: string): string {
  const choice = aliases.choose(topic);
  aliases.use(topic, choice);
  return `${choice.known ? '' : topic}#${choice.alias}`;
}

describe('mqtt outbound topic aliases', () => {
  it('mqtt - the first PUBLISH of a topic carries topic and alias, later ones the alias alone', () => {
    const aliases = new OutboundTopicAliases(3);
    assert.deepEqual(['a', 'b', 'a', 'b', 'c', 'c'].map((t) => send(aliases, t)), ['a#1', 'b#2', '#1', '#2', 'c#3', '#3']);
  });

  it('mqtt - choose() alone changes nothing (a PUBLISH too large for the client is not sent)', () => {
    const aliases = new OutboundTopicAliases(1);
    assert.deepEqual(aliases.choose('a'), { alias: 1, known: false });
    assert.deepEqual(aliases.choose('a'), { alias: 1, known: false });
    assert.equal(aliases.size, 0);
  });

  it('mqtt - when all are taken the least recently used alias is re-mapped, never one above the maximum', () => {
    const aliases = new OutboundTopicAliases(2);
    // a=1, b=2; a used again, so b is the least recently used and c takes its alias.
    assert.deepEqual(['a', 'b', 'a', 'c', 'a', 'b', 'c'].map((t) => send(aliases, t)), ['a#1', 'b#2', '#1', 'c#2', '#1', 'b#2', 'c#1']);
    assert.equal(aliases.size, 2);
    for (let i = 0; i < 100; i++) assert.ok(aliases.choose(`t${i}`).alias <= 2); // [MQTT-3.3.2-11]
  });

  it('mqtt - a maximum outside 1..65535 is refused', () => {
    assert.throws(() => new OutboundTopicAliases(0), RangeError);
    assert.throws(() => new OutboundTopicAliases(65536), RangeError);
  });
});
