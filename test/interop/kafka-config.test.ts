// Kafka bridge configuration: every mistake is refused up front with an error
// that names the key path and the mapping; an unreachable cluster is reported
// (naming the waiting mappings) only when asked, and otherwise never stops start().

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateKafkaBridgeConfig } from '../../connectors/kafka/config.ts';
import { KafkaConfigError, KafkaUnreachableError } from '../../connectors/kafka/errors.ts';
import { createKafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import { kafkaBridgeFamilies } from '../../connectors/kafka/metrics-text.ts';
import { prometheusText } from '../../core/server/monitoring/prometheus-text.ts';
import { escapeSubjectToken, unescapeSubjectToken } from '../../connectors/kafka/subject-token.ts';
import { freePort, startSwitchboard } from '../helpers/servers.ts';

const kafka = { brokers: ['127.0.0.1:9092'] };
const inbound = { name: 'orders-in', direction: 'kafka-to-nats', topics: ['orders'], groupId: 'g', subject: 'kafka.{topic}.{key}' };
const outbound = { name: 'orders-out', direction: 'nats-to-kafka', subject: 'orders.*', topic: 'orders-{2}' };

function rejects(config: unknown, path: RegExp, mapping: string | null): void {
  assert.throws(
    () => validateKafkaBridgeConfig(config),
    (error: unknown) => {
      assert.ok(error instanceof KafkaConfigError, String(error));
      assert.match(error.path, path);
      assert.equal(error.mapping, mapping);
      if (mapping !== null) assert.match(error.message, new RegExp(`mapping "${mapping}"`));
      return true;
    },
  );
}

describe('kafka bridge config', () => {
  it('kafka config - a valid configuration passes through unchanged', () => {
    const config = validateKafkaBridgeConfig({ kafka: { ...kafka, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, ssl: true }, mappings: [inbound, outbound] });
    assert.equal(config.mappings.length, 2);
    assert.equal(config.kafka.sasl?.mechanism, 'scram-sha-512');
  });

  it('kafka config - unknown keys are refused, naming the path and the mapping', () => {
    rejects({ kafka, mappings: [{ ...inbound, topik: 'x' }] }, /^mappings\[0\]\.topik$/, 'orders-in');
    rejects({ kafka: { ...kafka, bootstrap: 'x' }, mappings: [] }, /^kafka\.bootstrap$/, null);
    rejects({ kafka, mappings: [], extra: 1 }, /extra$/, null);
    rejects({ kafka: { ...kafka, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, mappings: [] }, /^kafka\.sasl\.mechanism$/, null);
  });

  it('kafka config - bad templates are refused: unknown placeholder, unmatched brace, missing token, illegal topic characters', () => {
    rejects({ kafka, mappings: [{ ...inbound, subject: 'kafka.{tpoic}' }] }, /subject$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, subject: 'kafka.{topic' }] }, /subject$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, subject: 'kafka..{topic}' }] }, /subject$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, subject: 'kafka.{1}' }] }, /subject$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...outbound, topic: 'orders-{3}' }] }, /topic$/, 'orders-out');
    rejects({ kafka, mappings: [{ ...outbound, topic: 'orders/{2}' }] }, /topic$/, 'orders-out');
    rejects({ kafka, mappings: [{ ...outbound, key: '{topic}' }] }, /key$/, 'orders-out');
    rejects({ kafka, mappings: [{ ...outbound, subject: 'orders. x' }] }, /subject$/, 'orders-out');
  });

  it('kafka config - missing fields, duplicate names, bad regex, bad direction and brokers', () => {
    rejects({ kafka, mappings: [{ ...inbound, groupId: undefined }] }, /groupId$/, 'orders-in');
    rejects({ kafka, mappings: [inbound, inbound] }, /name$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, topics: ['/orders[/'] }] }, /topics\[0\]$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, direction: 'sideways' }] }, /direction$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...inbound, start: 'middle' }] }, /start$/, 'orders-in');
    rejects({ kafka, mappings: [{ ...outbound, consumer: 'c' }] }, /consumer$/, 'orders-out');
    rejects({ kafka, mappings: [{ ...outbound, stream: 'ORDERS', queue: 'q' }] }, /queue$/, 'orders-out');
    rejects({ kafka, mappings: [{ ...outbound, stream: 'OR.DERS' }] }, /stream$/, 'orders-out');
    const js = validateKafkaBridgeConfig({ kafka, mappings: [{ ...outbound, stream: 'ORDERS' }] }).mappings[0];
    assert.equal(js.direction === 'nats-to-kafka' ? js.consumer : null, 'kafka-orders-out', 'a default durable name');
    rejects({ kafka: { brokers: ['localhost'] }, mappings: [] }, /^kafka\.brokers\[0\]$/, null);
    rejects({ kafka: { brokers: [] }, mappings: [] }, /^kafka\.brokers$/, null);
  });

  it('kafka config - the subject token escape rule is reversible', () => {
    for (const value of ['plain', 'a.b', 'with space', '*', '>', '100%', 'ä/ö', 'tab\there', '%41']) {
      const token = escapeSubjectToken(value);
      assert.doesNotMatch(token, /[.\s]/);
      assert.notEqual(token, '*');
      assert.notEqual(token, '>');
      assert.equal(unescapeSubjectToken(token), value);
    }
    assert.equal(escapeSubjectToken(null), '%');
    assert.equal(escapeSubjectToken('a.b c'), 'a%2Eb%20c');
  });

  it('kafka config - unreachable brokers: start() waits in the background; requireReachable names the mappings', async () => {
    const switchboard = await startSwitchboard();
    const broker = switchboard.broker;
    const dead = `127.0.0.1:${await freePort()}`;
    const logged: Array<{ level: string; message: string }> = [];
    const bridge = createKafkaBridge({
      broker,
      kafka: { brokers: [dead], connectionTimeoutMs: 300 },
      mappings: [inbound, outbound] as never,
      logLevel: 'error',
      logger: (entry) => void logged.push(entry),
    });
    try {
      await assert.rejects(bridge.start({ requireReachable: true, timeoutMs: 2_000 }), (error: unknown) => {
        assert.ok(error instanceof KafkaUnreachableError);
        assert.match(error.message, /"orders-in".*"orders-out"/);
        assert.match(error.message, new RegExp(dead));
        return true;
      });
      await bridge.start();
      const deadline = Date.now() + 10_000;
      while (bridge.metrics().mappings.some((m) => m.errors === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const m of bridge.metrics().mappings) {
        assert.notEqual(m.state, 'running');
        assert.ok(m.errors > 0, `${m.name} counts the failures`);
        assert.ok(m.lastError !== null && m.lastError.message.includes(`"${m.name}"`), m.lastError?.message);
      }
      assert.ok(logged.length > 0 && logged.every((e) => e.level === 'error'), 'kafkajs errors reach the given logger');
      // The rest of the server is unaffected.
      await broker.publish('still.alive', Buffer.from('x'));
      const text = prometheusText(kafkaBridgeFamilies(bridge.metrics()));
      assert.match(text, /^switchboard_kafka_bridge_up\{mapping="orders-in",direction="kafka-to-nats"\} 0$/m);
      assert.match(text, /^switchboard_kafka_bridge_errors_total\{mapping="orders-out",direction="nats-to-kafka"\} [1-9][0-9]*$/m);
      assert.match(text, /^# TYPE switchboard_kafka_bridge_messages_total counter$/m);
    } finally {
      await bridge.stop();
      await broker.close();
      await switchboard.stop();
    }
  });
});
