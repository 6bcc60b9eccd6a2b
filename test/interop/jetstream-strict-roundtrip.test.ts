// Strict API vs the official client's update path: @nats-io/jetstream's
// streams.update() and consumers.update() send back the config the server
// returned in its INFO answer (Object.assign(info.config, change)), so every
// field an INFO answer's config carries must be one strict mode accepts, or
// updating anything fails. KV and object store buckets go the same way.

import assert from 'node:assert/strict';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';

for (const target of currentJetStreamTargets()) {
  describe(`jetstream strict API - info config round trip (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);

    it('strict api - streams.update of a stream with every optional block passes strict mode', async () => {
      await ctx.jsm.streams.add({ name: 'RTORIGIN', subjects: ['rtorigin.>'] });
      await ctx.jsm.streams.add({
        name: 'RT',
        subjects: ['rt.>'],
        max_msgs: 100,
        allow_direct: true,
        allow_rollup_hdrs: true,
        allow_msg_ttl: true,
        subject_delete_marker_ttl: 60_000_000_000,
        republish: { src: 'rt.>', dest: 'rtout.>' },
        subject_transform: { src: 'rt.>', dest: 'rt.>' },
        consumer_limits: { max_ack_pending: 10 },
        sources: [{ name: 'RTORIGIN', subject_transforms: [{ src: 'rtorigin.a', dest: 'rt.a' }] }],
        metadata: { k: 'v' },
      });
      const updated = await ctx.jsm.streams.update('RT', { max_msgs: 50 });
      assert.equal(updated.config.max_msgs, 50);
      await ctx.jsm.streams.add({ name: 'RTMIRROR', mirror: { name: 'RTORIGIN', opt_start_seq: 1 } });
      assert.equal((await ctx.jsm.streams.update('RTMIRROR', { max_msgs: 7 })).config.max_msgs, 7);
    });

    it('strict api - consumers.update of pull, push and priority-group consumers passes strict mode', async () => {
      // nats.js gates priority groups on the server version; Switchboard reports 2.10 (see jetstream-priority-groups.test.ts).
      (ctx.nc as unknown as { features: { set(f: string, v: string): void } }).features.set('js_priority_groups', '0.0.0');
      await ctx.jsm.streams.add({ name: 'RTC', subjects: ['rtc.>'] });
      await ctx.jsm.consumers.add('RTC', { durable_name: 'pull', ack_policy: AckPolicy.Explicit, filter_subjects: ['rtc.a', 'rtc.b'], backoff: [1_000_000_000, 2_000_000_000], max_deliver: 3, metadata: { a: 'b' } });
      assert.equal((await ctx.jsm.consumers.update('RTC', 'pull', { max_ack_pending: 5 })).config.max_ack_pending, 5);
      await ctx.jsm.consumers.add('RTC', { durable_name: 'push', deliver_subject: 'rtc-deliver', ack_policy: AckPolicy.Explicit, idle_heartbeat: 5_000_000_000, flow_control: true, deliver_policy: DeliverPolicy.New });
      assert.equal((await ctx.jsm.consumers.update('RTC', 'push', { description: 'x' })).config.description, 'x');
      await ctx.jsm.consumers.add('RTC', { durable_name: 'pinned', ack_policy: AckPolicy.Explicit, priority_groups: ['g'], priority_policy: 'pinned_client' as never, priority_timeout: 60_000_000_000 });
      assert.equal((await ctx.jsm.consumers.update('RTC', 'pinned', { description: 'y' })).config.description, 'y');
      await ctx.jsm.consumers.add('RTC', { durable_name: 'paused', ack_policy: AckPolicy.Explicit, pause_until: new Date(Date.now() + 3_600_000).toISOString() });
      assert.equal((await ctx.jsm.consumers.update('RTC', 'paused', { description: 'z' })).config.description, 'z');
    });

    it('strict api - KV and object store buckets can be updated through streams.update', async () => {
      const kvm = new Kvm(ctx.nc);
      const kv = await kvm.create('rtkv', { history: 5, ttl: 60_000, markerTTL: 5_000 });
      await kv.put('a', 'b');
      assert.equal((await ctx.jsm.streams.update('KV_rtkv', { max_msgs_per_subject: 3 })).config.max_msgs_per_subject, 3);
      const objm = new Objm(ctx.nc);
      await objm.create('rtobj');
      assert.equal((await ctx.jsm.streams.update('OBJ_rtobj', { description: 'o' })).config.description, 'o');
    });
  });
}
