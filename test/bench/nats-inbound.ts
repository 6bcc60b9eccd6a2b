// CPU per message of the server's inbound NATS path, in process: a publisher's
// 64 KiB chunks of `PUB` go through the real NatsServer's client (parser,
// permission check, router, outbound batch) with no socket in between, so the
// cost of our code shows apart from the kernel's. Subscribers' output is taken
// and dropped by a null connection once per turn, as the server's flush does.
//   node --import tsx test/bench/nats-inbound.ts [--rounds 5] [--only pub,pubsub,reqrep]

import { parseArgs } from 'node:util';
import type { Connection } from '../../core/connection/connection.ts';
import { NatsServer } from '../../core/server/nats-server.ts';

const MESSAGES = 2_000_000;
const CHUNK = 64 * 1024;

/** A connection that accepts every write and drops it. */
class NullConnection implements Connection {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 0;
  readonly writableLength = 0;
  written = 0;
  private dataListener: ((chunk: Buffer) => void) | null = null;
  write(chunks: readonly Buffer[]): boolean {
    for (const c of chunks) this.written += c.length;
    return true;
  }
  onData(listener: (chunk: Buffer) => void): void {
    this.dataListener = listener;
  }
  onDrain(): void {}
  onClose(): void {}
  end(): void {}
  destroy(): void {}
  send(chunk: Buffer): void {
    this.dataListener?.(chunk);
  }
}

interface Case {
  readonly name: string;
  readonly subscribers: number;
  readonly payload: number;
  readonly reply: boolean;
}

const CASES: readonly Case[] = [
  { name: 'pub', subscribers: 0, payload: 16, reply: false },
  { name: 'pub-1k', subscribers: 0, payload: 1024, reply: false },
  { name: 'pubsub', subscribers: 1, payload: 16, reply: false },
  { name: 'pubsub-1k', subscribers: 1, payload: 1024, reply: false },
  { name: 'fanout', subscribers: 4, payload: 16, reply: false },
  { name: 'reqrep', subscribers: 1, payload: 16, reply: true },
];

/**
 * About 2 MiB of whole PUB operations, cut at CHUNK bytes wherever that falls (mid-line too, as
 * TCP does), and how many messages they hold. Sent again and again, they stay in the CPU cache as
 * a socket's freshly read chunks would.
 */
function publishChunks(c: Case): { chunks: Buffer[]; messages: number } {
  const payload = 'x'.repeat(c.payload);
  const one = Buffer.from(c.reply ? `PUB bench.in _INBOX.abc.1 ${c.payload}\r\n${payload}\r\n` : `PUB bench.in ${c.payload}\r\n${payload}\r\n`);
  const messages = Math.ceil((2 * 1024 * 1024) / one.length);
  const all = Buffer.allocUnsafe(one.length * messages);
  for (let i = 0; i < messages; i++) one.copy(all, i * one.length);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += CHUNK) chunks.push(all.subarray(at, Math.min(all.length, at + CHUNK)));
  return { chunks, messages };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runCase(c: Case, count: number): Promise<{ nsPerMsg: number; delivered: number }> {
  const server = new NatsServer({ host: '127.0.0.1', port: 0 });
  const subs: NullConnection[] = [];
  for (let i = 0; i < c.subscribers; i++) {
    const conn = new NullConnection();
    server.accept(conn);
    conn.send(Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB bench.in 1\r\n'));
    subs.push(conn);
  }
  const pub = new NullConnection();
  server.accept(pub);
  pub.send(Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n'));
  const { chunks, messages } = publishChunks(c);
  const repeats = Math.max(1, Math.round(count / messages));
  await turn();
  const before = subs.reduce((n, s) => n + s.written, 0);
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < chunks.length; i++) {
      pub.send(chunks[i]);
      // One turn per 16 chunks, so subscribers' batches are taken (written) as the server would.
      if ((i & 15) === 15) await turn();
    }
  }
  await turn();
  const cpu = process.cpuUsage(cpu0);
  const sent = repeats * messages;
  const delivered = subs.reduce((n, s) => n + s.written, 0) - before;
  await server.stop();
  return { nsPerMsg: ((cpu.user + cpu.system) * 1000) / sent, delivered };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, only: { type: 'string', default: '' } } });
  const rounds = Number(values.rounds);
  const only = values.only === '' ? null : values.only.split(',');
  for (const c of CASES) {
    if (only !== null && !only.includes(c.name)) continue;
    const count = c.payload >= 1024 ? MESSAGES / 4 : MESSAGES;
    await runCase(c, count / 10); // warm-up: JIT and caches
    const figures: number[] = [];
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      const { nsPerMsg, delivered } = await runCase(c, count);
      figures.push(nsPerMsg);
      bytes = delivered;
    }
    figures.sort((a, b) => a - b);
    const median = figures[Math.floor(figures.length / 2)];
    process.stdout.write(`${c.name.padEnd(10)} ${median.toFixed(1).padStart(7)} ns CPU/msg (median of ${rounds}; runs ${figures.map((f) => f.toFixed(0)).join(' ')}; ${(bytes / 1e6).toFixed(1)} MB out)\n`);
  }
}

await main();
