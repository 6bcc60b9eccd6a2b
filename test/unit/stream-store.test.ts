// The StreamStore contract (DESIGN seam 3), run against every implementation:
// describeStreamStore('memory', ...) and describeStreamStore('file', ...).
// File-only cases (reopen, torn tail, corruption, segments) follow.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStreamStore, type FileStoreOptions } from '../../core/jetstream/store/file-stream-store.ts';
import { MemoryStreamStore } from '../../core/jetstream/store/memory-stream-store.ts';
import { crc32, crc32Fallback } from '../../core/jetstream/store/segment-codec.ts';
import { subjectMatches } from '../../core/subject/subject.ts';
import { StoreIoError, StoreLimitError, UNLIMITED, type StoreLimits, type StreamStore } from '../../core/jetstream/store/stream-store.ts';

const nodeFs = createRequire(import.meta.url)('node:fs') as typeof fs;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sb-store-'));
  roots.push(d);
  return d;
}

type Factory = (limits?: Partial<StoreLimits>, options?: { firstSeq?: number }) => StreamStore;

const b = (s: string): Buffer => Buffer.from(s);
const hdr = (k: string, v: string): Buffer => Buffer.from(`NATS/1.0\r\n${k}: ${v}\r\n\r\n`);

function fill(store: StreamStore, subjects: string[]): void {
  subjects.forEach((s, i) => store.append(s, null, b(`m${i + 1}`)));
}

function describeStreamStore(name: string, make: Factory): void {
  describe(`stream store (${name})`, () => {
    it('store - append assigns sequences and get returns subject, header and data', async () => {
      const st = make();
      assert.equal(st.append('a.1', hdr('X', '1'), b('one')), 1);
      assert.equal(st.append('a.2', null, b('two')), 2);
      assert.equal(st.append('a.1', null, Buffer.alloc(0)), 3);
      const m = st.get(1);
      assert.ok(m);
      assert.equal(m.subject, 'a.1');
      assert.equal(m.header?.toString(), 'NATS/1.0\r\nX: 1\r\n\r\n');
      assert.equal(m.data.toString(), 'one');
      assert.equal(st.get(2)?.header, null);
      assert.equal(st.get(3)?.data.length, 0);
      assert.equal(st.get(0), null);
      assert.equal(st.get(4), null);
      assert.ok((st.get(1)?.time ?? 0) > Date.now() - 10_000);
      await st.close();
    });

    it('store - a stored message is a copy: changing the source buffer later changes nothing', async () => {
      const st = make();
      const src = b('original');
      st.append('a', null, src);
      src.fill(0x58);
      st.commit();
      assert.equal(st.get(1)?.data.toString(), 'original');
      await st.close();
    });

    it('store - next matching a filter from a sequence (literal, wildcard, none)', async () => {
      const st = make();
      fill(st, ['a.1', 'b.1', 'a.2', 'b.2', 'a.1']);
      assert.equal(st.next(1)?.seq, 1);
      assert.equal(st.next(2, 'a.*')?.seq, 3);
      assert.equal(st.next(4, 'a.>')?.seq, 5);
      assert.equal(st.next(2, 'a.1')?.seq, 5);
      assert.equal(st.next(6, 'a.1'), null);
      assert.equal(st.nextSeq(1, 'c.*'), 0);
      assert.equal(st.nextSeq(0, '>'), 1);
      st.remove(3);
      assert.equal(st.next(2, 'a.*')?.seq, 5);
      await st.close();
    });

    it('store - last by subject, literal and wildcard', async () => {
      const st = make();
      fill(st, ['a.1', 'b.1', 'a.1', 'b.2']);
      assert.equal(st.last('a.1')?.seq, 3);
      assert.equal(st.last('b.*')?.seq, 4);
      assert.equal(st.last('>')?.seq, 4);
      assert.equal(st.last('zz'), null);
      st.remove(3);
      assert.equal(st.last('a.1')?.seq, 1);
      st.remove(4);
      assert.equal(st.last('b.*')?.seq, 2);
      await st.close();
    });

    it('store - last per subject: the newest sequence of each matching subject, ascending', async () => {
      const st = make();
      fill(st, ['k.a', 'k.b', 'k.a', 'x.y', 'k.c', 'k.b']);
      assert.deepEqual([...st.lastPerSubject()], [3, 4, 5, 6]);
      assert.deepEqual([...st.lastPerSubject('k.*')], [3, 5, 6]);
      assert.deepEqual([...st.lastPerSubject('k.b')], [6]);
      assert.deepEqual([...st.lastPerSubject('none')], []);
      st.remove(6);
      st.remove(3);
      assert.deepEqual([...st.lastPerSubject('k.>')], [1, 2, 5]);
      await st.close();
    });

    it('store - last per subject up to a sequence: the newest at or below it, subjects without one left out', async () => {
      const st = make();
      fill(st, ['k.a', 'k.b', 'k.a', 'x.y', 'k.c', 'k.b', 'k.a']);
      assert.deepEqual([...st.lastPerSubject('k.*', 7)], [5, 6, 7]);
      assert.deepEqual([...st.lastPerSubject('k.*', 5)], [2, 3, 5]);
      assert.deepEqual([...st.lastPerSubject(null, 4)], [2, 3, 4]);
      assert.deepEqual([...st.lastPerSubject('k.c', 4)], []);
      st.remove(3);
      assert.deepEqual([...st.lastPerSubject('k.a', 6)], [1]);
      await st.close();
    });

    it('store - sequence from time: the first message at or after it, lastSeq + 1 past the end', async () => {
      const st = make();
      assert.equal(st.seqFromTime(Date.now()), 1);
      for (let i = 1; i <= 6; i++) st.append('t', null, Buffer.from(String(i)), 1000 * i);
      assert.equal(st.seqFromTime(0), 1);
      assert.equal(st.seqFromTime(3000), 3);
      assert.equal(st.seqFromTime(3500), 4);
      assert.equal(st.seqFromTime(6000), 6);
      assert.equal(st.seqFromTime(6001), 7);
      st.remove(4);
      st.remove(1);
      assert.equal(st.seqFromTime(3500), 5);
      assert.equal(st.seqFromTime(500), 2);
      await st.close();
    });

    it('store - remove leaves a gap, moves the first sequence and counts deletions', async () => {
      const st = make();
      fill(st, ['a', 'a', 'a', 'a']);
      assert.equal(st.remove(2), true);
      assert.equal(st.remove(2), false);
      assert.equal(st.remove(99), false);
      let s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq, s.numDeleted], [3, 1, 4, 1]);
      assert.deepEqual(st.deletedSeqs(), [2]);
      st.remove(1);
      s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.numDeleted], [2, 3, 0]);
      st.remove(3);
      st.remove(4);
      s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq, s.bytes, s.numSubjects], [0, 5, 4, 0, 0]);
      assert.equal(st.append('a', null, b('x')), 5);
      await st.close();
    });

    it('store - state of an empty store reports sequence 0 and keeps last time after purge', async () => {
      const st = make();
      let s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq, s.firstTime, s.lastTime], [0, 0, 0, 0, 0]);
      fill(st, ['a', 'b']);
      s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq, s.numSubjects], [2, 1, 2, 2]);
      assert.ok(s.bytes > 0 && s.firstTime > 0 && s.lastTime >= s.firstTime);
      assert.equal(st.purge(), 2);
      s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq, s.firstTime], [0, 3, 2, 0]);
      assert.ok(s.lastTime > 0);
      await st.close();
    });

    it('store - purge variants: all, filter, below a sequence, keep, filter with keep, past the end', async () => {
      const st = make();
      fill(st, ['q.a', 'q.b', 'q.a', 'q.b', 'q.a', 'q.b', 'q.c']);
      assert.equal(st.purge({ filter: 'q.a', keep: 1 }), 2);
      assert.deepEqual([...st.subjectCounts()].sort(), [['q.a', 1], ['q.b', 3], ['q.c', 1]]);
      assert.equal(st.purge({ seq: 4 }), 1);
      assert.equal(st.state().firstSeq, 4);
      assert.equal(st.purge({ filter: 'q.b', seq: 6 }), 1);
      assert.equal(st.purge({ keep: 2 }), 1);
      assert.deepEqual([st.state().msgs, st.state().firstSeq], [2, 6]);
      assert.equal(st.purge({ filter: 'nothing' }), 0);
      assert.equal(st.purge({ seq: 100 }), 2);
      const s = st.state();
      assert.deepEqual([s.msgs, s.firstSeq, s.lastSeq], [0, 100, 99]);
      assert.equal(st.append('q.a', null, b('x')), 100);
      await st.close();
    });

    it('store - first_seq starts a new store at that sequence', async () => {
      const st = make({}, { firstSeq: 10 });
      assert.deepEqual([st.state().firstSeq, st.state().lastSeq], [10, 9]);
      assert.equal(st.append('a', null, b('x')), 10);
      await st.close();
    });

    it('store - max_msgs and max_bytes discard the oldest', async () => {
      const st = make({ maxMsgs: 3 });
      fill(st, ['a', 'b', 'c', 'd', 'e']);
      assert.deepEqual([st.state().msgs, st.state().firstSeq], [3, 3]);
      const one = (() => {
        const probe = make();
        probe.append('a', null, b('0123456789'));
        const size = probe.state().bytes;
        void probe.close();
        return size;
      })();
      const byBytes = make({ maxBytes: one * 2 });
      for (let i = 0; i < 5; i++) byBytes.append('a', null, b('0123456789'));
      assert.deepEqual([byBytes.state().msgs, byBytes.state().firstSeq], [2, 4]);
      await st.close();
      await byBytes.close();
    });

    it('store - max_msgs_per_subject keeps the newest per subject', async () => {
      const st = make({ maxMsgsPerSubject: 2 });
      fill(st, ['k.1', 'k.1', 'k.2', 'k.1', 'k.1', 'k.2']);
      assert.deepEqual([...st.subjectCounts()].sort(), [['k.1', 2], ['k.2', 2]]);
      assert.equal(st.next(0, 'k.1')?.seq, 4);
      assert.equal(st.get(1), null);
      await st.close();
    });

    it('store - discard new refuses past max_msgs, max_bytes and per subject', async () => {
      const st = make({ maxMsgs: 2, discard: 'new' });
      fill(st, ['a', 'b']);
      assert.throws(() => st.append('c', null, b('x')), (e: unknown) => e instanceof StoreLimitError && e.kind === 'maximum messages exceeded');
      assert.equal(st.state().lastSeq, 2);
      const bytes = make({ maxBytes: 100, discard: 'new' });
      bytes.append('a', null, Buffer.alloc(40));
      assert.throws(() => bytes.append('a', null, Buffer.alloc(40)), (e: unknown) => e instanceof StoreLimitError && e.kind === 'maximum bytes exceeded');
      const per = make({ maxMsgsPerSubject: 1, discard: 'new', discardNewPerSubject: true });
      per.append('p.a', null, b('1'));
      assert.throws(() => per.append('p.a', null, b('2')), (e: unknown) => e instanceof StoreLimitError && e.kind === 'maximum messages per subject exceeded');
      assert.equal(per.append('p.b', null, b('3')), 2);
      for (const s of [st, bytes, per]) await s.close();
    });

    it('store - max_age expires old messages, explicitly and by timer', async () => {
      const st = make({ maxAgeMs: 50 });
      const t0 = Date.now();
      st.append('a', null, b('old'), t0 - 1000);
      st.append('a', null, b('new'), t0);
      assert.equal(st.expire(t0), 1);
      assert.equal(st.state().firstSeq, 2);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(st.state().msgs, 0);
      await st.close();
    });

    it('store - setLimits applies tighter limits to what is stored', async () => {
      const st = make();
      fill(st, ['a', 'a', 'b', 'b', 'b']);
      st.setLimits({ ...UNLIMITED, maxMsgsPerSubject: 1 });
      assert.deepEqual([...st.subjectCounts()].sort(), [['a', 1], ['b', 1]]);
      st.setLimits({ ...UNLIMITED, maxMsgs: 1 });
      assert.deepEqual([st.state().msgs, st.state().firstSeq], [1, 5]);
      await st.close();
    });

    it('store - numPending by filter and start sequence', async () => {
      const st = make();
      fill(st, ['o.1', 'o.2', 'o.1', 'x', 'o.1']);
      assert.equal(st.numPending(0), 5);
      assert.equal(st.numPending(3), 3);
      assert.equal(st.numPending(1, 'o.1'), 3);
      assert.equal(st.numPending(2, 'o.1'), 2);
      assert.equal(st.numPending(1, 'o.*'), 4);
      assert.equal(st.numPending(4, 'o.*'), 1);
      assert.equal(st.numPending(6, '>'), 0);
      st.remove(3);
      assert.equal(st.numPending(2, 'o.1'), 1);
      await st.close();
    });

    it('store - subject counts with a filter', async () => {
      const st = make();
      fill(st, ['s.a', 's.b', 's.a', 't.a']);
      assert.deepEqual([...st.subjectCounts('s.*')].sort(), [['s.a', 2], ['s.b', 1]]);
      assert.deepEqual([...st.subjectCounts('t.a')], [['t.a', 1]]);
      await st.close();
    });

    it('store - flush and close; a closed store refuses appends', async () => {
      const st = make();
      fill(st, ['a']);
      await st.flush();
      await st.close();
      assert.throws(() => st.append('a', null, b('x')));
    });

    it('store - random operations agree with a simple model', async () => {
      const st = make({ maxMsgsPerSubject: 5 });
      // Insertion order is sequence order here, so the model's iteration is too.
      const model = new Map<number, string>();
      let seed = 7;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 3000; i++) {
        const op = rnd(10);
        if (op < 7) {
          const subj = `r.${rnd(4)}.${rnd(3)}`;
          const seq = st.append(subj, null, b(String(i)));
          model.set(seq, subj);
          const same = [...model].filter(([, s]) => s === subj).map(([q]) => q);
          while (same.length > 5) model.delete(same.shift() as number);
        } else if (op < 9 && model.size > 0) {
          const keys = [...model.keys()];
          const k = keys[rnd(keys.length)];
          assert.equal(st.remove(k), true);
          model.delete(k);
        } else {
          const filters = [`r.${rnd(4)}.${rnd(3)}`, `r.${rnd(4)}.*`, `r.*.${rnd(3)}`, 'r.>', `*.${rnd(4)}.*`];
          const f = filters[rnd(filters.length)];
          const from = rnd(i + 2);
          const expected = [...model].filter(([q, s]) => q >= from && subjectMatches(f, s)).map(([q]) => q).sort((x, y) => x - y);
          assert.equal(st.nextSeq(from, f), expected[0] ?? 0);
          assert.equal(st.numPending(from, f), expected.length);
        }
      }
      assert.equal(st.state().msgs, model.size);
      for (const [seq, subj] of model) assert.equal(st.get(seq)?.subject, subj);
      await st.close();
    });
  });
}

describeStreamStore('memory', (limits = {}, options = {}) => new MemoryStreamStore('m', { ...UNLIMITED, ...limits }, options));
describeStreamStore('file', (limits = {}, options = {}) => new FileStreamStore('f', { ...UNLIMITED, ...limits }, { dir: tempDir(), ...options }));

describe('file stream store', () => {
  const open = (dir: string, extra: Partial<FileStoreOptions> = {}, limits: Partial<StoreLimits> = {}): FileStreamStore =>
    new FileStreamStore('f', { ...UNLIMITED, ...limits }, { dir, ...extra });
  const segmentFiles = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

  it('file store - CRC32 from node:zlib matches the table fallback', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    assert.equal(crc32(data), 0x414fa339);
    assert.equal(crc32Fallback(data), 0x414fa339);
  });

  it('file store - reopen restores messages, removals, purges and the last sequence', async () => {
    const dir = tempDir();
    let st = open(dir);
    fill(st, ['a.1', 'a.2', 'a.1', 'a.3']);
    st.append('a.4', hdr('Nats-Msg-Id', 'x'), b('with header'));
    st.remove(2);
    st.purge({ filter: 'a.3' });
    await st.close();
    st = open(dir);
    assert.deepEqual([st.state().msgs, st.state().firstSeq, st.state().lastSeq, st.state().numDeleted], [3, 1, 5, 2]);
    assert.equal(st.get(5)?.header?.toString(), 'NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n');
    assert.equal(st.get(5)?.data.toString(), 'with header');
    assert.equal(st.get(2), null);
    assert.equal(st.last('a.1')?.seq, 3);
    st.purge();
    await st.close();
    st = open(dir);
    assert.deepEqual([st.state().msgs, st.state().firstSeq, st.state().lastSeq], [0, 6, 5]);
    assert.equal(st.append('a', null, b('z')), 6);
    st.purge({ seq: 50 });
    await st.close();
    st = open(dir);
    assert.deepEqual([st.state().firstSeq, st.state().lastSeq], [50, 49]);
    await st.close();
  });

  it('file store - commit without close survives: what a kill -9 would leave', () => {
    const dir = tempDir();
    const st = open(dir);
    fill(st, ['a', 'b', 'c']);
    st.remove(2);
    st.commit();
    // No close: reopen the same files as a restarted process would.
    const again = open(dir);
    assert.deepEqual([again.state().msgs, again.state().lastSeq], [2, 3]);
    assert.equal(again.get(3)?.data.toString(), 'm3');
  });

  it('file store - a clean close indexes the active segment; appends or damage after it mean a scan again', async () => {
    const dir = tempDir();
    let st = open(dir);
    st.append('a', hdr('K', 'v'), b('one'));
    fill(st, ['b', 'c']);
    st.remove(2);
    await st.close();
    st = open(dir);
    assert.deepEqual([st.recovery.indexed, st.recovery.segments], [1, 1]);
    assert.deepEqual([st.state().msgs, st.get(2), st.get(1)?.header?.toString(), st.get(3)?.data.toString()], [2, null, 'NATS/1.0\r\nK: v\r\n\r\n', 'm2']);
    // Appended after the index was written, then a kill -9 (no close): the index no longer covers the file.
    st.append('d', null, b('four'));
    st.commit();
    st = open(dir);
    assert.equal(st.recovery.indexed, 0);
    assert.deepEqual([st.state().msgs, st.get(4)?.data.toString()], [3, 'four']);
    await st.close();
    // Same size, different bytes: the checksum over the segment catches it and the scan cuts the damage.
    const [seg] = segmentFiles(dir);
    const raw = fs.readFileSync(join(dir, seg));
    raw[raw.length - 1] ^= 0xff;
    fs.writeFileSync(join(dir, seg), raw);
    st = open(dir);
    assert.equal(st.recovery.indexed, 0);
    assert.ok(st.recovery.truncatedBytes > 0);
    assert.deepEqual([st.state().msgs, st.get(4)], [2, null]);
    await st.close();
  });

  it('file store - a torn tail is truncated on start and never served', async () => {
    const dir = tempDir();
    let st = open(dir);
    fill(st, ['a', 'b', 'c']);
    await st.close();
    const [seg] = segmentFiles(dir);
    const path = join(dir, seg);
    const whole = fs.readFileSync(path);
    // Cut the last record in half.
    const cut = whole.length - 5;
    fs.truncateSync(path, cut);
    st = open(dir);
    assert.deepEqual([st.state().msgs, st.state().lastSeq], [2, 2]);
    assert.ok(st.recovery.truncatedBytes > 0);
    assert.equal(st.get(3), null);
    assert.equal(st.append('c', null, b('again')), 3);
    await st.close();
    st = open(dir);
    assert.equal(st.get(3)?.data.toString(), 'again');
    assert.equal(st.recovery.truncatedBytes, 0);
    await st.close();
  });

  it('file store - a corrupt record (bad checksum) ends the segment there', async () => {
    const dir = tempDir();
    let st = open(dir);
    fill(st, ['a', 'b', 'c', 'd']);
    await st.close();
    const path = join(dir, segmentFiles(dir)[0]);
    const buf = fs.readFileSync(path);
    // Flip one payload byte of the 3rd record: records 1..4 have equal sizes here.
    const recLen = buf.readUInt32LE(0);
    buf[recLen * 2 + recLen - 1] ^= 0xff;
    fs.writeFileSync(path, buf);
    st = open(dir);
    assert.deepEqual([st.state().msgs, st.state().lastSeq], [2, 2]);
    assert.equal(fs.statSync(path).size, recLen * 2);
    await st.close();
  });

  it('file store - segments rotate, dead head segments are removed, reopen reads across them', async () => {
    const dir = tempDir();
    let st = open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 200; i++) st.append(`s.${i % 7}`, null, Buffer.alloc(40, i));
    st.commit();
    const before = segmentFiles(dir).length;
    assert.ok(before > 5, `segments: ${before}`);
    st.purge({ seq: 120 });
    st.commit();
    assert.ok(segmentFiles(dir).length < before);
    await st.close();
    st = open(dir, { segmentBytes: 1024 });
    assert.deepEqual([st.state().msgs, st.state().firstSeq, st.state().lastSeq], [81, 120, 200]);
    for (let seq = 120; seq <= 200; seq++) assert.equal(st.get(seq)?.data[0], seq & 0xff);
    assert.equal(st.numPending(0, 's.3'), [...Array(81)].filter((_, i) => (120 + i) % 7 === 3).length);
    await st.close();
  });

  it('file store - sealed segments reload from their index, with removals made before and after sealing', async () => {
    const dir = tempDir();
    let st = open(dir, { segmentBytes: 2048 });
    for (let i = 1; i <= 300; i++) {
      st.append(`i.${i % 5}`, i % 3 === 0 ? hdr('K', String(i)) : null, Buffer.from(`body-${i}`));
      if (i % 50 === 0) st.remove(i - 10);
    }
    st.remove(5);
    st.purge({ filter: 'i.4', seq: 120 });
    st.commit();
    const expected = st.state();
    const counts = [...st.subjectCounts()].sort();
    await st.close();
    assert.ok(fs.readdirSync(dir).some((n) => n.endsWith('.idx')));
    st = open(dir, { segmentBytes: 2048 });
    assert.ok(st.recovery.indexed > 3, `indexed: ${st.recovery.indexed}`);
    assert.deepEqual(st.state(), expected);
    assert.deepEqual([...st.subjectCounts()].sort(), counts);
    assert.equal(st.get(5), null);
    assert.equal(st.get(40), null);
    assert.equal(st.get(102)?.header?.toString(), 'NATS/1.0\r\nK: 102\r\n\r\n');
    assert.equal(st.get(299)?.data.toString(), 'body-299');
    await st.close();
    // A damaged index is ignored: the segment is scanned and the result is the same.
    const idx = fs.readdirSync(dir).filter((n) => n.endsWith('.idx')).sort()[1];
    const raw = fs.readFileSync(join(dir, idx));
    raw[raw.length - 9] ^= 0xff;
    fs.writeFileSync(join(dir, idx), raw);
    st = open(dir, { segmentBytes: 2048 });
    const indexedBefore = st.recovery.indexed;
    assert.deepEqual(st.state(), expected);
    assert.deepEqual([...st.subjectCounts()].sort(), counts);
    await st.close();
    // The scan rewrote that index: the next start uses it again.
    st = open(dir, { segmentBytes: 2048 });
    assert.equal(st.recovery.indexed, indexedBefore + 1);
    assert.deepEqual(st.state(), expected);
    await st.close();
  });

  it('file store - replay reports messages with headers from indexed segments too (dedupe rebuild)', async () => {
    const dir = tempDir();
    let st = open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 100; i++) st.append('d', i % 10 === 0 ? hdr('Nats-Msg-Id', `id-${i}`) : null, Buffer.alloc(30, i));
    await st.close();
    const seen: Array<[number, string]> = [];
    st = open(dir, { segmentBytes: 1024, recoverHeadersSince: 0, onRecover: (seq, _t, h) => {
      if (h !== null) seen.push([seq, h.toString()]);
    } });
    assert.ok(st.recovery.indexed > 3);
    assert.deepEqual(seen.map(([seq]) => seq), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(seen[4][1], 'NATS/1.0\r\nNats-Msg-Id: id-50\r\n\r\n');
    await st.close();
  });

  it('file store - a segment sealed after a restart keeps its header flags; one left last by a crash while rotating is scanned', async () => {
    const dir = tempDir();
    const withHeader = (i: number): boolean => i === 1 || i % 10 === 0;
    const append = (st: FileStreamStore, i: number): number => st.append('d', withHeader(i) ? hdr('Nats-Msg-Id', `id-${i}`) : null, Buffer.alloc(30, i));
    let st = open(dir, { segmentBytes: 1024 });
    append(st, 1);
    await st.close();
    // Reopened from its clean-close index, then sealed by the appends that follow.
    st = open(dir, { segmentBytes: 1024 });
    assert.equal(st.recovery.indexed, 1);
    for (let i = 2; i <= 60; i++) append(st, i);
    st.commit();
    // kill -9 after a rotation indexed the sealed segment but before the next one existed.
    const segs = segmentFiles(dir);
    assert.ok(segs.length > 3, `segments: ${segs.length}`);
    fs.rmSync(join(dir, segs[segs.length - 1]));
    st = open(dir, { segmentBytes: 1024 });
    // The sealed index records no checksum of its segment, so now that it is last it is scanned.
    assert.equal(st.recovery.indexed, segs.length - 2);
    const lastSeq = st.state().lastSeq;
    assert.equal(st.get(lastSeq)?.data[0], lastSeq);
    await st.close();
    const seen: number[] = [];
    st = open(dir, { segmentBytes: 1024, recoverHeadersSince: 0, onRecover: (seq, _t, h) => {
      if (h !== null) seen.push(seq);
    } });
    assert.deepEqual(seen, [...Array(lastSeq).keys()].map((i) => i + 1).filter(withHeader));
    await st.close();
  });

  it('file store - mostly dead segments are compacted, so a KV-style stream stays small on disk', async () => {
    const dir = tempDir();
    const diskBytes = (): number => fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).reduce((n, f) => n + fs.statSync(join(dir, f)).size, 0);
    let st = open(dir, { segmentBytes: 128 * 1024 }, { maxMsgsPerSubject: 1 });
    const latest = new Map<string, string>();
    for (let i = 0; i < 6000; i++) {
      const key = `kv.key${i % 20 === 0 ? 0 : (i * 7) % 19 + 1}`;
      const value = `v${i}-${'x'.repeat(200)}`;
      st.append(key, null, Buffer.from(value));
      latest.set(key, value);
      if (i % 100 === 99) st.commit();
    }
    st.commit();
    assert.ok(st.compactions > 0, 'no segment was compacted');
    assert.ok(diskBytes() < 400 * 1024, `segments use ${diskBytes()} bytes for ${latest.size} keys`);
    const check = (s: FileStreamStore): void => {
      assert.equal(s.state().msgs, latest.size);
      for (const [key, value] of latest) assert.equal(s.last(key)?.data.toString(), value);
    };
    check(st);
    await st.close();
    st = open(dir, { segmentBytes: 128 * 1024 }, { maxMsgsPerSubject: 1 });
    check(st);
    st.append('kv.key3', null, Buffer.from('after restart'));
    latest.set('kv.key3', 'after restart');
    await st.close();
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.idx'))) fs.rmSync(join(dir, f));
    st = open(dir, { segmentBytes: 128 * 1024 }, { maxMsgsPerSubject: 1 });
    check(st);
    await st.close();
  });

  it('file store - a failed write (disk full) leaves nothing half-written and nothing behind', async () => {
    const dir = tempDir();
    const st = open(dir);
    fill(st, ['a']);
    st.commit();
    fill(st, ['b', 'c']);
    const realWritev = nodeFs.writevSync;
    nodeFs.writevSync = ((fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number) => {
      // Write a few bytes, then fail the way a full disk does.
      realWritev(fd, [Buffer.from((buffers[0] as Buffer).subarray(0, 10))], position);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }) as unknown as typeof nodeFs.writevSync;
    syncBuiltinESMExports();
    try {
      assert.throws(() => st.commit(), (e: unknown) => e instanceof StoreIoError);
    } finally {
      nodeFs.writevSync = realWritev;
      syncBuiltinESMExports();
    }
    // The failed appends are gone and their sequences are given back (issue 29 item 7: they were never acknowledged).
    assert.deepEqual([st.state().msgs, st.state().lastSeq, st.get(2)], [1, 1, null]);
    // Until the turn's commit(done) reports it, the rest of that turn is refused too.
    assert.throws(() => fill(st, ['x']), StoreIoError);
    const turn = await new Promise<Error | null>((resolve) => st.commit(resolve));
    assert.ok(turn instanceof StoreIoError, 'the commit answering for b and c fails');
    const again = open(dir);
    assert.equal(again.recovery.truncatedBytes, 0);
    assert.deepEqual([again.state().msgs, again.state().lastSeq], [1, 1]);
    await again.close();
    fill(st, ['d']);
    st.commit();
    const after = open(dir);
    assert.deepEqual([after.state().msgs, after.get(2)?.subject], [2, 'd']);
    await after.close();
    await st.close();
  });

  it('file store - limits removed before a restart stay removed after it', async () => {
    const dir = tempDir();
    let st = open(dir, {}, { maxMsgs: 2 });
    fill(st, ['a', 'b', 'c', 'd']);
    st.setLimits({ ...UNLIMITED });
    await st.close();
    st = open(dir);
    assert.deepEqual([st.state().msgs, st.state().firstSeq], [2, 3]);
    await st.close();
  });

  it('file store - sync always still reads back and survives reopen', async () => {
    const dir = tempDir();
    let st = open(dir, { sync: 'always' });
    fill(st, ['a', 'b']);
    st.commit();
    st = open(dir, { sync: 'always' });
    assert.equal(st.get(2)?.data.toString(), 'm2');
    await st.close();
  });

  it('file store - reads beyond the recent-message cache come from disk', async () => {
    const dir = tempDir();
    const st = open(dir, { cacheBytes: 1024 });
    for (let i = 1; i <= 500; i++) st.append('c', null, Buffer.from(`payload-${i}`));
    st.commit();
    for (let i = 1; i <= 500; i++) assert.equal(st.get(i)?.data.toString(), `payload-${i}`);
    const big = Buffer.alloc(200_000, 7);
    const seq = st.append('big', null, big);
    st.commit();
    assert.deepEqual(st.get(seq)?.data, big);
    await st.close();
  });

  // 32-byte record header + 1-byte subject + 40 bytes of data: record n (from 1) starts at (n - 1) * REC.
  const REC = 32 + 1 + 40;
  const flipByte = (path: string, at: number): void => {
    const fd = fs.openSync(path, 'r+');
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, at);
    one[0] ^= 0xff;
    fs.writeSync(fd, one, 0, 1, at);
    fs.closeSync(fd);
  };

  it('file store - messages read from disk stay intact while later reads go on (views of blocks never rewritten)', async () => {
    const st = open(tempDir(), { cacheBytes: 1 });
    for (let i = 1; i <= 3000; i++) st.append('c', null, Buffer.alloc(40, i & 0xff));
    st.commit();
    // 3000 records span several read-ahead blocks: an earlier message must not change when a later block is read.
    const held = Array.from({ length: 3000 }, (_, i) => st.get(i + 1));
    held.forEach((m, i) => assert.deepEqual(m?.data, Buffer.alloc(40, (i + 1) & 0xff), `seq ${i + 1}`));
    await st.close();
  });

  it('file store - a record damaged on disk after an fsync is detected on read', async () => {
    const dir = tempDir();
    const st = open(dir, { cacheBytes: 1 });
    for (let i = 1; i <= 50; i++) st.append('c', null, Buffer.alloc(40, i));
    await st.flush();
    flipByte(join(dir, segmentFiles(dir)[0]), 9 * REC + REC - 1);
    assert.throws(() => st.get(10), StoreIoError);
    assert.deepEqual([st.get(9)?.data, st.get(11)?.data], [Buffer.alloc(40, 9), Buffer.alloc(40, 11)]);
    await st.close();
  });

  it('file store - after a restart, a damaged record of a segment loaded from its index is detected on read', async () => {
    const dir = tempDir();
    let st = open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 100; i++) st.append('c', null, Buffer.alloc(40, i));
    await st.close();
    // The first segment is sealed: a restart loads it from its index without reading its records.
    flipByte(join(dir, segmentFiles(dir)[0]), 4 * REC + REC - 1);
    st = open(dir, { segmentBytes: 1024 });
    assert.ok(st.recovery.indexed > 1, `indexed: ${st.recovery.indexed}`);
    assert.throws(() => st.get(5), StoreIoError);
    assert.deepEqual([st.get(4)?.data, st.get(6)?.data], [Buffer.alloc(40, 4), Buffer.alloc(40, 6)]);
    await st.close();
  });
});
