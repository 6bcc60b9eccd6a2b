// A real 3-node `nats-server -js` cluster on loopback for cluster-mode tests
// (Debian's nats-server): free client and route ports, a fresh store and a
// server_name per node, one cluster name. It is ready when JetStream has a
// meta leader and an R3 stream can be created; a node can be killed with
// SIGKILL by PID and restarted on the same ports and store. Also starts
// Switchboard gateway processes in cluster mode against it.

import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { freePort, startNatsServerWithConfig, startSwitchboardProcess, stopChild, type RunningServer, type SwitchboardProcess } from './servers.ts';
import type { ChildProcess } from 'node:child_process';

export interface NatsClusterNode {
  readonly serverName: string;
  readonly port: number;
  readonly routePort: number;
  readonly url: string;
  readonly storeDir: string;
  /** The running process, or null while the node is killed. */
  readonly process: (RunningServer & { child: ChildProcess }) | null;
  readonly pid: number | null;
}

export interface NatsCluster {
  readonly clusterName: string;
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated: the value for --nats-url. */
  readonly url: string;
  readonly urls: readonly string[];
  /** SIGKILL the node's process by PID and wait for it to exit. */
  kill(index: number): Promise<void>;
  /** Start a killed node again on its ports and store, and wait until the cluster is ready. */
  restart(index: number): Promise<void>;
  /** Wait until JetStream has a meta leader and an R3 (or `replicas`) stream can be created. */
  waitReady(timeoutMs?: number): Promise<void>;
  /**
   * Wait until `stream` has a leader and every replica is current: after a restart
   * the cluster may hold an election, and a read before it ends can see a replica's
   * older state.
   */
  waitStreamCurrent(stream: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  size?: number;
  clusterName?: string;
  /** Per node (default 256MB memory, 1GB file). */
  maxMemoryStore?: string;
  maxFileStore?: string;
}

class ClusterNode implements NatsClusterNode {
  process: (RunningServer & { child: ChildProcess }) | null = null;
  constructor(
    readonly serverName: string,
    readonly port: number,
    readonly routePort: number,
    readonly storeDir: string,
    private readonly config: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.process?.child.pid ?? null;
  }

  async start(): Promise<void> {
    if (this.process !== null) throw new Error(`${this.serverName} is already running`);
    this.process = await startNatsServerWithConfig(this.config, this.port);
  }

  async kill(): Promise<void> {
    const running = this.process;
    if (running === null) return;
    await stopChild(running.child, 'SIGKILL');
    await running.stop(); // the process is gone: this only removes its config file
    this.process = null;
  }

  async stop(): Promise<void> {
    const running = this.process;
    this.process = null;
    await running?.stop();
  }
}

function nodeConfig(name: string, clusterName: string, storeDir: string, routePort: number, routes: number[], options: NatsClusterOptions): string {
  return [
    `server_name: ${name}`,
    `jetstream { store_dir: "${storeDir}", max_memory_store: ${options.maxMemoryStore ?? '256MB'}, max_file_store: ${options.maxFileStore ?? '1GB'} }`,
    'cluster {',
    `  name: ${clusterName}`,
    `  listen: 127.0.0.1:${routePort}`,
    `  routes: [${routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}]`,
    '}',
  ].join('\n');
}

/** Try to create and delete an R`replicas` stream through `nc`; true when JetStream can. */
async function canCreateReplicatedStream(nc: NatsConnection, replicas: number): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
  const name = `CLUSTER_PROBE_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  try {
    await jsm.streams.add({ name, subjects: [`cluster.probe.${name}`], num_replicas: replicas, storage: StorageType.Memory });
  } catch {
    // A create that timed out here may still complete on the servers: remove it so
    // tests that list streams never see a stray probe.
    await jsm.streams.delete(name).catch(() => undefined);
    return false;
  }
  await jsm.streams.delete(name).catch(() => undefined);
  return true;
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const clusterName = options.clusterName ?? `sbtest${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
  const ports: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    ports.push(await freePort());
    routePorts.push(await freePort());
  }
  const nodes = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(root, name);
    const routes = routePorts.filter((_, j) => j !== i);
    return new ClusterNode(name, port, routePorts[i], storeDir, nodeConfig(name, clusterName, storeDir, routePorts[i], routes, options));
  });
  const urls = nodes.map((n) => n.url);

  const cluster: NatsCluster = {
    clusterName,
    nodes,
    urls,
    url: urls.join(','),
    async kill(index) {
      await nodes[index].kill();
    },
    async restart(index) {
      await nodes[index].start();
      await cluster.waitReady();
    },
    async waitReady(timeoutMs = 30_000) {
      const replicas = Math.min(3, nodes.filter((n) => n.process !== null).length);
      const deadline = Date.now() + timeoutMs;
      const nc = await connect({ servers: nodes.filter((n) => n.process !== null).map((n) => n.url), maxReconnectAttempts: -1 });
      try {
        while (!(await canCreateReplicatedStream(nc, replicas))) {
          if (Date.now() > deadline) throw new Error(`NATS cluster ${clusterName}: no JetStream meta leader / R${replicas} stream after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      } finally {
        await nc.close();
      }
    },
    async waitStreamCurrent(stream, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const nc = await connect({ servers: nodes.filter((n) => n.process !== null).map((n) => n.url), maxReconnectAttempts: -1 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2_000, checkAPI: false });
        let last = 'no answer';
        while (Date.now() < deadline) {
          try {
            const info = (await jsm.streams.info(stream)).cluster;
            last = JSON.stringify(info);
            if (info?.leader !== undefined && (info.replicas ?? []).every((r) => r.current)) return;
          } catch (error) {
            last = error instanceof Error ? error.message : String(error);
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        throw new Error(`stream ${stream} not current after ${timeoutMs} ms: ${last}`);
      } finally {
        await nc.close();
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await cluster.waitReady();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

export interface ClusterGatewayOptions {
  /** --name of each gateway (default gw-1, gw-2, ...); a gateway owns the MQTT sessions it serves by name. */
  names?: string[];
  /** --stream-replicas (default 3). */
  streamReplicas?: number;
  /** Further command-line arguments for every gateway. */
  args?: string[];
}

/** `count` Switchboard processes in cluster mode against `cluster`, each with its own gateway ports. */
export async function startClusterGateways(cluster: NatsCluster, count: number, options: ClusterGatewayOptions = {}): Promise<SwitchboardProcess[]> {
  const started: SwitchboardProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = options.names?.[i] ?? `gw-${i + 1}`;
      started.push(await startSwitchboardProcess(['--nats-url', cluster.url, '--name', name, '--stream-replicas', String(options.streamReplicas ?? 3), ...(options.args ?? [])]));
    }
  } catch (error) {
    await Promise.all(started.map((g) => g.stop()));
    throw error;
  }
  return started;
}

export interface ClusterDeployment {
  readonly cluster: NatsCluster;
  /** Two gateway processes in cluster mode (gw-1, gw-2). */
  readonly gateways: readonly SwitchboardProcess[];
}

let sharedDeployment: (() => Promise<ClusterDeployment>) | null = null;

/**
 * The cluster target of the interop suites: one 3-node cluster and two gateway
 * processes per test file, started on first use and stopped after the file's
 * last test. Call it at a test file's top level (when building the target
 * list): the first call registers that root-level after hook.
 *
 * Suites with this target are the ones whose behaviour goes through the broker
 * and JetStream: http-streams, http-kv (httpJetStreamTargets({ cluster: true })),
 * mqtt-qos, mqtt-retained-will (mqttTargets()), websocket-mqtt, kafka-round-trip
 * and kafka-jetstream (kafkaTargets()). The other gateway suites test the
 * protocol edge (packet parsing, limits, auth, OpenAPI, origins), which is the
 * same code on either broker; they stay embedded to keep `npm test` short.
 */
export function sharedClusterDeployment(): () => Promise<ClusterDeployment> {
  if (sharedDeployment !== null) return sharedDeployment;
  const parts: { cluster?: NatsCluster; gateways?: SwitchboardProcess[] } = {};
  let started: Promise<ClusterDeployment> | null = null;
  after(async () => {
    await started?.catch(() => undefined);
    await Promise.all((parts.gateways ?? []).map((g) => g.stop()));
    await parts.cluster?.stop();
  });
  sharedDeployment = () =>
    (started ??= (async () => {
      parts.cluster = await startNatsCluster();
      parts.gateways = await startClusterGateways(parts.cluster, 2);
      return { cluster: parts.cluster, gateways: parts.gateways };
    })());
  return sharedDeployment;
}

/** A getter's values in turn: a cluster target's URL names the next gateway at every use, so the clients of one test spread over both. */
export function inTurn<T>(values: readonly T[]): () => T {
  let next = 0;
  return () => values[next++ % values.length];
}
