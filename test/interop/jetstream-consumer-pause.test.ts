// Consumer pause and resume (nats-server 2.11: `pause_until`,
// CONSUMER.PAUSE) and consumer reset (2.14, ADR-60: CONSUMER.RESET), through
// the official @nats-io/jetstream client where it offers them and raw API
// requests for the rest, against Switchboard and a current nats-server
// (NATS_SERVER_NEW). Shapes and err_codes: nats-server's jetstream_api.go and
// errors.json (10014, 10204).

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const EPOCH = '1970-01-01T00:00:00Z';


/** A time as nats-server writes it: RFC 3339 with the fraction's trailing zeros dropped. */
function rfc3339(at: Date): string {
  return at.toISOString().replace('.000Z', 'Z').replace(/(\.\d*?)0*Z$/, '$1Z');
}
for (const target of currentJetStreamTargets()) {
  describe(`jetstream consumer pause and reset (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    /** Fetch up to `max` messages within `expires` ms: [stream seq, delivery seq] and when each came. */
    async function fetch(stream: string, consumer: string, max: number, expires: number): Promise<Array<{ seq: number; dseq: number; at: number }>> {
      const c = await ctx.js.consumers.get(stream, consumer);
      const out: Array<{ seq: number; dseq: number; at: number }> = [];
      for await (const m of await c.fetch({ max_messages: max, expires })) {
        out.push({ seq: m.seq, dseq: m.info.deliverySequence, at: Date.now() });
        m.ack();
      }
      return out;
    }

    it('consumer pause - a paused pull consumer delivers nothing until pause_until, then serves the waiting request', async () => {
      await ctx.jsm.streams.add({ name: 'PAUSE', subjects: ['pause.>'] });
      for (let i = 0; i < 3; i++) await ctx.js.publish('pause.a', String(i));
      await ctx.jsm.consumers.add('PAUSE', { durable_name: 'p', ack_policy: AckPolicy.Explicit });
      const until = new Date(Date.now() + 1500);
      const r = await ctx.jsm.consumers.pause('PAUSE', 'p', until);
      assert.equal(r.paused, true);
      assert.equal(r.pause_until, rfc3339(until));
      const info = await ctx.jsm.consumers.info('PAUSE', 'p');
      assert.equal(info.paused, true);
      assert.ok(info.pause_remaining > 0 && info.pause_remaining <= 1.5e9, String(info.pause_remaining));
      assert.equal(info.config.pause_until, r.pause_until);
      const got = await fetch('PAUSE', 'p', 3, 4000);
      assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
      assert.ok(got[0].at >= until.getTime() - 50, `first delivery ${got[0].at - until.getTime()} ms after pause_until`);
      const after = await ctx.jsm.consumers.info('PAUSE', 'p');
      assert.equal(after.paused, undefined);
      assert.equal(after.config.pause_until, r.pause_until);
    });

    it('consumer pause - resume ends a pause at once; created paused; an update does not change pause_until', async () => {
      await ctx.jsm.streams.add({ name: 'RESUME', subjects: ['resume.>'] });
      await ctx.js.publish('resume.a', 'x');
      // In the servers' own form (Go's RFC 3339 drops trailing zeros of the fraction), so echoes compare equal.
      const until = rfc3339(new Date(Date.now() + 3_600_000));
      const ci = await ctx.jsm.consumers.add('RESUME', { durable_name: 'r', ack_policy: AckPolicy.Explicit, pause_until: until });
      assert.equal(ci.paused, true);
      assert.equal(ci.config.pause_until, until);
      assert.deepEqual(await fetch('RESUME', 'r', 1, 1000), []);
      // An update with another pause_until keeps the one the consumer has.
      const updated = await ctx.jsm.consumers.update('RESUME', 'r', { description: 'still paused', pause_until: ZERO_TIME } as never);
      assert.deepEqual([updated.paused, updated.config.pause_until, updated.config.description], [true, until, 'still paused']);
      // nats.js resumes with the epoch: an instant, kept as one (Go's zero time would clear it).
      const resumed = await ctx.jsm.consumers.resume('RESUME', 'r');
      assert.deepEqual([resumed.paused, resumed.pause_until], [false, EPOCH]);
      assert.deepEqual([(await ctx.jsm.consumers.info('RESUME', 'r')).config.pause_until, (await ctx.jsm.consumers.info('RESUME', 'r')).paused], [EPOCH, undefined]);
      assert.deepEqual((await fetch('RESUME', 'r', 1, 1000)).map((m) => m.seq), [1]);
      const cleared = await ctx.api('$JS.API.CONSUMER.PAUSE.RESUME.r', { pause_until: ZERO_TIME });
      assert.deepEqual([cleared.paused, cleared.pause_until], [false, ZERO_TIME]);
      assert.equal((await ctx.jsm.consumers.info('RESUME', 'r')).config.pause_until, undefined);
      const missing = await ctx.api('$JS.API.CONSUMER.PAUSE.RESUME.nope', { pause_until: until });
      assert.equal(missing.error?.err_code, 10014);
      assert.equal(missing.type, 'io.nats.jetstream.api.v1.consumer_pause_response');
    });

    it('consumer reset - back to the ack floor, or to a sequence; delivery sequences start again', async () => {
      await ctx.jsm.streams.add({ name: 'RESET', subjects: ['reset.>'] });
      for (let i = 1; i <= 5; i++) await ctx.js.publish('reset.a', String(i));
      await ctx.jsm.consumers.add('RESET', { durable_name: 'x', ack_policy: AckPolicy.Explicit, ack_wait: 30e9 });
      const c = await ctx.js.consumers.get('RESET', 'x');
      let n = 0;
      for await (const m of await c.fetch({ max_messages: 3, expires: 1000 })) if (++n <= 2) m.ack();
      await ctx.nc.flush();
      const r = await ctx.api('$JS.API.CONSUMER.RESET.RESET.x');
      assert.equal(r.error, undefined, JSON.stringify(r.error));
      assert.equal(r.type, 'io.nats.jetstream.api.v1.consumer_reset_response');
      assert.equal(r.reset_seq, 3);
      assert.deepEqual([r.delivered, r.ack_floor, r.num_ack_pending, r.num_pending], [{ consumer_seq: 0, stream_seq: 2 }, { consumer_seq: 0, stream_seq: 2 }, 0, 3]);
      assert.deepEqual((await fetch('RESET', 'x', 5, 1000)).map((m) => [m.seq, m.dseq]), [[3, 1], [4, 2], [5, 3]]);
      const back = await ctx.api('$JS.API.CONSUMER.RESET.RESET.x', { seq: 2 });
      assert.equal(back.reset_seq, 2);
      assert.deepEqual((await fetch('RESET', 'x', 5, 1000)).map((m) => m.seq), [2, 3, 4, 5]);
    });

    it('consumer reset - refused below the start sequence or for deliver policies without one (10204)', async () => {
      await ctx.jsm.consumers.add('RESET', { durable_name: 'from3', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 3 });
      await ctx.jsm.consumers.add('RESET', { durable_name: 'new', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
      const below = await ctx.api('$JS.API.CONSUMER.RESET.RESET.from3', { seq: 2 });
      assert.deepEqual(below.error, { code: 400, err_code: 10204, description: 'invalid reset: below start seq' });
      assert.equal((await ctx.api('$JS.API.CONSUMER.RESET.RESET.from3', { seq: 4 })).reset_seq, 4);
      const notAllowed = await ctx.api('$JS.API.CONSUMER.RESET.RESET.new', { seq: 1 });
      assert.deepEqual(notAllowed.error, { code: 400, err_code: 10204, description: 'invalid reset: not allowed' });
      // Without a sequence every policy may go back to its ack floor.
      assert.equal((await ctx.api('$JS.API.CONSUMER.RESET.RESET.new')).reset_seq, 6);
      // nats-server's reset handler is the consumer's own subscription, so a missing consumer gets no answer at all;
      // Switchboard answers 10014 (consumer not found), so a client fails at once instead of timing out.
      if (target.name === 'switchboard') assert.equal((await ctx.api('$JS.API.CONSUMER.RESET.RESET.nope')).error?.err_code, 10014);
    });
  });
}
