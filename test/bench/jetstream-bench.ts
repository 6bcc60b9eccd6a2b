// JetStream benchmark: Switchboard (child process) side by side with
// `nats-server -js` when installed. Publishes go through the core nats.js
// client with a reply inbox per message (so the client is not the limit) and
// count PubAcks; direct get uses the JetStream client. Fast and atomic batch
// publish (ADR-50) run on Switchboard only (Debian's nats-server 2.9 has neither).
//   node --import tsx test/bench/jetstream-bench.ts [--quick] [--only name,...] [--cpu-prof <dir>]
// --cpu-prof writes Switchboard's CPU profile into <dir> (summarise it with profile-summary.ts).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { cpuMicros, profileFlags, SideBySide } from './side-by-side.ts';
import { atomicBatches, fastIngest } from './jetstream-batch-bench.ts';
import { commandAvailable, freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';

interface Target {
  name: string;
  url: string;
  storeDir: string;
  child: ChildProcess;
  /** Restart on the same store; resolves with milliseconds until ready. */
  restart(): Promise<number>;
  /** Switchboard only: store recovery time it reported at its last start. */
  recoveredMs: number | null;
  stop(): Promise<void>;
}

async function startTarget(name: 'switchboard' | 'nats-server', extra: string[] = []): Promise<Target> {
  const storeDir = tempStoreDir(`bench-${name}-`);
  const port = await freePort();
  let recoveredMs: number | null = null;
  const launch = async (): Promise<{ child: ChildProcess; ms: number }> => {
    const t0 = performance.now();
    if (name === 'switchboard') {
      const p = await startJetStreamProcess(storeDir, port, extra, profileFlags());
      const m = /recovered in (\d+) ms/.exec(p.readyLine);
      recoveredMs = m === null ? null : Number(m[1]);
      return { child: p.child, ms: performance.now() - t0 };
    }
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(child, 'Server is ready', 120_000);
    return { child, ms: performance.now() - t0 };
  };
  let current = await launch();
  const target: Target = {
    name,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    child: current.child,
    recoveredMs,
    async restart() {
      await stopChild(current.child);
      current = await launch();
      target.child = current.child;
      target.recoveredMs = recoveredMs;
      return current.ms;
    },
    async stop() {
      await stopChild(current.child);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  return target;
}

/** Publish `count` messages with a reply each, at most `window` unacknowledged; msgs/s. */
async function asyncPublish(nc: NatsConnection, subject: string, count: number, size: number, window: number): Promise<number> {
  const payload = new Uint8Array(size).fill(97);
  const inbox = createInbox();
  let acked = 0;
  let errors = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  nc.subscribe(`${inbox}.*`, {
    callback: (_e, m) => {
      acked++;
      if (m.data.length > 0 && m.data[2] === 101) errors++; // {"error":...}
      if (wake !== null && (sent - acked < window / 2 || acked === count)) {
        const w = wake;
        wake = null;
        w();
      }
    },
  });
  await nc.flush();
  const t0 = performance.now();
  while (sent < count) {
    const burst = Math.min(count - sent, window - (sent - acked));
    for (let i = 0; i < burst; i++) nc.publish(subject, payload, { reply: `${inbox}.${sent++}` });
    if (sent - acked >= window || sent === count) await new Promise<void>((r) => (wake = r));
  }
  while (acked < count) await new Promise<void>((r) => (wake = r));
  const secs = (performance.now() - t0) / 1000;
  if (errors > 0) throw new Error(`${errors} PubAck errors`);
  return count / secs;
}

async function syncPublish(nc: NatsConnection, subject: string, count: number): Promise<number> {
  const payload = new Uint8Array(128).fill(97);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await nc.request(subject, payload, { timeout: 5000 });
  return count / ((performance.now() - t0) / 1000);
}

async function directGets(nc: NatsConnection, stream: string, count: number, maxSeq: number): Promise<number> {
  const t0 = performance.now();
  const window = 256;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const seq = (next++ % maxSeq) + 1;
      const m = await nc.request(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify({ seq }), { timeout: 5000 });
      if (m.headers?.get('Nats-Sequence') !== String(seq)) throw new Error(`direct get ${seq} failed`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return count / ((performance.now() - t0) / 1000);
}

interface Conn {
  target: Target;
  nc: NatsConnection;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(',') : null;
  const want = (name: string): boolean => only === null || only.includes(name);
  const n = quick ? 50_000 : 200_000;
  const rounds = quick ? 1 : 3;
  const recoverN = quick ? 100_000 : 1_000_000;
  const names: Array<'switchboard' | 'nats-server'> = commandAvailable('nats-server') ? ['switchboard', 'nats-server'] : ['switchboard'];
  if (names.length === 1) process.stdout.write('SKIPPED: nats-server not installed\n');
  const table = new SideBySide();
  const record = table.record.bind(table);
  // Both servers run side by side and take turns within each round (the
  // machine is shared and noisy); the table reports the median of the rounds.
  const conns: Conn[] = [];
  for (const name of names) {
    const target = await startTarget(name);
    const nc = await connect({ servers: target.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F128', subjects: ['f128'] });
    await jsm.streams.add({ name: 'F1K', subjects: ['f1k'] });
    await jsm.streams.add({ name: 'MEM', subjects: ['mem'], storage: 'memory' as never });
    await jsm.streams.add({ name: 'SYNC', subjects: ['sync'] });
    await jsm.streams.add({ name: 'DG', subjects: ['dg'], allow_direct: true });
    await asyncPublish(nc, 'dg', 10_000, 128, 5_000);
    conns.push({ target, nc });
  }
  const scenarios: Array<{ key: string; label: string; run: (nc: NatsConnection) => Promise<number> }> = [
    { key: 'file-128', label: 'async publish file 128 B', run: (nc) => asyncPublish(nc, 'f128', n, 128, 10_000) },
    { key: 'file-1k', label: 'async publish file 1 KiB', run: (nc) => asyncPublish(nc, 'f1k', n, 1024, 10_000) },
    { key: 'memory', label: 'async publish memory 128 B', run: (nc) => asyncPublish(nc, 'mem', n, 128, 10_000) },
    { key: 'sync', label: 'sync publish file 128 B', run: (nc) => syncPublish(nc, 'sync', quick ? 2_000 : 5_000) },
    { key: 'direct-get', label: 'direct get', run: (nc) => directGets(nc, 'DG', quick ? 20_000 : 50_000, 10_000) },
  ];
  try {
    for (const sc of scenarios.filter((x) => want(x.key))) {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? conns : [...conns].reverse();
        for (const c of order) {
          const cpu0 = cpuMicros(c.target.child.pid ?? 0);
          const t0 = performance.now();
          const rate = await sc.run(c.nc);
          const count = (rate * (performance.now() - t0)) / 1000;
          record(sc.label, 'msgs/s', c.target.name, rate);
          record(`  server CPU, ${sc.label}`, 'µs CPU/msg', c.target.name, (cpuMicros(c.target.child.pid ?? 0) - cpu0) / count);
        }
      }
    }
    if (want('recovery')) {
      for (const c of conns) {
        const jsm = await jetstreamManager(c.nc);
        // Only the 1M-message stream on disk, so the restart measures exactly that.
        for (const name of ['F128', 'F1K', 'MEM', 'SYNC', 'DG']) await jsm.streams.delete(name);
        await jsm.streams.add({ name: 'REC', subjects: ['rec'] });
        await asyncPublish(c.nc, 'rec', recoverN, 128, 10_000);
        await c.nc.close();
        const ms = await c.target.restart();
        record(`restart with ${recoverN / 1000}k msgs`, 'ms', c.target.name, ms);
        if (c.target.recoveredMs !== null) record('  of which store recovery', 'ms', c.target.name, c.target.recoveredMs);
      }
    }
  } finally {
    for (const c of conns) {
      if (!c.nc.isClosed()) await c.nc.close();
      await c.target.stop();
    }
  }
  if (want('file-128-sync-always')) {
    const target = await startTarget('switchboard', ['--sync', 'always']);
    const nc = await connect({ servers: target.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F128', subjects: ['f128'] });
    for (let round = 0; round < rounds; round++) {
      record('async publish file 128 B, sync: always', 'msgs/s', 'switchboard', await asyncPublish(nc, 'f128', quick ? 20_000 : 100_000, 128, 10_000));
    }
    await nc.close();
    await target.stop();
  }
  if (want('batch')) {
    // ADR-50 batches (nats-server 2.12/2.14; Debian's 2.9 has neither): Switchboard against its own async publish.
    const target = await startTarget('switchboard');
    const nc = await connect({ servers: target.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BASE', subjects: ['base'] });
    await jsm.streams.add({ name: 'FAST', subjects: ['fast'], allow_batched: true });
    await jsm.streams.add({ name: 'ATOMIC', subjects: ['atomic'], allow_atomic: true });
    const runs: Array<[string, () => Promise<number>]> = [
      ['async publish file 128 B (batch baseline)', () => asyncPublish(nc, 'base', n, 128, 10_000)],
      ['fast batch publish file 128 B (ack every 100)', () => fastIngest(nc, 'fast', n, 128, 100)],
      ['atomic batch publish file 128 B (1000/batch, 4 in flight)', () => atomicBatches(nc, 'atomic', n, 128, 1000, 4)],
    ];
    for (let round = 0; round < rounds; round++) {
      for (const [label, run] of runs) {
        const cpu0 = cpuMicros(target.child.pid ?? 0);
        record(label, 'msgs/s', 'switchboard', await run());
        record(`  server CPU, ${label}`, 'µs CPU/msg', 'switchboard', (cpuMicros(target.child.pid ?? 0) - cpu0) / n);
      }
    }
    await nc.close();
    await target.stop();
  }
  if (want('index-memory')) {
    const count = quick ? 200_000 : 1_000_000;
    const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/bench/jetstream-index-memory.ts', String(count)], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    const m = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { bytesPerDistinctSubjectMessage: number; bytesPerMessageOneSubject: number };
    record(`index bytes/msg, ${count / 1000}k subjects`, 'B', 'switchboard', m.bytesPerDistinctSubjectMessage);
    record('index bytes/msg, one subject', 'B', 'switchboard', m.bytesPerMessageOneSubject);
  }
  table.print(rounds);
}

await main();
