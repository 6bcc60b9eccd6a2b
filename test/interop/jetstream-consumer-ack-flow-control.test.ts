// ack_policy flow_control on the origin (issue 23 item 3, nats-server 2.14's
// acked sourcing), the same assertions against Switchboard and nats-server
// 2.15.1 with raw API requests and a core subscription on the deliver subject,
// as a destination stream sees them: the config rules and their err_codes, a
// work-queue or interest stream that removes only what a flow-control answer acknowledges
// (its Nats-Last-Stream), $JS.ACK acks that change nothing, and a nats-server
// sourcing request that becomes a durable with flow-control acks on a
// work-queue stream and a suffixed ephemeral on a limits one.

import assert from 'node:assert/strict';
import { headers, type Msg, type Subscription } from '@nats-io/nats-core';
import { RetentionPolicy } from '@nats-io/jetstream';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, useJetStream } from '../helpers/jetstream.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';

const SECOND_NS = 1_000_000_000;
/** Heartbeats are 1s apart: a few of them, on a shared machine. */
const WAIT_MS = 20_000;

/** Messages arriving on a core subscription, read in order as they come. */
function inbox(sub: Subscription): { next(what: string, ok?: (m: Msg) => boolean): Promise<Msg> } {
  const got: Msg[] = [];
  (async () => {
    for await (const m of sub) got.push(m);
  })();
  return {
    async next(what, ok = () => true) {
      let found: Msg | undefined;
      await eventually(async () => {
        const i = got.findIndex(ok);
        if (i < 0) return false;
        found = got.splice(0, i + 1).pop();
        return true;
      }, WAIT_MS, 20).catch(() => assert.fail(`no ${what}`));
      return found as Msg;
    },
  };
}

const isFlowControl = (m: Msg): boolean => m.headers?.code === 100 && m.reply !== undefined && m.reply !== '';

for (const target of currentJetStreamTargets()) {
  describe(`jetstream consumers - ack_policy flow_control (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const create = (stream: string, config: Record<string, unknown>) => {
      const durable = typeof config.durable_name === 'string' ? `.${config.durable_name}` : '';
      return ctx.api(`$JS.API.CONSUMER.CREATE.${stream}${durable}`, { stream_name: stream, config });
    };

    it('config - push with flow control, the 1s heartbeat and a window are implied; pull, no window, ack wait, backoff or max deliver are refused', async () => {
      await ctx.jsm.streams.add({ name: 'FCCFG', subjects: ['fccfg.>'] });
      const made = await create('FCCFG', { durable_name: 'D', deliver_subject: 'fccfg-d', ack_policy: 'flow_control' });
      assert.equal(made.error, undefined, JSON.stringify(made.error));
      const c = made.config as Record<string, unknown>;
      assert.deepEqual([c.ack_policy, c.flow_control, c.idle_heartbeat, c.max_ack_pending, c.ack_wait, c.max_deliver], ['flow_control', true, SECOND_NS, 1000, undefined, -1]);
      const refusals: Array<[Record<string, unknown>, number, string]> = [
        [{}, 10218, 'flow control ack policy requires a push based consumer'],
        [{ deliver_subject: 'fccfg-x', max_ack_pending: -1 }, 10220, 'flow control ack policy requires max ack pending'],
        [{ deliver_subject: 'fccfg-x', ack_wait: 5 * SECOND_NS }, 10221, 'flow control ack policy requires unset ack wait'],
        [{ deliver_subject: 'fccfg-x', backoff: [SECOND_NS] }, 10221, 'flow control ack policy requires unset ack wait'],
        [{ deliver_subject: 'fccfg-x', max_deliver: 3 }, 10222, 'flow control ack policy requires unset max deliver'],
      ];
      for (const [extra, code, description] of refusals) {
        const r = await create('FCCFG', { ack_policy: 'flow_control', ...extra });
        assert.deepEqual([r.error?.err_code, r.error?.description], [code, description], JSON.stringify(extra));
      }
    });

    for (const [retention, name] of [[RetentionPolicy.Workqueue, 'FCWQ'], [RetentionPolicy.Interest, 'FCINT']] as const) {
      it(`${retention} stream - only a flow-control answer removes messages, up to its Nats-Last-Stream; $JS.ACK acks change nothing`, async () => {
        const subject = name.toLowerCase();
        await ctx.jsm.streams.add({ name, subjects: [`${subject}.>`], retention });
        const sub = ctx.nc.subscribe(`${subject}-deliver`);
        const msgs = inbox(sub);
        const made = await create(name, { durable_name: 'SRC', deliver_subject: `${subject}-deliver`, ack_policy: 'flow_control' });
        assert.equal(made.error, undefined, JSON.stringify(made.error));
        for (let i = 1; i <= 5; i++) await ctx.js.publish(`${subject}.${i}`, `w${i}`);
        const data: string[] = [];
        for (let i = 1; i <= 5; i++) {
          const m = await msgs.next(`delivery ${i}`, (x) => x.headers?.code !== 100);
          data.push(m.string());
          // An explicit ack is no ack here.
          if (i === 1) await m.respond('+ACK');
        }
        assert.deepEqual(data, ['w1', 'w2', 'w3', 'w4', 'w5']);
        // Idle with unacknowledged messages: a flow-control request goes out; until answered, nothing is removed.
        const fc = await msgs.next('flow-control request', isFlowControl);
        assert.equal((await ctx.jsm.streams.info(name)).state.messages, 5);
        const answer = (consumerSeq: number, streamSeq: number) => {
          const h = headers();
          h.set('Nats-Last-Consumer', String(consumerSeq));
          h.set('Nats-Last-Stream', String(streamSeq));
          return { headers: h };
        };
        ctx.nc.publish(fc.reply as string, '', answer(3, 3));
        await eventually(async () => (await ctx.jsm.streams.info(name)).state.messages === 2, WAIT_MS);
        const info = await ctx.jsm.consumers.info(name, 'SRC');
        assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending], [3, 2]);
        // The rest: the next idle heartbeat asks again.
        const again = await msgs.next('second flow-control request', isFlowControl);
        ctx.nc.publish(again.reply as string, '', answer(5, 5));
        await eventually(async () => (await ctx.jsm.streams.info(name)).state.messages === 0, WAIT_MS);
        assert.equal((await ctx.jsm.consumers.info(name, 'SRC')).num_ack_pending, 0);
        sub.unsubscribe();
      });
    }

    it('sourcing request - direct and sourcing with a stable name: a flow-control durable on a work-queue or interest stream, a suffixed ephemeral on a limits one', async () => {
      await ctx.jsm.streams.add({ name: 'FCSWQ', subjects: ['fcswq.>'], retention: RetentionPolicy.Workqueue });
      await ctx.jsm.streams.add({ name: 'FCSLIM', subjects: ['fcslim.>'] });
      const request = { name: 'JS_SRC_abc', deliver_subject: 'fcs-d', ack_policy: 'none', ack_wait: 22 * 3600 * SECOND_NS, max_deliver: 1, idle_heartbeat: SECOND_NS, flow_control: true, direct: true, sourcing: true, inactive_threshold: 10 * SECOND_NS };
      const wq = await create('FCSWQ', request);
      assert.equal(wq.error, undefined, JSON.stringify(wq.error));
      const w = wq.config as Record<string, unknown>;
      assert.deepEqual([wq.name, w.durable_name, w.ack_policy, w.direct, w.sourcing, w.ack_wait, w.max_deliver, w.inactive_threshold], ['JS_SRC_abc', 'JS_SRC_abc', 'flow_control', undefined, true, undefined, -1, undefined]);
      // Asked again (the destination restarted) with a later start: the same durable, its start kept.
      const again = await create('FCSWQ', { ...request, deliver_subject: 'fcs-d2', deliver_policy: 'by_start_sequence', opt_start_seq: 7 });
      assert.equal(again.error, undefined, JSON.stringify(again.error));
      assert.deepEqual([again.name, again.config.deliver_subject, again.config.deliver_policy, again.config.opt_start_seq], ['JS_SRC_abc', 'fcs-d2', 'all', undefined]);
      await ctx.jsm.streams.add({ name: 'FCSINT', subjects: ['fcsint.>'], retention: RetentionPolicy.Interest });
      const int = await create('FCSINT', request);
      assert.deepEqual([int.name, int.config.durable_name, int.config.ack_policy], ['JS_SRC_abc', 'JS_SRC_abc', 'flow_control']);
      const lim = await create('FCSLIM', request);
      assert.equal(lim.error, undefined, JSON.stringify(lim.error));
      assert.match(lim.name, /^JS_SRC_abc-.+/);
      assert.deepEqual([lim.config.durable_name, lim.config.ack_policy, lim.config.direct, lim.config.sourcing], [undefined, 'none', true, true]);
    });
  });
}
