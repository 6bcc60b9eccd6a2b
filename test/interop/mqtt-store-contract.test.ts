// The MQTT store contract run against every implementation: the in-memory
// stores, and the JetStream stores over the Broker port on Switchboard's
// embedded engine and on Debian's nats-server -js (as in cluster mode). The
// durable ones are reopened on the same store directory after a restart.

import { rmSync } from 'node:fs';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { createCore } from '../../core/create-core.ts';
import { JetStreamRetainedStore, JetStreamSessionStore } from '../../gateways/mqtt/jetstream-store.ts';
import { MemoryRetainedStore, MemorySessionStore } from '../../gateways/mqtt/memory-store.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { describeMqttStores, type MqttStores, type MqttStoreTarget } from '../helpers/mqtt-store-contract.ts';
import { freePort, startNatsServer, type RunningServer } from '../helpers/servers.ts';

async function openJetStreamStores(broker: Broker): Promise<MqttStores> {
  return { retained: await JetStreamRetainedStore.open(broker), sessions: await JetStreamSessionStore.open(broker) };
}

/** A back end that holds its state in `storeDir` and can be stopped and started on it. */
interface Backend {
  broker: Broker;
  stop(): Promise<void>;
}

/** Stores on `start(storeDir)`; reopen() stops the back end and starts it again on the same directory. */
async function jetStreamTarget(start: (storeDir: string) => Promise<Backend>): Promise<MqttStoreTarget> {
  const storeDir = tempStoreDir('mqtt-store-');
  let backend = await start(storeDir);
  let stores = await openJetStreamStores(backend.broker);
  return {
    stores: () => stores,
    async reopen() {
      await backend.stop();
      backend = await start(storeDir);
      stores = await openJetStreamStores(backend.broker);
    },
    async dispose() {
      await backend.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

async function embeddedBackend(storeDir: string): Promise<Backend> {
  const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir } });
  await core.start();
  return { broker: core.broker, stop: () => core.stop() };
}

/** nats-server keeps its port across restarts, so a reopen finds it where it was. */
function natsServerBackend(): (storeDir: string) => Promise<Backend> {
  let port: number | undefined;
  return async (storeDir) => {
    port ??= await freePort();
    const server: RunningServer = await startNatsServer(['-js', '-sd', storeDir], port);
    const broker = await NatsBroker.connect({ servers: server.url });
    return {
      broker,
      async stop() {
        await broker.close();
        await server.stop();
      },
    };
  };
}

describeMqttStores(
  'memory',
  async () => {
    const stores: MqttStores = { retained: new MemoryRetainedStore(), sessions: new MemorySessionStore() };
    return { stores: () => stores, dispose: async () => {} };
  },
  { durable: false, messageLog: false },
);

describeMqttStores('jetstream (embedded engine)', () => jetStreamTarget(embeddedBackend), { durable: true, messageLog: true });

describeMqttStores('jetstream (nats-server -js)', () => jetStreamTarget(natsServerBackend()), { durable: true, messageLog: true }, ['nats-server']);
