// Push and ordered consumers with @nats-io/jetstream: a push consumer on a
// deliver subject, the same with a queue group splitting the work, heartbeats
// and flow control, and ordered consumers (pull and push), against Switchboard
// and nats-server -js.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { createInbox } from '@nats-io/transport-node';
import { jetStreamTargets } from '../helpers/jetstream.ts';
import { eventually, openFixture, type ConsumerFixture } from '../helpers/jetstream-consumers.ts';

for (const target of jetStreamTargets()) {
  describe(`jetstream consumers - push and ordered (${target.name})`, { peers: target.peers }, () => {
    let f: ConsumerFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(async () => {
      await f?.close();
    });

    async function publish(subject: string, n: number, from = 0): Promise<void> {
      for (let i = from; i < from + n; i++) await f.js.publish(subject, `m${i}`);
    }

    it('push - a push consumer delivers stored then new messages to its deliver subject', async () => {
      await f.jsm.streams.add({ name: 'PU', subjects: ['pu.>'] });
      await publish('pu.a', 5);
      const deliver = createInbox();
      await f.jsm.consumers.add('PU', { durable_name: 'P', ack_policy: AckPolicy.Explicit, deliver_subject: deliver });
      const c = await f.js.consumers.getPushConsumer('PU', 'P');
      const msgs = await c.consume();
      const seen: number[] = [];
      const done = (async () => {
        for await (const m of msgs) {
          seen.push(m.seq);
          m.ack();
          if (seen.length === 10) break;
        }
      })();
      await eventually(() => seen.length >= 5);
      assert.equal((await f.jsm.consumers.info('PU', 'P')).push_bound, true);
      await publish('pu.b', 5, 5);
      await done;
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await eventually(async () => (await f.jsm.consumers.info('PU', 'P')).num_ack_pending === 0);
    });

    it('push - a deliver_group splits the messages between queue subscribers, each once', async () => {
      await f.jsm.streams.add({ name: 'PQ', subjects: ['pq'] });
      const deliver = createInbox();
      await f.jsm.consumers.add('PQ', { durable_name: 'Q', ack_policy: AckPolicy.Explicit, deliver_subject: deliver, deliver_group: 'workers' });
      const counts = [0, 0];
      const all: number[] = [];
      const loops = await Promise.all(
        [0, 1].map(async (i) => {
          const c = await f.js.consumers.getPushConsumer('PQ', 'Q');
          const msgs = await c.consume();
          return { msgs, run: (async () => {
            for await (const m of msgs) {
              counts[i]++;
              all.push(m.seq);
              m.ack();
            }
          })() };
        }),
      );
      await publish('pq', 40);
      await eventually(() => all.length >= 40);
      for (const l of loops) await l.msgs.close();
      assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.ok(counts[0] > 0 && counts[1] > 0, `both members got work: ${counts}`);
    });

    it('push - idle heartbeats reach the client while nothing is delivered', async () => {
      await f.jsm.streams.add({ name: 'PH', subjects: ['ph'] });
      const deliver = createInbox();
      await f.jsm.consumers.add('PH', { durable_name: 'H', ack_policy: AckPolicy.Explicit, deliver_subject: deliver, idle_heartbeat: 200_000_000, flow_control: true });
      const c = await f.js.consumers.getPushConsumer('PH', 'H');
      const msgs = await c.consume();
      let heartbeats = 0;
      (async () => {
        for await (const s of msgs.status()) if (s.type === 'heartbeat') heartbeats++;
      })().catch(() => {});
      const reader = (async () => {
        for await (const m of msgs) m.ack();
      })();
      await eventually(() => heartbeats >= 2, 3000);
      await msgs.close();
      await reader;
    });

    it('push - flow control: a large backlog arrives whole through flow-control requests', async () => {
      await f.jsm.streams.add({ name: 'PF', subjects: ['pf'] });
      const body = 'x'.repeat(4096);
      await Promise.all(Array.from({ length: 300 }, () => f.js.publish('pf', body)));
      const deliver = createInbox();
      await f.jsm.consumers.add('PF', { durable_name: 'F', ack_policy: AckPolicy.None, deliver_subject: deliver, idle_heartbeat: 1_000_000_000, flow_control: true });
      const c = await f.js.consumers.getPushConsumer('PF', 'F');
      const msgs = await c.consume();
      let flow = 0;
      (async () => {
        for await (const s of msgs.status()) if (s.type === 'flow_control') flow++;
      })().catch(() => {});
      let n = 0;
      for await (const _m of msgs) if (++n === 300) break;
      assert.equal(n, 300);
      assert.ok(flow >= 1, 'at least one flow-control request was answered');
    });

    it('ordered - an ordered pull consumer reads the stream in order with consume and fetch', async () => {
      await f.jsm.streams.add({ name: 'OR', subjects: ['or.*'] });
      await publish('or.a', 20);
      // filter_subjects is nats-server 2.10 (the client refuses it against 2.9): the reference reads unfiltered.
      const oc = await f.js.consumers.get('OR', target.name === 'switchboard' ? { filter_subjects: ['or.a'] } : {});
      const seqs: number[] = [];
      const msgs = await oc.consume({ max_messages: 6 });
      for await (const m of msgs) {
        seqs.push(m.seq);
        if (m.info.pending === 0) break;
      }
      assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
      const again = await f.js.consumers.get('OR', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 15 });
      const fetched: number[] = [];
      for await (const m of await again.fetch({ max_messages: 100, expires: 1000 })) fetched.push(m.seq);
      assert.deepEqual(fetched, [15, 16, 17, 18, 19, 20]);
    });

    it('ordered - an ordered push consumer delivers everything in order', async () => {
      await f.jsm.streams.add({ name: 'OP', subjects: ['op'] });
      await publish('op', 15);
      const oc = await f.js.consumers.getPushConsumer('OP');
      const msgs = await oc.consume();
      const seqs: number[] = [];
      for await (const m of msgs) {
        seqs.push(m.seq);
        if (seqs.length === 15) break;
      }
      assert.deepEqual(seqs, Array.from({ length: 15 }, (_, i) => i + 1));
    });
  });
}
