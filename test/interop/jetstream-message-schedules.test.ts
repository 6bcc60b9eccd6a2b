// Message schedules (ADR-51, nats-server 2.12/2.14): `allow_msg_schedules`,
// `Nats-Schedule` (`@at`, `@every`, cron, `Nats-Schedule-Time-Zone`), its
// target, source, TTL and rollup, the headers a produced message carries, one
// schedule per subject, cancelling by delete, purge, a plain message or
// `Nats-Schedule-Next: purge`, and every error code a publish or a config
// gets. Through the official @nats-io/jetstream client (raw headers on
// js.publish), against Switchboard and nats-server 2.15.1 (NATS_SERVER_NEW).
// Only what shows within a few seconds: `@every 1s`, `@at` a few seconds ahead.

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { AckPolicy, RetentionPolicy, StorageType, type StoredMsg } from '@nats-io/jetstream';
import { currentJetStreamTargets, rejectsWithCode, useJetStream } from '../helpers/jetstream.ts';
import { eventually, sleep } from '../helpers/jetstream-consumers.ts';

const hdrs = (fields: Record<string, string>): MsgHdrs => {
  const h = headers();
  for (const [k, v] of Object.entries(fields)) h.set(k, v);
  return h;
};
/** RFC3339 `seconds` from now, whole seconds (as Go prints them). */
const inSeconds = (seconds: number): string => new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toISOString().replace('.000Z', 'Z');
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

for (const target of currentJetStreamTargets()) {
  describe(`jetstream message schedules (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const last = (stream: string, subject: string): Promise<StoredMsg | null> => ctx.jsm.streams.getMessage(stream, { last_by_subj: subject });
    const count = async (stream: string, subject: string): Promise<number> =>
      (await ctx.jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    const schedule = (subject: string, fields: Record<string, string>, body = 'payload') => ctx.js.publish(subject, body, { headers: hdrs(fields) });

    it('message schedules - config: allow_msg_schedules turns roll-ups on; discard new, counters, mirrors and sources refuse it; it cannot be turned off', async () => {
      const si = await ctx.jsm.streams.add({ name: 'SCFG', subjects: ['scfg.>'], allow_msg_schedules: true, deny_purge: true });
      assert.deepEqual([si.config.allow_msg_schedules, si.config.allow_rollup_hdrs, si.config.deny_purge], [true, true, false]);
      await rejectsWithCode(ctx.jsm.streams.update('SCFG', { allow_msg_schedules: false }), 10052, 'message schedules can not be disabled');
      const create = (name: string, extra: Record<string, unknown>): Promise<Record<string, any>> =>
        ctx.api(`$JS.API.STREAM.CREATE.${name}`, { name, ...extra });
      assert.deepEqual((await create('SC1', { subjects: ['sc1'], allow_msg_schedules: true, discard: 'new' })).error,
        { code: 500, err_code: 10052, description: 'message scheduling cannot use discard new' });
      assert.equal((await create('SC2', { subjects: ['sc2'], allow_msg_schedules: true, allow_msg_counter: true })).error?.description, 'counter stream cannot use message schedules');
      assert.deepEqual((await create('SC3', { mirror: { name: 'SCFG' }, allow_msg_schedules: true })).error,
        { code: 400, err_code: 10186, description: 'stream mirrors can not also schedule messages' });
      assert.deepEqual((await create('SC4', { sources: [{ name: 'SCFG' }], allow_msg_schedules: true })).error,
        { code: 400, err_code: 10187, description: 'stream source can not also schedule messages' });
      // Switched on later by an update.
      await ctx.jsm.streams.add({ name: 'SLATER', subjects: ['slater.>'] });
      const updated = await ctx.jsm.streams.update('SLATER', { allow_msg_schedules: true });
      assert.deepEqual([updated.config.allow_msg_schedules, updated.config.allow_rollup_hdrs], [true, true]);
    });

    it('message schedules - @at: the message reaches its target after its time with Nats-Scheduler and Nats-Schedule-Next: purge, and the schedule goes', async () => {
      await ctx.jsm.streams.add({ name: 'SAT', subjects: ['sat.>'], allow_msg_schedules: true, allow_msg_ttl: true });
      const at = inSeconds(2);
      const ack = await schedule('sat.schedule.one', {
        'Nats-Schedule': `@at ${at}`,
        'Nats-Schedule-Target': 'sat.orders',
        'Nats-Schedule-TTL': '5m',
        'Nats-Msg-Id': 'once',
        'Nats-Expected-Last-Subject-Sequence': '0',
        'X-Order': '42',
      }, 'order body');
      const stored = await ctx.jsm.streams.getMessage('SAT', { seq: ack.seq });
      assert.equal(stored?.header.get('Nats-Rollup'), 'sub', 'a schedule is stored with a subject roll-up');
      assert.equal(await last('SAT', 'sat.orders'), null);
      let produced: StoredMsg | null = null;
      await eventually(async () => (produced = await last('SAT', 'sat.orders')) !== null, 10_000, 100);
      const m = produced as unknown as StoredMsg;
      assert.ok(m.time.getTime() >= Date.parse(at) - 5, `produced at ${m.time.toISOString()}, due ${at}`);
      assert.equal(m.string(), 'order body');
      assert.deepEqual(
        ['X-Order', 'Nats-Scheduler', 'Nats-Schedule-Next', 'Nats-TTL', 'Nats-Msg-Id', 'Nats-Schedule', 'Nats-Schedule-Target', 'Nats-Expected-Last-Subject-Sequence', 'Nats-Rollup'].map((k) => m.header.get(k)),
        ['42', 'sat.schedule.one', 'purge', '5m', '', '', '', '', ''],
      );
      assert.equal(await last('SAT', 'sat.schedule.one'), null, 'the one-off schedule is purged');
      await sleep(1500);
      assert.equal(await count('SAT', 'sat.orders'), 1, 'it runs once');
    });

    it('message schedules - the stored schedule and the produced message carry nats-server\'s header blocks, byte for byte', async () => {
      await ctx.jsm.streams.add({ name: 'SHDR', subjects: ['shdr.>'], allow_msg_schedules: true, allow_msg_ttl: true });
      const h = headers();
      for (const [k, v] of [['X-A', '1'], ['Nats-Schedule', '@every 1s'], ['Nats-Schedule-Target', 'shdr.out'], ['Nats-Schedule-TTL', '1m'], ['Nats-Schedule-Rollup', 'sub'], ['Nats-Msg-Id', 'm1'], ['X-B', '2'], ['Nats-TTL', '1h']]) h.append(k, v);
      const ack = await ctx.js.publish('shdr.s', 'body', { headers: h });
      assert.equal(
        (await ctx.jsm.streams.getMessage('SHDR', { seq: ack.seq }))?.header.toString(),
        'NATS/1.0\r\nX-A: 1\r\nNats-Schedule: @every 1s\r\nNats-Schedule-Target: shdr.out\r\nNats-Schedule-TTL: 1m\r\nNats-Schedule-Rollup: sub\r\nNats-Msg-Id: m1\r\nX-B: 2\r\nNats-TTL: 1h\r\nNats-Rollup: sub\r\n\r\n',
      );
      await eventually(async () => (await count('SHDR', 'shdr.out')) >= 1, 8000, 100);
      const produced = (await last('SHDR', 'shdr.out')) as StoredMsg;
      assert.equal(
        produced.header.toString().replace(/Nats-Schedule-Next: [^\r]*/, 'Nats-Schedule-Next: <next>'),
        'NATS/1.0\r\nX-A: 1\r\nX-B: 2\r\nNats-Scheduler: shdr.s\r\nNats-Schedule-Next: <next>\r\nNats-TTL: 1m\r\nNats-Rollup: sub\r\n\r\n',
      );
      assert.match(produced.header.get('Nats-Schedule-Next'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '@every runs on whole seconds, in UTC');
      await ctx.jsm.streams.purge('SHDR', { filter: 'shdr.s' });
    });

    it('message schedules - a Nats-TTL on the schedule ends it when the schedule message expires', async () => {
      await ctx.jsm.streams.add({ name: 'SEXP', subjects: ['sexp.>'], allow_msg_schedules: true, allow_msg_ttl: true });
      await schedule('sexp.s', { 'Nats-Schedule': '@every 1s', 'Nats-Schedule-Target': 'sexp.out', 'Nats-TTL': '2s' });
      await eventually(async () => (await last('SEXP', 'sexp.s')) === null, 8000, 100);
      await sleep(300);
      const ran = await count('SEXP', 'sexp.out');
      assert.ok(ran >= 1, 'it ran while it lived');
      await sleep(2500);
      assert.equal(await count('SEXP', 'sexp.out'), ran);
    });

    it('message schedules - @at in the past runs at once, in file and memory streams', async () => {
      await ctx.jsm.streams.add({ name: 'SPAST', subjects: ['spast.>'], allow_msg_schedules: true });
      await ctx.jsm.streams.add({ name: 'SPASTMEM', subjects: ['spastmem.>'], allow_msg_schedules: true, storage: StorageType.Memory });
      await schedule('spast.s', { 'Nats-Schedule': '@at 2009-11-10T23:00:00Z', 'Nats-Schedule-Target': 'spast.t' });
      await schedule('spastmem.s', { 'Nats-Schedule': '@at 2009-11-10T23:00:00Z', 'Nats-Schedule-Target': 'spastmem.t' });
      await eventually(async () => (await count('SPAST', 'spast.t')) === 1 && (await count('SPASTMEM', 'spastmem.t')) === 1, 5000, 50);
    });

    it('message schedules - @every 1s repeats, Nats-Schedule-Next names the next run, a newer schedule on the subject replaces it, a purge ends it', async () => {
      await ctx.jsm.streams.add({ name: 'SEVERY', subjects: ['severy.>'], allow_msg_schedules: true });
      await schedule('severy.tick', { 'Nats-Schedule': '@every 1s', 'Nats-Schedule-Target': 'severy.out', 'Nats-Schedule-Rollup': 'sub' }, 'first');
      await eventually(async () => (await count('SEVERY', 'severy.out')) >= 1, 8000, 100);
      const m = (await last('SEVERY', 'severy.out')) as StoredMsg;
      const next = m.header.get('Nats-Schedule-Next');
      assert.match(next, RFC3339);
      const ahead = Date.parse(next) - m.time.getTime();
      assert.ok(ahead > 0 && ahead <= 1600, `next run ${ahead} ms after this one`);
      assert.equal(m.header.get('Nats-Rollup'), 'sub', 'Nats-Schedule-Rollup becomes the produced message\'s Nats-Rollup');
      // Roll-up sub keeps one message on the target; the sequence shows it ran again.
      await eventually(async () => ((await last('SEVERY', 'severy.out')) as StoredMsg).seq > m.seq, 8000, 100);
      // A newer schedule on the same subject replaces the first (one per subject).
      await schedule('severy.tick', { 'Nats-Schedule': '@every 1s', 'Nats-Schedule-Target': 'severy.out' }, 'second');
      assert.equal(await count('SEVERY', 'severy.tick'), 1);
      await eventually(async () => ((await last('SEVERY', 'severy.out')) as StoredMsg).string() === 'second', 8000, 100);
      await ctx.jsm.streams.purge('SEVERY', { filter: 'severy.tick' });
      await sleep(300);
      const before = (await ctx.jsm.streams.info('SEVERY')).state.last_seq;
      await sleep(2500);
      assert.equal((await ctx.jsm.streams.info('SEVERY')).state.last_seq, before, 'a purged schedule stops');
    });

    it('message schedules - deleting the schedule message or storing a plain message on its subject ends it', async () => {
      await ctx.jsm.streams.add({ name: 'SEND', subjects: ['send.>'], allow_msg_schedules: true });
      const deleted = await schedule('send.a', { 'Nats-Schedule': `@at ${inSeconds(2)}`, 'Nats-Schedule-Target': 'send.out.a' });
      await schedule('send.b', { 'Nats-Schedule': `@at ${inSeconds(2)}`, 'Nats-Schedule-Target': 'send.out.b' });
      await ctx.jsm.streams.deleteMessage('SEND', deleted.seq);
      await ctx.js.publish('send.b', 'plain');
      await sleep(4000);
      assert.equal(await count('SEND', 'send.out.a'), 0);
      assert.equal(await count('SEND', 'send.out.b'), 0);
      assert.equal(await count('SEND', 'send.b'), 2, 'the plain message rolls nothing up');
    });

    it('message schedules - Nats-Schedule-Next: purge with Nats-Scheduler stores the message and ends the schedule at once', async () => {
      await ctx.jsm.streams.add({ name: 'SCANCEL', subjects: ['scancel.>'], allow_msg_schedules: true });
      await schedule('scancel.s', { 'Nats-Schedule': `@at ${inSeconds(2)}`, 'Nats-Schedule-Target': 'scancel.out' });
      const ack = await schedule('scancel.cancelled', { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'scancel.s' }, 'cancelled');
      assert.ok(ack.seq > 0);
      assert.equal(await last('SCANCEL', 'scancel.s'), null);
      await sleep(3500);
      assert.equal(await count('SCANCEL', 'scancel.out'), 0);
      // Nothing on the scheduler subject yet is allowed too (nats-server: backward compatible).
      await schedule('scancel.other', { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'scancel.none' });
    });

    it('message schedules - cron: every second in a time zone, Nats-Schedule-Next with its offset; predefined schedules are accepted', async () => {
      await ctx.jsm.streams.add({ name: 'SCRON', subjects: ['scron.>'], allow_msg_schedules: true });
      await schedule('scron.every', { 'Nats-Schedule': '* * * * * *', 'Nats-Schedule-Time-Zone': 'America/New_York', 'Nats-Schedule-Target': 'scron.out' });
      await eventually(async () => (await count('SCRON', 'scron.out')) >= 2, 8000, 100);
      const m = (await last('SCRON', 'scron.out')) as StoredMsg;
      const next = m.header.get('Nats-Schedule-Next');
      assert.match(next, /[+-]0[45]:00$/, next);
      assert.equal(Date.parse(next) % 1000, 0, 'cron runs on whole seconds');
      await ctx.jsm.streams.purge('SCRON', { filter: 'scron.every' });
      for (const [i, pattern] of ['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '0 30 4 1,15 * fri', '0 0 9 * jan-mar mon-fri', '*/15 * * * * ?'].entries()) {
        await schedule(`scron.p${i}`, { 'Nats-Schedule': pattern, 'Nats-Schedule-Target': 'scron.later' });
      }
      await schedule('scron.utc', { 'Nats-Schedule': '@daily', 'Nats-Schedule-Time-Zone': 'UTC', 'Nats-Schedule-Target': 'scron.later' });
      await schedule('scron.local', { 'Nats-Schedule': '@daily', 'Nats-Schedule-Time-Zone': 'Local', 'Nats-Schedule-Target': 'scron.later' });
      assert.equal(await count('SCRON', 'scron.later'), 0);
    });

    it('message schedules - Nats-Schedule-Source publishes the last message of the source subject, or the schedule\'s own without one', async () => {
      await ctx.jsm.streams.add({ name: 'SSRC', subjects: ['ssrc.>'], allow_msg_schedules: true });
      await schedule('ssrc.sample', { 'Nats-Schedule': '@every 1s', 'Nats-Schedule-Source': 'ssrc.sensor', 'Nats-Schedule-Target': 'ssrc.sampled', 'X-Own': 'yes' }, 'fallback');
      await eventually(async () => (await count('SSRC', 'ssrc.sampled')) >= 1, 8000, 100);
      const first = (await last('SSRC', 'ssrc.sampled')) as StoredMsg;
      assert.deepEqual([first.string(), first.header.get('X-Own')], ['fallback', 'yes']);
      await ctx.js.publish('ssrc.sensor', '21.5', { headers: hdrs({ 'X-Unit': 'C' }) });
      await eventually(async () => ((await last('SSRC', 'ssrc.sampled')) as StoredMsg).string() === '21.5', 8000, 100);
      const sampled = (await last('SSRC', 'ssrc.sampled')) as StoredMsg;
      assert.deepEqual([sampled.header.get('X-Unit'), sampled.header.get('X-Own'), sampled.header.get('Nats-Scheduler')], ['C', '', 'ssrc.sample']);
      await ctx.jsm.streams.purge('SSRC', { filter: 'ssrc.sample' });
    });

    it('message schedules - schedules published every 100 ms do not keep an earlier one from running (nats-server TestJetStreamScheduledMessageNotTriggering)', async () => {
      await ctx.jsm.streams.add({ name: 'SSTARVE', subjects: ['sstarve.>'], allow_msg_schedules: true });
      const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
      await schedule('sstarve.first', { 'Nats-Schedule': `@at ${inAnHour}`, 'Nats-Schedule-Target': 'sstarve.out' });
      let publishing = true;
      const noise = (async () => {
        // Bounded: stops when the check below ends, and after 60 publishes at most.
        for (let i = 0; publishing && i < 60; i++) {
          await sleep(100);
          await schedule(`sstarve.noise.${i}`, { 'Nats-Schedule': `@at ${inAnHour}`, 'Nats-Schedule-Target': 'sstarve.out' });
        }
      })();
      try {
        // A fraction of a second, as Go's RFC3339Nano writes it.
        const soon = new Date(Date.now() + 1000).toISOString().replace('Z', '456789Z');
        const ack = await schedule('sstarve.validate', { 'Nats-Schedule': `@at ${soon}`, 'Nats-Schedule-Target': 'sstarve.out' });
        await eventually(async () => (await ctx.jsm.streams.getMessage('SSTARVE', { seq: ack.seq })) === null, 5000, 100);
        assert.equal(await count('SSTARVE', 'sstarve.out'), 1);
      } finally {
        publishing = false;
        await noise;
      }
    });

    it('message schedules - a produced message stored on another schedule\'s subject leaves that schedule running', async () => {
      await ctx.jsm.streams.add({ name: 'SCHAIN', subjects: ['schain.>'], allow_msg_schedules: true });
      await schedule('schain.a', { 'Nats-Schedule': `@at ${new Date(Date.now() + 500).toISOString()}`, 'Nats-Schedule-Target': 'schain.b' });
      await schedule('schain.b', { 'Nats-Schedule': `@at ${inSeconds(2)}`, 'Nats-Schedule-Target': 'schain.c' });
      // schain.a's message lands on schain.b first (no Nats-Schedule, but Nats-Scheduler: it does not end schain.b's schedule).
      await eventually(async () => (await count('SCHAIN', 'schain.c')) === 1, 8000, 100);
      assert.equal((await last('SCHAIN', 'schain.c'))?.header.get('Nats-Scheduler'), 'schain.b');
      assert.equal(await count('SCHAIN', 'schain.b'), 0, 'the one-off purges its subject, the message schain.a left there too');
    });

    it('message schedules - ADR-51\'s two-stream composition: schedules in a work-queue stream, their targets sourced into an interest stream', async () => {
      await ctx.jsm.streams.add({ name: 'SWQ', subjects: ['swq.>'], retention: RetentionPolicy.Workqueue, allow_msg_schedules: true });
      await ctx.jsm.streams.add({ name: 'SINT', retention: RetentionPolicy.Interest, sources: [{ name: 'SWQ', filter_subject: 'swq.out.>' }] });
      await ctx.jsm.consumers.add('SINT', { durable_name: 'app', ack_policy: AckPolicy.Explicit });
      await schedule('swq.sched.tick', { 'Nats-Schedule': '@every 1s', 'Nats-Schedule-Target': 'swq.out.tick' }, 'tick');
      await eventually(async () => (await ctx.jsm.consumers.info('SINT', 'app')).num_pending >= 2, 8000, 100);
      const copy = (await ctx.jsm.streams.getMessage('SINT', { last_by_subj: 'swq.out.tick' })) as StoredMsg;
      assert.deepEqual([copy.string(), copy.header.get('Nats-Scheduler')], ['tick', 'swq.sched.tick']);
      assert.equal(await count('SWQ', 'swq.sched.tick'), 1, 'the schedule stays in the work queue: nothing consumes it');
      await ctx.jsm.streams.purge('SWQ', { filter: 'swq.sched.tick' });
    });

    it('message schedules - in an atomic batch: a valid schedule is stored with its roll-up, an invalid one refuses the whole batch (ADR-50)', async () => {
      await ctx.jsm.streams.add({ name: 'SBATCH', subjects: ['sbatch.>'], allow_msg_schedules: true, allow_atomic: true });
      const commit = async (id: string, schedulePattern: string): Promise<Record<string, any>> => {
        const batch = (seq: number, extra: Record<string, string> = {}): MsgHdrs => hdrs({ 'Nats-Batch-Id': id, 'Nats-Batch-Sequence': String(seq), ...extra });
        ctx.nc.publish('sbatch.plain', 'first', { headers: batch(1) });
        const m = await ctx.nc.request('sbatch.s', 'scheduled', {
          headers: batch(2, { 'Nats-Batch-Commit': '1', 'Nats-Schedule': schedulePattern, 'Nats-Schedule-Target': 'sbatch.out' }),
          timeout: 5000,
        });
        return JSON.parse(m.string()) as Record<string, any>;
      };
      const refused = await commit('bad-schedule', '@every 10ms');
      assert.deepEqual(refused.error, { code: 400, err_code: 10189, description: 'message schedules pattern is invalid' });
      assert.equal((await ctx.jsm.streams.info('SBATCH')).state.messages, 0, 'nothing of the batch is stored');
      const ok = await commit('good-schedule', `@at ${inSeconds(1)}`);
      assert.deepEqual([ok.error, ok.count], [undefined, 2]);
      assert.equal((await last('SBATCH', 'sbatch.s'))?.header.get('Nats-Rollup'), 'sub');
      await eventually(async () => (await count('SBATCH', 'sbatch.out')) === 1, 8000, 100);
    });

    it('message schedules - refused publishes carry nats-server\'s codes (10188-10192, 10203, 10212, 10223, 10166)', async () => {
      await ctx.jsm.streams.add({ name: 'SOFF', subjects: ['soff.>'] });
      await ctx.jsm.streams.add({ name: 'SERR', subjects: ['serr.>'], allow_msg_schedules: true });
      const every = { 'Nats-Schedule': '@every 1m', 'Nats-Schedule-Target': 'serr.out' };
      await rejectsWithCode(schedule('soff.s', { 'Nats-Schedule': '@every 1m', 'Nats-Schedule-Target': 'soff.out' }), 10188, 'message schedules is disabled');
      await rejectsWithCode(schedule('soff.s', { 'Nats-Schedule': 'bogus', 'Nats-Schedule-Target': 'soff.out' }), 10188);
      await rejectsWithCode(schedule('soff.s', { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'soff.x' }), 10188);
      for (const bad of ['bogus', '@every 500ms', '@every often', '@at tomorrow', '@at 2026-02-30T00:00:00Z', '* * * * *', '60 * * * * *', '* * * * * 7', '0 0 0 30 2 *']) {
        await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule': bad }), 10189, 'message schedules pattern is invalid');
      }
      await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-Time-Zone': 'Europe/Amsterdam' }), 10189, 'message schedules pattern is invalid');
      for (const zone of ['', 'Nope/Zone', '+02:00']) {
        await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule': '@hourly', 'Nats-Schedule-Time-Zone': zone }), 10223, 'message schedules time zone is invalid');
      }
      for (const target of ['', 'serr.*', 'serr.s', 'elsewhere']) {
        await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-Target': target }), 10190, 'message schedules target is invalid');
      }
      await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-TTL': '10ms' }), 10191, 'message schedules invalid per-message TTL');
      await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-TTL': '1m' }), 10166, 'per-message TTL is disabled');
      await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-Rollup': 'all' }), 10192, 'message schedules invalid rollup');
      await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Rollup': 'all' }), 10192, 'message schedules invalid rollup');
      for (const source of ['serr.out', 'serr.s', 'serr.>', 'elsewhere']) {
        await rejectsWithCode(schedule('serr.s', { ...every, 'Nats-Schedule-Source': source }), 10203, 'message schedules source is invalid');
      }
      await ctx.js.publish('serr.plain', 'not a schedule');
      for (const fields of <Array<Record<string, string>>>[
        { 'Nats-Schedule-Next': 'soon', 'Nats-Scheduler': 'serr.x' },
        // Only the server re-arms a schedule (nats-server TestJetStreamClusterScheduledRearmHeaderRejectedFromClient).
        { 'Nats-Schedule-Next': '2030-01-01T00:00:00Z', 'Nats-Scheduler': 'serr.x' },
        { 'Nats-Schedule-Next': 'purge' },
        { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'serr.s' },
        { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'serr.*' },
        { 'Nats-Schedule-Next': 'purge', 'Nats-Scheduler': 'serr.plain' },
        { 'Nats-Scheduler': 'serr.x' },
      ]) {
        await rejectsWithCode(schedule('serr.s', fields), 10212, 'message schedules invalid scheduler');
      }
      assert.equal((await ctx.jsm.streams.info('SERR')).state.messages, 1, 'nothing refused was stored');
    });
  });
}
