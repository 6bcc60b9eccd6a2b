// HTTP gateway: durable pull consumers — create/info/list/delete, long-poll
// fetch, ack, nak with delay, term — through the JetStream API, on the embedded
// engine and on nats-server -js. "Returns when the message arrives" is checked
// against a long timeout, so a busy machine cannot turn it into a failure.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { httpJetStreamTargets, type HttpFixture } from './http-fixture.ts';

const post = (body?: unknown): RequestInit =>
  body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };

for (const target of httpJetStreamTargets()) {
  describe(`http consumers (${target.name})`, { peers: target.peers }, () => {
    let f: HttpFixture;
    const base = (): string => `${f.base}/v1/streams/JOBS/consumers`;
    const fetchBatch = async (query: string): Promise<Array<{ seq: number; data: string; delivered: number; ack_token: string }>> => {
      const res = await fetch(`${base()}/worker/fetch?${query}`, post());
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()).messages;
    };
    before(async () => {
      f = await target.start();
      assert.equal((await fetch(`${f.base}/v1/streams`, post({ name: 'JOBS', subjects: ['jobs.>'], storage: 'memory' }))).status, 201);
      const created = await fetch(base(), post({ durable_name: 'worker', ack_wait: 30_000_000_000 }));
      assert.equal(created.status, 201, await created.clone().text());
    });
    after(async () => f.stop());

    it('http consumers - info and list; unknown consumers are 404', async () => {
      const info = await (await fetch(`${base()}/worker`)).json();
      assert.equal(info.name, 'worker');
      assert.equal(info.config.ack_policy, 'explicit');
      const list = await (await fetch(base())).json();
      assert.deepEqual(list.consumers.map((c: { name: string }) => c.name), ['worker']);
      assert.equal((await fetch(`${base()}/nobody`)).status, 404);
    });

    it('http consumers - fetch a batch, ack, nak with delay redelivers, term does not', async () => {
      for (let i = 1; i <= 3; i++) await fetch(`${f.base}/v1/subjects/jobs.work`, { method: 'POST', body: `job${i}` });
      const batch = await fetchBatch('batch=3&timeout=2000');
      assert.deepEqual(batch.map((m) => m.data), ['job1', 'job2', 'job3']);
      assert.deepEqual(batch.map((m) => m.delivered), [1, 1, 1]);
      const token = (m: { ack_token: string }): string => encodeURIComponent(m.ack_token);
      assert.equal((await fetch(`${base()}/worker/ack/${token(batch[0])}`, post())).status, 204);
      assert.equal((await fetch(`${base()}/worker/nak/${token(batch[1])}?delay=1000`, post())).status, 204);
      assert.equal((await fetch(`${base()}/worker/term/${token(batch[2])}`, post())).status, 204);
      // nothing ready right away (the nak is delayed)
      assert.deepEqual(await fetchBatch('batch=5&timeout=0'), []);
      // the long poll waits for the delayed redelivery and returns when it arrives
      const started = Date.now();
      const again = await fetchBatch('batch=5&timeout=30000');
      assert.deepEqual(again.map((m) => [m.data, m.delivered]), [['job2', 2]]);
      assert.ok(Date.now() - started < 20_000, 'the fetch returned when the message arrived, not at the timeout');
      await fetch(`${base()}/worker/ack/${token(again[0])}`, post());
      const info = await (await fetch(`${base()}/worker`)).json();
      assert.equal(info.num_ack_pending, 0);
    });

    it('http consumers - a batch larger than what is ready returns what is ready at once', async () => {
      for (const body of ['p1', 'p2']) await fetch(`${f.base}/v1/subjects/jobs.partial`, { method: 'POST', body });
      const started = Date.now();
      const got = await fetchBatch('batch=5&timeout=30000');
      assert.deepEqual(got.map((m) => m.data), ['p1', 'p2']);
      assert.ok(Date.now() - started < 20_000, `returned before the timeout: took ${Date.now() - started} ms`);
      for (const m of got) await fetch(`${base()}/worker/ack/${encodeURIComponent(m.ack_token)}`, post());
    });

    it('http consumers - an empty long poll ends at its timeout with no messages', async () => {
      const started = Date.now();
      assert.deepEqual(await fetchBatch('batch=2&timeout=300'), []);
      assert.ok(Date.now() - started >= 250);
    });

    it('http consumers - an ack token of another consumer is refused', async () => {
      const forged = encodeURIComponent('$JS.ACK.OTHER.worker.1.1.1.1700000000000000000.0');
      const res = await fetch(`${base()}/worker/ack/${forged}`, post());
      assert.equal(res.status, 400);
      assert.equal((await res.json()).code, 'invalid_request');
      assert.equal((await fetch(`${base()}/worker/ack/${encodeURIComponent('orders.new')}`, post())).status, 400);
    });

    it('http consumers - delete', async () => {
      assert.equal((await fetch(`${base()}/worker`, { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(`${base()}/worker`)).status, 404);
    });
  });
}
