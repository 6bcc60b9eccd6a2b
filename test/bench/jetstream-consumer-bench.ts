// JetStream consumer benchmark: Switchboard (child process) side by side with
// `nats-server -js` when installed, through the official @nats-io/jetstream
// client on both. Consume throughput (pull consume(), pull fetch batches,
// push), ack throughput (explicit ack per message, pull and push), the server
// CPU spent per message, and the resident memory of idle durable consumers.
//   node --import tsx test/bench/jetstream-consumer-bench.ts [--quick] [--only name,...] [--cpu-prof <dir>]
// --cpu-prof writes Switchboard's CPU profile into <dir> (summarise it with profile-summary.ts).
// In-process idle cost with 10k/100k consumers: test/bench/consumer-scale.ts.

import { readFileSync, rmSync } from 'node:fs';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { startJetStreamProcess, startNatsServerJetStream, tempStoreDir } from '../helpers/jetstream.ts';
import { cpuMicros, profileFlags, SideBySide } from './side-by-side.ts';
import { commandAvailable } from '../helpers/servers.ts';

type TargetName = 'switchboard' | 'nats-server';

interface Target {
  name: TargetName;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startTarget(name: TargetName, nodeFlags: string[]): Promise<Target> {
  if (name === 'nats-server') {
    const s = await startNatsServerJetStream();
    const pid = (s as unknown as { child: { pid: number } }).child.pid;
    return { name, url: s.url, pid, stop: () => s.stop() };
  }
  const storeDir = tempStoreDir('bench-cons-');
  const p = await startJetStreamProcess(storeDir, undefined, [], nodeFlags);
  return {
    name,
    url: p.url,
    pid: p.child.pid ?? 0,
    async stop() {
      await p.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Fill `subject` with `count` messages of `size` bytes, `window` PubAcks outstanding at most. */
async function fill(js: JetStreamClient, subject: string, count: number, size: number, window = 2000): Promise<void> {
  const body = new Uint8Array(size).fill(97);
  for (let sent = 0; sent < count; ) {
    const n = Math.min(window, count - sent);
    await Promise.all(Array.from({ length: n }, () => js.publish(subject, body)));
    sent += n;
  }
}

interface Setup {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

interface Timing {
  rate: number;
  /** Server CPU per message read: steadier than the rate when other work shares the machine. */
  cpuUsPerMsg: number;
}

/** A stream of `count` messages and a durable consumer on it; times `read`. */
async function timed(s: Setup, pid: number, stream: string, count: number, consumer: Record<string, unknown>, read: (count: number) => Promise<void>): Promise<Timing> {
  await s.jsm.streams.add({ name: stream, subjects: [stream.toLowerCase()] });
  await fill(s.js, stream.toLowerCase(), count, 128);
  await s.jsm.consumers.add(stream, { durable_name: 'bench', ...consumer });
  const cpu0 = cpuMicros(pid);
  const t0 = performance.now();
  await read(count);
  const secs = (performance.now() - t0) / 1000;
  const cpuUsPerMsg = (cpuMicros(pid) - cpu0) / count;
  // The stream is not needed again: deleting it keeps later rounds on a small store.
  await s.jsm.streams.delete(stream);
  return { rate: count / secs, cpuUsPerMsg };
}

async function pullConsume(s: Setup, stream: string, count: number, ack: boolean): Promise<void> {
  const c = await s.js.consumers.get(stream, 'bench');
  const msgs = await c.consume({ max_messages: 1000 });
  let n = 0;
  for await (const m of msgs) {
    if (ack) m.ack();
    if (++n === count) break;
  }
  if (ack) await waitAcked(s, stream, count);
}

async function pullFetch(s: Setup, stream: string, count: number): Promise<void> {
  const c = await s.js.consumers.get(stream, 'bench');
  let n = 0;
  while (n < count) {
    for await (const _m of await c.fetch({ max_messages: 100, expires: 5000 })) n++;
  }
}

async function push(s: Setup, stream: string, count: number, ack: boolean): Promise<void> {
  const c = await s.js.consumers.getPushConsumer(stream, 'bench');
  const msgs = await c.consume();
  let n = 0;
  for await (const m of msgs) {
    if (ack) m.ack();
    if (++n === count) break;
  }
  await msgs.close();
  if (ack) await waitAcked(s, stream, count);
}

/** Until the server reports every ack processed (bounded). */
async function waitAcked(s: Setup, stream: string, count: number): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const info = await s.jsm.consumers.info(stream, 'bench');
    if (info.ack_floor.stream_seq >= count) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${stream}: acks not all processed`);
}

/** RSS growth per idle durable pull consumer, creating `count` of them 100 at a time. */
async function idleConsumerRss(s: Setup, target: Target, count: number): Promise<number> {
  await s.jsm.streams.add({ name: 'IDLE', subjects: ['idle.>'], storage: 'memory' as never });
  await fill(s.js, 'idle.x', 1000, 128);
  await new Promise((r) => setTimeout(r, 500));
  const before = rssBytes(target.pid);
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) =>
      s.jsm.consumers.add('IDLE', { durable_name: `c${i + k}`, ack_policy: AckPolicy.Explicit, mem_storage: true })));
  }
  await new Promise((r) => setTimeout(r, 1000));
  return (rssBytes(target.pid) - before) / count;
}

interface Conn {
  target: Target;
  setup: Setup;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(',') : null;
  const want = (name: string): boolean => only === null || only.includes(name);
  const nodeFlags = profileFlags();
  const n = quick ? 20_000 : 100_000;
  const rounds = quick ? 1 : 3;
  const idle = quick ? 2_000 : 10_000;
  const names: TargetName[] = commandAvailable('nats-server') ? ['switchboard', 'nats-server'] : ['switchboard'];
  if (names.length === 1) process.stdout.write('SKIPPED: nats-server not installed\n');
  const table = new SideBySide();
  const record = table.record.bind(table);
  const none = { ack_policy: AckPolicy.None };
  const explicit = { ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 };
  const pushCfg = (): Record<string, unknown> => ({ deliver_subject: createInbox(), flow_control: true, idle_heartbeat: 1_000_000_000 });
  const scenarios: Array<{ key: string; label: string; config: () => Record<string, unknown>; read: (s: Setup, stream: string, count: number) => Promise<void> }> = [
    { key: 'pull', label: 'pull consume(), ack none', config: () => none, read: (s, st, c) => pullConsume(s, st, c, false) },
    { key: 'fetch', label: 'pull fetch() batches of 100', config: () => none, read: (s, st, c) => pullFetch(s, st, c) },
    { key: 'pull-ack', label: 'pull consume() + ack each', config: () => explicit, read: (s, st, c) => pullConsume(s, st, c, true) },
    { key: 'push', label: 'push consume(), ack none', config: () => ({ ...none, ...pushCfg() }), read: (s, st, c) => push(s, st, c, false) },
    { key: 'push-ack', label: 'push consume() + ack each', config: () => ({ ...explicit, ...pushCfg() }), read: (s, st, c) => push(s, st, c, true) },
  ];
  // Both servers run side by side and take turns within each round (the
  // machine is shared and noisy); the table reports medians over the rounds.
  const conns: Conn[] = [];
  try {
    for (const name of names) {
      const target = await startTarget(name, nodeFlags);
      const nc = await connect({ servers: target.url });
      conns.push({ target, setup: { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) } });
    }
    for (const sc of scenarios.filter((x) => want(x.key))) {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? conns : [...conns].reverse();
        for (const c of order) {
          const stream = `${sc.key.replace('-', '').toUpperCase()}${round}`;
          const t = await timed(c.setup, c.target.pid, stream, n, sc.config(), (count) => sc.read(c.setup, stream, count));
          record(sc.label, 'msgs/s', c.target.name, t.rate);
          record(`  server CPU, ${sc.label}`, 'µs CPU/msg', c.target.name, t.cpuUsPerMsg);
        }
      }
    }
    if (want('idle')) for (const c of conns) record(`RSS per idle consumer (${idle / 1000}k)`, 'B', c.target.name, await idleConsumerRss(c.setup, c.target, idle));
  } finally {
    for (const c of conns) {
      await c.setup.nc.close();
      await c.target.stop();
    }
  }
  table.print(rounds);
}

await main();
