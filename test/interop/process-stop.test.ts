// Switchboard ships and stops like a real server (issue 30): the production
// build runs from `npm start` (built by prestart), from the `switchboard` bin,
// and as PID 1 of a fresh PID namespace (`unshare --pid --fork`, what a
// container's entry process is); SIGTERM stops each one cleanly: clients are
// told (MQTT v5 DISCONNECT 0x8B, SSE `event: end`), ports are released, exit
// code 0. Lame duck (`switchboard --signal ldm=<pid>`, as nats-server) tells
// NATS clients (INFO ldm), refuses new MQTT clients, and closes a fleet of
// 1,000 MQTT clients spread over lame_duck_duration. Real clients: the NATS
// client, raw MQTT sockets (mqtt-packet), fetch for SSE.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import { commandAvailable, freePort, PROJECT_ROOT, waitForOutput } from '../helpers/servers.ts';

interface Ports {
  nats: number;
  monitor: number;
  mqtt: number;
  http: number;
  websocket: number;
}

interface Started {
  child: ChildProcess;
  ports: Ports;
  output: () => string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

const dirs: string[] = [];
/** Every server started, so a failed test leaves none running (a live child would keep the test file from ending). */
const started: ChildProcess[] = [];

async function listenerArgs(): Promise<{ ports: Ports; args: string[] }> {
  const ports = { nats: await freePort(), monitor: await freePort(), mqtt: await freePort(), http: await freePort(), websocket: await freePort() };
  const store = mkdtempSync(join(tmpdir(), 'switchboard-stop-'));
  dirs.push(store);
  const args = ['-a', '127.0.0.1', '-p', String(ports.nats), '-m', String(ports.monitor), '--mqtt_port', String(ports.mqtt), '--http_gateway_port', String(ports.http), '--websocket_port', String(ports.websocket), '-sd', store];
  return { ports, args };
}

async function start(command: string, commandArgs: string[], extra: string[] = []): Promise<Started> {
  const { ports, args } = await listenerArgs();
  // A process group of its own: after() can end npm and the server under it together.
  const child = spawn(command, [...commandArgs, ...args, ...extra], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await waitForOutput(child, 'Switchboard ready', 60_000);
  return { child, ports, output: () => output, exit };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function allReleased(ports: Ports): Promise<void> {
  for (const [name, port] of Object.entries(ports)) assert.ok(await refused(port), `${name} port ${port} is released`);
}

/** Clients that must be told: an MQTT v5 client (DISCONNECT 0x8B) and an SSE reader (`event: end`). */
async function clientsToTell(ports: Ports): Promise<{ mqtt: RawMqtt; sse: () => Promise<string> }> {
  const mqtt = await RawMqtt.open(ports.mqtt, 5);
  const connack = await mqtt.connect(5, { clientId: 'told' });
  assert.equal((connack as { reasonCode?: number }).reasonCode, 0);
  const response = await fetch(`http://127.0.0.1:${ports.http}/v1/subjects/stop.test`, { headers: { accept: 'text/event-stream' } });
  const reader = response.body?.getReader();
  assert.ok(reader !== undefined);
  await reader.read(); // the stream is open
  const sse = async (): Promise<string> => {
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += Buffer.from(value).toString();
    }
  };
  return { mqtt, sse };
}

async function stopAndCheck(server: Started, signalled: () => void): Promise<void> {
  const { mqtt, sse } = await clientsToTell(server.ports);
  const streamText = sse();
  const began = Date.now();
  signalled();
  const [code, signal] = await server.exit;
  assert.equal(signal, null, server.output().slice(-2000));
  assert.equal(code, 0, server.output().slice(-2000));
  assert.ok(Date.now() - began < 10_000, 'stopped within the shutdown time');
  const disconnect = await mqtt.next('disconnect');
  assert.equal((disconnect as { reasonCode?: number }).reasonCode, 0x8b, 'the MQTT v5 client is told the server is shutting down');
  assert.match(await streamText, /event: end\ndata: \{"reason":"server shutting down"\}/, 'the SSE reader is told why its stream ends');
  await allReleased(server.ports);
  assert.match(server.output(), /"msg":"stopped"/);
}

describe('process stop', () => {
  before(() => {
    // The production build the bin and PID 1 runs use (`npm start` makes its own in prestart).
    const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  });
  after(() => {
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('process stop - npm start runs the build; SIGTERM to npm stops the server: clients told, ports released, exit 0', async () => {
    const server = await start('npm', ['start', '--']);
    // The build step may use tsx (the console's build script); the server itself must not run under it.
    assert.doesNotMatch(server.output(), /tsx gateways\/main\.ts/);
    const children = spawnSync('ps', ['-o', 'args=', '--ppid', String(server.child.pid)], { encoding: 'utf8' }).stdout;
    assert.match(children, /^node dist\/switchboard\.mjs /m, 'npm runs the compiled JavaScript directly (exec), not through tsx or a shell');
    await stopAndCheck(server, () => server.child.kill('SIGTERM'));
  });

  it('process stop - the bin runs the build; SIGINT stops it cleanly', async () => {
    const server = await start(process.execPath, ['gateways/bin/switchboard.mjs']);
    await stopAndCheck(server, () => server.child.kill('SIGINT'));
  });

  it('process stop - as PID 1 of a new PID namespace, SIGTERM stops it cleanly', { skip: !commandAvailable('unshare') }, async () => {
    const server = await start('unshare', ['--pid', '--fork', '--kill-child', process.execPath, 'dist/switchboard.mjs']);
    // The server is unshare's child: PID 1 inside, an ordinary pid outside.
    const pid = Number(spawnSync('pgrep', ['-P', String(server.child.pid)], { encoding: 'utf8' }).stdout.trim());
    assert.ok(pid > 0);
    const nsPid = spawnSync('grep', ['NSpid', `/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
    assert.match(nsPid, /\s1$/m, 'it is PID 1 in its namespace');
    await stopAndCheck(server, () => process.kill(pid, 'SIGTERM'));
  });

  it('process stop - messages buffered for an unreachable Kafka are logged, by count, when the stop drops them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-kafka-stop-'));
    dirs.push(dir);
    const config = join(dir, 'switchboard.json');
    const nowhere = await freePort(); // nothing listens: Kafka stays unreachable
    writeFileSync(config, JSON.stringify({ kafka: { kafka: { brokers: [`127.0.0.1:${nowhere}`], connectionTimeoutMs: 200 }, mappings: [{ name: 'to-nowhere', direction: 'nats-to-kafka', subject: 'k.out', topic: 'k-out' }] } }));
    const server = await start(process.execPath, ['dist/switchboard.mjs', '-c', config]);
    const nc = await connect({ servers: `nats://127.0.0.1:${server.ports.nats}` });
    for (let i = 0; i < 3; i++) nc.publish('k.out', `m${i}`);
    await nc.flush();
    await nc.close();
    server.child.kill('SIGTERM');
    const [code] = await server.exit;
    assert.equal(code, 0, server.output().slice(-2000));
    assert.match(server.output(), /"mapping":"to-nowhere".*stopped with 3 messages not yet written to Kafka/);
  });

  it('process stop - lame duck (--signal ldm=<pid>) tells NATS clients, refuses new MQTT clients and closes 1,000 over the duration', async () => {
    const DURATION_MS = 4_000;
    const GRACE_MS = 500;
    const FLEET = 1_000;
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-ldm-'));
    dirs.push(dir);
    const config = join(dir, 'switchboard.conf');
    writeFileSync(config, `lame_duck_duration: "${DURATION_MS / 1000}s"\nlame_duck_grace_period: "${GRACE_MS}ms"\n`);
    const server = await start(process.execPath, ['dist/switchboard.mjs', '-c', config]);

    const nc = await connect({ servers: `nats://127.0.0.1:${server.ports.nats}`, reconnect: false });
    const statuses: string[] = [];
    void (async () => {
      for await (const s of nc.status()) statuses.push(s.type);
    })();
    const fleet: RawMqtt[] = [];
    for (let i = 0; i < FLEET; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, FLEET - i) }, async (_, j) => {
        const client = await RawMqtt.open(server.ports.mqtt, 5);
        await client.connect(5, { clientId: `fleet-${i + j}` });
        return client;
      }));
      fleet.push(...batch);
    }
    const varz = (await (await fetch(`http://127.0.0.1:${server.ports.monitor}/varz`)).json()) as { mqtt: { connections: number } };
    assert.equal(varz.mqtt.connections, FLEET);

    const began = Date.now();
    const signalled = spawnSync(process.execPath, ['dist/switchboard.mjs', '--signal', `ldm=${server.child.pid}`], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(signalled.status, 0, signalled.stderr);
    await waitForOutput(server.child, 'entering lame duck mode', 5_000).catch(() => undefined);

    // Told at once: the NATS client hears ldm; a new MQTT client is refused (listener closed, or CONNACK 0x88).
    const deadline = Date.now() + 2_000;
    while (!statuses.includes('ldm') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(statuses.includes('ldm'), `the NATS client saw INFO ldm: ${statuses.join(',')}`);
    assert.ok(await refused(server.ports.mqtt), 'the MQTT listener no longer accepts');
    assert.ok(await refused(server.ports.nats), 'the NATS listener no longer accepts');

    const [code] = await server.exit;
    assert.equal(code, 0, server.output().slice(-2000));
    const closes = fleet.map((c) => (c.closedAt ?? Number.NaN) - began).sort((a, b) => a - b);
    assert.ok(closes.every((t) => Number.isFinite(t)), 'every fleet client was closed');
    assert.ok(closes[0] >= GRACE_MS - 100, `no client closes before the grace period: first after ${closes[0]} ms`);
    const spread = closes[closes.length - 1] - closes[0];
    assert.ok(spread >= (DURATION_MS - GRACE_MS) * 0.7, `closes are spread over the duration: ${closes[0]}..${closes[closes.length - 1]} ms`);
    assert.ok(closes[closes.length - 1] <= DURATION_MS + 4_000, `the last close comes by the end of the duration: ${closes[closes.length - 1]} ms`);
    const told = fleet.filter((c) => c.packets.some((p) => p.cmd === 'disconnect' && (p as { reasonCode?: number }).reasonCode === 0x8b)).length;
    assert.equal(told, FLEET, 'each MQTT v5 client got DISCONNECT 0x8B');
    await nc.close().catch(() => undefined);
  });
});
