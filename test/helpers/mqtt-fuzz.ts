// A seeded MQTT fuzzer for robustness tests: random bytes and mutated
// sequences of valid packets (3.1.1 and 5), sent over many short and some
// lingering connections, while a healthy mqtt.js client keeps connecting and
// doing a publish/subscribe round trip. The same run works against any MQTT
// server (Switchboard, mosquitto), so its figures can be compared.

import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { connectMqtt } from './mqtt.ts';
import { seededRandom } from './seeded-random.ts';

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const int = (random: Random, below: number): number => Math.floor(random() * below);

function randomBytes(random: Random, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = int(random, 256);
  return out;
}

const TOPICS = ['a', 'a/b', 'a/c', 'fuzz/x', '$SYS/x', 'x/y/z'] as const;
const FILTERS = ['#', 'a/#', '+', '+/+', 'a/+', '$share/g/a/#', 'fuzz/#', '$SYS/#'] as const;

/** One valid packet of a random kind, for protocol version `v`. */
function validPacket(random: Random, v: 4 | 5): Packet {
  const id = 1 + int(random, 65535);
  const payload = randomBytes(random, int(random, 4) === 0 ? int(random, 4096) : int(random, 64));
  switch (int(random, 9)) {
    case 0:
    case 1:
    case 2: {
      const qos = int(random, 3) as 0 | 1 | 2;
      return { cmd: 'publish', topic: pick(random, TOPICS), payload, qos, retain: random() < 0.2, dup: false, ...(qos > 0 ? { messageId: id } : {}) };
    }
    case 3:
      return { cmd: 'subscribe', messageId: id, subscriptions: [{ topic: pick(random, FILTERS), qos: int(random, 3) as 0 | 1 | 2 }] };
    case 4:
      return { cmd: 'unsubscribe', messageId: id, unsubscriptions: [pick(random, FILTERS)] };
    case 5:
      return { cmd: pick(random, ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), messageId: id };
    case 6:
      return { cmd: 'pingreq' };
    case 7:
      return { cmd: 'disconnect' };
    default:
      return connectPacket(random, v);
  }
}

function connectPacket(random: Random, v: 4 | 5): Packet {
  const clean = random() < 0.5;
  const packet: Packet = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: v,
    clientId: clean && random() < 0.2 ? '' : `fuzz-${int(random, 1000)}`,
    clean,
    keepalive: int(random, 120),
  };
  if (random() < 0.4) {
    packet.will = { topic: pick(random, TOPICS), payload: randomBytes(random, int(random, 256)), qos: int(random, 3) as 0 | 1 | 2, retain: random() < 0.3 };
    if (v === 5) packet.will.properties = { willDelayInterval: int(random, 3600) };
  }
  if (v === 5) packet.properties = { sessionExpiryInterval: pick(random, [0, 10, 3600, 0xffffffff]) };
  return packet;
}

/** A CONNECT followed by a few valid packets, encoded, then mutated. */
function mutatedSession(random: Random): Buffer {
  const v: 4 | 5 = random() < 0.5 ? 4 : 5;
  const frames = [mqttPacket.generate(connectPacket(random, v), { protocolVersion: v })];
  for (let n = int(random, 12); n > 0; n--) frames.push(mqttPacket.generate(validPacket(random, v), { protocolVersion: v }));
  const bytes = Buffer.concat(frames);
  const mutations = int(random, 6);
  for (let k = 0; k < mutations; k++) {
    const at = int(random, bytes.length);
    switch (int(random, 4)) {
      case 0: bytes[at] = int(random, 256); break;
      case 1: bytes[at] ^= 1 << int(random, 8); break;
      case 2: bytes[at] = 0xff; break; // inflates a length or sets every flag
      default: bytes[at] = 0; break;
    }
  }
  return random() < 0.2 ? bytes.subarray(0, int(random, bytes.length)) : bytes;
}

/** One connection's worth of input. */
export function fuzzInput(random: Random): Buffer {
  const mode = random();
  if (mode < 0.25) return randomBytes(random, 1 + int(random, 2048));
  if (mode < 0.35) {
    // A CONNECT-like first byte and a huge declared length: the server must not wait for (or buffer) it all.
    const head = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]);
    return Buffer.concat([head, randomBytes(random, int(random, 8192))]);
  }
  return mutatedSession(random);
}

export interface FuzzTarget {
  readonly name: string;
  readonly port: number;
  /** The server's resident set size in bytes (null when not measurable). */
  rss(): number | null;
}

export interface FuzzReport {
  seed: number;
  connections: number;
  bytesSent: number;
  healthChecks: number;
  /** Health checks that did not complete within the deadline, with why. */
  healthFailures: string[];
  /** The slowest successful health check, ms. */
  slowestHealthMs: number;
  rssBefore: number | null;
  rssPeak: number | null;
  rssAfter: number | null;
}

export interface FuzzOptions {
  seed: number;
  durationMs: number;
  /** Connections fuzzing at once. */
  concurrency?: number;
  /** A health check that takes longer than this fails. */
  healthTimeoutMs?: number;
  /** Gap between health checks. */
  healthEveryMs?: number;
}

/** Read a process's VmRSS from /proc (Linux), bytes. */
export function processRss(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Send one input in random pieces; some connections linger open (up to 3 s) after it, others close at once. */
async function fuzzConnection(port: number, random: Random, deadline: number): Promise<number> {
  const input = fuzzInput(random);
  const linger = random() < 0.3 ? int(random, 3000) : 0;
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const n = 1 + int(random, 512);
    pieces.push(input.subarray(at, at + n));
    at += n;
  }
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  try {
    await Promise.race([new Promise<void>((resolve) => socket.once('connect', () => resolve())), closed, sleep(2000)]);
    for (const piece of pieces) {
      if (socket.destroyed) break;
      if (!socket.write(piece)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed, sleep(500)]);
    }
    if (linger > 0) await Promise.race([closed, sleep(Math.min(linger, Math.max(0, deadline - Date.now())))]);
  } finally {
    socket.destroy();
  }
  return input.length;
}

/** A healthy client: connect, subscribe, publish QoS 1, receive it back, disconnect. */
async function healthCheck(port: number, n: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const work = (async () => {
    const client = await connectMqtt(`mqtt://127.0.0.1:${port}`, { clientId: `healthy-${n}`, clean: true, connectTimeout: timeoutMs });
    try {
      const topic = `health/${n}`;
      const got = new Promise<void>((resolve) => client.on('message', (t) => t === topic && resolve()));
      await client.subscribeAsync(topic, { qos: 1 });
      await client.publishAsync(topic, 'ping', { qos: 1 });
      await got;
    } finally {
      await client.endAsync(true).catch(() => {});
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no round trip within ${timeoutMs} ms`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - started;
}

/** Fuzz `target` for `durationMs` with `concurrency` connections at a time, health-checking throughout and after. */
export async function fuzzMqtt(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const random = seededRandom(options.seed);
  const concurrency = options.concurrency ?? 8;
  const healthTimeoutMs = options.healthTimeoutMs ?? 5000;
  const report: FuzzReport = {
    seed: options.seed, connections: 0, bytesSent: 0, healthChecks: 0, healthFailures: [], slowestHealthMs: 0,
    rssBefore: target.rss(), rssPeak: target.rss(), rssAfter: null,
  };
  const deadline = Date.now() + options.durationMs;
  const sampleRss = (): void => {
    const rss = target.rss();
    if (rss !== null && (report.rssPeak === null || rss > report.rssPeak)) report.rssPeak = rss;
  };
  const check = async (): Promise<void> => {
    const n = report.healthChecks++;
    try {
      report.slowestHealthMs = Math.max(report.slowestHealthMs, await healthCheck(target.port, n, healthTimeoutMs));
    } catch (e) {
      report.healthFailures.push(`check ${n} at ${Math.round((Date.now() - deadline + options.durationMs) / 1000)} s: ${(e as Error).message}`);
    }
  };
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    const mine = seededRandom(options.seed * 31 + w);
    while (Date.now() < deadline) {
      report.bytesSent += await fuzzConnection(target.port, mine, deadline);
      report.connections++;
    }
  });
  const health = (async () => {
    while (Date.now() < deadline) {
      sampleRss();
      await check();
      await sleep(options.healthEveryMs ?? 500);
    }
  })();
  await Promise.all([...workers, health]);
  sampleRss();
  await check(); // and after
  report.rssAfter = target.rss();
  return report;
}
