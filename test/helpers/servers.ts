// Servers for tests: Switchboard in-process or as a child process, and the
// reference nats-server from Debian when it is installed. Every listener binds
// 127.0.0.1 on a free port.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import type { ServerOptions } from '../../core/config/server-options.ts';
import { createCore, type Core, type CoreOptions } from '../../core/create-core.ts';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { NATS_SERVER_NEW_ENV, peerPath, type Peer } from './peers.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export function commandAvailable(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Switchboard's core without JetStream, in-process: `server` is its NatsServer, `broker` the EmbeddedBroker on it. */
export async function startSwitchboard(
  options: Partial<ServerOptions> = {},
  deps: Pick<CoreOptions, 'authorizer' | 'observer'> = {},
): Promise<RunningServer & { server: NatsServer; broker: EmbeddedBroker; core: Core }> {
  const core = createCore({ ...deps, server: { host: '127.0.0.1', port: 0, ...options } });
  await core.start();
  return {
    name: 'switchboard',
    core,
    server: core.nats,
    broker: core.broker,
    port: core.nats.port,
    url: `nats://127.0.0.1:${core.nats.port}`,
    stop: () => core.stop(),
  };
}

/** Wait until a child's output contains `marker`; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, marker: string | RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${String(marker)}; output so far:\n${seen}`)), timeoutMs);
    const onData = (data: Buffer): void => {
      seen += data.toString();
      if (typeof marker === 'string' ? seen.includes(marker) : marker.test(seen)) finish(null);
    };
    const onExit = (code: number | null): void => finish(new Error(`process exited (${code}) before ${String(marker)}:\n${seen}`));
    function finish(error: Error | null): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(seen);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Start nats-server with `args` and wait until it serves on `port`; `cleanup` runs after it stops. */
async function spawnNatsServer(args: string[], port: number, cleanup: () => void = () => {}, binary = 'nats-server'): Promise<RunningServer & { child: ChildProcess }> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, 'Server is ready');
  return {
    name: 'nats-server',
    child,
    port,
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(child);
      cleanup();
    },
  };
}

/** Debian's nats-server on a free loopback port. */
export async function startNatsServer(extraArgs: string[] = [], port?: number): Promise<RunningServer & { child: ChildProcess }> {
  const chosen = port ?? (await freePort());
  return spawnNatsServer(['-a', '127.0.0.1', '-p', String(chosen), ...extraArgs], chosen);
}

/** A current nats-server (the `nats-server-new` peer, peers.ts) on a free loopback port. */
export async function startNewNatsServer(extraArgs: string[] = [], port?: number): Promise<RunningServer & { child: ChildProcess }> {
  const binary = peerPath('nats-server-new');
  if (binary === null) throw new Error(`nats-server-new: ${NATS_SERVER_NEW_ENV} does not name an executable`);
  const chosen = port ?? (await freePort());
  const running = await spawnNatsServer(['-a', '127.0.0.1', '-p', String(chosen), ...extraArgs], chosen, () => {}, binary);
  return { ...running, name: 'nats-server-new' };
}

/** Debian's nats-server (or `binary`, e.g. peerPath('nats-server-new')) with a config file body (the listen line is added here). */
export async function startNatsServerWithConfig(config: string, port?: number, binary = 'nats-server'): Promise<RunningServer & { child: ChildProcess }> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nats-conf-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, `listen: 127.0.0.1:${chosen}\n${config}\n`);
  return spawnNatsServer(['-c', file], chosen, () => rmSync(dir, { recursive: true, force: true }), binary);
}

/** What gateways/main.ts logs (READY_MESSAGE) once everything listens, in either mode; not imported, to keep this helper light. */
const READY_MESSAGE = 'Switchboard ready';

/** The ports a Switchboard process's gateways bound (null: that gateway is off). */
export interface GatewayPorts {
  mqtt: number | null;
  http: number | null;
  websocket: number | null;
}

export interface SwitchboardProcess extends RunningServer {
  readonly child: ChildProcess;
  readonly gateways: GatewayPorts;
  /** The monitoring port (null in cluster mode, or with monitoring off). */
  readonly monitorPort: number | null;
}

/** The process logs "<name> listening on host:port" for each gateway (gateways/create-gateways.ts). */
function gatewayPorts(log: string): GatewayPorts {
  const port = (name: string): number | null => {
    const match = new RegExp(`${name} listening on [^"\\s]*:(\\d+)`).exec(log); // JSON or --log_format text
    return match === null ? null : Number(match[1]);
  };
  return { mqtt: port('MQTT'), http: port('HTTP gateway'), websocket: port('WebSocket') };
}

/** The process logs "monitoring listening on http://host:port" (gateways/main.ts). */
function monitorPort(log: string): number | null {
  const match = /monitoring listening on http:\/\/[^"\s]*:(\d+)/.exec(log);
  return match === null ? null : Number(match[1]);
}

/**
 * Switchboard as a real child process (for restart, kill -9, cluster and benchmark tests).
 * Every listener gets a free port and JetStream a fresh store, unless args say otherwise.
 * With `--nats-url` in args it runs in cluster mode: no NATS listener of its own, so
 * `port` is 0 and `url` the cluster's URL list. Resolves once everything listens.
 */
export async function startSwitchboardProcess(args: string[] = [], port?: number): Promise<SwitchboardProcess> {
  const clusterUrl = args.includes('--nats-url') ? args[args.indexOf('--nats-url') + 1] : undefined;
  const chosen = clusterUrl !== undefined ? 0 : (port ?? (await freePort()));
  const isolation = ['--mqtt_port', '0', '--http_gateway_port', '0', '--websocket_port', '0'];
  if (clusterUrl === undefined) {
    isolation.push('-a', '127.0.0.1', '-p', String(chosen), '-m', '0');
  }
  // A store made here is removed at stop(); one the caller names is the caller's.
  const store = clusterUrl === undefined && !args.includes('-sd') && !args.includes('--store_dir') ? mkdtempSync(join(tmpdir(), 'switchboard-store-')) : null;
  if (store !== null) isolation.push('-sd', store);
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateways/main.ts', ...isolation, ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log: string;
  const removeStore = (): void => {
    if (store !== null) rmSync(store, { recursive: true, force: true });
  };
  try {
    log = await waitForOutput(child, READY_MESSAGE, 30_000);
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    removeStore();
    throw error;
  }
  // Keep reading, so a chatty process never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    name: clusterUrl === undefined ? 'switchboard-process' : 'switchboard-gateway',
    child,
    port: chosen,
    url: clusterUrl ?? `nats://127.0.0.1:${chosen}`,
    gateways: gatewayPorts(log),
    monitorPort: monitorPort(log),
    stop: async () => {
      await stopChild(child);
      removeStore();
    },
  };
}

export interface ServerTarget {
  readonly name: string;
  /** Reference peers the target runs on: its suite is registered with `{ peers }` (peer-test.ts). */
  readonly peers?: readonly Peer[];
  start(options?: Partial<ServerOptions>): Promise<RunningServer>;
}

/**
 * The implementations a differential suite runs against: Switchboard and Debian's
 * nats-server (a skip, or under CI a failure, when it is not installed).
 */
export function natsTargets(): ServerTarget[] {
  return [
    { name: 'switchboard', start: (options) => startSwitchboard(options) },
    { name: 'nats-server', peers: ['nats-server'], start: (options) => startNatsServer([], options?.port) },
  ];
}
