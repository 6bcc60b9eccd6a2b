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

  it('file store - a failed background write fails its commit, leaves nothing half-written, and the next commit writes it', async () => {
    const dir = tempDir();
    const st = open(dir);
    fillFrom(st, 1, 10);
    st.commit();
    fillFrom(st, 11, 200);
    const realWritev = nodeFs.writev;
    nodeFs.writev = ((fd: number, buffers: readonly NodeJS.ArrayBufferView[], position: number, cb: (err: Error | null, n: number) => void) => {
      // A few bytes land, then the disk is full.
      nodeFs.writevSync(fd, [Buffer.from((buffers[0] as Buffer).subarray(0, 10))], position);
      setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 0));
    }) as unknown as typeof nodeFs.writev;
    syncBuiltinESMExports();
    let failed: Error | null;
    try {
      failed = await commit(st);
    } finally {
      nodeFs.writev = realWritev;
      syncBuiltinESMExports();
    }
    assert.ok(failed instanceof StoreIoError, String(failed));
    // What a restart would find now: the first ten, and no torn record.
    assertAll(open(dir), 10);
    fillFrom(st, 211, 5);
    assert.equal(await commit(st), null);
    assertAll(open(dir), 215);
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
