// FileStreamStore's background commit (segment-writer.ts): commit(done) writes
// on the thread pool and calls back only once the bytes are in the OS. A store
// opened again on the same directory without a close sees what a restart after
// kill -9 would.

import assert from 'node:assert/strict';
import type * as fs from 'node:fs';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { after, describe, it } from 'node:test';
import { FileStreamStore, type FileStoreOptions } from '../../core/jetstream/store/file-stream-store.ts';
import { StoreIoError, UNLIMITED } from '../../core/jetstream/store/stream-store.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';

const nodeFs = createRequire(import.meta.url)('node:fs') as typeof fs;
const made: string[] = [];
const tempDir = (): string => made[made.push(tempStoreDir('sb-commit-')) - 1];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

const open = (dir: string, extra: Partial<FileStoreOptions> = {}): FileStreamStore => new FileStreamStore('f', UNLIMITED, { dir, ...extra });
/** 1 KiB payloads: 100 of them are more than a batch written inline on the event loop. */
const payload = (i: number): Buffer => Buffer.alloc(1024, i & 0xff);
const fillFrom = (st: FileStreamStore, from: number, n: number): void => {
  for (let i = from; i < from + n; i++) st.append(`s.${i % 3}`, null, payload(i));
};
const commit = (st: FileStreamStore): Promise<Error | null> => new Promise((resolve) => st.commit(resolve));

type Writev = (fd: number, buffers: readonly NodeJS.ArrayBufferView[], position: number, cb: (err: Error | null, n: number) => void) => void;
const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });

/** Ten messages written, then 200 committed in the background through `writev` (restored afterwards). */
function commitThrough(writev: Writev): { st: FileStreamStore; dir: string; written: Promise<Error | null> } {
  const dir = tempDir();
  const st = open(dir);
  fillFrom(st, 1, 10);
  st.commit();
  fillFrom(st, 11, 200);
  const realWritev = nodeFs.writev;
  nodeFs.writev = writev as unknown as typeof nodeFs.writev;
  syncBuiltinESMExports();
  try {
    return { st, dir, written: commit(st) };
  } finally {
    nodeFs.writev = realWritev;
    syncBuiltinESMExports();
  }
}

function assertAll(st: FileStreamStore, last: number): void {
  assert.equal(st.state().lastSeq, last);
  assert.equal(st.recovery.truncatedBytes, 0);
  for (let i = 1; i <= last; i++) assert.equal(st.get(i)?.data[0], i & 0xff, `seq ${i}`);
}

describe('file store background commit', () => {
  it('file store - commit(done) calls back once written; until then reads come from memory or force the write', async () => {
    const dir = tempDir();
    const st = open(dir, { cacheBytes: 16 * 1024 });
    fillFrom(st, 1, 300);
    const written = commit(st);
    // Before the callback: the newest are cached, older ones are read after a synchronous write.
    assert.equal(st.get(300)?.data[0], 300 & 0xff);
    assert.equal(st.get(1)?.data[0], 1);
    assert.equal(await written, null);
    assertAll(open(dir), 300);
    await st.close();
  });

  it('file store - commits made while a write runs coalesce and call back in commit order', async () => {
    const dir = tempDir();
    const st = open(dir);
    const order: number[] = [];
    const all: Array<Promise<void>> = [];
    for (let turn = 0; turn < 5; turn++) {
      fillFrom(st, turn * 200 + 1, 200);
      all.push(new Promise((resolve) => st.commit((err) => {
        assert.equal(err, null);
        order.push(turn);
        resolve();
      })));
    }
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assertAll(open(dir), 1000);
    await st.close();
  });

  it('file store - a synchronous commit while a write runs puts everything in place and settles the earlier commit', async () => {
    const dir = tempDir();
    const st = open(dir);
    fillFrom(st, 1, 300);
    const first = commit(st);
    fillFrom(st, 301, 10);
    st.commit();
    // No await: on disk already, as a kill -9 right now would find it.
    assertAll(open(dir), 310);
    assert.equal(await first, null);
    await st.close();
    assertAll(open(dir), 310);
  });

  it('file store - segments rotate while writes run; every commit lands and a restart reads across the segments', async () => {
    const dir = tempDir();
    const st = open(dir, { segmentBytes: 128 * 1024 });
    for (let turn = 0; turn < 10; turn++) {
      fillFrom(st, turn * 150 + 1, 150);
      st.commit((err) => assert.equal(err, null));
    }
    assert.equal(await commit(st), null);
    assert.ok(readdirSync(dir).filter((n) => n.endsWith('.seg')).length > 5);
    assertAll(open(dir, { segmentBytes: 128 * 1024 }), 1500);
    await st.close();
  });

  it('file store - a failed background write fails its commit, leaves nothing behind, and the sequence goes back', async () => {
    let rolledBackTo = -1;
    const { st, dir, written } = commitThrough((fd, buffers, position, cb) => {
      // A few bytes land, then the disk is full.
      nodeFs.writevSync(fd, [Buffer.from((buffers[0] as Buffer).subarray(0, 10))], position);
      setImmediate(() => cb(enospc(), 0));
    });
    st.onRollBack = (last) => (rolledBackTo = last);
    const failed = await written;
    assert.ok(failed instanceof StoreIoError, String(failed));
    // What a restart would find now: the first ten, and no torn record.
    assertAll(open(dir), 10);
    // The failed messages were answered with an error: they are gone, not written later (issue 29 item 7).
    assert.equal(st.state().lastSeq, 10);
    assert.equal(st.state().msgs, 10);
    assert.equal(st.get(11), null);
    assert.equal(rolledBackTo, 10);
    fillFrom(st, 11, 5);
    assert.equal(await commit(st), null);
    assertAll(open(dir), 15);
    assertAll(st, 15);
    await st.close();
  });

  it('file store - a write failing while the next turn appends fails that turn too, and its later appends are refused', async () => {
    let fail: () => void = () => undefined;
    const { st, dir, written: first } = commitThrough((_fd, _buffers, _position, cb) => {
      fail = () => cb(enospc(), 0);
    });
    // The next turn starts appending while the write runs, then the write fails.
    fillFrom(st, 211, 3);
    fail();
    assert.ok((await first) instanceof StoreIoError);
    assert.equal(st.state().lastSeq, 10);
    assert.throws(() => st.append('s.0', null, payload(0)), StoreIoError);
    assert.ok((await commit(st)) instanceof StoreIoError, 'the turn that appended 211-213 fails');
    assertAll(open(dir), 10);
    // The turn after that stores again, from 11.
    fillFrom(st, 11, 3);
    assert.equal(await commit(st), null);
    assertAll(open(dir), 13);
    await st.close();
  });

  it('file store - a rolled-back turn gives back what its limits and roll-ups removed, in memory and after a restart', async () => {
    const dir = tempDir();
    const limits = { ...UNLIMITED, maxMsgs: 5, maxMsgsPerSubject: 3 };
    const st = new FileStreamStore('f', limits, { dir });
    fillFrom(st, 1, 10); // s.0, s.1, s.2 in turn: the store keeps 6..10
    st.commit();
    const kept = (s: FileStreamStore): number[] => [...Array(s.state().lastSeq + 1).keys()].filter((seq) => s.get(seq) !== null);
    assert.deepEqual(kept(st), [6, 7, 8, 9, 10]);
    // One failing turn: 11 (s.2) and 12 drop 6 and 7 (max_msgs), 13 on s.2 then rolls up its subject (8 and 11).
    fillFrom(st, 11, 2);
    const rollup = st.append('s.2', null, payload(13));
    st.purge({ filter: 's.2', seq: rollup, causedBy: rollup });
    assert.deepEqual(kept(st), [9, 10, 12, 13]);
    const realWritevSync = nodeFs.writevSync;
    nodeFs.writevSync = () => {
      throw enospc();
    };
    syncBuiltinESMExports();
    let failed: Promise<Error | null>;
    try {
      failed = commit(st);
    } finally {
      nodeFs.writevSync = realWritevSync;
      syncBuiltinESMExports();
    }
    assert.ok((await failed) instanceof StoreIoError);
    assert.deepEqual(kept(st), [6, 7, 8, 9, 10], 'the removals of the rolled-back appends are undone');
    assert.deepEqual([st.state().msgs, st.state().firstSeq, st.subjectCounts().get('s.2')], [5, 6, 1]);
    assert.deepEqual(kept(new FileStreamStore('f', limits, { dir })), [6, 7, 8, 9, 10], 'a restart finds them too');
    // The next turn removes as usual, and that holds.
    fillFrom(st, 11, 1);
    assert.equal(await commit(st), null);
    assert.deepEqual(kept(new FileStreamStore('f', limits, { dir })), [7, 8, 9, 10, 11]);
    await st.close();
  });

    it('file store - close waits for a running write', async () => {
    const dir = tempDir();
    const st = open(dir, { sync: 'always' });
    fillFrom(st, 1, 5);
    const written = commit(st);
    await st.close();
    assert.equal(await written, null);
    assertAll(open(dir, { sync: 'always' }), 5);
  });
});
