// Consumer lifecycle and delivery options with @nats-io/jetstream: ephemerals
// going away after inactive_threshold, headers_only, +NXT (ack and pull in one
// message), replay_policy original, and a restart of Switchboard keeping a
// durable consumer's config and position.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, jetstream, jetstreamManager, ReplayPolicy } from '@nats-io/jetstream';
import { connect, createInbox, headers } from '@nats-io/transport-node';
import { jetStreamTargets, startSwitchboardJetStream, tempStoreDir } from '../helpers/jetstream.ts';
import { eventually, openFixture, sleep, type ConsumerFixture } from '../helpers/jetstream-consumers.ts';

const MS = 1_000_000;

for (const target of jetStreamTargets()) {
  describe(`jetstream consumers - lifecycle (${target.name})`, { peers: target.peers }, () => {
    let f: ConsumerFixture;
    before(async () => {
      f = await openFixture(target);
    });
    after(async () => {
      await f?.close();
    });

    it('lifecycle - an ephemeral consumer is removed after inactive_threshold without pulls', async () => {
      await f.jsm.streams.add({ name: 'LE', subjects: ['le'] });
      const ci = await f.jsm.consumers.add('LE', { ack_policy: AckPolicy.Explicit, inactive_threshold: 400 * MS });
      assert.equal(ci.config.durable_name, undefined);
      assert.equal((await f.jsm.consumers.info('LE', ci.name)).name, ci.name);
      await eventually(async () => (await f.jsm.consumers.list('LE').next()).length === 0, 5000, 100);
    });

    it('lifecycle - CREATED and DELETED advisories name the stream, the consumer and the action', async () => {
      await f.jsm.streams.add({ name: 'LA', subjects: ['la'] });
      const events: Array<Record<string, unknown>> = [];
      const sub = f.nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.*.LA.*', { callback: (_e, m) => void events.push({ subject: m.subject, ...m.json<Record<string, unknown>>() }) });
      await f.nc.flush();
      await f.jsm.consumers.add('LA', { durable_name: 'A', ack_policy: AckPolicy.Explicit });
      await f.jsm.consumers.delete('LA', 'A');
      await eventually(() => events.length >= 2);
      sub.unsubscribe();
      assert.deepEqual(events.map((e) => [e.subject, e.type, e.stream, e.consumer, e.action]), [
        ['$JS.EVENT.ADVISORY.CONSUMER.CREATED.LA.A', 'io.nats.jetstream.advisory.v1.consumer_action', 'LA', 'A', 'create'],
        ['$JS.EVENT.ADVISORY.CONSUMER.DELETED.LA.A', 'io.nats.jetstream.advisory.v1.consumer_action', 'LA', 'A', 'delete'],
      ]);
    });

    it('lifecycle - headers_only delivers the headers and Nats-Msg-Size without the body', async () => {
      await f.jsm.streams.add({ name: 'LH', subjects: ['lh'] });
      const h = headers();
      h.set('X-Kind', 'big');
      await f.js.publish('lh', 'y'.repeat(1000), { headers: h });
      await f.jsm.consumers.add('LH', { durable_name: 'H', ack_policy: AckPolicy.Explicit, headers_only: true });
      const m = await (await f.js.consumers.get('LH', 'H')).next({ expires: 2000 });
      assert.equal(m?.data.length, 0);
      assert.equal(m?.headers?.get('Nats-Msg-Size'), '1000');
      assert.equal(m?.headers?.get('X-Kind'), 'big');
    });

    it('lifecycle - +NXT acks the message and pulls the next one to the reply subject', async () => {
      await f.jsm.streams.add({ name: 'LN', subjects: ['ln'] });
      for (let i = 0; i < 3; i++) await f.js.publish('ln', `m${i}`);
      await f.jsm.consumers.add('LN', { durable_name: 'N', ack_policy: AckPolicy.Explicit });
      const first = await (await f.js.consumers.get('LN', 'N')).next({ expires: 2000 });
      assert.equal(first?.seq, 1);
      const inbox = createInbox();
      const sub = f.nc.subscribe(inbox, { max: 2 });
      f.nc.publish((first as unknown as { reply: string }).reply, '+NXT {"batch":2}', { reply: inbox });
      const got: string[] = [];
      for await (const m of sub) got.push(m.string());
      assert.deepEqual(got, ['m1', 'm2']);
      const info = await f.jsm.consumers.info('LN', 'N');
      assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending], [1, 2]);
    });

    it('lifecycle - replay_policy original keeps the gaps between stored messages', async () => {
      await f.jsm.streams.add({ name: 'LR', subjects: ['lr'] });
      await f.js.publish('lr', 'a');
      await sleep(400);
      await f.js.publish('lr', 'b');
      await f.jsm.consumers.add('LR', { durable_name: 'R', ack_policy: AckPolicy.None, replay_policy: ReplayPolicy.Original });
      const c = await f.js.consumers.get('LR', 'R');
      const times: number[] = [];
      for await (const _m of await c.fetch({ max_messages: 2, expires: 3000 })) times.push(Date.now());
      assert.equal(times.length, 2);
      assert.ok(times[1] - times[0] >= 300, `gap ${times[1] - times[0]} ms`);
    });
  });
}

describe('jetstream consumers - restart (switchboard)', () => {
  const storeDir = tempStoreDir('sb-crestart-');
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('lifecycle - a durable consumer keeps its config, position and pending acks across a restart; ephemerals do not come back', async () => {
    let server = await startSwitchboardJetStream({ storeDir });
    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    let js = jetstream(nc);
    await jsm.streams.add({ name: 'RS', subjects: ['rs'] });
    for (let i = 0; i < 10; i++) await js.publish('rs', `m${i}`);
    await jsm.consumers.add('RS', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 500 * MS, filter_subject: 'rs' });
    await jsm.consumers.add('RS', { name: 'eph', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('RS', 'D');
    for await (const m of await c.fetch({ max_messages: 4, expires: 1000 })) if (m.seq !== 3) await m.ackAck();
    await nc.close();
    await server.stop();

    server = await startSwitchboardJetStream({ storeDir });
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    const info = await jsm.consumers.info('RS', 'D');
    assert.equal(info.config.filter_subject, 'rs');
    assert.equal(info.config.ack_wait, 500 * MS);
    assert.deepEqual([info.delivered.stream_seq, info.ack_floor.stream_seq, info.num_ack_pending, info.num_pending], [4, 2, 1, 6]);
    assert.deepEqual((await jsm.consumers.list('RS').next()).map((x) => x.name), ['D']);
    const seqs: number[] = [];
    const again = await js.consumers.get('RS', 'D');
    for await (const m of await again.fetch({ max_messages: 7, expires: 2000 })) {
      seqs.push(m.seq);
      m.ack();
    }
    assert.deepEqual([...seqs].sort((a, b) => a - b), [3, 5, 6, 7, 8, 9, 10]);
    await nc.close();
    await server.stop();
  });
});
