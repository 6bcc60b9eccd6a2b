// MQTT test fixtures: the Switchboard MQTT gateway on an in-process core (with
// a NATS listener on the same router for cross-protocol checks), Debian's
// mosquitto as a reference broker, and small mqtt.js helpers.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from 'mqtt';
import type { Authorizer } from '../../core/auth/authorizer.ts';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { createCore } from '../../core/create-core.ts';
import { createMqttGateway, type MqttGateway, type MqttGatewayOptions } from '../../gateways/mqtt/gateway.ts';
import { inTurn, sharedClusterDeployment } from './nats-cluster.ts';
import type { Peer } from './peers.ts';
import { freePort, PROJECT_ROOT, startSwitchboard, stopChild, waitForOutput } from './servers.ts';

export interface MqttTarget {
  readonly name: string;
  readonly mqttUrl: string;
  readonly port: number;
  /** The server's process id, when it runs as a child process (for RSS figures). */
  readonly pid?: number;
  stop(): Promise<void>;
}

export interface SwitchboardMqtt extends MqttTarget {
  readonly natsUrl: string;
  readonly gateway: MqttGateway;
  readonly broker: EmbeddedBroker;
}

export async function startSwitchboardMqtt(
  options: Partial<Omit<MqttGatewayOptions, 'broker'>> & { authorizer?: Authorizer } = {},
): Promise<SwitchboardMqtt> {
  const nats = await startSwitchboard({}, options.authorizer ? { authorizer: options.authorizer } : {});
  const broker = nats.broker;
  const gateway = createMqttGateway({ host: '127.0.0.1', port: 0, ...options, broker });
  await gateway.start();
  return {
    name: 'switchboard',
    natsUrl: nats.url,
    gateway,
    broker,
    port: gateway.port,
    mqttUrl: `mqtt://127.0.0.1:${gateway.port}`,
    stop: async () => {
      await gateway.stop();
      await nats.stop();
    },
  };
}

/**
 * The gateway with persistence in JetStream: NatsServer + JetStreamEngine on one
 * router, store in `storeDir`, so a second call on the same directory is a restart.
 */
export async function startSwitchboardMqttJetStream(
  storeDir: string,
  options: Partial<Omit<MqttGatewayOptions, 'broker'>> = {},
): Promise<SwitchboardMqtt> {
  const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir } });
  await core.start();
  const broker = core.broker;
  const gateway = createMqttGateway({ host: '127.0.0.1', port: 0, persistence: 'jetstream', ...options, broker });
  await gateway.start();
  return {
    name: 'switchboard-jetstream',
    natsUrl: `nats://127.0.0.1:${core.nats.port}`,
    gateway,
    broker,
    port: gateway.port,
    mqttUrl: `mqtt://127.0.0.1:${gateway.port}`,
    stop: async () => {
      await gateway.stop();
      await core.stop();
    },
  };
}

/** What a suite that runs in both deployments may use: URLs and ports only. */
export interface MqttDeployment extends MqttTarget {
  readonly natsUrl: string;
}

/**
 * The deployments an MQTT suite runs in: 'embedded' (the gateway on an
 * in-process core, as startSwitchboardMqtt) and 'cluster': two gateway
 * processes on a 3-node nats-server cluster (one per test file; without
 * nats-server a skip, or under CI a failure). There every use of `mqttUrl` or `port` names the next gateway, so
 * a test's subscriber and publisher, or a session's first and second
 * connection, land on different gateways.
 */
export function mqttTargets(): Array<{ name: string; peers?: readonly Peer[]; start(): Promise<MqttDeployment> }> {
  const deployment = sharedClusterDeployment();
  return [
    { name: 'embedded', start: () => startSwitchboardMqtt() },
    {
      name: 'cluster',
      peers: ['nats-server'],
      start: async () => {
        const { cluster, gateways } = await deployment();
        const ports = gateways.map((g) => g.gateways.mqtt as number);
        const nextPort = inTurn(ports);
        return {
          name: 'cluster',
          natsUrl: cluster.url,
          get port() {
            return nextPort();
          },
          get mqttUrl() {
            return `mqtt://127.0.0.1:${nextPort()}`;
          },
          stop: async () => {}, // the deployment is shared by the file and stopped after its last test
        };
      },
    },
  ];
}

/** Debian's mosquitto 2.0 on a free loopback port, anonymous access allowed; `extraConfig`: more mosquitto.conf lines. */
export async function startMosquitto(extraConfig = ''): Promise<MqttTarget> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosq-'));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n${extraConfig}`);
  const child = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, /running|Opening ipv4 listen socket/);
  await new Promise((r) => setTimeout(r, 100));
  return { name: 'mosquitto', port, pid: child.pid, mqttUrl: `mqtt://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/**
 * Switchboard core + JetStream + the MQTT gateway as a child process
 * (test/helpers/mqtt-server-main.ts, whose usage line lists `args`), resolved
 * once it listens: for kill -9 tests and the bench. The caller stops it.
 */
export async function spawnMqttProcess(args: string[], nodeFlags: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'test/helpers/mqtt-server-main.ts', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, 'MQTT ready');
  return child;
}

export async function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Connect with an Inbox attached before CONNACK, so messages resent on session resume are not missed. */
export async function connectCollecting(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; inbox: Inbox }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const inbox = new Inbox(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return { client, inbox };
}

/** Collects messages arriving on a client. */
export class Inbox {
  readonly messages: Array<{ topic: string; payload: string; packet: IPublishPacket }> = [];
  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), packet }));
  }

  async waitFor(count: number, timeoutMs = 3000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && Date.now() < deadline) await sleep(10);
    if (this.messages.length < count) throw new Error(`expected ${count} messages, got ${this.messages.length}: ${JSON.stringify(this.payloads())}`);
    return this;
  }

  /**
   * Wait until every payload of `expected` has arrived (bounded); returns those
   * that have not. Not a count: beside what a test expects, a session may get
   * messages it does not (stored, but their PUBACK lost to a kill -9), and a
   * count reached with one of those in it ends the wait before the last
   * expected message is in.
   */
  async waitForPayloads(expected: readonly string[], timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const seen = new Set<string>();
    let read = 0;
    const missing = (): string[] => {
      for (; read < this.messages.length; read++) seen.add(this.messages[read].payload);
      return expected.filter((p) => !seen.has(p));
    };
    while (missing().length > 0 && Date.now() < deadline) await sleep(10);
    return missing();
  }

  payloads(): string[] {
    return this.messages.map((m) => m.payload);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until check() holds (bounded). */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(10);
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}
