// HTTP gateway: stream administration, PubAcks with Nats-Msg-Id dedupe, and
// reading stored messages, run embedded and (as in cluster mode) through
// NatsBroker against Debian's nats-server -js.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { curl, httpJetStreamTargets, type HttpClusterCapableFixture } from './http-fixture.ts';

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

for (const target of httpJetStreamTargets({ cluster: true })) {
  describe(`http streams (${target.name})`, { peers: target.peers }, () => {
    let f: HttpClusterCapableFixture;
    before(async () => {
      f = await target.start();
    });
    after(async () => f.stop());

    it('http streams - create, list, info, update, purge and delete', async () => {
      const created = await fetch(`${f.base}/v1/streams`, json({ name: 'ADMIN', subjects: ['admin.>'], storage: 'memory' }));
      assert.equal(created.status, 201, await created.clone().text());
      assert.deepEqual((await created.json()).config.subjects, ['admin.>']);

      const list = await (await fetch(`${f.base}/v1/streams`)).json();
      assert.ok(list.streams.some((s: { config: { name: string } }) => s.config.name === 'ADMIN'));

      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${f.base}/v1/subjects/admin.x`, { method: 'POST', body: String(i) })).status, 200);
      const info = await (await fetch(`${f.base}/v1/streams/ADMIN`)).json();
      assert.equal(info.state.messages, 3);

      const updated = await fetch(`${f.base}/v1/streams/ADMIN`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subjects: ['admin.>', 'extra.*'], storage: 'memory' }),
      });
      assert.equal(updated.status, 200, await updated.clone().text());
      assert.deepEqual((await updated.json()).config.subjects, ['admin.>', 'extra.*']);

      const purged = await fetch(`${f.base}/v1/streams/ADMIN/purge`, json({ keep: 1 }));
      assert.deepEqual(await purged.json(), { purged: 2 });

      assert.equal((await fetch(`${f.base}/v1/streams/ADMIN`, { method: 'DELETE' })).status, 204);
      const gone = await fetch(`${f.base}/v1/streams/ADMIN`);
      assert.equal(gone.status, 404);
      const problem = await gone.json();
      assert.equal(problem.code, 'stream_not_found');
      assert.equal(problem.err_code, 10059);
    });

    it('http streams - a stream a NATS client creates answers the very next HTTP publish with its PubAck', async () => {
      // The gateway keeps its list of stream subjects for a second, but drops it on the
      // stream advisories: without that, this publish would be a core publish (202).
      const nc = await connect({ servers: f.natsUrl });
      try {
        await (await jetstreamManager(nc)).streams.add({ name: 'FROMNATS', subjects: ['fromnats.>'], storage: 'memory' });
        const res = await fetch(`${f.base}/v1/subjects/fromnats.a`, { method: 'POST', body: 'x' });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { stream: 'FROMNATS', seq: 1 });
      } finally {
        await nc.close();
      }
    });

    it('http streams - bad names and configs are problems with the JetStream err_code', async () => {
      const badName = await fetch(`${f.base}/v1/streams`, json({ name: 'a.b', subjects: ['x'] }));
      assert.equal(badName.status, 400);
      assert.equal((await badName.json()).code, 'invalid_request');
      await fetch(`${f.base}/v1/streams`, json({ name: 'ONE', subjects: ['overlap.>'], storage: 'memory' }));
      const overlap = await fetch(`${f.base}/v1/streams`, json({ name: 'TWO', subjects: ['overlap.a'], storage: 'memory' }));
      assert.equal(overlap.status, 400);
      const problem = await overlap.json();
      assert.equal(problem.code, 'jetstream_error');
      assert.equal(problem.err_code, 10065);
    });

    it('http streams - publish to a stream subject answers with the PubAck; Nats-Msg-Id dedupes', async () => {
      await fetch(`${f.base}/v1/streams`, json({ name: 'ORDERS', subjects: ['orders.*'], storage: 'memory' }));
      const first = await fetch(`${f.base}/v1/subjects/orders.new`, { method: 'POST', headers: { 'Nats-Msg-Id': 'order-1' }, body: 'a' });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), { stream: 'ORDERS', seq: 1 });
      const again = await fetch(`${f.base}/v1/subjects/orders.new`, { method: 'POST', headers: { 'nats-msg-id': 'order-1' }, body: 'a' });
      assert.deepEqual(await again.json(), { stream: 'ORDERS', seq: 1, duplicate: true });
      const core = await fetch(`${f.base}/v1/subjects/not.a.stream`, { method: 'POST', body: 'x' });
      assert.equal(core.status, 202);
    });

    it('http streams - a failed Nats-Expected-Last-Sequence is 412', async () => {
      await fetch(`${f.base}/v1/streams`, json({ name: 'CAS', subjects: ['cas.>'], storage: 'memory' }));
      const ok = await fetch(`${f.base}/v1/subjects/cas.a`, { method: 'POST', headers: { 'Nats-Expected-Last-Sequence': '0' }, body: '1' });
      assert.equal(ok.status, 200);
      const stale = await fetch(`${f.base}/v1/subjects/cas.a`, { method: 'POST', headers: { 'Nats-Expected-Last-Sequence': '0' }, body: '2' });
      assert.equal(stale.status, 412);
      const problem = await stale.json();
      assert.equal(problem.code, 'precondition_failed');
      assert.equal(problem.err_code, 10071);
    });

    it('http streams - curl publish gets the PubAck', { peers: ['curl'] }, async () => {
      await fetch(`${f.base}/v1/streams`, json({ name: 'CURL', subjects: ['curl.js'], storage: 'memory' }));
      const run = await curl(['-sS', '-H', 'Nats-Msg-Id: c1', '--data-binary', 'payload', `${f.base}/v1/subjects/curl.js`]);
      assert.deepEqual(JSON.parse(run.stdout.toString()), { stream: 'CURL', seq: 1 });
    });

    it('http streams - message by sequence, last by subject, range pages, and delete', async () => {
      await fetch(`${f.base}/v1/streams`, json({ name: 'READ', subjects: ['read.*'], storage: 'memory' }));
      for (const [subject, body] of [['read.a', 'a1'], ['read.b', 'b1'], ['read.a', 'a2'], ['read.b', 'b2'], ['read.a', 'a3']]) {
        await fetch(`${f.base}/v1/subjects/${subject}`, { method: 'POST', headers: { 'x-nats-header-Origin': 'http' }, body });
      }
      const two = await (await fetch(`${f.base}/v1/streams/READ/messages/2`)).json();
      assert.equal(two.seq, 2);
      assert.equal(two.subject, 'read.b');
      assert.equal(two.data, 'b1');
      assert.deepEqual(two.headers, { Origin: ['http'] });
      assert.equal(typeof two.time, 'string');

      const last = await (await fetch(`${f.base}/v1/streams/READ/last/read.b`)).json();
      assert.equal(last.seq, 4);

      const page1 = await (await fetch(`${f.base}/v1/streams/READ/range?start_seq=1&count=2&subject=read.a`)).json();
      assert.deepEqual(page1.messages.map((m: { seq: number }) => m.seq), [1, 3]);
      const page2 = await (await fetch(`${f.base}/v1/streams/READ/range?start_seq=${page1.next_seq}&count=2&subject=read.a`)).json();
      assert.deepEqual(page2.messages.map((m: { data: string }) => m.data), ['a3']);

      // By time: from the first message stored at or after start_time (the third one's own time,
      // to the millisecond: the messages stored in that millisecond or later).
      const all = (await (await fetch(`${f.base}/v1/streams/READ/range`)).json()).messages as Array<{ seq: number; time: string }>;
      const since = Date.parse(all[2].time);
      const byTime = await (await fetch(`${f.base}/v1/streams/READ/range?start_time=${encodeURIComponent(all[2].time)}&count=10`)).json();
      assert.deepEqual(byTime.messages.map((m: { seq: number }) => m.seq), all.filter((m) => Date.parse(m.time) >= since).map((m) => m.seq));
      assert.ok(byTime.messages.some((m: { seq: number }) => m.seq === 3) && byTime.messages.at(-1).seq === 5);
      const future = await (await fetch(`${f.base}/v1/streams/READ/range?start_time=2999-01-01T00:00:00Z`)).json();
      assert.deepEqual(future.messages, []);
      const badTime = await fetch(`${f.base}/v1/streams/READ/range?start_time=yesterday`);
      assert.equal(badTime.status, 400);
      assert.equal((await badTime.json()).code, 'invalid_request');

      assert.equal((await fetch(`${f.base}/v1/streams/READ/messages/3`, { method: 'DELETE' })).status, 204);
      const missing = await fetch(`${f.base}/v1/streams/READ/messages/3`);
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).code, 'message_not_found');
    });
  });
}
