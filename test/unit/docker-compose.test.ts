// docker-compose.yml cannot run here (no Docker engine), so this checks what
// can be checked: the file parses, each profile has its services, and the
// gateways' command lines and Kafka bridge config load with Switchboard's own
// validators, in cluster mode with three stream replicas.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig, parseSections } from '../../gateways/registry.ts';
import { PROJECT_ROOT } from '../helpers/servers.ts';

interface Service {
  profiles?: string[];
  command?: string | string[];
  image?: string;
}

const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
};

const inProfile = (profile: string): string[] => Object.entries(compose.services).filter(([, s]) => s.profiles?.includes(profile)).map(([name]) => name);

describe('docker-compose.yml', () => {
  it('compose - an embedded profile with one process and a cluster profile with 3 NATS nodes, Kafka and two gateways', () => {
    assert.deepEqual(inProfile('embedded'), ['switchboard']);
    assert.deepEqual(inProfile('cluster').sort(), ['deps', 'gateway-1', 'gateway-2', 'kafka', 'nats-1', 'nats-2', 'nats-3']);
    for (const node of ['nats-1', 'nats-2', 'nats-3']) {
      const args = compose.services[node].command as string[];
      assert.ok(args.includes('-js') && args.includes('--cluster_name') && args.includes('--routes'), node);
      assert.equal(args[args.indexOf('--name') + 1], node);
    }
    assert.match(compose.services.kafka.image ?? '', /^apache\/kafka:/);
  });

  it('compose - each gateway command loads as cluster mode with 3 replicas and the Kafka bridge', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    try {
      const bridgeFile = join(dir, 'kafka-bridge.yaml');
      writeFileSync(bridgeFile, compose.configs['kafka-bridge'].content);
      for (const name of ['gateway-1', 'gateway-2']) {
        const [, , , ...argv] = String(compose.services[name].command).split(/\s+/);
        const loaded = loadConfig(argv.map((a) => (a === '/etc/switchboard/kafka-bridge.yaml' ? bridgeFile : a)), {});
        assert.equal(loaded.kind, 'config');
        if (loaded.kind !== 'config') return;
        assert.deepEqual(loaded.config.cluster, { servers: ['nats://nats-1:4222', 'nats://nats-2:4222', 'nats://nats-3:4222'], streamReplicas: 3 });
        assert.equal(loaded.config.server.serverName, name);
        const gateways = parseSections(loaded.config.sections, loaded.config.server.host);
        assert.equal(gateways.mqtt.host, '0.0.0.0');
        assert.deepEqual(gateways.kafka?.mappings.map((m) => m.name), ['orders-in', 'events-out']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
