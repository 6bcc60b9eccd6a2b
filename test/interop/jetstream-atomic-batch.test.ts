// ADR-50 atomic batch publish (`allow_atomic`, Nats-Batch-Id/-Sequence/-Commit),
// through the official @nats-io/jetstream client (startBatch/add/commit) and raw
// publishes for what the client never sends. The same cases run against a
// current nats-server (NATS_SERVER_NEW, 2.12+): err_codes and texts are
// nats-server's (server/errors.json, stream.go processJetStreamAtomicBatchMsg,
// jetstream_batching_test.go).

import assert from 'node:assert/strict';
import { connect, headers, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { BatchAck } from '@nats-io/jetstream';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, rejectsWithCode, startSwitchboardJetStream, useJetStream } from '../helpers/jetstream.ts';

const Code = {
  WrongLastSequence: 10071,
  StoreFailed: 10077,
  WrongLastSequenceConstant: 10164,
  Disabled: 10174,
  MissingSeq: 10175,
  Incomplete: 10176,
  UnsupportedHeader: 10177,
  InvalidId: 10179,
  MirrorWithAtomic: 10198,
  TooLarge: 10199,
  InvalidCommit: 10200,
  Duplicate: 10201,
} as const;

interface Ack {
  stream?: string;
  seq?: number;
  batch?: string;
  count?: number;
  error?: { code: number; err_code: number; description: string };
}

function batchHeaders(id: string, seq: number | null, extra: Record<string, string> = {}): MsgHdrs {
  const h = headers();
  h.set('Nats-Batch-Id', id);
  if (seq !== null) h.set('Nats-Batch-Sequence', String(seq));
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
}

let counter = 0;
const newId = (): string => `b${Date.now().toString(36)}${(counter++).toString(36)}`;

for (const target of currentJetStreamTargets()) {
  describe(`jetstream atomic batch (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);

    /** A raw batch message as a request; the answer's body as JSON, or null for the empty "staged" ack. */
    const send = async (subject: string, id: string, seq: number | null, extra: Record<string, string> = {}, body = ''): Promise<Ack | null> => {
      const m: Msg = await ctx.nc.request(subject, body, { headers: batchHeaders(id, seq, extra), timeout: 5000 });
      return m.data.length === 0 ? null : (JSON.parse(m.string()) as Ack);
    };
    const state = async (stream: string) => (await ctx.jsm.streams.info(stream)).state;
    const addStream = async (name: string, extra: Record<string, unknown> = {}): Promise<void> => {
      await ctx.jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], allow_atomic: true, ...extra });
    };

    it('atomic batch - the client commits a batch: one PubAck with batch and count, every message stored in order', async () => {
      await addStream('ORDERS');
      await ctx.js.publish('orders.before', 'x');
      const b = await ctx.js.startBatch('orders.a', '1');
      b.add('orders.b', '2');
      await b.add('orders.c', '3', { ack: true });
      const ack: BatchAck = await b.commit('orders.d', '4');
      assert.equal(ack.stream, 'ORDERS');
      assert.equal(ack.seq, 5);
      assert.equal(ack.count, 4);
      assert.equal(ack.batch, b.id);
      const s = await state('ORDERS');
      assert.equal(s.messages, 5);
      for (let seq = 2; seq <= 5; seq++) {
        const m = await ctx.jsm.streams.getMessage('ORDERS', { seq });
        assert.ok(m);
        assert.equal(m.string(), String(seq - 1));
        assert.equal(m.header.get('Nats-Batch-Id'), b.id);
        assert.equal(m.header.get('Nats-Batch-Sequence'), String(seq - 1));
        assert.equal(m.header.get('Nats-Batch-Commit'), seq === 5 ? '1' : '');
      }
    });

    it('atomic batch - staged messages with a reply get an empty ack; nothing is stored before the commit', async () => {
      await addStream('STAGE');
      const id = newId();
      assert.equal(await send('stage.a', id, 1), null);
      assert.equal(await send('stage.b', id, 2), null);
      assert.equal((await state('STAGE')).messages, 0);
      const ack = await send('stage.c', id, 3, { 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack, { stream: 'STAGE', seq: 3, batch: id, count: 3 });
    });

    it('atomic batch - an "eob" commit ends the batch without being stored; the last message gets Nats-Batch-Commit: 1', async () => {
      await addStream('EOB');
      const id = newId();
      await send('eob.a', id, 1);
      await send('eob.b', id, 2);
      const ack = await send('eob.end', id, 3, { 'Nats-Batch-Commit': 'eob' });
      assert.deepEqual(ack, { stream: 'EOB', seq: 2, batch: id, count: 2 });
      const last = await ctx.jsm.streams.getMessage('EOB', { seq: 2 });
      assert.equal(last?.subject, 'eob.b');
      assert.equal(last?.header.get('Nats-Batch-Commit'), '1');
      assert.equal((await state('EOB')).messages, 2);
      // An "eob" as the first message is an incomplete batch.
      const lone = await send('eob.x', newId(), 1, { 'Nats-Batch-Commit': 'eob' });
      assert.equal(lone?.error?.err_code, Code.Incomplete);
    });

    it('atomic batch - refused on a stream without allow_atomic (the client sees it at startBatch)', async () => {
      await ctx.jsm.streams.add({ name: 'PLAINB', subjects: ['plainb.>'] });
      await rejectsWithCode(ctx.js.startBatch('plainb.a', 'x'), Code.Disabled, 'atomic publish is disabled');
      assert.equal((await state('PLAINB')).messages, 0);
    });

    it('atomic batch - header errors: id over 64 characters, missing sequence, unknown commit value', async () => {
      await addStream('HDRS');
      assert.deepEqual((await send('hdrs.a', 'x'.repeat(65), 1))?.error, { code: 400, err_code: Code.InvalidId, description: 'atomic publish batch ID is invalid' });
      assert.equal((await send('hdrs.a', 'x'.repeat(64), 1)), null);
      assert.deepEqual((await send('hdrs.a', newId(), null))?.error, { code: 400, err_code: Code.MissingSeq, description: 'atomic publish sequence is missing' });
      assert.equal((await send('hdrs.a', newId(), null, { 'Nats-Batch-Sequence': 'one' }))?.error?.err_code, Code.MissingSeq);
      const id = newId();
      await send('hdrs.a', id, 1);
      assert.deepEqual((await send('hdrs.b', id, 2, { 'Nats-Batch-Commit': 'yes' }))?.error, {
        code: 400,
        err_code: Code.InvalidCommit,
        description: 'atomic publish batch commit is invalid',
      });
      // The invalid commit dropped the batch: its next message belongs to no batch.
      assert.equal((await send('hdrs.c', id, 3, { 'Nats-Batch-Commit': '1' }))?.error?.err_code, Code.Incomplete);
      assert.equal((await state('HDRS')).messages, 0);
    });

    it('atomic batch - a gap abandons the batch (advisory "incomplete"); an unknown batch past 1 is incomplete or too large', async () => {
      await addStream('GAPS');
      const id = newId();
      const advisories = ctx.nc.subscribe('$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.GAPS', { max: 1 });
      await send('gaps.a', id, 1);
      assert.deepEqual((await send('gaps.c', id, 3))?.error, { code: 400, err_code: Code.Incomplete, description: 'atomic publish batch is incomplete' });
      for await (const m of advisories) {
        const adv = m.json<Record<string, unknown>>();
        assert.equal(adv.type, 'io.nats.jetstream.advisory.v1.stream_batch_abandoned');
        assert.equal(adv.stream, 'GAPS');
        assert.equal(adv.batch, id);
        assert.equal(adv.reason, 'incomplete');
      }
      assert.equal((await send('gaps.d', id, 4, { 'Nats-Batch-Commit': '1' }))?.error?.err_code, Code.Incomplete);
      assert.deepEqual((await send('gaps.e', newId(), 1001))?.error, { code: 400, err_code: Code.TooLarge, description: 'atomic publish batch is too large: 1000' });
      // An "eob" is not one of the messages: 1001 with eob is a batch of 1000, merely incomplete here.
      assert.equal((await send('gaps.e', newId(), 1001, { 'Nats-Batch-Commit': 'eob' }))?.error?.err_code, Code.Incomplete);
      assert.equal((await state('GAPS')).messages, 0);
    });

    it('atomic batch - at most 1000 messages: the 1001st abandons the batch', async () => {
      await addStream('BIG');
      const id = newId();
      for (let seq = 1; seq <= 1000; seq++) ctx.nc.publish('big.x', '', { headers: batchHeaders(id, seq) });
      const ack = await send('big.x', id, 1001, { 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack?.error, { code: 400, err_code: Code.TooLarge, description: 'atomic publish batch is too large: 1000' });
      assert.equal((await state('BIG')).messages, 0);
      // A batch of exactly 1000 commits.
      const ok = newId();
      for (let seq = 1; seq < 1000; seq++) ctx.nc.publish('big.y', '', { headers: batchHeaders(ok, seq) });
      assert.deepEqual(await send('big.y', ok, 1000, { 'Nats-Batch-Commit': '1' }), { stream: 'BIG', seq: 1000, batch: ok, count: 1000 });
    });

    it('atomic batch - Nats-Expected-Last-Msg-Id is unsupported; the whole batch is refused', async () => {
      await addStream('LMID');
      const id = newId();
      await send('lmid.a', id, 1);
      await send('lmid.b', id, 2, { 'Nats-Expected-Last-Msg-Id': 'x' });
      const ack = await send('lmid.c', id, 3, { 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack?.error, { code: 400, err_code: Code.UnsupportedHeader, description: 'atomic publish unsupported header used: Nats-Expected-Last-Msg-Id' });
      assert.equal((await state('LMID')).messages, 0);
    });

    it('atomic batch - a duplicate Nats-Msg-Id, inside the batch or already stored, refuses the whole batch', async () => {
      await addStream('DUPS');
      await ctx.js.publish('dups.a', 'x', { msgID: 'stored' });
      for (const ids of [['one', 'one'], ['two', 'stored']]) {
        const id = newId();
        await send('dups.a', id, 1, { 'Nats-Msg-Id': ids[0] });
        const ack = await send('dups.b', id, 2, { 'Nats-Msg-Id': ids[1], 'Nats-Batch-Commit': '1' });
        assert.deepEqual(ack?.error, { code: 400, err_code: Code.Duplicate, description: 'atomic publish batch contains duplicate message id' });
      }
      assert.equal((await state('DUPS')).messages, 1);
      // Distinct new ids commit, and count for dedupe afterwards.
      const id = newId();
      await send('dups.a', id, 1, { 'Nats-Msg-Id': 'three' });
      assert.equal((await send('dups.b', id, 2, { 'Nats-Msg-Id': 'four', 'Nats-Batch-Commit': '1' }))?.count, 2);
      assert.equal((await ctx.js.publish('dups.c', 'x', { msgID: 'four' })).duplicate, true);
    });

    it('atomic batch - expectations: only the first message may name the last sequence; per-subject only for a subject not yet in the batch', async () => {
      await addStream('EXPECT');
      await ctx.js.publish('expect.a', 'x');
      const commit = async (msgs: Array<[string, Record<string, string>]>): Promise<Ack | null> => {
        const id = newId();
        for (let i = 0; i < msgs.length - 1; i++) await send(msgs[i][0], id, i + 1, msgs[i][1]);
        const [subject, extra] = msgs[msgs.length - 1];
        return send(subject, id, msgs.length, { ...extra, 'Nats-Batch-Commit': '1' });
      };
      assert.deepEqual((await commit([['expect.a', { 'Nats-Expected-Last-Sequence': '7' }], ['expect.b', {}]]))?.error, {
        code: 400,
        err_code: Code.WrongLastSequence,
        description: 'wrong last sequence: 1',
      });
      // A later message is compared with the sequence it would follow (here 2), and then refused anyway.
      assert.deepEqual((await commit([['expect.a', {}], ['expect.b', { 'Nats-Expected-Last-Sequence': '1' }]]))?.error, {
        code: 400,
        err_code: Code.WrongLastSequence,
        description: 'wrong last sequence: 2',
      });
      assert.deepEqual((await commit([['expect.a', {}], ['expect.b', { 'Nats-Expected-Last-Sequence': '2' }]]))?.error, {
        code: 400,
        err_code: Code.WrongLastSequenceConstant,
        description: 'wrong last sequence',
      });
      assert.equal((await commit([['expect.a', {}], ['expect.a', { 'Nats-Expected-Last-Subject-Sequence': '1' }]]))?.error?.err_code, Code.WrongLastSequenceConstant);
      assert.equal((await commit([['expect.a', {}], ['expect.b', { 'Nats-Expected-Last-Subject-Sequence': '5' }]]))?.error?.err_code, Code.WrongLastSequence);
      assert.equal((await state('EXPECT')).messages, 1);
      const ok = await commit([['expect.a', { 'Nats-Expected-Last-Sequence': '1' }], ['expect.b', { 'Nats-Expected-Last-Subject-Sequence': '0' }]]);
      assert.equal(ok?.seq, 3);
    });

    it('atomic batch - discard new: a batch that would pass max_msgs is refused whole', async () => {
      await addStream('FULL', { max_msgs: 3, discard: 'new' });
      await ctx.js.publish('full.a', 'x');
      const id = newId();
      for (let seq = 1; seq <= 2; seq++) await send('full.a', id, seq);
      const ack = await send('full.a', id, 3, { 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack?.error, { code: 503, err_code: Code.StoreFailed, description: 'maximum messages exceeded' });
      assert.equal((await state('FULL')).messages, 1);
    });

    it('atomic batch - at most 50 batches in flight per stream: the 51st is refused with 429', async () => {
      await addStream('INFLIGHT');
      const ids = Array.from({ length: 50 }, newId);
      for (const id of ids) assert.equal(await send('inflight.a', id, 1), null);
      assert.deepEqual((await send('inflight.a', newId(), 1))?.error, { code: 429, err_code: 10210, description: 'atomic publish too many inflight' });
      // Committing one makes room again.
      assert.equal((await send('inflight.a', ids[0], 2, { 'Nats-Batch-Commit': '1' }))?.count, 2);
      assert.equal(await send('inflight.a', newId(), 1), null);
    });

    it('atomic batch - Nats-Required-Api-Level above the server\'s abandons the batch ("unsupported"); one it meets is checked and not stored', async () => {
      await addStream('LEVELB');
      const id = newId();
      const advisories = ctx.nc.subscribe('$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.LEVELB', { max: 1, timeout: 5000 });
      await send('levelb.a', id, 1);
      assert.deepEqual((await send('levelb.b', id, 2, { 'Nats-Required-Api-Level': '99' }))?.error, { code: 412, err_code: 10185, description: 'JetStream minimum api level required' });
      for await (const m of advisories) assert.equal(m.json<{ reason: string }>().reason, 'unsupported');
      const ok = newId();
      assert.equal(await send('levelb.a', ok, 1, { 'Nats-Required-Api-Level': '0' }), null);
      assert.equal((await send('levelb.b', ok, 2, { 'Nats-Batch-Commit': '1' }))?.count, 2);
      const stored = await ctx.jsm.streams.getMessage('LEVELB', { seq: 1 });
      assert.equal(stored?.header.get('Nats-Required-Api-Level'), '');
      assert.equal(stored?.header.get('Nats-Batch-Id'), ok);
    });

    it('atomic batch - a message a plain publish would refuse (here a bad schedule) refuses the batch with the same error; no sequence is used', async () => {
      await addStream('SCHEDB', { allow_msg_schedules: true });
      const bad = { 'Nats-Schedule': '@every 1x', 'Nats-Schedule-Target': 'schedb.target' };
      const h = headers();
      for (const [k, v] of Object.entries(bad)) h.set(k, v);
      const plain = (await ctx.nc.request('schedb.sched', '', { headers: h, timeout: 5000 })).json<Ack>();
      assert.ok(plain.error, 'a plain publish of the message is refused');
      const id = newId();
      await send('schedb.a', id, 1);
      const ack = await send('schedb.sched', id, 2, { ...bad, 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack?.error, plain.error);
      assert.equal((await ctx.js.publish('schedb.a', 'x')).seq, 1);
      // A schedule rolls its subject up: not after the same subject earlier in the batch.
      const again = newId();
      await send('schedb.sched', again, 1);
      const rolled = await send('schedb.sched', again, 2, { 'Nats-Schedule': '@every 1m', 'Nats-Schedule-Target': 'schedb.target', 'Nats-Batch-Commit': '1' });
      assert.deepEqual(rolled?.error, { code: 500, err_code: 10111, description: 'batch rollup sub invalid' });
    });

    it('atomic batch - a mirror cannot allow atomic publish', async () => {
      await ctx.jsm.streams.add({ name: 'ORIGINB', subjects: ['originb.>'] });
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'MIRRB', mirror: { name: 'ORIGINB' }, allow_atomic: true }), Code.MirrorWithAtomic, 'stream mirrors can not also use atomic publishing');
    });

    it('atomic batch - a counter stream adds every increment of the batch', async () => {
      await addStream('CNT', { allow_msg_counter: true });
      const id = newId();
      await send('cnt.a', id, 1, { 'Nats-Incr': '2' });
      await send('cnt.a', id, 2, { 'Nats-Incr': '3' });
      const ack = await send('cnt.b', id, 3, { 'Nats-Incr': '1', 'Nats-Batch-Commit': '1' });
      assert.deepEqual(ack, { stream: 'CNT', seq: 3, batch: id, count: 3 });
      assert.equal((await ctx.jsm.streams.getMessage('CNT', { last_by_subj: 'cnt.a' }))?.string(), '{"val":"5"}');
    });
  });
}

describe('jetstream atomic batch - abandoned after the timeout (switchboard, with a short max_batch_timeout)', () => {
  it('atomic batch - a batch without messages for the timeout is dropped with a "timeout" advisory; its commit is incomplete; each message restarts the timeout', async () => {
    const server = await startSwitchboardJetStream({ atomicBatchLimits: { timeoutMs: 3000 } });
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: 'SLOW', subjects: ['slow.>'], allow_atomic: true });
      // Idle less than the timeout between messages, longer than it in all: the batch stays.
      const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 2000));
      await nc.request('slow.a', '', { headers: batchHeaders('busy', 1), timeout: 2000 });
      await pause();
      await nc.request('slow.a', '', { headers: batchHeaders('busy', 2), timeout: 2000 });
      await pause();
      const kept = (await nc.request('slow.a', '', { headers: batchHeaders('busy', 3, { 'Nats-Batch-Commit': '1' }), timeout: 2000 })).json<Ack>();
      assert.equal(kept.count, 3, JSON.stringify(kept));
      const advisories = nc.subscribe('$JS.EVENT.ADVISORY.STREAM.BATCH_ABANDONED.SLOW', { max: 1 });
      await nc.request('slow.a', '', { headers: batchHeaders('late', 1), timeout: 2000 });
      for await (const m of advisories) assert.deepEqual([m.json<{ batch: string }>().batch, m.json<{ reason: string }>().reason], ['late', 'timeout']);
      const ack = (await nc.request('slow.b', '', { headers: batchHeaders('late', 2, { 'Nats-Batch-Commit': '1' }), timeout: 2000 })).json<Ack>();
      assert.equal(ack.error?.err_code, Code.Incomplete);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
