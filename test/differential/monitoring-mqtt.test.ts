// An MQTT client in /connz, and /varz's mqtt and websocket sections, beside
// nats-server's (2.9, MQTT and WebSocket on, JetStream as its MQTT needs):
// every field nats-server gives an MQTT connection (mqtt_client included),
// Switchboard gives with the same JSON type, and /connz?mqtt_client= finds the
// device on both. mqtt.js is the client on both sides.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMqtt } from '../helpers/mqtt.ts';
import { getJson, shape } from '../helpers/monitoring.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { freePort, startNatsServerWithConfig, startSwitchboardProcess, type RunningServer, type SwitchboardProcess } from '../helpers/servers.ts';

interface Connz {
  total: number;
  connections: Array<Record<string, unknown>>;
}

/** Values nats-server fills that differ by run, not by shape. */
const OPAQUE = new Set(['subscriptions_list']);

describe('monitoring - MQTT beside nats-server', { peers: ['nats-server'] }, () => {
  let ours: SwitchboardProcess;
  let theirs: RunningServer;
  let theirMonitor: number;
  let theirMqtt: number;
  let store: string;
  const clients: Array<{ endAsync(): Promise<void> }> = [];

  before(async () => {
    ours = await startSwitchboardProcess();
    theirMonitor = await freePort();
    theirMqtt = await freePort();
    store = mkdtempSync(join(tmpdir(), 'ns-mqtt-'));
    theirs = await startNatsServerWithConfig(`server_name: ns-mqtt\nhttp: 127.0.0.1:${theirMonitor}\njetstream { store_dir: "${store}" }\nmqtt { port: ${theirMqtt} }\nwebsocket { port: ${await freePort()}, no_tls: true }`);
    for (const port of [ours.gateways.mqtt, theirMqtt]) {
      const client = await connectMqtt(`mqtt://127.0.0.1:${port}`, { clientId: 'meter-9', clean: false, keepalive: 30 });
      await client.subscribeAsync('meters/+', { qos: 1 });
      await client.publishAsync('meters/9', '1', { qos: 0 });
      clients.push(client);
    }
  });

  after(async () => {
    for (const client of clients) await client.endAsync().catch(() => undefined);
    await ours?.stop();
    await theirs?.stop();
    if (store !== undefined) rmSync(store, { recursive: true, force: true });
  });

  it('monitoring - an MQTT connection has every field nats-server gives it, with the same JSON types', async () => {
    const mine = (await getJson(ours.monitorPort ?? 0, '/connz?subs=1&mqtt_client=meter-9')).body as Connz;
    const ref = (await getJson(theirMonitor, '/connz?subs=1&mqtt_client=meter-9')).body as Connz;
    assert.equal(mine.total, 1);
    assert.equal(ref.total, 1);
    const [m] = mine.connections;
    const [r] = ref.connections;
    assert.equal(m.type, r.type);
    assert.equal(m.mqtt_client, r.mqtt_client);
    const mineShape = shape(m, OPAQUE) as Record<string, unknown>;
    for (const [field, type] of Object.entries(shape(r, OPAQUE) as Record<string, unknown>)) {
      assert.deepEqual(mineShape[field], type, `field ${field}`);
    }
  });

  it('monitoring - /varz mqtt and websocket name the listeners as nats-server does', async () => {
    const mine = (await getJson(ours.monitorPort ?? 0, '/varz')).body as Record<string, Record<string, unknown>>;
    const ref = (await getJson(theirMonitor, '/varz')).body as Record<string, Record<string, unknown>>;
    for (const section of ['mqtt', 'websocket']) {
      for (const field of ['host', 'port']) assert.equal(typeof mine[section][field], typeof ref[section][field], `${section}.${field}`);
    }
    assert.equal(mine.mqtt.port, ours.gateways.mqtt);
    assert.equal(ref.mqtt.port, theirMqtt);
    assert.equal(mine.websocket.no_tls, ref.websocket.no_tls, 'both say their WebSocket listener has no TLS');
  });
});
