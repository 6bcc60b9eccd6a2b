// Durability of ADR-50 atomic batches: a real Switchboard process is killed
// with SIGKILL while several publishers commit large batches into a file
// stream, and restarted on the same store. A batch must be on disk all or
// nothing: every batch id found holds Nats-Batch-Sequence 1..n at consecutive
// stream sequences, the last with Nats-Batch-Commit: 1, and every committed
// (acknowledged) batch is there whole at its acknowledged sequences. Between a
// kill and the restart the test reads the store files as the restart will and
// counts batches cut short on disk (what the restart must take back), so the
// run shows that the rollback was exercised, not only that nothing went wrong.
// A second case builds such a torn tail deterministically and checks that
// start takes it back, frees its Nats-Msg-Id values and keeps serving.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect, headers, type MsgHdrs } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { MessageHeaders, parseHeaders } from '../../core/protocol/headers.ts';
import { FileStreamStore } from '../../core/jetstream/store/file-stream-store.ts';
import type { StreamStore } from '../../core/jetstream/store/stream-store.ts';
import { startJetStreamProcess, startSwitchboardJetStream, tempStoreDir } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const STREAM = 'ATOMIC';
const CYCLES = 8;
const PUBLISHERS = 4;
const BUDGET_MS = 120_000;
/** Batch sizes up to nats-server's limit of 1000, payloads up to 2 KB: a commit is up to ~2 MB of writes. */
const MAX_BATCH = 1000;
const SEGMENT_BYTES = 256 * 1024;

function batchHeaders(id: string, seq: number, commit: boolean): MsgHdrs {
  const h = headers();
  h.set('Nats-Batch-Id', id);
  h.set('Nats-Batch-Sequence', String(seq));
  if (commit) h.set('Nats-Batch-Commit', '1');
  return h;
}

interface Committed {
  lastSeq: number;
  count: number;
}

/** A batch as found in the store: its stream sequences and batch sequences, in stream order. */
interface Found {
  seqs: number[];
  batchSeqs: number[];
  committed: boolean;
}

function openStore(dir: string): FileStreamStore {
  return new FileStreamStore(STREAM, undefined, { dir: join(dir, 'streams', STREAM, 'msgs') });
}

function readBatches(store: StreamStore): Map<string, Found> {
  const found = new Map<string, Found>();
  for (let m = store.next(1); m !== null; m = store.next(m.seq + 1)) {
    assert.ok(m.header, `sequence ${m.seq} has no header`);
    const h = parseHeaders(m.header);
    const id = h.get('Nats-Batch-Id') ?? '';
    let f = found.get(id);
    if (f === undefined) found.set(id, (f = { seqs: [], batchSeqs: [], committed: false }));
    f.seqs.push(m.seq);
    f.batchSeqs.push(Number(h.get('Nats-Batch-Sequence')));
    if (h.get('Nats-Batch-Commit') === '1') f.committed = true;
  }
  return found;
}

/** The batch at the end of the store, if it lacks its commit (what a kill cut short). */
function tornTail(store: StreamStore): string | null {
  const last = store.last('>');
  if (last === null || last.header === null) return null;
  const h = parseHeaders(last.header);
  return h.get('Nats-Batch-Commit') === undefined ? (h.get('Nats-Batch-Id') ?? null) : null;
}

describe('durability - atomic batches and kill -9', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('durability - a batch is on disk whole or not at all after kill -9 mid-commit, and every committed batch survives', async () => {
    const dir = tempStoreDir('sb-atomic-kill9-');
    dirs.push(dir);
    const port = await freePort();
    const started = Date.now();
    const committed = new Map<string, Committed>();
    let torn = 0;
    let cycles = 0;
    for (let cycle = 0; cycle < CYCLES && Date.now() - started < BUDGET_MS; cycle++) {
      // Small segments: a commit spans several files, so a kill lands inside one more often.
      const proc = await startJetStreamProcess(dir, port, ['--segment-bytes', String(SEGMENT_BYTES)]);
      const exited = once(proc.child, 'exit');
      const nc = await connect({ servers: proc.url, reconnect: false });
      let alive = true;
      nc.closed().then(() => (alive = false), () => (alive = false));
      if (cycle === 0) await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: ['atomic.>'], allow_atomic: true, storage: 'file' });
      const killer = setTimeout(() => proc.child.kill('SIGKILL'), 300 + Math.floor(Math.random() * 1200));
      const publisher = async (p: number): Promise<void> => {
        for (let b = 0; alive; b++) {
          const id = `c${cycle}p${p}b${b}`;
          const size = 200 + Math.floor(Math.random() * (MAX_BATCH - 200));
          const body = 'x'.repeat(Math.floor(Math.random() * 2048));
          try {
            for (let seq = 1; seq < size; seq++) nc.publish(`atomic.${p}`, body, { headers: batchHeaders(id, seq, false) });
            const m = await nc.request(`atomic.${p}`, body, { headers: batchHeaders(id, size, true), timeout: 5000 });
            const ack = m.json<{ seq?: number; count?: number; batch?: string; error?: unknown }>();
            assert.equal(ack.error, undefined, `batch ${id}: ${JSON.stringify(ack.error)}`);
            assert.equal(ack.batch, id);
            committed.set(id, { lastSeq: ack.seq as number, count: ack.count as number });
          } catch (err) {
            if (alive && !nc.isClosed() && err instanceof assert.AssertionError) throw err;
            return;
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publisher(p)));
      } finally {
        clearTimeout(killer);
        proc.child.kill('SIGKILL');
        await exited;
        await nc.close().catch(() => {});
      }
      // Read the files as the restart will: a batch cut short is counted (the restart must take it back).
      const store = openStore(dir);
      if (tornTail(store) !== null) torn++;
      await store.close();
      cycles++;
    }
    assert.ok(cycles >= 3, `only ${cycles} kill cycles inside the time budget`);
    assert.ok(committed.size > 0, 'no batch was committed');

    // One more start takes back what the last kill cut short; then the store is read whole.
    const final = await startSwitchboardJetStream({ storeDir: dir });
    await final.stop();
    const store = openStore(dir);
    try {
      assert.equal(tornTail(store), null, 'a batch without its commit is left at the end');
      const found = readBatches(store);
      for (const [id, f] of found) {
        const n = f.batchSeqs.length;
        assert.ok(f.committed, `batch ${id} is stored without its commit (${n} messages)`);
        assert.deepEqual(f.batchSeqs, Array.from({ length: n }, (_, i) => i + 1), `batch ${id}: batch sequences`);
        assert.equal(f.seqs[n - 1] - f.seqs[0], n - 1, `batch ${id}: not at consecutive stream sequences`);
      }
      for (const [id, c] of committed) {
        const f = found.get(id);
        assert.ok(f, `committed batch ${id} is missing`);
        assert.equal(f.seqs.length, c.count, `committed batch ${id}: count`);
        assert.equal(f.seqs[f.seqs.length - 1], c.lastSeq, `committed batch ${id}: last sequence`);
      }
      process.stdout.write(`# atomic kill -9: ${cycles} cycles, ${committed.size} batches committed, ${found.size} stored, ${torn} cut short on disk and taken back\n`);
    } finally {
      await store.close();
    }
  });

  it('durability - start takes back a batch cut short at the end of the stream; its Nats-Msg-Id values are free again', async () => {
    const dir = tempStoreDir('sb-atomic-torn-');
    dirs.push(dir);
    let server = await startSwitchboardJetStream({ storeDir: dir });
    let nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.add({ name: STREAM, subjects: ['atomic.>'], allow_atomic: true, storage: 'file' });
    const h = headers();
    h.set('Nats-Msg-Id', 'before');
    await nc.request('atomic.a', 'kept', { headers: h, timeout: 5000 });
    await nc.close();
    await server.stop();

    // What a kill in the middle of a commit leaves: the first two of three messages, without the commit header.
    const store = openStore(dir);
    for (let seq = 1; seq <= 2; seq++) {
      const bh = new MessageHeaders();
      bh.set('Nats-Batch-Id', 'torn').set('Nats-Batch-Sequence', String(seq)).set('Nats-Msg-Id', `torn-${seq}`);
      store.append('atomic.a', bh.encode(), Buffer.from(`part ${seq}`));
    }
    store.commit();
    assert.equal(tornTail(store), 'torn');
    await store.close();

    server = await startSwitchboardJetStream({ storeDir: dir });
    nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const state = (await jsm.streams.info(STREAM)).state;
      assert.equal(state.messages, 1, 'only the message before the batch is left');
      assert.equal((await jsm.streams.getMessage(STREAM, { seq: 1 }))?.string(), 'kept');
      // The taken-back ids are no duplicates; the one stored before the batch still is.
      const again = headers();
      again.set('Nats-Msg-Id', 'torn-1');
      const ack = (await nc.request('atomic.a', 'new', { headers: again, timeout: 5000 })).json<{ seq: number; duplicate?: boolean }>();
      assert.equal(ack.duplicate, undefined);
      assert.equal(ack.seq, 4);
      const dup = headers();
      dup.set('Nats-Msg-Id', 'before');
      assert.equal((await nc.request('atomic.a', 'x', { headers: dup, timeout: 5000 })).json<{ duplicate?: boolean }>().duplicate, true);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
