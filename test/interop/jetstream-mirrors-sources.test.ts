// Stream mirrors and sources within one server, with the official
// @nats-io/jetstream client, against Switchboard and nats-server 2.15.1: the
// same assertions, so the stored sequences, subjects, the Nats-Stream-Source
// header and the stream info fields are nats-server's.

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, type StoredMsg } from '@nats-io/jetstream';
import { currentJetStreamTargets, rejectsWithCode, useJetStream } from '../helpers/jetstream.ts';

/** Poll `probe` until it holds (sourcing is asynchronous on both servers). */
async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream mirrors and sources (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const lastSeq = (name: string) => async () => (await ctx.jsm.streams.info(name)).state.last_seq;
    async function messages(stream: string, count: number): Promise<StoredMsg[]> {
      const out: StoredMsg[] = [];
      for (let seq = 1; out.length < count; seq++) {
        const m = await ctx.jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (m !== null) out.push(m);
        assert.ok(seq < 10_000, 'message missing');
      }
      return out;
    }

    it('mirror - copies messages stored before and after it was created, keeping origin sequences', async () => {
      await ctx.jsm.streams.add({ name: 'ORIG', subjects: ['orig.>'] });
      for (let i = 1; i <= 3; i++) await ctx.js.publish(`orig.${i}`, `before ${i}`);
      const si = await ctx.jsm.streams.add({ name: 'MIR', mirror: { name: 'ORIG' } });
      assert.deepEqual(si.config.mirror, { name: 'ORIG' });
      assert.equal(si.config.subjects, undefined);
      for (let i = 4; i <= 5; i++) await ctx.js.publish(`orig.${i}`, `after ${i}`);
      await eventually(lastSeq('MIR'), (s) => s === 5, 'mirror last_seq');
      const got = await messages('MIR', 5);
      assert.deepEqual(got.map((m) => [m.seq, m.subject, m.string()]), [
        [1, 'orig.1', 'before 1'], [2, 'orig.2', 'before 2'], [3, 'orig.3', 'before 3'], [4, 'orig.4', 'after 4'], [5, 'orig.5', 'after 5'],
      ]);
      const info = await ctx.jsm.streams.info('MIR');
      assert.equal(info.mirror?.name, 'ORIG');
      assert.equal(info.mirror?.lag, 0);
      assert.ok((info.mirror?.active ?? -1) >= 0, 'active');
      assert.equal(info.mirror?.error, undefined);
    });

    it('mirror - opt_start_seq starts there; the mirror has no subjects and nothing can be published into it', async () => {
      await ctx.jsm.streams.add({ name: 'ORIG2', subjects: ['o2.*'] });
      for (let i = 1; i <= 4; i++) await ctx.js.publish(`o2.${i}`, `${i}`);
      await ctx.jsm.streams.add({ name: 'MIR2', mirror: { name: 'ORIG2', opt_start_seq: 3 } });
      await eventually(lastSeq('MIR2'), (s) => s === 4, 'mirror last_seq');
      const state = (await ctx.jsm.streams.info('MIR2')).state;
      assert.equal(state.first_seq, 3);
      assert.equal(state.messages, 2);
      await assert.rejects(ctx.js.publish('MIR2', 'x', { timeout: 500 }));
    });

    it('mirror - opt_start_time skips older messages', async () => {
      await ctx.jsm.streams.add({ name: 'ORIG3', subjects: ['o3.*'] });
      await ctx.js.publish('o3.a', 'old');
      await new Promise((r) => setTimeout(r, 50));
      const start = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 50));
      await ctx.js.publish('o3.b', 'new');
      await ctx.jsm.streams.add({ name: 'MIR3', mirror: { name: 'ORIG3', opt_start_time: start } });
      await eventually(lastSeq('MIR3'), (s) => s === 2, 'mirror last_seq');
      const m = await ctx.jsm.streams.getMessage('MIR3', { seq: 2 });
      assert.equal(m?.string(), 'new');
      assert.equal((await ctx.jsm.streams.info('MIR3')).state.messages, 1);
    });

    it('mirror - filter and subject transforms: matching messages keep their origin sequence, the rest are skipped', async () => {
      await ctx.jsm.streams.add({ name: 'ORIG4', subjects: ['o4.>'] });
      for (const s of ['o4.a.1', 'o4.b.2', 'o4.a.3', 'o4.c.4']) await ctx.js.publish(s, s);
      await ctx.jsm.streams.add({ name: 'MIR4', mirror: { name: 'ORIG4', subject_transforms: [{ src: 'o4.a.*', dest: 'edge.a.$1' }, { src: 'o4.c.*', dest: '' }] } });
      await ctx.js.publish('o4.a.5', 'o4.a.5');
      await eventually(async () => (await ctx.jsm.streams.info('MIR4')).state.messages, (n) => n === 4, 'mirrored');
      const got = [];
      for (const seq of [1, 3, 4, 5]) {
        const m = await ctx.jsm.streams.getMessage('MIR4', { seq });
        got.push([m?.seq, m?.subject, m?.string()]);
      }
      assert.deepEqual(got, [[1, 'edge.a.1', 'o4.a.1'], [3, 'edge.a.3', 'o4.a.3'], [4, 'o4.c.4', 'o4.c.4'], [5, 'edge.a.5', 'o4.a.5']]);
      assert.equal(await ctx.jsm.streams.getMessage('MIR4', { seq: 2 }), null, 'o4.b.2 is not mirrored');
      const state = (await ctx.jsm.streams.info('MIR4')).state;
      assert.deepEqual([state.first_seq, state.last_seq], [1, 5]);
    });

    it('mirror - removing the mirror by update promotes it to a normal stream', async () => {
      await ctx.jsm.streams.add({ name: 'ORIG5', subjects: ['o5'] });
      await ctx.js.publish('o5', 'one');
      await ctx.jsm.streams.add({ name: 'MIR5', mirror: { name: 'ORIG5' } });
      await eventually(lastSeq('MIR5'), (s) => s === 1, 'mirrored');
      // The client's update() merges the old config (mirror included): the raw request leaves the mirror out.
      const si = await ctx.api('$JS.API.STREAM.UPDATE.MIR5', { name: 'MIR5', subjects: ['promoted'] });
      assert.equal(si.error, undefined);
      assert.equal(si.config.mirror, undefined);
      assert.equal((await ctx.js.publish('promoted', 'two')).seq, 2);
      await ctx.js.publish('o5', 'not copied any more');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await ctx.jsm.streams.info('MIR5')).state.messages, 2);
      assert.equal((await ctx.jsm.streams.info('MIR5')).mirror, undefined);
    });

    it('mirror - config errors are nats-server\'s', async () => {
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD1', subjects: ['bad1'], mirror: { name: 'ORIG' } }), 10034, 'stream mirrors can not contain subjects');
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD2', mirror: { name: 'ORIG' }, sources: [{ name: 'ORIG2' }] }), 10031);
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD3', mirror: { name: 'ORIG', filter_subject: 'orig.1', subject_transforms: [{ src: 'orig.1', dest: 'q' }] } }), 10150);
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD4', sources: [{ name: 'ORIG' }, { name: 'ORIG' }] }), 10140);
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD5', mirror: { name: 'ORIG' }, first_seq: 3 }), 10143);
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'BAD6', mirror: { name: 'BAD6' } }), 10052, 'detected cycle');
      await rejectsWithCode(ctx.jsm.streams.update('MIR', { mirror: { name: 'ORIG', filter_subject: 'orig.1' } } as never), 10055);
    });

    it('sources - two origins into one, filter and transform, with the Nats-Stream-Source header', async () => {
      await ctx.jsm.streams.add({ name: 'SA', subjects: ['sa.>'] });
      await ctx.jsm.streams.add({ name: 'SB', subjects: ['sb.>'] });
      await ctx.js.publish('sa.x', 'a1');
      await ctx.js.publish('sa.y', 'a2');
      await ctx.js.publish('sb.x', 'b1');
      const si = await ctx.jsm.streams.add({
        name: 'AGG',
        sources: [{ name: 'SA', filter_subject: 'sa.x' }, { name: 'SB', subject_transforms: [{ src: 'sb.>', dest: 'site1.sb.>' }] }],
      });
      assert.equal(si.config.subjects, undefined);
      await ctx.js.publish('sa.x', 'a3');
      await ctx.js.publish('sb.z', 'b2');
      await eventually(async () => (await ctx.jsm.streams.info('AGG')).state.messages, (n) => n === 4, 'sourced count');
      const got = await messages('AGG', 4);
      const bySubject = (s: string) => got.filter((m) => m.subject === s).map((m) => m.string());
      assert.deepEqual(bySubject('sa.x'), ['a1', 'a3']);
      assert.deepEqual(bySubject('site1.sb.x'), ['b1']);
      assert.deepEqual(bySubject('site1.sb.z'), ['b2']);
      const a3 = got.find((m) => m.string() === 'a3');
      assert.deepEqual(a3?.header.get('Nats-Stream-Source').split(' ').slice(0, 5), ['SA', '3', 'sa.x', '>', 'sa.x']);
      const b2 = got.find((m) => m.string() === 'b2');
      assert.deepEqual(b2?.header.get('Nats-Stream-Source').split(' ').slice(0, 5), ['SB', '2', 'sb.>', 'site1.sb.>', 'sb.z']);
      const info = await ctx.jsm.streams.info('AGG');
      // nats-server lists sources in no fixed order (a map).
      const sources = [...(info.sources ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(sources.map((s: Record<string, unknown>) => [s.name, s.lag, s.filter_subject, s.subject_transforms]), [
        ['SA', 0, 'sa.x', undefined],
        ['SB', 0, undefined, [{ src: 'sb.>', dest: 'site1.sb.>' }]],
      ]);
      assert.ok(info.sources?.every((s) => s.active >= 0));
    });

    it('sources - a missing origin is reported; a source added by update starts, a removed one stops', async () => {
      await ctx.jsm.streams.add({ name: 'UPD', subjects: ['upd.own'], sources: [{ name: 'NOPE' }] });
      // nats-server reports the error once its first attempt failed.
      const missing = await eventually(async () => (await ctx.jsm.streams.info('UPD')).sources?.[0], (s) => s?.error !== undefined, 'missing origin error');
      assert.equal(missing?.active, -1);
      assert.equal(missing?.error?.err_code, 10059);
      await ctx.jsm.streams.add({ name: 'SC', subjects: ['sc.>'] });
      await ctx.js.publish('sc.1', 'c1');
      await ctx.jsm.streams.update('UPD', { subjects: ['upd.own'], sources: [{ name: 'SC' }] });
      await eventually(async () => (await ctx.jsm.streams.info('UPD')).state.messages, (n) => n === 1, 'added source');
      await ctx.jsm.streams.update('UPD', { subjects: ['upd.own'], sources: [] });
      assert.equal((await ctx.jsm.streams.info('UPD')).sources, undefined);
      await ctx.js.publish('sc.2', 'c2');
      await ctx.js.publish('upd.own', 'own');
      await new Promise((r) => setTimeout(r, 300));
      const n = (await ctx.jsm.streams.info('UPD')).state.messages;
      assert.equal(n, 2, 'the removed source copied nothing more');
    });

    const count = (name: string) => async () => (await ctx.jsm.streams.info(name)).state.messages;

    it('sources - a work-queue origin lets go of exactly what the destination stored (acked sourcing)', async () => {
      await ctx.jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' as never });
      for (let i = 1; i <= 5; i++) await ctx.js.publish(`wq.${i % 2}`, `w${i}`);
      await ctx.jsm.streams.add({ name: 'WQDEST', sources: [{ name: 'WQ' }] });
      await eventually(count('WQDEST'), (n) => n === 5, 'sourced');
      await eventually(count('WQ'), (n) => n === 0, 'origin released');
      for (let i = 6; i <= 8; i++) await ctx.js.publish(`wq.${i % 2}`, `w${i}`);
      await eventually(count('WQDEST'), (n) => n === 8, 'sourced after');
      await eventually(count('WQ'), (n) => n === 0, 'origin released after');
      const got = await messages('WQDEST', 8);
      assert.deepEqual(got.map((m) => m.string()), ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    });

    it('sources - an interest origin keeps a message until the source and its consumers are all done', async () => {
      await ctx.jsm.streams.add({ name: 'INT', subjects: ['int.>'], retention: 'interest' as never });
      await ctx.jsm.consumers.add('INT', { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
      await ctx.jsm.streams.add({ name: 'INTDEST', sources: [{ name: 'INT' }] });
      for (let i = 1; i <= 4; i++) await ctx.js.publish('int.a', `i${i}`);
      await eventually(count('INTDEST'), (n) => n === 4, 'sourced');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await count('INT')(), 4, 'the consumer has not acked yet');
      const c = await ctx.js.consumers.get('INT', 'worker');
      const batch = await c.fetch({ max_messages: 4, expires: 2000 });
      for await (const m of batch) await m.ackAck();
      await eventually(count('INT'), (n) => n === 0, 'released once acked');
      assert.equal(await count('INTDEST')(), 4);
    });
  });
}

describe('jetstream sources - origin re-created (switchboard)', () => {
  const target = currentJetStreamTargets()[0];
  const ctx = useJetStream(target);

  it('sources - an origin deleted and created again is sourced from its new beginning, without a stall', async () => {
    await ctx.jsm.streams.add({ name: 'RE', subjects: ['re.>'] });
    for (let i = 1; i <= 3; i++) await ctx.js.publish('re.x', `old ${i}`);
    await ctx.jsm.streams.add({ name: 'REDEST', sources: [{ name: 'RE' }] });
    await eventually(async () => (await ctx.jsm.streams.info('REDEST')).state.messages, (n) => n === 3, 'sourced');
    await ctx.jsm.streams.delete('RE');
    await ctx.jsm.streams.add({ name: 'RE', subjects: ['re.>'] });
    await ctx.js.publish('re.x', 'new 1');
    await eventually(async () => (await ctx.jsm.streams.info('REDEST')).state.messages, (n) => n === 4, 'sourced from the new origin', 5000);
    const m = await ctx.jsm.streams.getMessage('REDEST', { seq: 4 });
    assert.equal(m?.string(), 'new 1');
    assert.equal(m?.header.get('Nats-Stream-Source').split(' ')[1], '1');
  });

  it('sources - an external origin (another server, not built yet) is reported as an error, never read from a local namesake', async () => {
    await ctx.jsm.streams.add({ name: 'LOCALNAME', subjects: ['ln'] });
    await ctx.js.publish('ln', 'local');
    await ctx.jsm.streams.add({ name: 'EXTDEST', sources: [{ name: 'LOCALNAME', external: { api: '$JS.hub.API', deliver: '' } }] });
    const info = await eventually(async () => (await ctx.jsm.streams.info('EXTDEST')).sources?.[0], (s) => s?.error !== undefined, 'external error');
    assert.equal(info?.active, -1);
    assert.equal((await ctx.jsm.streams.info('EXTDEST')).state.messages, 0);
  });
});
