// MQTT benchmarks, Switchboard's gateway side by side with Debian's mosquitto:
// QoS 0/1/2 throughput publisher -> subscriber, 10,000 connected clients each
// with a subscription (server memory and fan-out time), and 10,000 offline
// persistent QoS 1 sessions (memory, and the time to queue one message for all),
// and QoS 1 throughput to a persistent session (Switchboard with its state in
// JetStream: every message logged once, in-flight state saved as it changes).
// Both servers run as child processes; the clients are raw sockets in this process.
// Then the fleet figures (mqtt-fleet.ts: connect rate, memory per idle connection,
// a reconnect storm), with the load generator in its own process.
//   node --import tsx test/bench/mqtt-bench.ts [--quick] [--throughput-only | --fleet-only] [--switchboard-root <dir>]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { spawnMqttProcess } from '../helpers/mqtt.ts';
import { commandAvailable, freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';
import { FLEET_FULL, FLEET_QUICK, fleetFigures } from './mqtt-fleet.ts';

const quick = process.argv.includes('--quick');
const N = { qos0: quick ? 50_000 : 300_000, qos1: quick ? 20_000 : 100_000, qos2: quick ? 10_000 : 50_000, clients: quick ? 2_000 : 10_000 };
const WINDOW = 500;

interface Server {
  name: string;
  port: number;
  child: ChildProcess;
  dir: string;
}

async function startServer(name: 'switchboard' | 'mosquitto', persistence: 'memory' | 'jetstream' = 'memory'): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `mqtt-bench-${name}-`));
  if (name === 'mosquitto') {
    const conf = join(dir, 'm.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\nmax_queued_messages 1000000\nmax_inflight_messages 0\n`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(child, /Opening ipv4 listen socket|running/);
    child.stdout?.resume();
    child.stderr?.resume();
    await sleep(100);
    return { name, port, child, dir };
  }
  const child = await spawnMqttProcess(['--mqtt-port', String(port), '--store-dir', dir, '--persistence', persistence], ['--expose-gc']);
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') progress(`${name} exited with ${code ?? signal}`);
  });
  return { name, port, child, dir };
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Switchboard only: live heap bytes after a full GC (see mqtt-server-main.ts). */
async function heapBytes(server: Server): Promise<number | null> {
  if (server.name !== 'switchboard') return null;
  const line = new Promise<number>((resolve) => {
    const onData = (d: Buffer): void => {
      const m = /HEAP (\d+)/.exec(d.toString());
      if (m) {
        server.child.stdout?.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    server.child.stdout?.on('data', onData);
  });
  server.child.kill('SIGUSR2');
  return line;
}

function progress(line: string): void {
  process.stderr.write(`mqtt-bench: ${line}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A received packet, decoded only as far as the bench needs. */
interface Frame {
  cmd: Packet['cmd'];
  messageId: number;
}

const CMDS: Packet['cmd'][] = ['auth', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect'];

/**
 * A minimal raw MQTT 3.1.1 client. Frames are split by hand and only the packet
 * id is read, so the client spends little CPU and the server is what is measured.
 */
class BenchClient {
  onPacket: (p: Frame) => void = () => {};
  private pending: Buffer | null = null;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
  }

  static async open(port: number, clientId: string, clean = true): Promise<BenchClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const c = new BenchClient(socket);
    const connack = c.next('connack');
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean, keepalive: 0 });
    await connack;
    return c;
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    while (buf.length >= 2) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < 5 && i < buf.length; i++) {
        len += (buf[i] & 0x7f) * mul;
        mul *= 128;
        if ((buf[i] & 0x80) === 0) break;
      }
      if (i >= buf.length) break;
      const start = i + 1;
      if (buf.length < start + len) break;
      const type = buf[0] >> 4;
      const cmd = CMDS[type];
      let messageId = 0;
      if (cmd === 'publish') {
        const qos = (buf[0] >> 1) & 3;
        const topicLen = buf.readUInt16BE(start);
        if (qos > 0) messageId = buf.readUInt16BE(start + 2 + topicLen);
      } else if (len >= 2) messageId = buf.readUInt16BE(start);
      this.onPacket({ cmd, messageId });
      buf = buf.subarray(start + len);
    }
    if (buf.length > 0) this.pending = Buffer.from(buf);
  }

  send(p: Packet): boolean {
    return this.socket.write(mqttPacket.generate(p));
  }

  next(cmd: Packet['cmd']): Promise<Frame> {
    return new Promise((resolve) => {
      const prev = this.onPacket;
      this.onPacket = (p) => {
        if (p.cmd === cmd) {
          this.onPacket = prev;
          resolve(p);
        } else prev(p);
      };
    });
  }

  async subscribe(topic: string, qos: 0 | 1 | 2): Promise<void> {
    const suback = this.next('suback');
    this.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] });
    await suback;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A 4-byte ack packet (PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70). */
function ack(first: number, id: number): Buffer {
  return Buffer.from([first, 2, id >> 8, id & 0xff]);
}

/**
 * Publisher -> subscriber throughput at one QoS; returns messages per second.
 * The publisher connects to `publisherPort` (default: the subscriber's server),
 * so the cluster bench can publish through one gateway and subscribe on another;
 * `persistentSubscriber` connects the subscriber with CleanSession=0.
 */
export async function throughput(server: Pick<Server, 'name' | 'port'>, qos: 0 | 1 | 2, count: number, publisherPort = server.port, persistentSubscriber = false): Promise<number> {
  const sub = await BenchClient.open(server.port, `sub-${qos}`, !persistentSubscriber);
  await sub.subscribe('bench/t', qos);
  const pub = await BenchClient.open(publisherPort, `pub-${qos}`);
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  sub.onPacket = (p) => {
    if (p.cmd === 'publish') {
      received++;
      if (qos === 1) sub.socket.write(ack(0x40, p.messageId));
      if (qos === 2) sub.socket.write(ack(0x50, p.messageId));
      if (received === count) done();
    } else if (p.cmd === 'pubrel') sub.socket.write(ack(0x70, p.messageId));
  };
  const payload = Buffer.alloc(16, 'x');
  const started = performance.now();
  if (qos === 0) {
    const frame = mqttPacket.generate({ cmd: 'publish', topic: 'bench/t', payload, qos: 0, retain: false, dup: false });
    const batch = Buffer.concat(Array.from({ length: 100 }, () => frame));
    for (let sent = 0; sent < count; sent += 100) {
      if (!pub.socket.write(sent + 100 <= count ? batch : Buffer.concat(Array.from({ length: count - sent }, () => frame)))) await once(pub.socket, 'drain');
    }
  } else {
    let inflight = 0;
    let next = 0;
    let wake: () => void = () => {};
    pub.onPacket = (p) => {
      if (p.cmd === 'puback' || p.cmd === 'pubcomp') {
        inflight--;
        wake();
      } else if (p.cmd === 'pubrec') pub.socket.write(ack(0x62, p.messageId));
    };
    const template = mqttPacket.generate({ cmd: 'publish', topic: 'bench/t', payload, qos, retain: false, dup: false, messageId: 1 });
    const idAt = template.length - payload.length - 2;
    while (next < count) {
      const frames: Buffer[] = [];
      while (inflight < WINDOW && next < count) {
        inflight++;
        const frame = Buffer.from(template);
        frame.writeUInt16BE((next++ % 65000) + 1, idAt);
        frames.push(frame);
      }
      if (frames.length > 0) pub.socket.write(Buffer.concat(frames));
      await new Promise<void>((r) => (wake = r));
    }
  }
  await Promise.race([finished, sleep(120_000)]);
  const seconds = (performance.now() - started) / 1000;
  pub.close();
  sub.close();
  if (received < count) throw new Error(`${server.name} qos${qos}: ${received}/${count} delivered`);
  return count / seconds;
}

/** Many connected clients, one subscription each; RSS and one publish's fan-out time. */
async function fanOut(server: Server, clients: number): Promise<{ rss: number; heap: number | null; connectSeconds: number; fanOutMs: number }> {
  const before = rssMiB(server.child.pid);
  const heapBefore = await heapBytes(server);
  const subs: BenchClient[] = [];
  const t0 = performance.now();
  for (let i = 0; i < clients; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, clients - i) }, (_, k) => BenchClient.open(server.port, `fan-${i + k}`)));
    await Promise.all(batch.map((c, k) => c.subscribe(`fan/${(i + k) % 100}/x`, 0)));
    subs.push(...batch);
  }
  const connectSeconds = (performance.now() - t0) / 1000;
  await sleep(500);
  const rss = rssMiB(server.child.pid) - before;
  const heapAfter = await heapBytes(server);
  const heap = heapBefore === null || heapAfter === null ? null : (heapAfter - heapBefore) / clients;
  let got = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  for (const c of subs) {
    c.onPacket = (p) => {
      if (p.cmd === 'publish' && ++got === clients) done();
    };
  }
  const pub = await BenchClient.open(server.port, 'fan-pub');
  const t1 = performance.now();
  pub.send({ cmd: 'publish', topic: 'fan/+/x'.replace('+', '0'), payload: Buffer.from('hi'), qos: 0, retain: false, dup: false });
  // Every subscriber subscribed to fan/<i % 100>/x: publish to all 100 topics.
  for (let t = 1; t < 100; t++) pub.send({ cmd: 'publish', topic: `fan/${t}/x`, payload: Buffer.from('hi'), qos: 0, retain: false, dup: false });
  await Promise.race([all, sleep(30_000)]);
  const fanOutMs = performance.now() - t1;
  pub.close();
  for (const c of subs) c.close();
  if (got < clients) throw new Error(`${server.name} fan-out: ${got}/${clients}`);
  return { rss, heap, connectSeconds, fanOutMs };
}

/** Offline persistent QoS 1 sessions: RSS, and the time to queue one message for all of them. */
async function persistentSessions(server: Server, sessions: number): Promise<{ rss: number; heap: number | null; queueMs: number }> {
  const before = rssMiB(server.child.pid);
  const heapBefore = await heapBytes(server);
  for (let i = 0; i < sessions; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, sessions - i) }, (_, k) => BenchClient.open(server.port, `ps-${i + k}`, false)));
    await Promise.all(batch.map((c) => c.subscribe('ps/all', 1)));
    for (const c of batch) {
      c.send({ cmd: 'disconnect' });
      c.close();
    }
  }
  await sleep(500);
  const rss = rssMiB(server.child.pid) - before;
  const heapAfter = await heapBytes(server);
  const heap = heapBefore === null || heapAfter === null ? null : (heapAfter - heapBefore) / sessions;
  const pub = await BenchClient.open(server.port, 'ps-pub');
  const t = performance.now();
  const ack = pub.next('puback');
  pub.send({ cmd: 'publish', topic: 'ps/all', payload: Buffer.from('queued'), qos: 1, retain: false, dup: false, messageId: 1 });
  await ack;
  // Measured until a round-trip after the PUBACK: the server has processed the publish.
  const ping = pub.next('pingresp');
  pub.send({ cmd: 'pingreq' });
  await ping;
  const queueMs = performance.now() - t;
  pub.close();
  return { rss, heap, queueMs };
}

/** Fleet figures for each server, side by side, with the ratios that issue 20 sets goals for. */
async function fleet(names: ReadonlyArray<'switchboard' | 'mosquitto'>): Promise<void> {
  const at = process.argv.indexOf('--switchboard-root');
  const root = at >= 0 ? process.argv[at + 1] : PROJECT_ROOT;
  const rows: Record<string, Record<string, string>> = {};
  for (const name of names) {
    rows[name] = await fleetFigures(name, quick ? FLEET_QUICK : FLEET_FULL, root, progress);
    process.stdout.write(`${name} fleet${name === 'switchboard' && at >= 0 ? ` (${root})` : ''}: ${JSON.stringify(rows[name])}\n`);
  }
  const sb = rows.switchboard;
  const mq = rows.mosquitto;
  if (sb === undefined || mq === undefined) return;
  const ratio = (key: string): string => (Number(sb[key]) / Number(mq[key])).toFixed(2);
  process.stdout.write(`fleet connect+sub /s: switchboard/mosquitto = ${ratio('connect+sub /s')}x (goal >= 1.5x)\n`);
  process.stdout.write(`fleet server CPU per 1,000 connects: switchboard/mosquitto = ${ratio('server CPU ms per 1,000 connects')}x\n`);
  process.stdout.write(`fleet KiB per idle connection: switchboard ${sb['KiB per idle connection']}, mosquitto ${mq['KiB per idle connection']} (goal <= 2)\n`);
}

async function main(): Promise<void> {
  const names: Array<'switchboard' | 'mosquitto'> = ['switchboard'];
  if (commandAvailable('mosquitto')) names.push('mosquitto');
  else process.stdout.write('SKIPPED: mosquitto not installed\n');
  if (process.argv.includes('--fleet-only')) return fleet(names);
  const results: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const row: Record<string, string> = {};
    for (const qos of [0, 1, 2] as const) {
      const server = await startServer(name);
      progress(`${name} qos${qos}`);
      try {
        row[`qos${qos} msg/s`] = Math.round(await throughput(server, qos, N[`qos${qos}`])).toString();
      } finally {
        await stopChild(server.child);
        rmSync(server.dir, { recursive: true, force: true });
      }
    }
    // QoS 1 to a persistent session: Switchboard with JetStream state, mosquitto as configured (in memory).
    const persistentServer = await startServer(name, 'jetstream');
    progress(`${name} qos1 to a persistent session`);
    try {
      row['persistent qos1 msg/s'] = Math.round(await throughput(persistentServer, 1, N.qos1, persistentServer.port, true)).toString();
    } finally {
      await stopChild(persistentServer.child);
      rmSync(persistentServer.dir, { recursive: true, force: true });
    }
    results[name] = row;
    if (process.argv.includes('--throughput-only')) {
      process.stdout.write(`${name}: ${JSON.stringify(row)}\n`);
      continue;
    }
    let server = await startServer(name);
    progress(`${name} ${N.clients} clients fan-out`);
    try {
      const f = await fanOut(server, N.clients);
      row[`${N.clients} clients RSS MiB`] = f.rss.toFixed(1);
      if (f.heap !== null) row['heap bytes/client'] = f.heap.toFixed(0);
      row['connect+sub s'] = f.connectSeconds.toFixed(2);
      row['fan-out ms'] = f.fanOutMs.toFixed(1);
    } finally {
      await stopChild(server.child);
      rmSync(server.dir, { recursive: true, force: true });
    }
    server = await startServer(name);
    progress(`${name} ${N.clients} offline sessions`);
    try {
      const p = await persistentSessions(server, N.clients);
      row[`${N.clients} offline QoS1 sessions RSS MiB`] = p.rss.toFixed(1);
      if (p.heap !== null) row['heap bytes/offline session'] = p.heap.toFixed(0);
      row['queue 1 msg for all ms'] = p.queueMs.toFixed(1);
    } finally {
      await stopChild(server.child);
      rmSync(server.dir, { recursive: true, force: true });
    }
    if (name === 'switchboard') {
      // The same offline sessions with state in JetStream: one log append per queued message.
      server = await startServer(name, 'jetstream');
      progress(`${name} ${N.clients} offline sessions, JetStream state`);
      try {
        const p = await persistentSessions(server, N.clients);
        row['jetstream: heap bytes/offline session'] = (p.heap ?? 0).toFixed(0);
        row['jetstream: queue 1 msg for all ms'] = p.queueMs.toFixed(1);
      } finally {
        await stopChild(server.child);
        rmSync(server.dir, { recursive: true, force: true });
      }
    }
    results[name] = row;
    process.stdout.write(`${name}: ${JSON.stringify(row)}\n`);
  }
  if (results.switchboard && results.mosquitto) {
    for (const key of ['qos0 msg/s', 'qos1 msg/s', 'qos2 msg/s', 'persistent qos1 msg/s']) {
      const ratio = Number(results.switchboard[key]) / Number(results.mosquitto[key]);
      process.stdout.write(`${key}: switchboard/mosquitto = ${ratio.toFixed(2)}x\n`);
    }
  }
  if (!process.argv.includes('--throughput-only')) await fleet(names);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
  process.exit(0); // the per-run 120 s guard timers would otherwise hold the process open
}
