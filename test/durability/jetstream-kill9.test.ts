// Durability: a real Switchboard process with JetStream is killed with SIGKILL
// at random moments while a client publishes with acks as fast as it can; it
// is restarted on the same store each time. Every acknowledged message must be
// there afterwards, at its acknowledged sequence, byte for byte, once, in
// order, and sequences must never be handed out twice. Checked twice, by two
// independent readers: the store files (FileStreamStore, as a restart reads
// them) and the restarted server over the wire (an ordered consumer of
// @nats-io/jetstream reading every message). Once with sync 'os' (the default:
// written to the OS before the PubAck) and once with sync 'always' (fsynced).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { FileStreamStore } from '../../core/jetstream/store/file-stream-store.ts';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const WINDOW = 256;
// Typically ~20 s for sync 'os'; the budget only guards a heavily loaded machine.
const BUDGET_MS = 100_000;
/** Per sync policy: kill cycles, and the acknowledged publishes a run must reach (fsync per write is slower). */
const RUNS = [
  { sync: 'os', cycles: 20, minAcked: 1000 },
  { sync: 'always', cycles: 10, minAcked: 200 },
] as const;
type Sync = (typeof RUNS)[number]['sync'];

function payloadFor(cycle: number, i: number): string {
  // Vary the size so records straddle read-ahead and write boundaries.
  return `c${cycle}-m${i}-${'x'.repeat((i * 37) % 300)}`;
}

/**
 * One kill cycle: start Switchboard on `dir`, let `prepare` set up or check the
 * stream, then call `publish` (at most WINDOW unsettled) until a SIGKILL after
 * `killAfterMs` drops the connection. Publishing goes on through the kill, so
 * some messages are stored whose PubAcks never leave the dying server. Returns
 * once the process is gone and every publish has settled (failures ignored).
 */
async function publishUntilKilled(dir: string, port: number, killAfterMs: number, prepare: (jsm: JetStreamManager) => Promise<void>, publish: (js: JetStreamClient) => Promise<void>, sync: Sync = 'os'): Promise<void> {
  const proc = await startSyncedProcess(dir, port, sync);
  const exited = once(proc.child, 'exit');
  const nc = await connect({ servers: proc.url, reconnect: false });
  let closed = false;
  nc.closed().then(() => (closed = true), () => (closed = true));
  const inflight = new Set<Promise<void>>();
  let killer: NodeJS.Timeout | null = null;
  try {
    await prepare(await jetstreamManager(nc));
    const js = jetstream(nc);
    killer = setTimeout(() => proc.child.kill('SIGKILL'), killAfterMs);
    while (!closed && !nc.isClosed()) {
      const p: Promise<void> = publish(js).catch(() => {}).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= WINDOW) await Promise.race(inflight);
    }
  } finally {
    if (killer !== null) clearTimeout(killer);
    // Also when prepare failed: no cycle leaves its server running.
    proc.child.kill('SIGKILL');
    await Promise.allSettled([...inflight]);
    await exited;
    await nc.close().catch(() => {});
  }
}

/** The server process with `sync`; its ready line says which policy it runs, so a dropped flag cannot pass unnoticed. */
async function startSyncedProcess(dir: string, port: number, sync: Sync): Promise<Awaited<ReturnType<typeof startJetStreamProcess>>> {
  const proc = await startJetStreamProcess(dir, port, ['--sync', sync]);
  assert.match(proc.readyLine, new RegExp(`sync ${sync}\\b`), proc.readyLine);
  return proc;
}

/**
 * Every message of `stream` as the server serves it to a client: an ordered consumer
 * from the first sequence to `lastSeq` (bounded: what never arrives is reported missing).
 */
async function readOverWire(nc: NatsConnection, stream: string, lastSeq: number): Promise<Map<number, string>> {
  const got = new Map<number, string>();
  if (lastSeq === 0) return got;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 1_000 });
  const guard = setTimeout(() => void messages.stop(), 120_000);
  try {
    for await (const m of messages) {
      got.set(m.seq, Buffer.from(m.data).toString());
      if (m.seq >= lastSeq) break;
    }
  } finally {
    clearTimeout(guard);
    await messages.stop();
  }
  return got;
}

for (const { sync, cycles: CYCLES, minAcked } of RUNS) describe(`durability - kill -9 (sync ${sync})`, () => {
  const storeDir = tempStoreDir('sb-kill9-');
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it(`durability - every acknowledged message survives repeated kill -9 and restart (sync ${sync})`, async () => {
    const started = Date.now();
    const port = await freePort();
    const acked = new Map<number, string>();
    const violations: string[] = [];
    let maxAcked = 0;
    let cycles = 0;
    for (let cycle = 0; cycle < CYCLES && Date.now() - started < BUDGET_MS; cycle++) {
      let i = 0;
      await publishUntilKilled(storeDir, port, 50 + Math.floor(Math.random() * 350), async (jsm) => {
        if (cycle === 0) await jsm.streams.add({ name: 'DUR', subjects: ['dur.>'] });
        const si = await jsm.streams.info('DUR');
        assert.ok(si.state.last_seq >= maxAcked, `cycle ${cycle}: last_seq ${si.state.last_seq} < acknowledged ${maxAcked}`);
      }, async (js) => {
        const body = payloadFor(cycle, i++);
        const ack = await js.publish(`dur.${cycle}`, body, { retries: 0, timeout: 2000 });
        if (acked.has(ack.seq)) violations.push(`sequence ${ack.seq} acknowledged twice`);
        if (ack.seq <= maxAcked) violations.push(`sequence ${ack.seq} acknowledged after ${maxAcked}`);
        acked.set(ack.seq, body);
        maxAcked = Math.max(maxAcked, ack.seq);
      }, sync);
      cycles++;
    }
    assert.deepEqual(violations, []);
    assert.ok(cycles >= CYCLES, `only ${cycles} cycles inside the time budget`);
    assert.ok(acked.size > minAcked, `only ${acked.size} acknowledged messages`);

    // Read the store as a restarted server would, and check every acknowledged sequence.
    const store = new FileStreamStore('DUR', undefined, { dir: join(storeDir, 'streams', 'DUR', 'msgs') });
    const state = store.state();
    assert.equal(state.numDeleted, 0, 'no gaps between first and last sequence');
    assert.equal(state.msgs, state.lastSeq - state.firstSeq + 1);
    assert.ok(state.lastSeq >= maxAcked);
    for (const [seq, body] of acked) {
      const m = store.get(seq);
      assert.ok(m, `acknowledged sequence ${seq} is missing`);
      assert.equal(m.data.toString(), body, `sequence ${seq} differs`);
    }
    // Unacknowledged tails may exist, but each payload at most once and in publish order per cycle.
    const seen = new Set<string>();
    let previous: [number, number] = [-1, -1];
    for (let seq = state.firstSeq; seq <= state.lastSeq; seq++) {
      const body = (store.get(seq) as { data: Buffer }).data.toString();
      assert.equal(seen.has(body), false, `duplicate payload at ${seq}`);
      seen.add(body);
      const [, c, n] = /^c(\d+)-m(\d+)-/.exec(body) ?? [];
      const key: [number, number] = [Number(c), Number(n)];
      assert.ok(key[0] > previous[0] || (key[0] === previous[0] && key[1] > previous[1]), `out of order at ${seq}`);
      previous = key;
    }
    await store.close();

    // And, independently of the store code, the restarted server serves every
    // acknowledged message to a real client, at its sequence, byte for byte.
    const proc = await startSyncedProcess(storeDir, port, sync);
    const nc = await connect({ servers: proc.url });
    try {
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.info('DUR');
      assert.equal(si.state.last_seq, state.lastSeq);
      assert.equal(si.state.messages, state.msgs);
      const served = await readOverWire(nc, 'DUR', si.state.last_seq);
      assert.equal(served.size, si.state.messages, 'the ordered consumer read every stored message');
      const wrong = [...acked].filter(([seq, body]) => served.get(seq) !== body).map(([seq]) => seq);
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${acked.size} acknowledged messages missing or different over the wire`);
    } finally {
      await nc.close();
      await proc.stop();
    }
    process.stdout.write(`# kill -9 (sync ${sync}) cycles: ${cycles}, acknowledged: ${acked.size}, stored: ${state.msgs}, elapsed ${Date.now() - started} ms\n`);
  });
});

describe('durability - kill -9 and retries', () => {
  it('durability - retrying unacknowledged publishes with the same Nats-Msg-Id after kill -9 stores each once', async () => {
    const dir = tempStoreDir('sb-kill9-dedupe-');
    const port = await freePort();
    const unacked = new Set<string>();
    let nextId = 0;
    let acknowledged = 0;
    let retriedAndAcknowledged = 0;
    try {
      for (let cycle = 0; cycle < 8; cycle++) {
        // First the retries of what the last crash left unacknowledged, then new ids.
        const queue = [...unacked];
        await publishUntilKilled(dir, port, 100 + Math.floor(Math.random() * 300), async (jsm) => {
          if (cycle === 0) await jsm.streams.add({ name: 'ONCE', subjects: ['once'] });
        }, async (js) => {
          const retry = queue.shift();
          const id = retry ?? `id-${nextId++}`;
          unacked.add(id);
          await js.publish('once', id, { msgID: id, retries: 0, timeout: 2000 });
          unacked.delete(id);
          acknowledged++;
          if (retry !== undefined) retriedAndAcknowledged++;
        });
      }
      // Without these the checks below could pass having checked nothing (issue 27).
      assert.ok(acknowledged >= 200, `only ${acknowledged} acknowledged publishes`);
      assert.ok(retriedAndAcknowledged >= 1, 'no retried publish was acknowledged: the kills left nothing to retry');
      const store = new FileStreamStore('ONCE', undefined, { dir: join(dir, 'streams', 'ONCE', 'msgs') });
      const seen = new Map<string, number>();
      const st = store.state();
      for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
        const body = store.get(seq)?.data.toString() ?? '';
        seen.set(body, (seen.get(body) ?? 0) + 1);
      }
      await store.close();
      const dupes = [...seen].filter(([, n]) => n > 1);
      process.stdout.write(`# retried ids: stored ${st.msgs}, distinct ${seen.size}, published ids ${nextId}, never acknowledged ${unacked.size}\n`);
      assert.deepEqual(dupes, [], 'a retried Nats-Msg-Id was stored twice');
      for (let i = 0; i < nextId; i++) {
        const id = `id-${i}`;
        if (!unacked.has(id)) assert.equal(seen.get(id), 1, `acknowledged ${id} missing`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
