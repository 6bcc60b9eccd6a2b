// JetStream consumer benchmark: Switchboard (child process) side by side with
// `nats-server -js` when installed, through the official @nats-io/jetstream
// client on both. Consume throughput (pull consume(), pull fetch batches,
// push), ack throughput (explicit ack per message, pull and push), and the
// resident memory of idle durable consumers.
//   node --import tsx test/bench/jetstream-consumer-bench.ts [--quick] [--only name,...]
// In-process idle cost with 10k/100k consumers: test/bench/consumer-scale.ts.

import { readFileSync, rmSync } from 'node:fs';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { startJetStreamProcess, startNatsServerJetStream, tempStoreDir } from '../helpers/jetstream.ts';
import { commandAvailable } from '../helpers/servers.ts';

type TargetName = 'switchboard' | 'nats-server';

interface Target {
  name: TargetName;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startTarget(name: TargetName): Promise<Target> {
  if (name === 'nats-server') {
    const s = await startNatsServerJetStream();
    const pid = (s as unknown as { child: { pid: number } }).child.pid;
    return { name, url: s.url, pid, stop: () => s.stop() };
  }
  const storeDir = tempStoreDir('bench-cons-');
  const p = await startJetStreamProcess(storeDir);
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

/** A stream of `count` messages and a durable consumer on it; returns msgs/s of `read`. */
async function timed(s: Setup, stream: string, count: number, consumer: Record<string, unknown>, read: (count: number) => Promise<void>): Promise<number> {
  await s.jsm.streams.add({ name: stream, subjects: [stream.toLowerCase()] });
  await fill(s.js, stream.toLowerCase(), count, 128);
  await s.jsm.consumers.add(stream, { durable_name: 'bench', ...consumer });
  const t0 = performance.now();
  await read(count);
  return count / ((performance.now() - t0) / 1000);
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

interface Row {
  scenario: string;
  unit: string;
  values: Map<string, number>;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(',') : null;
  const want = (name: string): boolean => only === null || only.includes(name);
  const n = quick ? 20_000 : 100_000;
  const idle = quick ? 2_000 : 10_000;
  const names: TargetName[] = commandAvailable('nats-server') ? ['switchboard', 'nats-server'] : ['switchboard'];
  if (names.length === 1) process.stdout.write('SKIPPED: nats-server not installed\n');
  const rows: Row[] = [];
  const record = (scenario: string, unit: string, target: string, value: number): void => {
    let row = rows.find((r) => r.scenario === scenario);
    if (row === undefined) rows.push((row = { scenario, unit, values: new Map() }));
    row.values.set(target, value);
    process.stdout.write(`${scenario.padEnd(34)} ${target.padEnd(12)} ${value.toFixed(0)} ${unit}\n`);
  };
  for (const name of names) {
    const target = await startTarget(name);
    const nc = await connect({ servers: target.url });
    const s: Setup = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
    try {
      const none = { ack_policy: AckPolicy.None };
      const explicit = { ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 };
      if (want('pull')) record('pull consume(), ack none', 'msgs/s', name, await timed(s, 'PULL', n, none, (c) => pullConsume(s, 'PULL', c, false)));
      if (want('fetch')) record('pull fetch() batches of 100', 'msgs/s', name, await timed(s, 'FETCH', n, none, (c) => pullFetch(s, 'FETCH', c)));
      if (want('pull-ack')) record('pull consume() + ack each', 'msgs/s', name, await timed(s, 'PULLACK', n, explicit, (c) => pullConsume(s, 'PULLACK', c, true)));
      const pushCfg = { deliver_subject: createInbox(), flow_control: true, idle_heartbeat: 1_000_000_000 };
      if (want('push')) record('push consume(), ack none', 'msgs/s', name, await timed(s, 'PUSH', n, { ...none, ...pushCfg }, (c) => push(s, 'PUSH', c, false)));
      const pushAckCfg = { ...explicit, deliver_subject: createInbox(), flow_control: true, idle_heartbeat: 1_000_000_000 };
      if (want('push-ack')) record('push consume() + ack each', 'msgs/s', name, await timed(s, 'PUSHACK', n, pushAckCfg, (c) => push(s, 'PUSHACK', c, true)));
      if (want('idle')) record(`RSS per idle consumer (${idle / 1000}k)`, 'B', name, await idleConsumerRss(s, target, idle));
    } finally {
      await nc.close();
      await target.stop();
    }
  }
  process.stdout.write('\nscenario                               switchboard   nats-server   ratio\n');
  for (const r of rows) {
    const sb = r.values.get('switchboard');
    const ns = r.values.get('nats-server');
    // Higher is better for rates, lower for bytes: the ratio reads "Switchboard is x times as good".
    const ratio = sb !== undefined && ns !== undefined ? (r.unit === 'B' ? ns / sb : sb / ns).toFixed(2) : '-';
    process.stdout.write(`${r.scenario.padEnd(38)} ${String(sb?.toFixed(0) ?? '-').padStart(11)} ${String(ns?.toFixed(0) ?? '-').padStart(13)}   ${ratio} (${r.unit})\n`);
  }
}

await main();
