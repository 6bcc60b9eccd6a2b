// Key-value buckets with the official @nats-io/kv client (Kvm), unchanged, run
// against Switchboard and, as the differential reference, Debian's
// `nats-server -js` (a fresh store directory per server). Every expectation
// below holds for both: the bucket layout is ADR-8 as the client builds it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection, type QueuedIterator } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { jetStreamTargets, rejectsWithCode, type JetStreamServer } from '../helpers/jetstream.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';

const WRONG_LAST_SEQUENCE = 10071;

/** Everything an iterator yields until it ends by itself (keys, history) or `timeoutMs` passes. */
async function drain<T>(iter: QueuedIterator<T>, timeoutMs = 5000): Promise<T[]> {
  const out: T[] = [];
  const timer = setTimeout(() => iter.stop(), timeoutMs);
  for await (const item of iter) out.push(item);
  clearTimeout(timer);
  return out;
}

/**
 * The first `count` entries of a watch, then stop it (a missing entry fails after
 * `timeoutMs`). With count 0 the watch is given `timeoutMs` to deliver something it should not.
 * `seen` fills as entries arrive, for a test that acts in between.
 */
function taking(iter: QueuedIterator<KvWatchEntry>, count: number, timeoutMs = 5000): { seen: KvWatchEntry[]; done: Promise<KvWatchEntry[]> } {
  const seen: KvWatchEntry[] = [];
  const done = (async () => {
    const timer = setTimeout(() => iter.stop(), timeoutMs);
    try {
      for await (const entry of iter) {
        seen.push(entry);
        if (seen.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      iter.stop();
    }
    assert.equal(seen.length, count, `watch delivered ${seen.length} of ${count} entries: ${seen.map(describeEntry).join(', ')}`);
    return seen;
  })();
  return { seen, done };
}

function take(iter: QueuedIterator<KvWatchEntry>, count: number, timeoutMs = 5000): Promise<KvWatchEntry[]> {
  return taking(iter, count, timeoutMs).done;
}

const describeEntry = (e: KvWatchEntry): string => `${e.operation} ${e.key}@${e.revision}=${e.string()}${e.isUpdate ? ' (update)' : ''}`;


for (const target of jetStreamTargets()) {
  describe(`kv clients (${target.name})`, { peers: target.peers }, () => {
    let server: JetStreamServer;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let kvm: Kvm;
    before(async () => {
      server = await target.start();
      nc = await connect({ servers: server.url });
      jsm = await jetstreamManager(nc);
      kvm = new Kvm(jetstream(nc));
    });
    after(async () => {
      await nc?.close();
      await server?.stop();
    });

    it('kv - create a bucket with history, TTL and max_bytes: the stream is laid out as ADR-8 says', async () => {
      const kv = await kvm.create('limits', { history: 5, ttl: 60_000, max_bytes: 1 << 20 });
      const status = await kv.status();
      assert.equal(status.bucket, 'limits');
      assert.equal(status.history, 5);
      assert.equal(status.ttl, 60_000);
      assert.equal(status.max_bytes, 1 << 20);
      assert.equal(status.values, 0);
      const si = await jsm.streams.info('KV_limits');
      assert.deepEqual(si.config.subjects, ['$KV.limits.>']);
      assert.equal(si.config.max_msgs_per_subject, 5);
      assert.equal(si.config.max_age, 60_000 * 1_000_000);
      assert.equal(si.config.allow_rollup_hdrs, true);
      assert.equal(si.config.allow_direct, true);
      assert.equal(si.config.discard, 'new');
      assert.equal(si.config.duplicate_window, 60_000 * 1_000_000);
      // opening it again binds to the same stream
      const again = await kvm.open('limits');
      assert.equal((await again.status()).history, 5);
    });

    it('kv - max_bytes is enforced: a put that would exceed it is refused', async () => {
      const kv = await kvm.create('small', { max_bytes: 1024 });
      await kv.put('a', new Uint8Array(600));
      await assert.rejects(kv.put('b', new Uint8Array(600)), /maximum bytes exceeded/);
      assert.equal((await kv.get('a'))?.length, 600);
      assert.equal(await kv.get('b'), null);
    });

    it('kv - TTL: a value older than the bucket TTL is gone', async () => {
      const kv = await kvm.create('ephemeral', { ttl: 1000 });
      await kv.put('k', 'short-lived');
      assert.equal((await kv.get('k'))?.string(), 'short-lived');
      const deadline = Date.now() + 10_000;
      while ((await kv.get('k')) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.equal(await kv.get('k'), null);
    });

    describe('kv - entries', () => {
      let kv: KV;
      before(async () => {
        kv = await kvm.create('entries', { history: 10 });
      });

      it('kv - put and get: revision, operation, key, value; a missing key is null; get by revision', async () => {
        const r1 = await kv.put('color', 'blue');
        const r2 = await kv.put('color', 'green');
        assert.ok(r2 > r1);
        const e = await kv.get('color');
        assert.ok(e);
        assert.equal(e.string(), 'green');
        assert.equal(e.revision, r2);
        assert.equal(e.operation, 'PUT');
        assert.equal(e.key, 'color');
        assert.equal(e.bucket, 'entries');
        assert.ok(Math.abs(e.created.getTime() - Date.now()) < 60_000);
        assert.equal((await kv.get('color', { revision: r1 }))?.string(), 'blue');
        assert.equal(await kv.get('nothing'), null);
        await kv.put('other', 'x');
        // a revision that belongs to another key is not this key's
        assert.equal(await kv.get('other', { revision: r1 }), null);
        const binary = new Uint8Array([0, 255, 13, 10, 0]);
        await kv.put('bin.ary', binary);
        assert.deepEqual(Buffer.from((await kv.get('bin.ary'))?.value ?? []), Buffer.from(binary));
      });

      it('kv - create only if absent; present: wrong last sequence (10071); after delete it works again', async () => {
        const r = await kv.create('once', 'first');
        assert.ok(r > 0);
        await rejectsWithCode(kv.create('once', 'second'), WRONG_LAST_SEQUENCE);
        assert.equal((await kv.get('once'))?.string(), 'first');
        await kv.delete('once');
        const again = await kv.create('once', 'third');
        assert.ok(again > r);
        assert.equal((await kv.get('once'))?.string(), 'third');
        await kv.purge('once');
        assert.ok((await kv.create('once', 'fourth')) > again);
      });

      it('kv - update is compare-and-set by revision; a wrong revision is refused (10071)', async () => {
        const r1 = await kv.put('cas', 'v1');
        const r2 = await kv.update('cas', 'v2', r1);
        assert.ok(r2 > r1);
        await rejectsWithCode(kv.update('cas', 'v3', r1), WRONG_LAST_SEQUENCE);
        assert.equal((await kv.get('cas'))?.string(), 'v2');
        // delete and put with previousSeq are conditional too
        await rejectsWithCode(kv.delete('cas', { previousSeq: r1 }), WRONG_LAST_SEQUENCE);
        await rejectsWithCode(kv.put('cas', 'v4', { previousSeq: r1 }), WRONG_LAST_SEQUENCE);
        await kv.delete('cas', { previousSeq: r2 });
        assert.equal((await kv.get('cas'))?.operation, 'DEL');
      });

      it('kv - delete leaves a DEL marker and the history; purge leaves one PURGE marker', async () => {
        await kv.put('gone', 'a');
        await kv.put('gone', 'b');
        await kv.delete('gone');
        const deleted = await kv.get('gone');
        assert.equal(deleted?.operation, 'DEL');
        assert.equal(deleted?.length, 0);
        assert.deepEqual((await drain(await kv.history({ key: 'gone' }))).map((e) => e.operation), ['PUT', 'PUT', 'DEL']);
        await kv.purge('gone');
        const history = await drain(await kv.history({ key: 'gone' }));
        assert.deepEqual(history.map((e) => e.operation), ['PURGE']);
        assert.equal((await kv.get('gone'))?.operation, 'PURGE');
      });

      it('kv - history: every revision of a key in order, bounded by the bucket history', async () => {
        for (let i = 0; i < 12; i++) await kv.put('hist', `v${i}`);
        const entries = await drain(await kv.history({ key: 'hist' }));
        assert.deepEqual(entries.map((e) => e.string()), ['v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11']);
        for (let i = 1; i < entries.length; i++) assert.ok(entries[i].revision > entries[i - 1].revision);
        assert.deepEqual(await drain(await kv.history({ key: 'never' })), []);
      });
    });

    it('kv - keys: live keys only, with subject filters', async () => {
      const kv = await kvm.create('listing');
      assert.deepEqual(await drain(await kv.keys()), []);
      for (const k of ['a.1', 'a.2', 'a.b.3', 'b.1', 'c']) await kv.put(k, k);
      await kv.put('a.1', 'again');
      await kv.delete('b.1');
      await kv.purge('c');
      assert.deepEqual((await drain(await kv.keys())).sort(), ['a.1', 'a.2', 'a.b.3']);
      assert.deepEqual((await drain(await kv.keys('a.*'))).sort(), ['a.1', 'a.2']);
      assert.deepEqual((await drain(await kv.keys('a.>'))).sort(), ['a.1', 'a.2', 'a.b.3']);
      assert.deepEqual((await drain(await kv.keys('*.b.*'))).sort(), ['a.b.3']);
      assert.deepEqual(await drain(await kv.keys('b.*')), []);
    });

    describe('kv - watch', () => {
      let kv: KV;
      before(async () => {
        kv = await kvm.create('watched', { history: 5 });
        await kv.put('x.one', '1');
        await kv.put('x.one', '1b');
        await kv.put('x.two', '2');
        await kv.put('y.one', 'y');
      });

      it('kv - watch all keys: the last value of each, then live updates', async () => {
        const iter = await kv.watch();
        const pending = take(iter, 4);
        await kv.put('y.one', 'y2');
        const got = await pending;
        assert.deepEqual(got.map((e) => `${e.key}=${e.string()}`), ['x.one=1b', 'x.two=2', 'y.one=y', 'y.one=y2']);
        // the client marks the last initial value as an update too (pending reached 0)
        assert.deepEqual(got.map((e) => e.isUpdate), [false, false, true, true]);
      });

      it('kv - watch a filter: only matching keys', async () => {
        const iter = await kv.watch({ key: 'x.*' });
        const pending = take(iter, 3);
        await kv.put('y.one', 'not seen');
        await kv.put('x.three', '3');
        assert.deepEqual((await pending).map((e) => `${e.key}=${e.string()}`), ['x.one=1b', 'x.two=2', 'x.three=3']);
      });

      it('kv - watch with history: every stored revision first', async () => {
        const iter = await kv.watch({ key: 'x.one', include: 'history' });
        const pending = take(iter, 3);
        await kv.put('x.one', '1c');
        assert.deepEqual((await pending).map((e) => e.string()), ['1', '1b', '1c']);
      });

      it('kv - watch updates only: nothing stored, only what comes after', async () => {
        const iter = await kv.watch({ include: 'updates' });
        const pending = take(iter, 1);
        await kv.put('x.two', 'after');
        const [e] = await pending;
        assert.equal(`${e.key}=${e.string()}`, 'x.two=after');
        assert.equal(e.isUpdate, true);
      });

      it('kv - a watcher sees delete and purge markers', async () => {
        const watch = taking(await kv.watch({ key: 'z.*', include: 'updates' }), 3);
        await kv.put('z.k', 'v');
        await kv.delete('z.k');
        // A purge is a rollup that removes the delete marker from the stream: a watcher
        // not yet sent the marker never sees it, on nats-server too. Purge once it was seen.
        await eventually(() => watch.seen.length >= 2);
        await kv.purge('z.k');
        assert.deepEqual((await watch.done).map((e) => `${e.operation} ${e.key}`), ['PUT z.k', 'DEL z.k', 'PURGE z.k']);
      });

      it('kv - a watch started after a delete shows the marker as the last value', async () => {
        await kv.put('w.k', 'v');
        await kv.delete('w.k');
        const got = await take(await kv.watch({ key: 'w.*' }), 1);
        assert.equal(got[0].operation, 'DEL');
        const quiet = await take(await kv.watch({ key: 'w.*', ignoreDeletes: true }), 0, 500);
        assert.deepEqual(quiet, []);
      });
    });

    it('kv - history of every key, headers-only watch, resume from a revision, status counts', async () => {
      const kv = await kvm.create('misc', { history: 3 });
      const r1 = await kv.put('a', 'a1');
      await kv.put('b', 'b1');
      const r3 = await kv.put('a', 'a2');
      await kv.delete('b');
      const all = await drain(await kv.history());
      assert.deepEqual(all.map((e) => `${e.operation} ${e.key}`), ['PUT a', 'PUT b', 'PUT a', 'DEL b']);
      const heads = await take(await kv.watch({ headers_only: true }), 2);
      assert.deepEqual(heads.map((e) => [e.key, e.length, e.value.length]), [['a', 2, 0], ['b', 0, 0]]);
      const resumed = await take(await kv.watch({ resumeFromRevision: r3 }), 2);
      assert.deepEqual(resumed.map((e) => `${e.operation} ${e.key}@${e.revision}`), [`PUT a@${r3}`, `DEL b@${r3 + 1}`]);
      assert.ok(r1 < r3);
      assert.equal((await kv.status()).values, 4);
      assert.deepEqual(await drain(await kv.keys()), ['a']);
    });

    it('kv - destroy removes the bucket', async () => {
      const kv = await kvm.create('doomed');
      await kv.put('k', 'v');
      assert.equal(await kv.destroy(), true);
      await assert.rejects(jsm.streams.info('KV_doomed'), /stream not found/);
    });
  });
}
