// MQTT over WebSocket: the WebSocket gateway hands `/mqtt` sockets to the MQTT
// gateway through the Connection seam. mqtt.js over ws:// in Node and in
// headless chromium exchanges messages with NATS clients and with Debian's
// mosquitto_pub/mosquitto_sub on the MQTT gateway's TCP port.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { createMqttGateway, type MqttGateway } from '../../gateways/mqtt/gateway.ts';
import { createWebSocketGateway, type WebSocketGateway } from '../../gateways/websocket/websocket-gateway.ts';
import { launchChromium, type HeadlessChromium } from '../helpers/browser/chromium.ts';
import { servePage, type PageServer } from '../helpers/browser/page-server.ts';
import { sharedClusterDeployment } from '../helpers/nats-cluster.ts';
import type { Peer } from '../helpers/peers.ts';
import { startSwitchboard, waitForOutput } from '../helpers/servers.ts';
import { RawWebSocket } from '../helpers/websocket-clients.ts';

const PAGE_ENTRY = fileURLToPath(new URL('../helpers/browser/mqtt-ws-page.ts', import.meta.url));

interface Setup {
  nats: NatsServer;
  broker: EmbeddedBroker;
  mqttGateway: MqttGateway;
  gateway: WebSocketGateway;
  mqttUrl: string;
}

async function startSetup(): Promise<Setup> {
  const core = await startSwitchboard();
  const nats = core.server;
  const broker = core.broker;
  const mqttGateway = createMqttGateway({ broker, host: '127.0.0.1', port: 0 });
  await mqttGateway.start();
  const gateway = createWebSocketGateway({ nats, mqtt: mqttGateway, host: '127.0.0.1', port: 0 });
  await gateway.start();
  return { nats, broker, mqttGateway, gateway, mqttUrl: `${gateway.url}/mqtt` };
}

async function stopSetup(setup: Setup | undefined): Promise<void> {
  if (setup === undefined) return;
  await setup.gateway.stop();
  await setup.mqttGateway.stop();
  await setup.broker.close();
  await setup.nats.stop();
}

/** What the Node tests use, in either deployment. */
interface Endpoints {
  /** ws://.../mqtt */
  wsMqttUrl: string;
  /** ws://... (the NATS path) */
  wsNatsUrl: string;
  /** NATS TCP servers reaching the same subjects. */
  natsServers: string[];
  /** MQTT over TCP on the same subjects. */
  mqttPort: number;
  stop(): Promise<void>;
}

/**
 * 'embedded': the gateways in-process on one core. 'cluster': two gateway
 * processes on a 3-node nats-server cluster (one per file); the WebSocket
 * clients use gateway 1 and the TCP MQTT clients gateway 2, so every exchange
 * crosses gateways and the cluster.
 */
function targets(): Array<{ name: string; peers?: readonly Peer[]; start(): Promise<Endpoints> }> {
  const deployment = sharedClusterDeployment();
  return [
    {
      name: 'embedded',
      start: async (): Promise<Endpoints> => {
        const setup = await startSetup();
        return { wsMqttUrl: setup.mqttUrl, wsNatsUrl: setup.gateway.url, natsServers: [`nats://127.0.0.1:${setup.nats.port}`], mqttPort: setup.mqttGateway.port, stop: () => stopSetup(setup) };
      },
    },
    {
      name: 'cluster',
      peers: ['nats-server'],
      start: async (): Promise<Endpoints> => {
        const { cluster, gateways } = await deployment();
        const ws = `ws://127.0.0.1:${gateways[0].gateways.websocket}`;
        return { wsMqttUrl: `${ws}/mqtt`, wsNatsUrl: ws, natsServers: [...cluster.urls], mqttPort: gateways[1].gateways.mqtt as number, stop: async () => {} };
      },
    },
  ];
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** mosquitto_pub as a child process; async, since the gateways under test share this event loop. */
async function mosquittoPub(port: number, topic: string, message: string): Promise<void> {
  const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-m', message, '-q', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => void (stderr += data.toString()));
  const timer = setTimeout(() => child.kill(), 10_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`mosquitto_pub -t ${topic} exited ${code}: ${stderr}`);
}

/** mosquitto_sub waiting for `count` messages on `topic`; resolves once its SUBACK is in. */
async function mosquittoSub(port: number, topic: string, count: number): Promise<{ lines: () => Promise<string[]> }> {
  // stdbuf: mosquitto_sub's stdout is a pipe here, so without line buffering the
  // SUBACK line would only show up at exit, too late to know it is subscribed.
  const args = ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-t', topic, '-C', String(count), '-W', '10', '-d'];
  const child = spawn('stdbuf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (data: Buffer) => void (out += data.toString()));
  await waitForOutput(child, 'SUBACK');
  return {
    async lines() {
      // -C ends it after `count` messages; -W bounds the wait to 10 s either way.
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      // -d interleaves debug lines ("Client ... received PUBLISH ...") with the payload lines.
      return out.split('\n').filter((line) => line !== '' && !line.startsWith('Client ') && !line.startsWith('Subscribed ('));
    },
  };
}

for (const target of targets()) {
  describe(`websocket gateway /mqtt with mqtt.js in Node (${target.name})`, { peers: target.peers }, () => {
    let setup: Endpoints;
    before(async () => {
      setup = await target.start();
    });
    after(() => setup?.stop());

    it('websocket - /mqtt negotiates subprotocol mqtt, the NATS path does not', async () => {
      const onMqtt = await RawWebSocket.open(setup.wsMqttUrl, {}, ['mqtt']);
      assert.equal(onMqtt.socket.protocol, 'mqtt');
      onMqtt.close();
      // NATS has no subprotocol (nats-server sends none); the NATS path is still NATS.
      const onNats = await RawWebSocket.open(setup.wsNatsUrl);
      assert.equal(onNats.socket.protocol, '');
      await onNats.until((t) => t.startsWith('INFO '));
      onNats.close();
    });

    it('websocket - mqtt.js over ws:// exchanges messages with a NATS TCP client', async () => {
      const nc: NatsConnection = await natsConnect({ servers: setup.natsServers });
      const client = await mqtt.connectAsync(setup.wsMqttUrl, { clientId: `ws-node-1-${target.name}`, protocolVersion: 5, reconnectPeriod: 0 });
      try {
        const inMqtt: string[] = [];
        client.on('message', (topic, payload) => void inMqtt.push(`${topic}|${payload.toString()}`));
        await client.subscribeAsync('plant/+/temp', { qos: 1 });
        const inNats: string[] = [];
        nc.subscribe('plant.>', { callback: (_err, msg) => void inNats.push(`${msg.subject}|${msg.string()}`) });
        await nc.flush();
        nc.publish('plant.l1.temp', '21.5');
        await client.publishAsync('plant/l2/humidity', '40', { qos: 1 });
        await nc.flush();
        await eventually(() => inMqtt.length === 1 && inNats.length >= 1, 'cross-protocol deliveries');
        assert.deepEqual(inMqtt, ['plant/l1/temp|21.5']);
        assert.ok(inNats.includes('plant.l2.humidity|40'), inNats.join(','));
      } finally {
        await client.endAsync();
        await nc.close();
      }
    });

    it('websocket - mqtt.js over ws:// exchanges messages with mosquitto_pub/sub on TCP', { peers: ['mosquitto_pub', 'mosquitto_sub'] }, async () => {
      const client = await mqtt.connectAsync(setup.wsMqttUrl, { clientId: `ws-node-2-${target.name}`, reconnectPeriod: 0 });
      try {
        const got: string[] = [];
        client.on('message', (topic, payload) => void got.push(`${topic}|${payload.toString()}`));
        await client.subscribeAsync('from/mosquitto', { qos: 1 });
        await mosquittoPub(setup.mqttPort, 'from/mosquitto', 'hi ws');
        await eventually(() => got.length === 1, 'mosquitto_pub message');
        assert.deepEqual(got, ['from/mosquitto|hi ws']);
        const sub = await mosquittoSub(setup.mqttPort, 'to/mosquitto', 1);
        await client.publishAsync('to/mosquitto', 'hi tcp', { qos: 1 });
        assert.deepEqual(await sub.lines(), ['hi tcp']);
      } finally {
        await client.endAsync();
      }
    });
  });
}

// Embedded only: these tests prove the browser's mqtt.js bundle and page plumbing; what
// crosses the broker is the same as in the Node tests above, which run in both modes.
describe('websocket gateway /mqtt in headless chromium', { peers: ['chromium', 'mosquitto_pub', 'mosquitto_sub'] }, () => {
  let setup: Setup;
  let pageServer: PageServer;
  let browser: HeadlessChromium | undefined;
  let page: Page;

  before(async () => {
    setup = await startSetup();
    pageServer = await servePage('Switchboard MQTT over WebSocket', PAGE_ENTRY);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pageServer.origin}/`);
    await page.waitForFunction(() => window.mqttPage !== undefined);
    const version = await page.evaluate((url) => window.mqttPage.connect(url, 'browser-tab-1'), setup.mqttUrl);
    assert.equal(version, 5);
  });

  after(async () => {
    await page?.evaluate(() => window.mqttPage.close()).catch(() => {});
    await browser?.close();
    await pageServer?.stop();
    await stopSetup(setup);
  });

  it('websocket - a page with mqtt.js receives what mosquitto_pub sends', async () => {
    await page.evaluate(() => window.mqttPage.subscribe('browser/in/#', 1));
    await mosquittoPub(setup.mqttGateway.port, 'browser/in/a', 'one');
    await mosquittoPub(setup.mqttGateway.port, 'browser/in/b/c', 'two');
    await page.waitForFunction(() => window.mqttPage.received().length === 2, undefined, { timeout: 5_000 });
    assert.deepEqual(await page.evaluate(() => window.mqttPage.received()), ['browser/in/a|one', 'browser/in/b/c|two']);
  });

  it('websocket - mosquitto_sub receives what a page with mqtt.js publishes', async () => {
    const sub = await mosquittoSub(setup.mqttGateway.port, 'browser/out', 1);
    await page.evaluate(() => window.mqttPage.publish('browser/out', 'from the tab', 1));
    assert.deepEqual(await sub.lines(), ['from the tab']);
  });
});

