// docker-compose.yml cannot run here (no Docker engine), so this checks what
// can be checked: the file is valid against the Compose Specification's JSON
// schema (the copy dclint ships, with dclint's validator), each profile has its
// services, every service has a health check and waits for what it needs to
// be healthy, every store is a named volume, Kafka is reachable from the host,
// HAProxy fronts the gateways (TCP for MQTT), and the gateways' command lines
// and Kafka bridge config load with Switchboard's own validators, in cluster
// mode with three stream replicas.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig, parseSections } from '../../gateways/registry.ts';
import { PROJECT_ROOT } from '../helpers/servers.ts';

interface Service {
  profiles?: string[];
  command?: string | string[];
  image?: string;
  build?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
}

const COMPOSE_FILE = join(PROJECT_ROOT, 'docker-compose.yml');
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
  volumes: Record<string, unknown>;
};

interface LintMessage {
  rule: string;
  type: string;
  message: string;
}

/** dclint's findings for a file, as JSON (its schema check is the rule `invalid-schema`). */
function lint(file: string): LintMessage[] {
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/dclint/bin/dclint.cjs'), '-f', 'json', file], { encoding: 'utf8' });
  const reports = JSON.parse(run.stdout) as Array<{ messages: LintMessage[] }>;
  return reports.flatMap((r) => r.messages);
}

const inProfile = (profile: string): string[] => Object.entries(compose.services).filter(([, s]) => s.profiles?.includes(profile)).map(([name]) => name);

describe('docker-compose.yml', () => {
  it('compose - an embedded profile with one process and a cluster profile with 3 NATS nodes, Kafka and two gateways', () => {
    assert.deepEqual(inProfile('embedded'), ['switchboard']);
    // No `deps` service any more: the image installs its dependencies at build time; `entry` is the HAProxy in front.
    assert.deepEqual(inProfile('cluster').sort(), ['entry', 'gateway-1', 'gateway-2', 'kafka', 'nats-1', 'nats-2', 'nats-3']);
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
        const argv = compose.services[name].command as string[];
        const loaded = loadConfig(argv.map((a) => a.replace('/etc/switchboard/kafka-bridge.yaml', bridgeFile)), {});
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

  it('compose - the file is valid against the Compose Specification schema (and the check catches an invalid one)', () => {
    assert.deepEqual(lint(COMPOSE_FILE).filter((m) => m.rule === 'invalid-schema'), []);
    const dir = mkdtempSync(join(tmpdir(), 'compose-bad-'));
    try {
      const bad = join(dir, 'docker-compose.yml');
      writeFileSync(bad, 'services:\n  x:\n    image: a\n    healthcheck: { test: 5 }\n');
      assert.equal(lint(bad).filter((m) => m.rule === 'invalid-schema').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compose - every service runs the built image or an official one, has a health check, and waits for healthy dependencies', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.healthcheck !== undefined && service.healthcheck.test.length > 1, `${name} has a health check`);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.equal(condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
      }
      assert.doesNotMatch(String(service.command ?? ''), /npm|tsx/, `${name} needs no npm or tsx when it starts`);
    }
    for (const name of ['switchboard', 'gateway-1', 'gateway-2']) {
      assert.equal(compose.services[name].build, '.', `${name} is built from the Dockerfile`);
      assert.match(compose.services[name].healthcheck?.test.join(' ') ?? '', /healthcheck\.mjs http:\/\/127\.0\.0\.1:(8222|8080)\/healthz$/);
    }
  });

  it('compose - every store is a named volume', () => {
    const stores: Record<string, string> = { switchboard: '/data', 'nats-1': '/data', 'nats-2': '/data', 'nats-3': '/data', kafka: '/var/lib/kafka/data' };
    for (const [name, path] of Object.entries(stores)) {
      const mount = compose.services[name].volumes?.find((v) => v.endsWith(`:${path}`));
      assert.ok(mount !== undefined, `${name} keeps ${path} on a volume`);
      assert.ok(mount.split(':')[0] in compose.volumes, `${mount} is a declared named volume`);
    }
    assert.equal(compose.services.kafka.environment?.KAFKA_LOG_DIRS, '/var/lib/kafka/data');
    assert.ok(compose.services.switchboard.command?.includes('/data/jetstream'), 'the embedded JetStream store is on the volume');
  });

  it('compose - Kafka is reachable from the host; HAProxy is the one entry point, TCP for MQTT; host ports are unique per profile', () => {
    const kafka = compose.services.kafka.environment ?? {};
    assert.match(String(kafka.KAFKA_ADVERTISED_LISTENERS), /EXTERNAL:\/\/127\.0\.0\.1:29092/);
    assert.ok(compose.services.kafka.ports?.includes('127.0.0.1:29092:29092'));
    const entry = compose.services.entry;
    assert.match(entry.image ?? '', /^haproxy:/);
    assert.deepEqual(entry.ports?.map((p) => p.split(':')[1]), ['1883', '8080', '8081']);
    for (const name of ['gateway-1', 'gateway-2']) assert.equal(compose.services[name].ports, undefined, `${name} is reached through the entry point`);
    const haproxy = compose.configs.haproxy.content;
    assert.match(haproxy, /frontend mqtt\n\s+mode tcp\n\s+bind :1883/);
    for (const port of ['1883', '8080', '8081']) {
      for (const gateway of ['gateway-1', 'gateway-2']) assert.match(haproxy, new RegExp(`server ${gateway} ${gateway}:${port}`));
    }
    assert.match(haproxy, /option httpchk GET \/healthz/);
    for (const profile of ['embedded', 'cluster']) {
      const hostPorts = inProfile(profile).flatMap((name) => (compose.services[name].ports ?? []).map((p) => p.split(':').slice(0, -1).join(':')));
      assert.equal(new Set(hostPorts).size, hostPorts.length, `${profile}: no host port published twice`);
    }
  });
});
