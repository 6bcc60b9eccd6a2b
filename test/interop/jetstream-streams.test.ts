// JetStream streams with the official @nats-io/jetstream client, run against
// Switchboard and, as the differential reference, Debian's `nats-server -js`.
// Every expectation below holds for both servers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { jetStreamTargets, rejectsWithCode, type JetStreamServer } from '../helpers/jetstream.ts';

const text = (d: Uint8Array): string => Buffer.from(d).toString();


for (const target of jetStreamTargets()) {
  describe(`jetstream streams (${target.name})`, { peers: target.peers }, () => {
    let server: JetStreamServer;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let js: JetStreamClient;
    before(async () => {
      server = await target.start();
      nc = await connect({ servers: server.url });
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
    });
    after(async () => {
      await nc?.close();
      await server?.stop();
    });
    async function rawApi(subject: string, body: unknown): Promise<Record<string, any>> {
      const m = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 2000 });
      return JSON.parse(m.string());
    }

    it('jetstream - account info answers through jetstreamManager()', async () => {
      const info = await jsm.getAccountInfo();
      assert.equal(typeof info.streams, 'number');
      assert.equal(info.limits.max_streams, -1);
      assert.ok(info.api.total >= 0);
    });

    it('jetstream - create a stream with defaults; the same config again is accepted', async () => {
      const si = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
      assert.equal(si.config.name, 'ORDERS');
      assert.deepEqual(si.config.subjects, ['orders.>']);
      assert.equal(si.config.retention, 'limits');
      assert.equal(si.config.storage, 'file');
      assert.equal(si.config.duplicate_window, 120_000_000_000);
      assert.equal(si.config.max_msgs, -1);
      assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [0, 0, 0]);
      const again = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
      assert.equal(again.config.name, 'ORDERS');
    });

    it('jetstream - create errors: name in use (10058), overlap (10065), name mismatch (10056), bad JSON (10025)', async () => {
      await jsm.streams.add({ name: 'ERRS', subjects: ['errs.a'] });
      await rejectsWithCode(jsm.streams.add({ name: 'ERRS', subjects: ['errs.b'] }), 10058, 'stream name already in use with a different configuration');
      await rejectsWithCode(jsm.streams.add({ name: 'ERRS2', subjects: ['errs.*'] }), 10065, 'subjects overlap with an existing stream');
      const mismatch = await rawApi('$JS.API.STREAM.CREATE.ONE', { name: 'TWO', subjects: ['one'] });
      assert.equal(mismatch.error.err_code, 10056);
      assert.equal(mismatch.type, 'io.nats.jetstream.api.v1.stream_create_response');
      const bad = await rawApi('$JS.API.STREAM.CREATE.BAD', 'not json');
      assert.equal(bad.error.err_code, 10025);
      const sealed = await rawApi('$JS.API.STREAM.CREATE.SEALED', { name: 'SEALED', subjects: ['sealed'], sealed: true });
      assert.equal(sealed.error.err_code, 10052);
    });

    it('jetstream - a stream without subjects captures its own name', async () => {
      const si = await jsm.streams.add({ name: 'SELFNAMED', storage: 'memory' as never });
      assert.deepEqual(si.config.subjects, ['SELFNAMED']);
      const ack = await js.publish('SELFNAMED', 'x');
      assert.equal(ack.stream, 'SELFNAMED');
    });

    it('jetstream - update changes limits and subjects; storage change and unknown stream fail', async () => {
      await jsm.streams.add({ name: 'UPD', subjects: ['upd.a'], storage: 'memory' as never });
      for (let i = 0; i < 5; i++) await js.publish('upd.a', String(i));
      const si = await jsm.streams.update('UPD', { subjects: ['upd.a', 'upd.b'], max_msgs: 2 });
      assert.deepEqual(si.config.subjects, ['upd.a', 'upd.b']);
      assert.deepEqual([si.state.messages, si.state.first_seq], [2, 4]);
      assert.equal((await js.publish('upd.b', 'new')).seq, 6);
      const storage = await rawApi('$JS.API.STREAM.UPDATE.UPD', { name: 'UPD', subjects: ['upd.a'], storage: 'file' });
      assert.equal(storage.error.err_code, 10052);
      assert.equal(storage.error.description, 'stream configuration update can not change storage type');
      const missing = await rawApi('$JS.API.STREAM.UPDATE.NOPE', { name: 'NOPE', subjects: ['nope'] });
      assert.equal(missing.error.err_code, 10059);
    });

    it('jetstream - publish returns a PubAck with stream and sequence; headers are stored', async () => {
      await jsm.streams.add({ name: 'PUB', subjects: ['pub.*'] });
      const a1 = await js.publish('pub.a', 'one');
      const h = headers();
      h.set('X-Trace', 'abc');
      const a2 = await js.publish('pub.b', 'two', { headers: h });
      assert.deepEqual([a1.stream, a1.seq, a1.duplicate], ['PUB', 1, false]);
      assert.equal(a2.seq, 2);
      const m = await jsm.streams.getMessage('PUB', { seq: 2 });
      assert.ok(m);
      assert.equal(m.subject, 'pub.b');
      assert.equal(m.header.get('X-Trace'), 'abc');
      assert.equal(text(m.data), 'two');
    });

    it('jetstream - Nats-Msg-Id deduplicates inside the window', async () => {
      await jsm.streams.add({ name: 'DEDUPE', subjects: ['dedupe'] });
      const first = await js.publish('dedupe', 'a', { msgID: 'id-1' });
      const dup = await js.publish('dedupe', 'a', { msgID: 'id-1' });
      const other = await js.publish('dedupe', 'b', { msgID: 'id-2' });
      assert.deepEqual([first.seq, first.duplicate], [1, false]);
      assert.deepEqual([dup.seq, dup.duplicate], [1, true]);
      assert.equal(other.seq, 2);
      assert.equal((await jsm.streams.info('DEDUPE')).state.messages, 2);
    });

    it('jetstream - expected stream, last sequence, last msg id and last subject sequence', async () => {
      await jsm.streams.add({ name: 'EXPECT', subjects: ['exp.*'] });
      await js.publish('exp.a', '1', { msgID: 'm1' });
      await js.publish('exp.b', '2', { expect: { lastSequence: 1, streamName: 'EXPECT', lastMsgID: 'm1' } });
      await rejectsWithCode(js.publish('exp.a', 'x', { expect: { lastSequence: 7 } }), 10071, 'wrong last sequence: 2');
      await rejectsWithCode(js.publish('exp.a', 'x', { expect: { streamName: 'OTHER' } }), 10060, 'expected stream does not match');
      await rejectsWithCode(js.publish('exp.a', 'x', { msgID: 'm3', expect: { lastMsgID: 'zz' } }), 10070);
      await js.publish('exp.a', '3', { expect: { lastSubjectSequence: 1 } });
      await rejectsWithCode(js.publish('exp.a', 'x', { expect: { lastSubjectSequence: 1 } }), 10071, 'wrong last sequence: 3');
      await js.publish('exp.new', 'first', { expect: { lastSubjectSequence: 0 } });
      assert.equal((await jsm.streams.info('EXPECT')).state.messages, 4);
    });

    it('jetstream - Nats-Rollup sub and all, and rollup refused without allow_rollup_hdrs', async () => {
      await jsm.streams.add({ name: 'ROLL', subjects: ['roll.*'], allow_rollup_hdrs: true, storage: 'memory' as never });
      for (const s of ['roll.a', 'roll.a', 'roll.b', 'roll.a']) await js.publish(s, 'v');
      const sub = headers();
      sub.set('Nats-Rollup', 'sub');
      await js.publish('roll.a', 'rolled', { headers: sub });
      let si = await jsm.streams.info('ROLL', { subjects_filter: '>' });
      assert.deepEqual(si.state.subjects, { 'roll.a': 1, 'roll.b': 1 });
      const all = headers();
      all.set('Nats-Rollup', 'all');
      const ack = await js.publish('roll.b', 'everything', { headers: all });
      si = await jsm.streams.info('ROLL');
      assert.deepEqual([si.state.messages, si.state.first_seq], [1, ack.seq]);
      await jsm.streams.add({ name: 'NOROLL', subjects: ['noroll'] });
      await rejectsWithCode(js.publish('noroll', 'x', { headers: sub }), 10111, 'rollup not permitted');
    });

    it('jetstream - limits: discard new, per subject, max message size, sealed', async () => {
      await jsm.streams.add({ name: 'LIM', subjects: ['lim'], max_msgs: 2, discard: 'new' as never, storage: 'memory' as never });
      await js.publish('lim', '1');
      await js.publish('lim', '2');
      await rejectsWithCode(js.publish('lim', '3'), 10077, 'maximum messages exceeded');
      await jsm.streams.add({
        name: 'PERSUBJ', subjects: ['ps.*'], max_msgs_per_subject: 1, discard: 'new' as never, discard_new_per_subject: true, storage: 'memory' as never,
      });
      await js.publish('ps.a', '1');
      await rejectsWithCode(js.publish('ps.a', '2'), 10077, 'maximum messages per subject exceeded');
      await jsm.streams.add({ name: 'KEEP', subjects: ['keep.*'], max_msgs_per_subject: 2 });
      for (let i = 0; i < 5; i++) await js.publish('keep.k', String(i));
      assert.equal((await jsm.streams.info('KEEP')).state.messages, 2);
      await jsm.streams.add({ name: 'SIZE', subjects: ['size'], max_msg_size: 3 });
      await rejectsWithCode(js.publish('size', '12345'), 10054, 'message size exceeds maximum allowed');
      const sealed = await jsm.streams.update('SIZE', { sealed: true } as never);
      assert.deepEqual([sealed.config.sealed, sealed.config.deny_delete, sealed.config.deny_purge], [true, true, true]);
      await rejectsWithCode(js.publish('size', '1'), 10109, 'invalid operation on sealed stream');
    });

    it('jetstream - stream info with subjects filter and deleted details; unknown stream is 10059', async () => {
      await jsm.streams.add({ name: 'INFO', subjects: ['info.*'] });
      for (const s of ['info.a', 'info.b', 'info.a']) await js.publish(s, 'v');
      await jsm.streams.deleteMessage('INFO', 2);
      const si = await jsm.streams.info('INFO', { subjects_filter: 'info.a', deleted_details: true });
      assert.deepEqual(si.state.subjects, { 'info.a': 2 });
      assert.equal(si.state.num_subjects, 1);
      assert.equal(si.state.num_deleted, 1);
      assert.deepEqual([si.state.first_seq, si.state.last_seq], [1, 3]);
      assert.ok(Date.parse(si.state.first_ts) > Date.now() - 60_000);
      await rejectsWithCode(jsm.streams.info('NOSUCH'), 10059, 'stream not found');
    });

    it('jetstream - names and list, with a subject filter', async () => {
      await jsm.streams.add({ name: 'LISTA', subjects: ['lista.>'] });
      await jsm.streams.add({ name: 'LISTB', subjects: ['listb.x'] });
      const names: string[] = [];
      for await (const n of jsm.streams.names()) names.push(n);
      assert.ok(names.includes('LISTA') && names.includes('LISTB'));
      assert.deepEqual([...names], [...names].sort());
      const filtered: string[] = [];
      for await (const n of jsm.streams.names('listb.*')) filtered.push(n);
      assert.deepEqual(filtered, ['LISTB']);
      const infos: string[] = [];
      for await (const si of jsm.streams.list('lista.q')) infos.push(si.config.name);
      assert.deepEqual(infos, ['LISTA']);
      const raw = await rawApi('$JS.API.STREAM.NAMES', { offset: 1 });
      assert.equal(raw.offset, 1);
      assert.equal(raw.total, names.length);
    });

    it('jetstream - message get by sequence, last and next by subject; delete message', async () => {
      await jsm.streams.add({ name: 'GET', subjects: ['get.*'] });
      for (const s of ['get.a', 'get.b', 'get.a', 'get.b']) await js.publish(s, s);
      assert.equal((await jsm.streams.getMessage('GET', { seq: 3 }))?.subject, 'get.a');
      assert.equal((await jsm.streams.getMessage('GET', { last_by_subj: 'get.b' }))?.seq, 4);
      assert.equal((await jsm.streams.getMessage('GET', { next_by_subj: 'get.b', seq: 3 } as never))?.seq, 4);
      assert.equal(await jsm.streams.getMessage('GET', { seq: 99 }), null);
      assert.equal(await jsm.streams.deleteMessage('GET', 4), true);
      assert.equal(await jsm.streams.getMessage('GET', { seq: 4 }), null);
      const again = await rawApi('$JS.API.STREAM.MSG.DELETE.GET', { seq: 4 });
      assert.deepEqual([again.error.err_code, again.error.description], [10043, 'sequence 4 not found']);
      const beyond = await rawApi('$JS.API.STREAM.MSG.DELETE.GET', { seq: 99 });
      assert.equal(beyond.error.err_code, 10057);
      const empty = await rawApi('$JS.API.STREAM.MSG.GET.GET', {});
      assert.equal(empty.error.err_code, 10003);
      await jsm.streams.add({ name: 'NODEL', subjects: ['nodel'], deny_delete: true });
      await js.publish('nodel', 'x');
      const denied = await rawApi('$JS.API.STREAM.MSG.DELETE.NODEL', { seq: 1 });
      assert.deepEqual([denied.error.err_code, denied.error.description], [10057, 'message delete not permitted']);
    });

    it('jetstream - direct get by sequence and by subject, with Nats-* headers; 404 when missing', async () => {
      await jsm.streams.add({ name: 'DIRECT', subjects: ['direct.*'], allow_direct: true });
      const h = headers();
      h.set('Orig', 'yes');
      await js.publish('direct.a', 'first', { headers: h });
      await js.publish('direct.b', 'second');
      await js.publish('direct.a', 'third');
      const bySeq = await jsm.direct.getMessage('DIRECT', { seq: 1 });
      assert.ok(bySeq);
      assert.equal(text(bySeq.data), 'first');
      assert.equal(bySeq.header.get('Orig'), 'yes');
      assert.equal(bySeq.header.get('Nats-Stream'), 'DIRECT');
      assert.equal(bySeq.header.get('Nats-Subject'), 'direct.a');
      assert.equal(bySeq.header.get('Nats-Sequence'), '1');
      assert.ok(Date.parse(bySeq.header.get('Nats-Time-Stamp')) > 0);
      const last = await jsm.direct.getMessage('DIRECT', { last_by_subj: 'direct.a' });
      assert.deepEqual([last?.seq, last ? text(last.data) : ''], [3, 'third']);
      const next = await jsm.direct.getMessage('DIRECT', { next_by_subj: 'direct.b', seq: 1 });
      assert.equal(next?.seq, 2);
      assert.equal(await jsm.direct.getMessage('DIRECT', { seq: 42 }), null);
      const raw = await nc.request('$JS.API.DIRECT.GET.DIRECT.direct.b', '', { timeout: 2000 });
      assert.equal(raw.headers?.get('Nats-Sequence'), '2');
      const empty = await nc.request('$JS.API.DIRECT.GET.DIRECT', '', { timeout: 2000 });
      assert.equal(empty.headers?.code, 408);
    });

    it('jetstream - purge all, by filter, below a sequence and keeping the newest', async () => {
      await jsm.streams.add({ name: 'PURGE', subjects: ['purge.*'], storage: 'memory' as never });
      for (const s of ['purge.a', 'purge.b', 'purge.a', 'purge.b', 'purge.a', 'purge.b', 'purge.c']) await js.publish(s, 'v');
      assert.equal((await jsm.streams.purge('PURGE', { filter: 'purge.a', keep: 1 })).purged, 2);
      assert.equal((await jsm.streams.purge('PURGE', { seq: 4 })).purged, 1);
      assert.equal((await jsm.streams.purge('PURGE', { keep: 1 })).purged, 3);
      let si = await jsm.streams.info('PURGE');
      assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [1, 7, 7]);
      assert.equal((await jsm.streams.purge('PURGE')).purged, 1);
      si = await jsm.streams.info('PURGE');
      assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [0, 8, 7]);
      assert.equal((await js.publish('purge.a', 'after')).seq, 8);
      const both = await rawApi('$JS.API.STREAM.PURGE.PURGE', { seq: 2, keep: 1 });
      assert.equal(both.error.err_code, 10003);
      await jsm.streams.add({ name: 'NOPURGE', subjects: ['nopurge'], deny_purge: true, storage: 'memory' as never });
      await js.publish('nopurge', 'x');
      const denied = await rawApi('$JS.API.STREAM.PURGE.NOPURGE', {});
      assert.equal(denied.error.err_code, 10110);
      assert.equal(denied.error.description, 'stream purge not permitted');
      assert.equal((await jsm.streams.info('NOPURGE')).state.messages, 1);
    });

    it('jetstream - first_seq and metadata (server 2.10 features)', { skip: target.name === 'nats-server' ? 'nats-server 2.9 predates first_seq and metadata' : false }, async () => {
      const si = await jsm.streams.add({ name: 'FIRST', subjects: ['first'], first_seq: 100, metadata: { owner: 'team-a' } });
      assert.deepEqual([si.state.first_seq, si.state.last_seq], [100, 99]);
      assert.deepEqual(si.config.metadata, { owner: 'team-a' });
      assert.equal((await js.publish('first', 'x')).seq, 100);
    });

    it('jetstream - interest and workqueue retention are accepted and reported', async () => {
      const wq = await jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' as never, storage: 'memory' as never });
      assert.equal(wq.config.retention, 'workqueue');
      const interest = await jsm.streams.add({ name: 'INTEREST', subjects: ['interest.>'], retention: 'interest' as never, storage: 'memory' as never });
      assert.equal(interest.config.retention, 'interest');
      const change = await rawApi('$JS.API.STREAM.UPDATE.WQ', { name: 'WQ', subjects: ['wq.>'], retention: 'limits', storage: 'memory' });
      assert.equal(change.error.err_code, 10052);
    });

    it('jetstream - stream advisories for create, update and delete', async () => {
      const events: Array<[string, Record<string, unknown>]> = [];
      const sub = nc.subscribe('$JS.EVENT.ADVISORY.STREAM.*.ADVISED', { callback: (_e, m) => {
        events.push([m.subject, m.json()]);
      } });
      await nc.flush();
      await jsm.streams.add({ name: 'ADVISED', subjects: ['advised'], storage: 'memory' as never });
      await jsm.streams.update('ADVISED', { subjects: ['advised', 'advised2'] });
      await jsm.streams.delete('ADVISED');
      await nc.flush();
      for (let i = 0; i < 50 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      sub.unsubscribe();
      assert.deepEqual(events.map(([s, b]) => [s, b.action, b.stream, b.type]), [
        ['$JS.EVENT.ADVISORY.STREAM.CREATED.ADVISED', 'create', 'ADVISED', 'io.nats.jetstream.advisory.v1.stream_action'],
        ['$JS.EVENT.ADVISORY.STREAM.UPDATED.ADVISED', 'modify', 'ADVISED', 'io.nats.jetstream.advisory.v1.stream_action'],
        ['$JS.EVENT.ADVISORY.STREAM.DELETED.ADVISED', 'delete', 'ADVISED', 'io.nats.jetstream.advisory.v1.stream_action'],
      ]);
    });

    it('jetstream - delete a stream; its subjects stop capturing and info is 10059', async () => {
      await jsm.streams.add({ name: 'GONE', subjects: ['gone'] });
      await js.publish('gone', 'x');
      assert.equal(await jsm.streams.delete('GONE'), true);
      await rejectsWithCode(jsm.streams.info('GONE'), 10059);
      await assert.rejects(js.publish('gone', 'y', { timeout: 500, retries: 0 }));
      await rejectsWithCode(jsm.streams.delete('GONE'), 10059);
      const nonEmpty = await rawApi('$JS.API.STREAM.DELETE.ORDERS', 'x');
      assert.equal(nonEmpty.error.err_code, 10038);
    });
  });
}
