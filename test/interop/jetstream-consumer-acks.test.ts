// Acknowledgements and redelivery with @nats-io/jetstream: nak (now and with a
// delay), term, working, redelivery after ack_wait and per backoff, max_deliver
// with its advisory, max_ack_pending, pull heartbeats, and workqueue/interest
// retention, against Switchboard and nats-server -js.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, RetentionPolicy, type JsMsg } from '@nats-io/jetstream';
import { jetStreamTargets } from '../helpers/jetstream.ts';
import { eventually, openFixture, rawPull, sleep, type ConsumerFixture } from '../helpers/jetstream-consumers.ts';

const MS = 1_000_000;

for (const target of jetStreamTargets()) {
  describe(`jetstream consumers - acks and redelivery (${target.name})`, { peers: target.peers }, () => {
    let f: ConsumerFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(async () => {
      await f?.close();
    });

    async function one(stream: string, name: string, expires = 2000): Promise<JsMsg | null> {
      const c = await f.js.consumers.get(stream, name);
      return c.next({ expires });
    }

    it('acks - nak redelivers at once, with the delivery count raised; term never comes back', async () => {
      await f.jsm.streams.add({ name: 'AN', subjects: ['an'] });
      await f.js.publish('an', 'a');
      await f.js.publish('an', 'b');
      await f.jsm.consumers.add('AN', { durable_name: 'N', ack_policy: AckPolicy.Explicit, ack_wait: 10_000 * MS });
      const first = await one('AN', 'N');
      assert.equal(first?.info.deliveryCount, 1);
      first?.nak();
      const again = await one('AN', 'N');
      assert.deepEqual([again?.seq, again?.info.deliveryCount, again?.redelivered], [1, 2, true]);
      again?.term('bad data');
      const second = await one('AN', 'N');
      assert.equal(second?.seq, 2);
      second?.ack();
      assert.equal(await one('AN', 'N', 1000), null);
      const info = await f.jsm.consumers.info('AN', 'N');
      // Current nats-server treats +TERM as an ack (processTermLocked); 2.9 left the terminated message pending.
      if (target.name === 'switchboard') assert.deepEqual([info.num_ack_pending, info.ack_floor.stream_seq], [0, 2]);
      else assert.equal(info.num_ack_pending <= 1, true);
    });

    it('acks - nak with a delay holds the message back for that long', async () => {
      await f.jsm.streams.add({ name: 'AD', subjects: ['ad'] });
      await f.js.publish('ad', 'x');
      await f.jsm.consumers.add('AD', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 10_000 * MS });
      const m = await one('AD', 'D');
      const t0 = Date.now();
      m?.nak(600);
      const again = await one('AD', 'D', 3000);
      assert.equal(again?.seq, 1);
      assert.ok(Date.now() - t0 >= 450, `redelivered after ${Date.now() - t0} ms`);
      await again?.ackAck();
    });

    it('acks - no ack within ack_wait redelivers; working (+WPI) pushes the deadline out', async () => {
      await f.jsm.streams.add({ name: 'AW', subjects: ['aw'] });
      await f.js.publish('aw', 'x');
      // +WPI every 200 ms against a 1.5 s ack_wait: a busy machine would have to stall
      // a single pause 7 times over to let the deadline pass.
      const ackWaitMs = 1_500;
      await f.jsm.consumers.add('AW', { durable_name: 'W', ack_policy: AckPolicy.Explicit, ack_wait: ackWaitMs * MS });
      const m = await one('AW', 'W');
      const delivered = Date.now();
      while (Date.now() - delivered < 2 * ackWaitMs) {
        await sleep(200);
        m?.working();
      }
      // Twice ack_wait after delivery, and still not redelivered thanks to +WPI.
      const info = await f.jsm.consumers.info('AW', 'W');
      assert.deepEqual([info.num_ack_pending, info.num_redelivered], [1, 0]);
      const again = await one('AW', 'W', 15_000);
      assert.equal(again?.seq, 1);
      assert.ok((again?.info.deliveryCount ?? 0) >= 2);
      await again?.ackAck();
    });

    it('acks - backoff spaces redeliveries; max_deliver stops them and sends the MAX_DELIVERIES advisory', async () => {
      await f.jsm.streams.add({ name: 'AB', subjects: ['ab'] });
      await f.js.publish('ab', 'x');
      const advisories: Array<Record<string, unknown>> = [];
      const sub = f.nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.AB.B', { callback: (_e, m) => void advisories.push(m.json()) });
      await f.jsm.consumers.add('AB', { durable_name: 'B', ack_policy: AckPolicy.Explicit, backoff: [200 * MS, 600 * MS], max_deliver: 3 });
      const c = await f.js.consumers.get('AB', 'B');
      const times: number[] = [];
      const t0 = Date.now();
      const msgs = await c.consume({ max_messages: 10, expires: 1000 });
      const reader = (async () => {
        for await (const m of msgs) times.push(Date.now() - t0 + 0 * m.seq);
      })();
      await eventually(() => advisories.length > 0, 5000);
      await sleep(800);
      await msgs.close();
      await reader;
      sub.unsubscribe();
      assert.equal(times.length, 3, `deliveries at ${times}`);
      assert.ok(times[1] - times[0] >= 150, `first redelivery after ${times[1] - times[0]} ms`);
      assert.ok(times[2] - times[1] >= 500, `second redelivery after ${times[2] - times[1]} ms`);
      assert.equal(advisories[0].type, 'io.nats.jetstream.advisory.v1.max_deliver');
      assert.deepEqual([advisories[0].stream, advisories[0].consumer, advisories[0].stream_seq, advisories[0].deliveries], ['AB', 'B', 1, 3]);
    });

    it('acks - max_ack_pending stops new deliveries until something is acked', async () => {
      await f.jsm.streams.add({ name: 'AP', subjects: ['ap'] });
      for (let i = 0; i < 10; i++) await f.js.publish('ap', String(i));
      await f.jsm.consumers.add('AP', { durable_name: 'P', ack_policy: AckPolicy.Explicit, max_ack_pending: 3, ack_wait: 30_000 * MS });
      const c = await f.js.consumers.get('AP', 'P');
      const got: JsMsg[] = [];
      for await (const m of await c.fetch({ max_messages: 10, expires: 1000 })) got.push(m);
      assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
      got[0].ack();
      got[1].ack();
      const more: number[] = [];
      for await (const m of await c.fetch({ max_messages: 10, expires: 1000 })) more.push(m.seq);
      assert.deepEqual(more, [4, 5]);
      const info = await c.info();
      assert.equal(info.num_ack_pending, 3);
    });

    it('acks - a long-running consume() under max_ack_pending resumes as acks free room', async () => {
      await f.jsm.streams.add({ name: 'AM', subjects: ['am'] });
      for (let i = 0; i < 30; i++) await f.js.publish('am', String(i));
      await f.jsm.consumers.add('AM', { durable_name: 'M', ack_policy: AckPolicy.Explicit, max_ack_pending: 4, ack_wait: 30_000 * MS });
      const c = await f.js.consumers.get('AM', 'M');
      const msgs = await c.consume({ max_messages: 100 });
      const seqs: number[] = [];
      for await (const m of msgs) {
        seqs.push(m.seq);
        setTimeout(() => m.ack(), 20);
        if (seqs.length === 30) break;
      }
      assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i + 1));
    });

    it('acks - ack none advances the floor on delivery; ack all acks everything below', async () => {
      await f.jsm.streams.add({ name: 'AA', subjects: ['aa'] });
      for (let i = 0; i < 5; i++) await f.js.publish('aa', String(i));
      await f.jsm.consumers.add('AA', { durable_name: 'all', ack_policy: AckPolicy.All });
      const c = await f.js.consumers.get('AA', 'all');
      const got: JsMsg[] = [];
      for await (const m of await c.fetch({ max_messages: 5, expires: 1000 })) got.push(m);
      await got[3].ackAck();
      const info = await c.info();
      assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending], [4, 1]);
      await f.jsm.consumers.add('AA', { durable_name: 'none', ack_policy: AckPolicy.None });
      const n = await f.js.consumers.get('AA', 'none');
      for await (const _m of await n.fetch({ max_messages: 5, expires: 1000 })) void _m;
      const ninfo = await n.info();
      assert.deepEqual([ninfo.ack_floor.stream_seq, ninfo.num_ack_pending], [5, 0]);
    });

    it('acks - a pull request with idle_heartbeat gets 100 Idle Heartbeat while waiting', async () => {
      await f.jsm.streams.add({ name: 'AH', subjects: ['ah'] });
      await f.jsm.consumers.add('AH', { durable_name: 'H', ack_policy: AckPolicy.Explicit });
      const got = await rawPull(f.nc, 'AH', 'H', { batch: 1, expires: 1_000 * MS, idle_heartbeat: 200 * MS }, 2500, (g) => g.some((d) => d.status === 408));
      const hbs = got.filter((d) => d.status === 100);
      assert.ok(hbs.length >= 3, `heartbeats: ${hbs.length}`);
      assert.equal(hbs[0].description, 'Idle Heartbeat');
      assert.equal(hbs[0].headers['Nats-Last-Consumer'], '0');
      assert.equal(got.at(-1)?.status, 408);
      const bad = await rawPull(f.nc, 'AH', 'H', { batch: 1, expires: 100 * MS, idle_heartbeat: 200 * MS }, 2000, (g) => g.length > 0);
      assert.equal(bad[0].status, 400);
    });

    it('acks - workqueue retention removes a message once acked; interest removes it once every consumer acked', async () => {
      await f.jsm.streams.add({ name: 'WQ', subjects: ['wq'], retention: RetentionPolicy.Workqueue });
      for (let i = 0; i < 3; i++) await f.js.publish('wq', String(i));
      await f.jsm.consumers.add('WQ', { durable_name: 'W', ack_policy: AckPolicy.Explicit });
      const w = await f.js.consumers.get('WQ', 'W');
      for await (const m of await w.fetch({ max_messages: 2, expires: 1000 })) await m.ackAck();
      await eventually(async () => (await f.jsm.streams.info('WQ')).state.messages === 1);
      const second = await f.jsm.consumers.add('WQ', { durable_name: 'W2', ack_policy: AckPolicy.Explicit }).catch((e: { code?: number }) => e);
      assert.equal((second as { code?: number }).code, 10099);

      await f.jsm.streams.add({ name: 'IN', subjects: ['in'], retention: RetentionPolicy.Interest });
      await f.jsm.consumers.add('IN', { durable_name: 'a', ack_policy: AckPolicy.Explicit });
      await f.jsm.consumers.add('IN', { durable_name: 'b', ack_policy: AckPolicy.Explicit });
      await f.js.publish('in', 'x');
      const a = await one('IN', 'a');
      await a?.ackAck();
      assert.equal((await f.jsm.streams.info('IN')).state.messages, 1);
      const b = await one('IN', 'b');
      await b?.ackAck();
      await eventually(async () => (await f.jsm.streams.info('IN')).state.messages === 0);
      // A message only the deleted consumer still wanted goes away with it.
      await f.js.publish('in', 'y');
      await (await one('IN', 'a'))?.ackAck();
      assert.equal((await f.jsm.streams.info('IN')).state.messages, 1);
      await f.jsm.consumers.delete('IN', 'b');
      await eventually(async () => (await f.jsm.streams.info('IN')).state.messages === 0);
    });

    it('acks - a client subscribed to $JS.ACK.> sees the acks, and they still reach the consumer', async () => {
      await f.jsm.streams.add({ name: 'AWATCH', subjects: ['awatch'] });
      for (const body of ['1', '2', '3']) await f.js.publish('awatch', body);
      await f.jsm.consumers.add('AWATCH', { durable_name: 'WATCHED', ack_policy: AckPolicy.Explicit, ack_wait: 10_000 * MS });
      // Acked with no watcher, then with one on $JS.ACK.>, then with the watcher gone.
      await (await one('AWATCH', 'WATCHED'))?.ackAck();
      const seen: string[] = [];
      const watcher = f.nc.subscribe('$JS.ACK.>', { callback: (_err, m) => void seen.push(`${m.subject} ${m.string()}`) });
      await f.nc.flush();
      const second = await one('AWATCH', 'WATCHED');
      await second?.ackAck();
      await eventually(() => seen.length === 1);
      watcher.unsubscribe();
      await f.nc.flush();
      await (await one('AWATCH', 'WATCHED'))?.ackAck();
      const info = await f.jsm.consumers.info('AWATCH', 'WATCHED');
      assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending], [3, 0]);
      assert.ok(seen[0].startsWith('$JS.ACK.AWATCH.WATCHED.1.2.2.'), seen[0]);
      assert.ok(seen[0].endsWith(' +ACK'), seen[0]);
    });
  });
}
