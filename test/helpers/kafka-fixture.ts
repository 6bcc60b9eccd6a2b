// One Kafka bridge test bed: Switchboard in-process, an EmbeddedBroker on its
// router, the mock Kafka cluster behind the rewriting proxy, a NATS client, and
// bridges built on all of that. Everything binds 127.0.0.1; stop() ends every
// process this fixture started, by PID. kafkaTargets() adds the cluster mode:
// the same bridges on a NatsBroker to a 3-node nats-server cluster.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Broker } from '../../core/broker/broker.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createKafkaBridge, type KafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import type { MappingConfig } from '../../connectors/kafka/config.ts';
import { startKafkaMock, type KafkaMock } from './kafka-mock.ts';
import { startKafkaProxy, type KafkaProxy } from './kafka-proxy.ts';
import { startSwitchboardJetStream } from './jetstream.ts';
import { sharedClusterDeployment } from './nats-cluster.ts';
import type { Peer } from './peers.ts';
import { startSwitchboard } from './servers.ts';

export interface KafkaFixture {
  mock: KafkaMock;
  proxy: KafkaProxy;
  broker: Broker;
  nc: NatsConnection;
  natsUrl: string;
  bridge(mappings: MappingConfig[]): KafkaBridge;
  stop(): Promise<void>;
}

/** Where the bridges' NATS side lives: its broker, its NATS URL(s), and how to stop it. */
interface NatsSide {
  broker: Broker;
  servers: string[];
  stop(): Promise<void>;
}

/** `jetstream: true` runs Switchboard with its JetStream engine on the same router. */
export async function startKafkaFixture(options: { jetstream?: boolean } = {}): Promise<KafkaFixture> {
  const switchboard = options.jetstream ? await startSwitchboardJetStream() : await startSwitchboard();
  return withKafka({ broker: switchboard.broker, servers: [switchboard.url], stop: () => switchboard.stop() });
}

/**
 * The deployments a Kafka suite runs in: 'embedded' (startKafkaFixture) and
 * 'cluster' (without nats-server a skip, or under CI a failure): a 3-node
 * nats-server cluster with JetStream (one per test file), the bridge on a NatsBroker to it with streams
 * at 3 replicas. The bridge runs in the test process there too, because the
 * test bodies drive it (start, stop, metrics); a gateway process runs the very
 * same bridge on the very same broker (cli-cluster.test.ts).
 */
export function kafkaTargets(): Array<{ name: string; peers?: readonly Peer[]; start(options?: { jetstream?: boolean }): Promise<KafkaFixture> }> {
  const deployment = sharedClusterDeployment();
  return [
    { name: 'embedded', start: (options?: { jetstream?: boolean }) => startKafkaFixture(options) },
    {
      name: 'cluster',
      peers: ['nats-server'],
      start: async () => {
        const { cluster } = await deployment();
        const broker = await NatsBroker.connect({ servers: [...cluster.urls], streamReplicas: 3 });
        return withKafka({ broker, servers: [...cluster.urls], stop: async () => {} }); // the cluster is the file's, stopped after its last test
      },
    },
  ];
}

async function withKafka(side: NatsSide): Promise<KafkaFixture> {
  const mock = await startKafkaMock();
  const proxy = await startKafkaProxy();
  proxy.retarget(mock.brokers);
  const { broker } = side;
  const nc = await connect({ servers: side.servers });
  const bridges: KafkaBridge[] = [];
  let current = mock;
  return {
    get mock() {
      return current;
    },
    set mock(next: KafkaMock) {
      current = next;
    },
    proxy,
    broker,
    nc,
    natsUrl: side.servers.join(','),
    bridge(mappings) {
      const bridge = createKafkaBridge({ broker, kafka: { brokers: proxy.brokers, clientId: 'test-bridge' }, mappings, logLevel: 'nothing', drainTimeoutMs: 1_000 });
      bridges.push(bridge);
      return bridge;
    },
    async stop() {
      for (const bridge of bridges) await bridge.stop();
      await nc.close();
      await broker.close();
      await proxy.close();
      await current.stop();
      await side.stop();
    },
  };
}

/** Poll until `check` returns true; bounded by `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 20_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Wait until every mapping of the bridge is running (consumer joined, producer connected). */
export function waitForRunning(bridge: KafkaBridge, timeoutMs = 20_000): Promise<void> {
  return waitFor(() => bridge.metrics().mappings.every((m) => m.state === 'running'), timeoutMs, 'bridge mappings running');
}
