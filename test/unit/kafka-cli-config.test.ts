// The Kafka bridge from --kafka-* flags and SWITCHBOARD_KAFKA_* variables, laid
// over the config file's kafka section: client settings replace the file's,
// each --kafka-mapping adds one, TLS files are read, and mistakes name the flag.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../gateways/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'kafka-cli-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function kafkaSection(argv: string[], env: NodeJS.ProcessEnv = {}): unknown {
  const loaded = loadConfig(argv, env);
  assert.equal(loaded.kind, 'config');
  return loaded.kind === 'config' ? loaded.config.sections.kafka : undefined;
}

const outMapping = { name: 'out', direction: 'nats-to-kafka', subject: 'orders.>', topic: 'orders' };
const inMapping = { name: 'in', direction: 'kafka-to-nats', topics: ['payments'], groupId: 'sb', subject: 'kafka.{topic}' };

describe('kafka cli config', () => {
  it('kafka cli config - no Kafka flag and no section: no bridge', () => {
    assert.equal(kafkaSection([]), undefined);
  });

  it('kafka cli config - flags alone make the section', () => {
    assert.deepEqual(kafkaSection(['--kafka-brokers', 'k1:9092, k2:9092', '--kafka-client-id', 'edge', '--kafka-mapping', JSON.stringify(outMapping), '--kafka-mapping', JSON.stringify(inMapping)]), {
      kafka: { brokers: ['k1:9092', 'k2:9092'], clientId: 'edge' },
      mappings: [outMapping, inMapping],
    });
  });

  it('kafka cli config - over a file: client settings replace, mappings add; the environment sits between file and flags', () => {
    const config = file('bridge.json', JSON.stringify({ kafka: { kafka: { brokers: ['file:9092'], clientId: 'from-file', idempotent: false }, mappings: [inMapping] } }));
    const section = kafkaSection(['-c', config, '--kafka-brokers', 'flag:9092', '--kafka-mapping', JSON.stringify(outMapping)], {
      SWITCHBOARD_KAFKA_BROKERS: 'env:9092',
      SWITCHBOARD_KAFKA_CLIENT_ID: 'from-env',
      SWITCHBOARD_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      SWITCHBOARD_KAFKA_SASL_USER: 'bridge',
      SWITCHBOARD_KAFKA_SASL_PASS: 's3cret',
    });
    assert.deepEqual(section, {
      kafka: { brokers: ['flag:9092'], clientId: 'from-env', idempotent: false, sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: 's3cret' } },
      mappings: [inMapping, outMapping],
    });
  });

  it('kafka cli config - TLS: a switch, or certificate files read into the options kafkajs takes', () => {
    assert.deepEqual((kafkaSection(['--kafka-tls']) as { kafka: unknown }).kafka, { ssl: true });
    assert.deepEqual((kafkaSection([], { SWITCHBOARD_KAFKA_TLS: 'true' }) as { kafka: unknown }).kafka, { ssl: true });
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n');
    const cert = file('cert.pem', '-----BEGIN CERTIFICATE-----\ncert\n');
    const key = file('key.pem', '-----BEGIN PRIVATE KEY-----\nkey\n');
    assert.deepEqual((kafkaSection(['--kafka-tls-ca', ca, '--kafka-tls-cert', cert, '--kafka-tls-key', key]) as { kafka: unknown }).kafka, {
      ssl: { ca: '-----BEGIN CERTIFICATE-----\nca\n', cert: '-----BEGIN CERTIFICATE-----\ncert\n', key: '-----BEGIN PRIVATE KEY-----\nkey\n' },
    });
  });

  it('kafka cli config - mistakes name the flag or variable and say what is wrong', () => {
    assert.throws(() => loadConfig(['--kafka-mapping', 'orders->kafka'], {}), /command line: invalid "--kafka-mapping": is not JSON/);
    assert.throws(() => loadConfig(['--kafka-mapping', JSON.stringify(outMapping), '--kafka-mapping', '[]'], {}), /invalid "--kafka-mapping": must be one mapping as a JSON object \(the 2nd of 2\)/);
    assert.throws(() => loadConfig(['--kafka-tls-ca', join(dir, 'absent.pem')], {}), /invalid "--kafka-tls-ca": cannot read .*ENOENT/);
    assert.throws(() => loadConfig(['--kafka-tls-cert', file('only-cert.pem', 'x')], {}), /invalid "--kafka-tls-cert": a client certificate needs both/);
    assert.throws(() => loadConfig([], { SWITCHBOARD_KAFKA_CLIENT_ID: ' ' }), /environment: invalid "SWITCHBOARD_KAFKA_CLIENT_ID": must be a non-empty string/);
    assert.throws(() => loadConfig(['-c', file('scalar.json', '{"kafka": 5}'), '--kafka-brokers', 'h:1'], {}), /invalid "kafka": must be an object/);
  });
});
