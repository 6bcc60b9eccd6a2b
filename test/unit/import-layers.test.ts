// DESIGN.md "Dependency rule", over every source file of core/, gateways/ and
// connectors/ (test/helpers/import-layers.ts holds the rule as data). It
// replaces the per-folder scans of the MQTT and HTTP gateways, the Kafka
// connector and core/kv (now core/jetstream-client), and keeps what they checked: which packages each of
// those folders may import, kafkajs as types only, and that the scan sees
// imports at all. The scanner is shown to fail on violations put in on purpose.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importsOf, layerViolations, projectSources, type SourceFile } from '../helpers/import-layers.ts';
import { PROJECT_ROOT } from '../helpers/servers.ts';

/** A synthetic tree: the rule's view of a few files, one line each. */
function tree(files: Record<string, string>): SourceFile[] {
  return Object.entries(files).map(([path, source]) => ({ path, source }));
}

describe('import layers', () => {
  it('import layers - every file of core/, gateways/ and connectors/ keeps the dependency rule', () => {
    const files = projectSources(PROJECT_ROOT);
    const paths = new Set(files.map((f) => f.path));
    for (const folder of ['core/server/', 'core/jetstream/', 'core/broker/', 'gateways/mqtt/handlers/', 'gateways/http/routes/', 'connectors/kafka/kafkajs-speedups/']) {
      assert.ok([...paths].some((p) => p.startsWith(folder)), `the scan covers ${folder}`);
    }
    // the scan does see imports (a broken pattern would pass vacuously)
    const seen = new Set(files.flatMap(importsOf).map((edge) => `${edge.from} -> ${edge.to}`));
    for (const edge of ['gateways/http/context.ts -> core/broker/broker.ts', 'gateways/mqtt/gateway.ts -> core/connection/socket-connection.ts', 'connectors/kafka/kafka-bridge.ts -> core/broker/broker.ts', 'gateways/mqtt/frame-reader.ts -> mqtt-packet']) {
      assert.ok(seen.has(edge), edge);
    }
    assert.deepEqual(layerViolations(files), []);
  });

  it('import layers - an upward import is reported: core/server importing the engine, core/ importing a gateway', () => {
    const violations = layerViolations(
      tree({
        'core/server/router.ts': "import { JetStreamEngine } from '../jetstream/jetstream-engine.ts';\n",
        'core/broker/embedded-broker.ts': "import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';\n",
        'core/config/load-config.ts': "import { kafkaDescriptor } from '../../connectors/kafka/descriptor.ts';\n",
        'core/jetstream/stream.ts': "import type { Subscriber } from '../server/subscription.ts';\n",
      }),
    );
    assert.deepEqual(violations, [
      'core/server/router.ts imports core/jetstream/jetstream-engine.ts: level 3 imports upward (level 4)',
      'core/broker/embedded-broker.ts imports gateways/mqtt/gateway.ts: level 5 imports upward (level 7)',
      'core/config/load-config.ts imports connectors/kafka/descriptor.ts: level 0 imports upward (level 7)',
    ]);
  });

  it('import layers - a gateway reaching into the router, the engine or another gateway is reported', () => {
    const violations = layerViolations(
      tree({
        'gateways/mqtt/session.ts': "import { Router } from '../../core/server/router.ts';\nimport type { Broker } from '../../core/broker/broker.ts';\n",
        'gateways/http/routes/streams.ts': "import { EmbeddedBroker } from '../../../core/broker/embedded-broker.ts';\n",
        'connectors/kafka/kafka-bridge.ts': "export { JetStreamEngine } from '../../core/jetstream/jetstream-engine.ts';\n",
        'gateways/websocket/websocket-routes.ts': "import { MqttGatewayCore } from '../mqtt/gateway-core.ts';\n",
        'gateways/mqtt/descriptor.ts': "import type { Descriptor } from '../descriptor.ts';\nimport { ConfigError } from '../../core/config/config-error.ts';\n",
      }),
    );
    assert.equal(violations.length, 4, violations.join('\n'));
    assert.match(violations[0], /^gateways\/mqtt\/session\.ts imports core\/server\/router\.ts: gateways and connectors see only the Broker port/);
    assert.match(violations[1], /^gateways\/http\/routes\/streams\.ts imports core\/broker\/embedded-broker\.ts/);
    assert.match(violations[2], /^connectors\/kafka\/kafka-bridge\.ts imports core\/jetstream\/jetstream-engine\.ts/);
    assert.match(violations[3], /^gateways\/websocket\/websocket-routes\.ts imports gateways\/mqtt\/gateway-core\.ts: one gateway or connector does not import another's/);
  });

  it('import layers - packages per folder, kafkajs as types only, and a folder with no layer are reported', () => {
    const violations = layerViolations(
      tree({
        'gateways/mqtt/session.ts': "import { Aedes } from 'aedes';\nimport { once } from 'node:events';\nimport mqttPacket from 'mqtt-packet';\n",
        'gateways/http/app.ts': "import Fastify from 'fastify';\nimport express from 'express';\n",
        'connectors/kafka/kafka-client.ts': "import { Kafka } from 'kafkajs';\nimport type { Producer } from 'kafkajs';\n",
        'core/jetstream-client/kv/kv-client.ts': "import { connect } from '@nats-io/transport-node';\n",
        'core/cache/lru.ts': 'export const x = 1;\n',
      }),
    );
    assert.deepEqual(violations, [
      'gateways/mqtt/session.ts imports aedes: gateways/mqtt/ may import only mqtt-packet and node built-ins',
      'gateways/http/app.ts imports express: gateways/http/ may import only fastify, openapi-types, @fastify/cors, @fastify/cookie, @fastify/rate-limit, @fastify/ajv-compiler and node built-ins',
      "connectors/kafka/kafka-client.ts imports kafkajs's values: only its types may be imported here",
      'core/jetstream-client/kv/kv-client.ts imports @nats-io/transport-node: core/jetstream-client/ may import only no package and node built-ins',
      'core/cache/lru.ts: not in any layer of the dependency rule (give its folder a level in test/helpers/import-layers.ts)',
    ]);
  });
});
