// WebSocket pub→sub throughput against the TCP path, on Switchboard (NatsServer
// plus the WebSocket gateway, in a child process) and, when installed, Debian's
// nats-server with its `websocket {}` listener. One raw publisher and one raw
// subscriber, both on the same path, so the ratio WS/TCP is the cost of the
// framing layer. A section of `npm run bench`; alone:
//
//   npm run bench:websocket -- [--quick] [--size <bytes>] [--path tcp|ws] [--repeat <n>] [--cpu-prof <dir>]
//
// --cpu-prof writes the Switchboard server's CPU profile into <dir> (summarise
// it with `npx tsx test/bench/profile-summary.ts <file>`).
//
// Raw clients on purpose (as the bench workers): the generator must cost far
// less CPU than the server it measures. Messages stay within a window so a
// subscriber is never cut off as a slow consumer mid-run.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { commandAvailable, freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';
import { track } from './child-registry.ts';
import { MsgScanner } from './msg-scanner.ts';
import { CONNECT_LINE, payloadOf, pubFrame, repeatFrame } from './wire.ts';

const BATCH = 256;
/** Messages published but not yet received; bounded so nobody is a slow consumer. */
const WINDOW = 32 * 1024;
const RUN_CAP_MS = 20_000;

type PathName = 'tcp' | 'ws';

/** A byte pipe to a server past the NATS handshake. */
interface Pipe {
  send(chunk: Buffer): boolean;
  drained(): Promise<void>;
  close(): void;
}

interface Endpoints {
  readonly name: string;
  readonly tcpPort: number;
  readonly wsPort: number;
  stop(): Promise<void>;
}

// ---- servers ----

async function serveSwitchboard(): Promise<void> {
  const { createCore } = await import('../../core/create-core.ts');
  const { createWebSocketGateway } = await import('../../gateways/websocket/websocket-gateway.ts');
  const core = createCore({ server: { host: '127.0.0.1', port: 0 } });
  await core.start();
  const gateway = createWebSocketGateway({ nats: core.nats, host: '127.0.0.1', port: 0 });
  await gateway.start();
  process.stdout.write(`READY ${core.nats.port} ${gateway.port}\n`);
  process.once('SIGTERM', () => void gateway.stop().then(() => core.stop()).then(() => process.exit(0)));
}

async function startSwitchboard(nodeFlags: readonly string[]): Promise<Endpoints> {
  const child = track(spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'test/bench/websocket-throughput.ts', '--serve'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = await waitForOutput(child, /READY \d+ \d+/, 20_000);
  const [, tcp, ws] = /READY (\d+) (\d+)/.exec(out)!;
  return { name: 'switchboard', tcpPort: Number(tcp), wsPort: Number(ws), stop: () => stopChild(child) };
}

async function startNatsServer(): Promise<Endpoints> {
  const tcpPort = await freePort();
  const wsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ws-bench-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, `listen: 127.0.0.1:${tcpPort}\nwebsocket {\n  listen: "127.0.0.1:${wsPort}"\n  no_tls: true\n}\n`);
  const child: ChildProcess = track(spawn('nats-server', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitForOutput(child, 'Server is ready', 20_000);
  return {
    name: 'nats-server',
    tcpPort,
    wsPort,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- raw clients ----

/** Send CONNECT + `extra` + PING once INFO is in; resolve at PONG. Later data goes to `onData`. */
function handshake(write: (data: Buffer) => void, extra: string, onData: (chunk: Buffer) => void): { feed(chunk: Buffer): void; ready: Promise<void> } {
  let seen = '';
  let sentConnect = false;
  let done = false;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    ready,
    feed(chunk) {
      if (done) return onData(chunk);
      seen += chunk.toString('latin1');
      if (!sentConnect && seen.includes('\r\n')) {
        sentConnect = true;
        write(Buffer.from(`${CONNECT_LINE}${extra}PING\r\n`));
      }
      if (seen.includes('-ERR')) reject(new Error(`handshake refused: ${seen.trim()}`));
      const pong = seen.indexOf('PONG\r\n');
      if (pong >= 0) {
        done = true;
        resolve();
        // Whatever followed PONG already belongs to the run.
        const rest = Buffer.from(seen.slice(pong + 6), 'latin1');
        if (rest.length > 0) onData(rest);
      }
    },
  };
}

async function openPipe(path: PathName, port: number, extra: string, onData: (chunk: Buffer) => void): Promise<Pipe> {
  if (path === 'tcp') {
    const socket: Socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true });
    const hs = handshake((d) => socket.write(d), extra, onData);
    socket.on('data', (chunk: Buffer) => hs.feed(chunk));
    await hs.ready;
    return {
      send: (chunk) => socket.write(chunk),
      drained: () => once(socket, 'drain').then(() => undefined),
      close: () => socket.destroy(),
    };
  }
  const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  const hs = handshake((d) => socket.send(d, { binary: true }), extra, onData);
  socket.on('message', (data: Buffer) => hs.feed(data));
  await once(socket, 'open');
  await hs.ready;
  return {
    send(chunk) {
      socket.send(chunk, { binary: true });
      return socket.bufferedAmount < 1024 * 1024;
    },
    async drained() {
      while (socket.bufferedAmount >= 1024 * 1024) await new Promise((resolve) => setImmediate(resolve));
    },
    close: () => socket.terminate(),
  };
}

interface Result {
  msgsPerSec: number;
  mbPerSec: number;
  received: number;
}

async function measure(path: PathName, port: number, count: number, size: number): Promise<Result> {
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let waiting: (() => void) | null = null;
  let sent = 0;
  const scanner = new MsgScanner({
    onControl: (line) => {
      if (line.startsWith('-ERR')) throw new Error(`subscriber got ${line}`);
    },
  });
  const sub = await openPipe(path, port, 'SUB bench.ws 1\r\n', (chunk) => {
    scanner.feed(chunk);
    if (waiting !== null && sent - scanner.count < WINDOW / 2) {
      const wake = waiting;
      waiting = null;
      wake();
    }
    if (scanner.count >= count) done();
  });
  const pub = await openPipe(path, port, '', () => {});
  const batch = repeatFrame(pubFrame('bench.ws', null, payloadOf(size)), BATCH);
  const started = process.hrtime.bigint();
  const deadline = Date.now() + RUN_CAP_MS;
  while (sent < count && Date.now() < deadline) {
    if (sent - scanner.count >= WINDOW) await new Promise<void>((resolve) => (waiting = resolve));
    if (!pub.send(batch)) await pub.drained();
    sent += BATCH;
  }
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  pub.close();
  sub.close();
  return { msgsPerSec: scanner.count / seconds, mbPerSec: (scanner.count * size) / seconds / 1e6, received: scanner.count };
}

// ---- main ----

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      size: { type: 'string', default: '128' },
      serve: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      path: { type: 'string' },
      repeat: { type: 'string' },
    },
  });
  if (values.serve) return serveSwitchboard();
  const size = Number(values.size);
  const count = values.quick ? 200_000 : 1_000_000;
  // The machine is shared and noisy: each cell is the best of `repeat` runs, paths alternating.
  const repeat = Number(values.repeat ?? (values.quick ? 1 : 3));
  const profDir = values['cpu-prof'];
  const nodeFlags = profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${profDir}`];
  const starters: Array<() => Promise<Endpoints>> = [() => startSwitchboard(nodeFlags)];
  if (commandAvailable('nats-server')) starters.push(startNatsServer);
  else process.stdout.write('SKIPPED: nats-server not installed\n');
  process.stdout.write(`websocket bench: 1 publisher -> 1 subscriber, ${count} msgs of ${size} B per run, best of ${repeat}, node ${process.version}\n`);
  const table: Array<{ server: string; path: PathName; result: Result }> = [];
  for (const start of starters) {
    const endpoints = await start();
    try {
      const paths = (['tcp', 'ws'] as const).filter((p) => values.path === undefined || values.path === p);
      const best = new Map<PathName, Result>();
      for (let run = 0; run < repeat; run++) {
        for (const path of paths) {
          const result = await measure(path, path === 'tcp' ? endpoints.tcpPort : endpoints.wsPort, count, size);
          const previous = best.get(path);
          if (previous === undefined || result.msgsPerSec > previous.msgsPerSec) best.set(path, result);
        }
      }
      for (const [path, result] of best) {
        table.push({ server: endpoints.name, path, result });
        process.stdout.write(`${endpoints.name.padEnd(12)} ${path.padEnd(4)} ${Math.round(result.msgsPerSec).toLocaleString('en-US').padStart(12)} msgs/s ${result.mbPerSec.toFixed(1).padStart(8)} MB/s${result.received < count ? `  (capped: ${result.received}/${count})` : ''}\n`);
      }
    } finally {
      await endpoints.stop();
    }
  }
  const rate = (server: string, path: PathName): number | undefined => table.find((r) => r.server === server && r.path === path)?.result.msgsPerSec;
  for (const server of new Set(table.map((r) => r.server))) {
    const tcp = rate(server, 'tcp');
    const ws = rate(server, 'ws');
    if (tcp !== undefined && ws !== undefined) process.stdout.write(`${server}: ws/tcp = ${(ws / tcp).toFixed(2)}\n`);
  }
  for (const path of ['tcp', 'ws'] as const) {
    const ours = rate('switchboard', path);
    const theirs = rate('nats-server', path);
    if (ours !== undefined && theirs !== undefined) process.stdout.write(`${path}: switchboard/nats-server = ${(ours / theirs).toFixed(2)}\n`);
  }
}

await main();
