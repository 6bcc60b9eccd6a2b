// Durability: a real Switchboard process with JetStream is killed with SIGKILL
// at random moments while a client publishes with acks as fast as it can; it
// is restarted on the same store each time. Every acknowledged message must be
// there afterwards, at its acknowledged sequence, byte for byte, once, in
// order, and sequences must never be handed out twice.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { FileStreamStore } from '../../core/jetstream/store/file-stream-store.ts';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const CYCLES = 20;
const WINDOW = 256;
// Typically ~20 s; the budget only guards a heavily loaded machine.
const BUDGET_MS = 100_000;

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
async function publishUntilKilled(dir: string, port: number, killAfterMs: number, prepare: (jsm: JetStreamManager) => Promise<void>, publish: (js: JetStreamClient) => Promise<void>): Promise<void> {
  const proc = await startJetStreamProcess(dir, port);
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

describe('durability - kill -9', () => {
  const storeDir = tempStoreDir('sb-kill9-');
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('durability - every acknowledged message survives repeated kill -9 and restart', async () => {
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
      });
      cycles++;
    }
    assert.deepEqual(violations, []);
    assert.ok(cycles >= CYCLES, `only ${cycles} cycles inside the time budget`);
    assert.ok(acked.size > 1000, `only ${acked.size} acknowledged messages`);

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

    // And the restarted server serves the same thing.
    const proc = await startJetStreamProcess(storeDir, port);
    const nc = await connect({ servers: proc.url });
    const jsm = await jetstreamManager(nc);
    const si = await jsm.streams.info('DUR');
    assert.equal(si.state.last_seq, state.lastSeq);
    const sample = [...acked.keys()].filter((_, k) => k % 97 === 0);
    for (const seq of sample) {
      const m = await jsm.streams.getMessage('DUR', { seq });
      assert.equal(m ? Buffer.from(m.data).toString() : null, acked.get(seq));
    }
    await nc.close();
    await proc.stop();
    process.stdout.write(`# kill -9 cycles: ${cycles}, acknowledged: ${acked.size}, stored: ${state.msgs}, elapsed ${Date.now() - started} ms\n`);
  });

  it('durability - retrying unacknowledged publishes with the same Nats-Msg-Id after kill -9 stores each once', async () => {
    const dir = tempStoreDir('sb-kill9-dedupe-');
    const port = await freePort();
    const unacked = new Set<string>();
    let nextId = 0;
    try {
      for (let cycle = 0; cycle < 8; cycle++) {
        // First the retries of what the last crash left unacknowledged, then new ids.
        const queue = [...unacked];
        await publishUntilKilled(dir, port, 100 + Math.floor(Math.random() * 300), async (jsm) => {
          if (cycle === 0) await jsm.streams.add({ name: 'ONCE', subjects: ['once'] });
        }, async (js) => {
          const id = queue.shift() ?? `id-${nextId++}`;
          unacked.add(id);
          await js.publish('once', id, { msgID: id, retries: 0, timeout: 2000 });
          unacked.delete(id);
        });
      }
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
