// JetStream servers for tests: Switchboard (NatsServer + JetStreamEngine on one
// Router, in-process or as a child process) and Debian's `nats-server -js`,
// each with its own temporary store directory.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { after, before } from './peer-test.ts';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { createCore } from '../../core/create-core.ts';
import type { JetStreamEngine, JetStreamOptions } from '../../core/jetstream/jetstream-engine.ts';
import type { NatsServer } from '../../core/server/nats-server.ts';
import type { Peer } from './peers.ts';
import { freePort, PROJECT_ROOT, startNatsServer, startNewNatsServer, stopChild, waitForOutput, type RunningServer } from './servers.ts';

export function tempStoreDir(prefix = 'sb-js-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface JetStreamServer extends RunningServer {
  readonly storeDir: string;
}

/** Switchboard's core with JetStream (createCore), in-process; `broker` is the EmbeddedBroker on it. */
export async function startSwitchboardJetStream(
  options: Partial<JetStreamOptions> = {},
): Promise<JetStreamServer & { engine: JetStreamEngine; server: NatsServer; broker: EmbeddedBroker }> {
  const storeDir = options.storeDir ?? tempStoreDir();
  const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { ...options, storeDir } });
  await core.start();
  const engine = core.jetstream as JetStreamEngine;
  return {
    name: 'switchboard',
    engine,
    server: core.nats,
    broker: core.broker,
    storeDir,
    port: core.nats.port,
    url: `nats://127.0.0.1:${core.nats.port}`,
    async stop() {
      await core.stop();
      if (options.storeDir === undefined) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** `nats-server -js` (as `start` runs it) on a temporary store directory removed when it stops. */
async function withTempStore(prefix: string, start: (args: string[]) => Promise<RunningServer>): Promise<JetStreamServer> {
  const storeDir = tempStoreDir(prefix);
  const running = await start(['-js', '-sd', storeDir]);
  return {
    ...running,
    storeDir,
    async stop() {
      await running.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** Debian's nats-server with JetStream. */
export function startNatsServerJetStream(): Promise<JetStreamServer> {
  return withTempStore('ns-js-', (args) => startNatsServer(args));
}

/** A current nats-server (2.11+, peer `nats-server-new`) with JetStream. */
export function startNewNatsServerJetStream(): Promise<JetStreamServer> {
  return withTempStore('ns-new-js-', (args) => startNewNatsServer(args));
}


export interface JetStreamTarget {
  readonly name: string;
  /** Reference peers the target runs on: its suite is registered with `{ peers }` (peer-test.ts). */
  readonly peers?: readonly Peer[];
  start(): Promise<JetStreamServer>;
}

/** Switchboard and nats-server -js (a skip, or under CI a failure, when it is not installed). */
export function jetStreamTargets(): JetStreamTarget[] {
  return [
    { name: 'switchboard', start: () => startSwitchboardJetStream() },
    { name: 'nats-server', peers: ['nats-server'], start: () => startNatsServerJetStream() },
  ];
}

/**
 * For features newer than Debian's nats-server 2.9 (subject transforms,
 * per-message TTL, pause, ...): Switchboard and a current nats-server
 * (`NATS_SERVER_NEW`; a skip, or under CI a failure, without it).
 */
export function currentJetStreamTargets(): JetStreamTarget[] {
  return [
    { name: 'switchboard', start: () => startSwitchboardJetStream() },
    { name: 'nats-server-new', peers: ['nats-server-new'], start: () => startNewNatsServerJetStream() },
  ];
}

/** Switchboard with JetStream as a child process (test/helpers/jetstream-server-main.ts). */
/** `nodeFlags` go to node itself (benches pass --cpu-prof); `extra` to the server. */
export async function startJetStreamProcess(storeDir: string, port?: number, extra: string[] = [], nodeFlags: string[] = []): Promise<RunningServer & { child: ChildProcess; readyLine: string }> {
  const chosen = port ?? (await freePort());
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'test/helpers/jetstream-server-main.ts', '--port', String(chosen), '--store-dir', storeDir, ...extra], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const readyLine = await waitForOutput(child, 'JetStream ready');
  return { name: 'switchboard-js-process', child, readyLine, port: chosen, url: `nats://127.0.0.1:${chosen}`, stop: () => stopChild(child) };
}

/**
 * Run `fn` against a Switchboard JetStream child process on `storeDir` and
 * `port`, then end it: 'kill' with SIGKILL (a crash), 'stop' gracefully.
 */
export async function withJetStreamProcess<T>(
  storeDir: string,
  port: number,
  fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>,
  end: 'kill' | 'stop',
): Promise<T> {
  const proc = await startJetStreamProcess(storeDir, port);
  const nc = await connect({ servers: proc.url, reconnect: false });
  try {
    return await fn(await jetstreamManager(nc), nc);
  } finally {
    if (end === 'kill') {
      const exited = once(proc.child, 'exit');
      proc.child.kill('SIGKILL');
      await exited;
      await nc.close().catch(() => {});
    } else {
      await nc.close();
      await proc.stop();
    }
  }
}

/** Rejects with the client's JetStreamApiError carrying `errCode` (and `description`, when given). */
export async function rejectsWithCode(p: Promise<unknown>, errCode: number, description?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JetStreamApiError, `expected JetStreamApiError, got ${String(e)}`);
    assert.equal(e.code, errCode, `err_code of ${e.message}`);
    if (description !== undefined) assert.equal(e.apiError().description, description);
    return true;
  });
}

/** A suite's server and official clients, filled in by the hooks useJetStream() registers. */
export interface JetStreamContext {
  server: JetStreamServer;
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  /** A raw JetStream API request, answered as parsed JSON. */
  api(subject: string, body?: unknown): Promise<Record<string, any>>;
}

/**
 * Inside a describe body: start `target` and connect the official clients
 * before the suite's tests, close both after. Hooks come from peer-test, so a
 * suite whose peer is missing starts nothing.
 */
export function useJetStream(target: JetStreamTarget): JetStreamContext {
  const ctx = {
    async api(subject: string, body?: unknown) {
      const m = await ctx.nc.request(subject, body === undefined ? '' : JSON.stringify(body), { timeout: 2000 });
      return JSON.parse(m.string()) as Record<string, any>;
    },
  } as JetStreamContext;
  before(async () => {
    ctx.server = await target.start();
    ctx.nc = await connect({ servers: ctx.server.url });
    ctx.jsm = await jetstreamManager(ctx.nc);
    ctx.js = jetstream(ctx.nc);
  });
  after(async () => {
    await ctx.nc?.close();
    await ctx.server?.stop();
  });
  return ctx;
}
