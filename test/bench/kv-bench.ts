// Key-value and object store benchmark with the official @nats-io/kv and
// @nats-io/obj clients: Switchboard (JetStream in its own process, file store)
// side by side with `nats-server -js` when installed, each with a fresh store.
//   node --import tsx test/bench/kv-bench.ts [--quick] [--million]
// Figures: KV put and get ops/s (64 in flight), then a bucket of 100k keys
// (1M with --million): load rate, server RSS per key, time to list every key
// and to start a watch of every key (until its initial values are delivered);
// object put/get MiB/s of a 10 MiB object.

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { commandAvailable, startNatsServer } from '../helpers/servers.ts';
import { readRssKiB } from './bench-servers.ts';
import { track } from './child-registry.ts';

type TargetName = 'switchboard' | 'nats-server';

interface Target {
  readonly name: TargetName;
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function startTarget(name: TargetName): Promise<Target> {
  const storeDir = tempStoreDir(`kv-bench-${name}-`);
  const running = name === 'switchboard' ? await startJetStreamProcess(storeDir) : await startNatsServer(['-js', '-sd', storeDir]);
  track(running.child);
  return {
    name,
    url: running.url,
    child: running.child,
    async stop() {
      await running.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

const MiB = 1024 * 1024;
const IN_FLIGHT = 64;
/** The longest loadKeys waits for the next PubAck before it gives up. */
const STALL_MS = 60_000;

/** Run `op(i)` for i in [0, count) with IN_FLIGHT at a time; ops per second. */
async function concurrently(count: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return count / ((performance.now() - t0) / 1000);
}

/**
 * Fill a bucket with `count` keys as fast as the server takes them: raw publishes
 * to $KV.<bucket>.<key> with a reply each, a bounded window unacknowledged (the
 * KV client's one request at a time would measure the client, not the server).
 */
async function loadKeys(nc: NatsConnection, bucket: string, count: number, window = 5_000): Promise<number> {
  const value = new Uint8Array(16).fill(118);
  const inbox = createInbox();
  let acked = 0;
  let errors = 0;
  let wake: (() => void) | null = null;
  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (_e, m) => {
      acked++;
      if (m.data[2] === 101) errors++; // {"error":...}
      if (wake !== null) {
        const w = wake;
        wake = null;
        w();
      }
    },
  });
  let sent = 0;
  // Bounded: a server that stops answering (or cuts the reply subscription as a slow
  // consumer) fails this measurement instead of hanging `npm run bench`.
  const nextAck = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        wake = null;
        reject(new Error(`no PubAck for ${STALL_MS / 1000} s while loading ${bucket} (${acked} of ${sent} acknowledged)`));
      }, STALL_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let secs: number;
  try {
    await nc.flush();
    const t0 = performance.now();
    while (sent < count) {
      const burst = Math.min(count - sent, window - (sent - acked));
      for (let i = 0; i < burst; i++, sent++) nc.publish(`$KV.${bucket}.k${sent}`, value, { reply: `${inbox}.${sent}` });
      if (sent - acked >= window) await nextAck();
    }
    while (acked < count) await nextAck();
    secs = (performance.now() - t0) / 1000;
  } finally {
    sub.unsubscribe();
  }
  if (errors > 0) throw new Error(`${errors} PubAck errors while loading ${bucket}`);
  return count / secs;
}

/** Milliseconds until every key has been listed. */
async function listAll(kv: KV, expected: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const _key of await kv.keys()) n++;
  const ms = performance.now() - t0;
  if (n !== expected) throw new Error(`listed ${n} keys, expected ${expected}`);
  return ms;
}

/** Milliseconds from starting a watch of every key until its initial values have all arrived. */
async function watchStart(kv: KV, expected: number, capMs: number): Promise<number> {
  const t0 = performance.now();
  const iter = await kv.watch();
  let n = 0;
  const timer = setTimeout(() => iter.stop(), capMs);
  for await (const _entry of iter) {
    if (++n === expected) break;
  }
  clearTimeout(timer);
  const ms = performance.now() - t0;
  iter.stop();
  if (n !== expected) throw new Error(`watch delivered ${n} of ${expected} initial values within ${capMs} ms`);
  return ms;
}

interface Row {
  readonly label: string;
  readonly unit: string;
  /** Higher is better (rates) or lower is better (times, bytes). */
  readonly higherBetter: boolean;
  readonly values: Map<TargetName, number>;
}

/** A failed measurement is reported and the run goes on (the other figures still count). */
async function attempt(label: string, target: TargetName, measure: () => Promise<void>): Promise<void> {
  try {
    await measure();
  } catch (error) {
    process.stdout.write(`${label.padEnd(36)} ${target.padEnd(12)} FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, million: { type: 'boolean' } }, strict: true });
  const quick = values.quick === true;
  const ops = quick ? 5_000 : 20_000;
  const sizes = quick ? [20_000] : values.million ? [100_000, 1_000_000] : [100_000];
  const names: TargetName[] = commandAvailable('nats-server') ? ['switchboard', 'nats-server'] : ['switchboard'];
  if (names.length === 1) process.stdout.write('SKIPPED: nats-server not installed\n');
  const rows: Row[] = [];
  const record = (label: string, unit: string, higherBetter: boolean, target: TargetName, value: number): void => {
    let row = rows.find((r) => r.label === label);
    if (row === undefined) rows.push((row = { label, unit, higherBetter, values: new Map() }));
    row.values.set(target, value);
    process.stdout.write(`${label.padEnd(36)} ${target.padEnd(12)} ${value.toFixed(value < 10 ? 2 : 0)} ${unit}\n`);
  };

  for (const name of names) {
    const target = await startTarget(name);
    const nc = await connect({ servers: target.url, maxPayload: 8 * MiB } as never);
    try {
      // A generous API timeout: creating a last_per_subject consumer over a million keys takes nats-server 2.9 longer than the default 5 s.
      const kvm = new Kvm(jetstream(nc, { timeout: 120_000 }));
      const small = await kvm.create('ops');
      const value = new Uint8Array(16).fill(97);
      record('kv put 16 B', 'ops/s', true, name, await concurrently(ops, async (i) => void (await small.put(`k${i % 1000}`, value))));
      record('kv get', 'ops/s', true, name, await concurrently(ops, async (i) => {
        if ((await small.get(`k${i % 1000}`)) === null) throw new Error('missing key');
      }));

      for (const count of sizes) {
        const label = `${count / 1000}k keys`;
        const bucket = `big${count}`;
        const kv = await kvm.create(bucket);
        await attempt(`${label}: load (raw publish)`, name, async () => {
          const rssBefore = readRssKiB(target.child.pid as number);
          record(`${label}: load (raw publish)`, 'keys/s', true, name, await loadKeys(nc, bucket, count));
          const rssAfter = readRssKiB(target.child.pid as number);
          record(`${label}: server RSS per key`, 'B', false, name, ((rssAfter - rssBefore) * 1024) / count);
        });
        await attempt(`${label}: list all keys`, name, async () => record(`${label}: list all keys`, 'ms', false, name, await listAll(kv, count)));
        await attempt(`${label}: watch start (all initial)`, name, async () => record(`${label}: watch start (all initial)`, 'ms', false, name, await watchStart(kv, count, 600_000)));
        await kv.destroy();
      }

      const objm = new Objm(jetstream(nc));
      const os = await objm.create('files');
      const blob = randomBytes(10 * MiB);
      const rounds = quick ? 1 : 3;
      let putSecs = 0;
      let getSecs = 0;
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await os.putBlob({ name: 'ten-mib' }, blob);
        const t1 = performance.now();
        const back = await os.getBlob('ten-mib');
        getSecs += (performance.now() - t1) / 1000;
        putSecs += (t1 - t0) / 1000;
        if (back === null || !Buffer.from(back).equals(blob)) throw new Error('object came back different');
      }
      record('object put 10 MiB', 'MiB/s', true, name, (10 * rounds) / putSecs);
      record('object get 10 MiB', 'MiB/s', true, name, (10 * rounds) / getSecs);
    } finally {
      await nc.close();
      await target.stop();
    }
  }

  process.stdout.write(`\n${'kv bench'.padEnd(36)} ${'switchboard'.padStart(12)} ${'nats-server'.padStart(12)}   ratio (>1: switchboard better)\n`);
  for (const r of rows) {
    const sb = r.values.get('switchboard');
    const ns = r.values.get('nats-server');
    const ratio = sb !== undefined && ns !== undefined && sb > 0 && ns > 0 ? (r.higherBetter ? sb / ns : ns / sb).toFixed(2) : '-';
    const cell = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(v < 10 ? 2 : 0)).padStart(12);
    process.stdout.write(`${r.label.padEnd(36)} ${cell(sb)} ${cell(ns)}   ${ratio} (${r.unit})\n`);
  }
}

await main();
