// One Kafka bridge test bed: Switchboard in-process, an EmbeddedBroker on its
// router, the mock Kafka cluster behind the rewriting proxy, a NATS client, and
// bridges built on all of that. Everything binds 127.0.0.1; stop() ends every
// process this fixture started, by PID.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { createKafkaBridge, type KafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import type { MappingConfig } from '../../connectors/kafka/config.ts';
import { startKafkaMock, type KafkaMock } from './kafka-mock.ts';
import { startKafkaProxy, type KafkaProxy } from './kafka-proxy.ts';
import { startSwitchboardJetStream } from './jetstream.ts';
import { startSwitchboard } from './servers.ts';

export interface KafkaFixture {
  mock: KafkaMock;
  proxy: KafkaProxy;
  broker: EmbeddedBroker;
  nc: NatsConnection;
  natsUrl: string;
  bridge(mappings: MappingConfig[]): KafkaBridge;
  stop(): Promise<void>;
}

/** `jetstream: true` runs Switchboard with its JetStream engine on the same router. */
export async function startKafkaFixture(options: { jetstream?: boolean } = {}): Promise<KafkaFixture> {
  const switchboard = options.jetstream ? await startSwitchboardJetStream() : await startSwitchboard();
  const mock = await startKafkaMock();
  const proxy = await startKafkaProxy();
  proxy.retarget(mock.brokers);
  const broker = new EmbeddedBroker(switchboard.server.router);
  const nc = await connect({ servers: switchboard.url });
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
    natsUrl: switchboard.url,
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
      await switchboard.stop();
    },
  };
}

/** Poll until `check` returns true; bounded by `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Wait until every mapping of the bridge is running (consumer joined, producer connected). */
export function waitForRunning(bridge: KafkaBridge, timeoutMs = 20_000): Promise<void> {
  return waitFor(() => bridge.metrics().mappings.every((m) => m.state === 'running'), timeoutMs, 'bridge mappings running');
}
