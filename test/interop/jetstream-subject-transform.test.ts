// Stream subject transforms (`subject_transform`, nats-server 2.10) and
// multi-filter consumers (`filter_subjects`), with the official
// @nats-io/jetstream client, against Switchboard and a current nats-server
// (NATS_SERVER_NEW). The stored subjects of the partition/split/slice cases and
// the error texts are what nats-server 2.15 answers (subject_transform.go,
// sublist.go ValidateMapping, errors.json 10155/10156).

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import { AckPolicy } from '@nats-io/jetstream';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';

for (const target of currentJetStreamTargets()) {
  describe(`jetstream subject transforms (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const rawApi = (subject: string, body: unknown): Promise<Record<string, any>> => ctx.api(subject, body);
    /** Publish each subject once, then list the stored subjects in sequence order. */
    async function storedSubjects(stream: string, subjects: string[]): Promise<string[]> {
      const out: string[] = [];
      for (const s of subjects) {
        const ack = await ctx.js.publish(s, s);
        const m = await ctx.jsm.streams.getMessage(stream, { seq: ack.seq });
        assert.ok(m, `message ${ack.seq}`);
        assert.equal(m.string(), s);
        out.push(m.subject);
      }
      return out;
    }

    it('subject transform - wildcards are reordered before the message is stored; the config round-trips', async () => {
      const si = await ctx.jsm.streams.add({
        name: 'ORDERS',
        subjects: ['orders.>'],
        subject_transform: { src: 'orders.*.*', dest: 'shop.{{wildcard(2)}}.$1' },
      });
      assert.deepEqual(si.config.subject_transform, { src: 'orders.*.*', dest: 'shop.{{wildcard(2)}}.$1' });
      // orders.a.b.c does not match the source: stored as published.
      assert.deepEqual(await storedSubjects('ORDERS', ['orders.eu.42', 'orders.us.7', 'orders.a.b.c']), ['shop.42.eu', 'shop.7.us', 'orders.a.b.c']);
      assert.equal((await ctx.jsm.streams.getMessage('ORDERS', { last_by_subj: 'shop.42.eu' }))?.string(), 'orders.eu.42');
      const info = await ctx.jsm.streams.info('ORDERS', { subjects_filter: '>' });
      assert.deepEqual(info.state.subjects, { 'shop.42.eu': 1, 'shop.7.us': 1, 'orders.a.b.c': 1 });
    });

    it('subject transform - Nats-Expected-Last-Subject-Sequence checks the stored subject', async () => {
      await ctx.jsm.streams.add({ name: 'EXPECT', subjects: ['in.*'], subject_transform: { src: 'in.*', dest: 'out.$1' } });
      const first = await ctx.js.publish('in.k', 'one');
      const second = await ctx.js.publish('in.k', 'two', { expect: { lastSubjectSequence: first.seq } });
      assert.equal(second.seq, first.seq + 1);
      await assert.rejects(ctx.js.publish('in.k', 'three', { expect: { lastSubjectSequence: first.seq } }), /wrong last sequence/);
    });

    it('subject transform - partition, split, slice and splitFrom functions store what nats-server stores', async () => {
      await ctx.jsm.streams.add({
        name: 'PART',
        subjects: ['p.>'],
        subject_transform: { src: 'p.*.*', dest: 'part.{{partition(5,1,2)}}.{{splitFromLeft(1,2)}}.{{sliceFromRight(2,3)}}' },
      });
      assert.deepEqual(await storedSubjects('PART', ['p.abcd.1234567', 'p.xy.ab', 'p.customer-17.z']), [
        'part.1.ab.cd.1.234.567',
        'part.2.xy.ab',
        'part.3.cu.stomer-17.z',
      ]);
      await ctx.jsm.streams.add({ name: 'SPLIT', subjects: ['s.*'], subject_transform: { src: 's.*', dest: 'split.{{split(1,-)}}.{{partition(3)}}.{{left(1,2)}}.{{right(1,1)}}' } });
      assert.deepEqual(await storedSubjects('SPLIT', ['s.-a--b-', 's.one', 's.x-y']), ['split.a.b.0.-a.-', 'split.one.0.on.e', 'split.x.y.0.x-.y']);
      await ctx.jsm.streams.add({ name: 'FWC', subjects: ['f.>'], subject_transform: { src: 'f.*.>', dest: 'g.$1.>' } });
      assert.deepEqual(await storedSubjects('FWC', ['f.a.b', 'f.a.b.c.d']), ['g.a.b', 'g.a.b.c.d']);
    });

    it('subject transform - invalid source (10155) and destinations (10156) are refused with nats-server\'s words', async () => {
      const create = (name: string, src: string, dest: string): Promise<Record<string, any>> =>
        rawApi(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`${name.toLowerCase()}.>`], subject_transform: { src, dest } });
      const cases: Array<[string, string, number, string]> = [
        ['a..b', 'x', 10155, 'stream transform source: invalid subject a..b'],
        ['a.*', 'x.{{nope(1)}}', 10156, 'stream transform: invalid mapping destination: unknown function in {{nope(1)}}'],
        ['a.*', 'x.{{left(1)}}', 10156, 'stream transform: invalid mapping destination: not enough arguments passed to the function in {{left(1)}}'],
        ['a.*', 'x.$2', 10156, 'stream transform: invalid mapping destination: wildcard index out of range in $2: [2]'],
        ['a.*', 'x.{{wildcard()}}', 10156, 'stream transform: invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}'],
        ['a.*', 'x.{{splitFromLeft(1)}}', 10156, 'stream transform: invalid mapping destination: not enough arguments passed to the function in {{splitFromLeft(1)}}'],
        ['a.*', 'x.{{partition(a,1)}}', 10156, 'stream transform: invalid mapping destination: function argument is invalid or in the wrong format in {{partition(a,1)}}'],
        ['a.*', 'x..y', 10156, 'stream transform: invalid mapping destination: invalid transform'],
        ['a.>', 'x.*', 10156, 'stream transform: invalid subject'],
        ['a.*', 'x.>', 10156, 'stream transform: invalid subject'],
      ];
      let i = 0;
      for (const [src, dest, code, description] of cases) {
        const r = await create(`BAD${i++}`, src, dest);
        assert.equal(r.error?.err_code, code, `${src} -> ${dest}: ${JSON.stringify(r)}`);
        assert.equal(r.error.description, description);
      }
      // An empty destination is accepted and changes nothing.
      const ok = await create('NOOP', 'noop.*', '');
      assert.equal(ok.error, undefined, JSON.stringify(ok));
      assert.equal((await ctx.js.publish('noop.x', 'x')).stream, 'NOOP');
      assert.ok(await ctx.jsm.streams.getMessage('NOOP', { last_by_subj: 'noop.x' }));
    });

    it('filter_subjects - a consumer with several filters gets the matching messages in stream order', async () => {
      await ctx.jsm.streams.add({ name: 'MULTI', subjects: ['m.>'], subject_transform: { src: 'm.*.*', dest: 'multi.$2.$1' } });
      for (const s of ['m.1.a', 'm.2.b', 'm.3.c', 'm.4.a', 'm.5.b', 'm.6.c']) await ctx.js.publish(s, s);
      const ci = await ctx.jsm.consumers.add('MULTI', { durable_name: 'ab', ack_policy: AckPolicy.Explicit, filter_subjects: ['multi.a.*', 'multi.b.*'] });
      assert.deepEqual(ci.config.filter_subjects, ['multi.a.*', 'multi.b.*']);
      assert.equal(ci.num_pending, 4);
      const consumer = await ctx.js.consumers.get('MULTI', 'ab');
      const got: string[] = [];
      for await (const m of await consumer.fetch({ max_messages: 10, expires: 1000 })) {
        got.push(`${m.seq}:${m.subject}`);
        m.ack();
      }
      assert.deepEqual(got, ['1:multi.a.1', '2:multi.b.2', '4:multi.a.4', '5:multi.b.5']);
      // A filter that covers the stream's `subjects` does not cover what the transform stores.
      const wide = await ctx.jsm.consumers.add('MULTI', { durable_name: 'wide', filter_subjects: ['m.>', 'multi.c.*'] });
      assert.equal(wide.num_pending, 2);
      // (Switchboard refuses any overlap between filters; nats-server only one inside another, which this is.)
      const overlap = await rawApi('$JS.API.CONSUMER.CREATE.MULTI.ov', { stream_name: 'MULTI', config: { name: 'ov', filter_subjects: ['multi.a.*', 'multi.a.1'] } });
      assert.equal(overlap.error?.err_code, 10138);
    });
  });
}
