// NATS message -> Kafka record under a mapping's templates. Topic and key are
// worked out once per subject when no template reads a header; these cases pin
// that down: the same subject gives the same topic and key, other subjects and
// header-driven keys are rendered for each message, bad topics are refused.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerMessage } from '../../core/broker/broker.ts';
import { MessageHeaders } from '../../core/protocol/headers.ts';
import { KafkaMappingError } from '../../connectors/kafka/errors.ts';
import { KafkaRecordBuilder, type OutgoingRecord } from '../../connectors/kafka/kafka-writer.ts';

function message(subject: string, headers: MessageHeaders | null = null): BrokerMessage {
  return { subject, reply: null, headers, data: Buffer.from(`body of ${subject}`) };
}

function built(builder: KafkaRecordBuilder, m: BrokerMessage): OutgoingRecord {
  const record = builder.build(m);
  assert.ok(!(record instanceof KafkaMappingError), String(record));
  return record;
}

describe('kafka record builder', () => {
  it('kafka record builder - subject tokens give topic and key, the same for every message of a subject', () => {
    const builder = new KafkaRecordBuilder({ name: 'm', subject: 'sensors.*.*', topic: 'sensors-{2}', key: '{3}' });
    for (let i = 0; i < 3; i++) {
      for (const [subject, topic, key] of [['sensors.line1.t7', 'sensors-line1', 't7'], ['sensors.line2.t%2E8', 'sensors-line2', 't.8']]) {
        const record = built(builder, message(subject));
        assert.equal(record.topic, topic);
        assert.equal(record.message.key?.toString(), key);
        assert.equal(record.message.value?.toString(), `body of ${subject}`, 'the body is each message\'s own');
      }
    }
  });

  it('kafka record builder - a key from a header is rendered for each message, even on one subject', () => {
    const builder = new KafkaRecordBuilder({ name: 'm', subject: 'orders', topic: 'orders', key: '{header:Customer}' });
    const keys = ['c1', 'c2', 'c1'].map((customer) => built(builder, message('orders', new MessageHeaders().append('Customer', customer))).message.key?.toString());
    assert.deepEqual(keys, ['c1', 'c2', 'c1']);
    assert.equal(built(builder, message('orders')).message.key, null, 'no header: a null key');
  });

  it('kafka record builder - without a key template the key a message brought from Kafka is kept', () => {
    const builder = new KafkaRecordBuilder({ name: 'm', subject: 'back.>', topic: 'back' });
    assert.equal(built(builder, message('back.x', new MessageHeaders().append('Kafka-Key', 'k-1'))).message.key?.toString(), 'k-1');
    assert.equal(built(builder, message('back.x', new MessageHeaders().append('Kafka-Key', 'k-2'))).message.key?.toString(), 'k-2');
    assert.equal(built(builder, message('back.x')).message.key, null);
  });

  it('kafka record builder - a subject that gives no legal topic is refused every time, naming the subject', () => {
    const builder = new KafkaRecordBuilder({ name: 'bad-topics', subject: 'in.*', topic: '{2}' });
    for (let i = 0; i < 2; i++) {
      const record = builder.build(message('in.a%20b'));
      assert.ok(record instanceof KafkaMappingError);
      assert.match(record.message, /"bad-topics".*subject "in\.a%20b" gives no valid Kafka topic \("a b"\)/);
    }
    assert.equal(built(builder, message('in.fine')).topic, 'fine');
  });

  it('kafka record builder - many distinct subjects (past the remembered ones) still map correctly', () => {
    const builder = new KafkaRecordBuilder({ name: 'm', subject: 'd.*', topic: 'devices', key: '{2}' });
    for (let i = 0; i < 25_000; i += 7) assert.equal(built(builder, message(`d.dev${i}`)).message.key?.toString(), `dev${i}`);
    assert.equal(built(builder, message('d.dev7')).message.key?.toString(), 'dev7');
  });
});
