// Restart time (issue 29 item 6): kill -9, then a new process on the same
// store, timed from spawn to the first PONG and to the first STREAM.INFO that
// reports every message (JetStream ready), with an empty store and with a
// stream of 2M messages, side by side with `nats-server -js -sd` when it is
// installed. Switchboard runs both ways it ships: through tsx (`npm run dev`)
// and compiled (`npm start`'s dist/switchboard.mjs, built first).
//   node --import tsx test/bench/restart-bench.ts [--quick] [--runs N] [--messages N] [--only compiled,nats-server]
// The machine's load average is printed with the figures: on a shared box the
// spread between runs is large, so medians are reported.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { commandAvailable, freePort, PROJECT_ROOT } from '../helpers/servers.ts';
import { track } from './child-registry.ts';

const STREAM = 'RB';
const PAYLOAD = Buffer.alloc(100, 0x61);

interface Target {
  readonly name: string;
  command(port: number, storeDir: string): string[];
}

/** Every listener, as `npm start` has them, on free ports (other runs share the machine). */
const switchboardArgs = (port: number, dir: string): string[] =>
  ['-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-m', '0', '--mqtt_port', '0', '--http_gateway_port', '0', '--websocket_port', '0'];

const COMPILED = 'dist/switchboard.mjs';

const TARGETS: readonly Target[] = [
  { name: 'switchboard (tsx)', command: (port, dir) => [process.execPath, '--import', 'tsx', 'gateways/main.ts', ...switchboardArgs(port, dir)] },
  { name: 'switchboard (compiled)', command: (port, dir) => [process.execPath, COMPILED, ...switchboardArgs(port, dir)] },
  { name: 'nats-server', command: (port, dir) => ['nats-server', '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir] },
];

function launch(cmd: string[]): ChildProcess {
  const [file, ...args] = cmd;
  const child = track(spawn(file, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'ignore'] }));
  return child;
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One raw NATS connection, retried until the port accepts; resolves once `until` matches what it read. */
async function rawSession(port: number, deadline: number): Promise<{ sock: Socket; read: (until: RegExp) => Promise<string> }> {
  for (;;) {
    if (performance.now() > deadline) throw new Error('server never accepted a connection');
    const sock = tcpConnect(port, '127.0.0.1');
    // No Nagle: a small request must not wait for the delayed ACK of the last one.
    sock.setNoDelay(true);
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('connect', () => resolve(true));
      sock.once('error', () => resolve(false));
    });
    if (!ok) {
      sock.destroy();
      await sleep(2);
      continue;
    }
    let buf = '';
    let wake: (() => void) | null = null;
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      wake?.();
    });
    sock.on('error', () => wake?.());
    const read = async (until: RegExp): Promise<string> => {
      for (;;) {
        const m = until.exec(buf);
        if (m !== null) {
          buf = buf.slice(m.index + m[0].length);
          return m[0];
        }
        if (sock.destroyed || performance.now() > deadline) throw new Error(`no ${until} before the deadline`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    };
    return { sock, read };
  }
}

interface Timing {
  pongMs: number;
  readyMs: number;
}

/** Spawn on storeDir and time the first PONG and the first STREAM.INFO with `messages` messages. */
async function timeStart(target: Target, storeDir: string, messages: number): Promise<{ child: ChildProcess; port: number; t: Timing }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = launch(target.command(port, storeDir));
  const deadline = t0 + 120_000;
  const { sock, read } = await rawSession(port, deadline);
  try {
    await read(/^INFO .*\r\n/m);
    sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nPING\r\n');
    await read(/PONG\r\n/);
    const pongMs = performance.now() - t0;
    sock.write('SUB _INBOX.rb 1\r\n');
    for (;;) {
      sock.write(`PUB $JS.API.STREAM.INFO.${STREAM} _INBOX.rb 0\r\n\r\n`);
      const head = await read(/MSG _INBOX\.rb 1 (\d+)\r\n/);
      const size = Number(/(\d+)\r\n$/.exec(head)?.[1]);
      const body = await read(new RegExp(`^[\\s\\S]{${size}}\\r\\n`));
      const info = JSON.parse(body.slice(0, size)) as { state?: { messages: number } };
      if (info.state?.messages === messages) break;
      if (performance.now() > deadline) throw new Error(`stream ${STREAM} not ready: ${body.slice(0, 200)}`);
      await sleep(2);
    }
    return { child, port, t: { pongMs, readyMs: performance.now() - t0 } };
  } finally {
    sock.destroy();
  }
}

/** Create the stream and store `messages` messages (core publishes, then an acknowledged one to know they are in). */
async function fill(port: number, messages: number): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ['rb.>'] });
    for (let i = 0; i < messages; i++) {
      nc.publish(`rb.${i % 1000}`, PAYLOAD);
      if (i % 20_000 === 19_999) await nc.flush();
    }
    await nc.flush();
    for (let tries = 0; ; tries++) {
      const state = (await jsm.streams.info(STREAM)).state;
      if (state.messages === messages) return;
      if (tries > 600) throw new Error(`stream holds ${state.messages} of ${messages}`);
      await sleep(200);
    }
  } finally {
    await nc.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(target: Target, messages: number, runs: number): Promise<Timing[]> {
  const storeDir = tempStoreDir('restart-bench-');
  try {
    const first = await startStore(target, storeDir, messages);
    await kill9(first);
    const out: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      const { child, t } = await timeStart(target, storeDir, messages);
      out.push(t);
      await kill9(child);
    }
    return out;
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
}

/** First start: make the stream (and fill it); returns the process, to be killed. */
async function startStore(target: Target, storeDir: string, messages: number): Promise<ChildProcess> {
  const port = await freePort();
  const child = launch(target.command(port, storeDir));
  const { sock, read } = await rawSession(port, performance.now() + 60_000);
  await read(/^INFO .*\r\n/m);
  sock.destroy();
  await fill(port, messages);
  return child;
}

function row(name: string, ts: Timing[]): string {
  const f = (xs: number[]): string => `${median(xs).toFixed(0).padStart(6)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  return `  ${name.padEnd(24)} PONG ${f(ts.map((t) => t.pongMs))}   stream ready ${f(ts.map((t) => t.readyMs))}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, runs: { type: 'string' }, messages: { type: 'string' }, only: { type: 'string' } } });
  const only = values.only?.split(',') ?? null;
  const quick = values.quick === true;
  const runs = Number(values.runs ?? (quick ? 3 : 5));
  const big = Number(values.messages ?? (quick ? 200_000 : 2_000_000));
  const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const targets = TARGETS.filter((t) => only === null || only.some((o) => t.name.includes(o))).filter((t) => {
    if (t.name === 'nats-server') return commandAvailable('nats-server');
    if (t.name.includes('compiled')) return build.status === 0 && existsSync(join(PROJECT_ROOT, COMPILED));
    return true;
  });
  for (const messages of [0, big]) {
    process.stdout.write(`\nkill -9 -> ready, ${messages.toLocaleString('en')} messages, median of ${runs} (min-max); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    const medians = new Map<string, number>();
    for (const target of targets) {
      const ts = await measure(target, messages, runs);
      medians.set(target.name, median(ts.map((t) => t.readyMs)));
      process.stdout.write(`${row(target.name, ts)}\n`);
    }
    const reference = medians.get('nats-server');
    if (reference !== undefined) {
      for (const [name, ms] of medians) if (name !== 'nats-server') process.stdout.write(`  ${name}: x${(ms / reference).toFixed(1)} nats-server's time to stream ready\n`);
    }
  }
}

await main();
