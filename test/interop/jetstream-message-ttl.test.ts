// Per-message TTL (ADR-43, nats-server 2.11): `allow_msg_ttl`, the `Nats-TTL`
// header, subject delete markers (`subject_delete_marker_ttl`) and the KV
// limit markers and per-key TTLs of ADR-48, through the official
// @nats-io/jetstream and @nats-io/kv clients, against Switchboard and a current
// nats-server (NATS_SERVER_NEW). Error codes and texts: nats-server's
// errors.json (10165, 10166) and stream.go.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from '../helpers/peer-test.ts';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { currentJetStreamTargets, rejectsWithCode, useJetStream } from '../helpers/jetstream.ts';

const SECOND = 1_000_000_000;
const ttl = (value: string, extra: Record<string, string> = {}): MsgHdrs => {
  const h = headers();
  h.set('Nats-TTL', value);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
};

/** Poll `check` until it holds (TTLs are whole seconds; expiry may lag by a timer tick). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 6000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what}`);
    await sleep(100);
  }
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream message ttl (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const exists = async (stream: string, seq: number): Promise<boolean> => (await ctx.jsm.streams.getMessage(stream, { seq })) !== null;

    it('message ttl - Nats-TTL removes one message after its time; others stay; the config says allow_msg_ttl', async () => {
      const si = await ctx.jsm.streams.add({ name: 'TTL', subjects: ['ttl.>'], allow_msg_ttl: true });
      assert.equal(si.config.allow_msg_ttl, true);
      const short = await ctx.js.publish('ttl.a', 'short', { ttl: '1s' });
      const plain = await ctx.js.publish('ttl.a', 'plain');
      const seconds = await ctx.js.publish('ttl.b', 'bare number', { headers: ttl('1') });
      const long = await ctx.js.publish('ttl.c', 'long', { ttl: '1h' });
      assert.equal((await ctx.jsm.streams.getMessage('TTL', { seq: short.seq }))?.header.get('Nats-TTL'), '1s');
      await eventually('the 1s messages expire', async () => !(await exists('TTL', short.seq)) && !(await exists('TTL', seconds.seq)));
      assert.ok(await exists('TTL', plain.seq));
      assert.ok(await exists('TTL', long.seq));
      assert.equal((await ctx.jsm.streams.info('TTL')).state.messages, 2);
    });

    it('message ttl - Nats-TTL: never outlives max_age', async () => {
      await ctx.jsm.streams.add({ name: 'NEVER', subjects: ['never.>'], allow_msg_ttl: true, max_age: SECOND });
      const kept = await ctx.js.publish('never.a', 'kept', { headers: ttl('never') });
      const aged = await ctx.js.publish('never.b', 'aged');
      await eventually('max_age removes the plain message', async () => !(await exists('NEVER', aged.seq)));
      assert.ok(await exists('NEVER', kept.seq));
    });

    it('message ttl - refused: Nats-TTL without allow_msg_ttl (10166), unreadable or under a second (10165)', async () => {
      await ctx.jsm.streams.add({ name: 'NOTTL', subjects: ['nottl.>'] });
      await rejectsWithCode(ctx.js.publish('nottl.a', 'x', { ttl: '5s' }), 10166, 'per-message TTL is disabled');
      await rejectsWithCode(ctx.js.publish('nottl.a', 'x', { headers: ttl('never') }), 10166);
      await rejectsWithCode(ctx.js.publish('nottl.a', 'x', { headers: ttl('soon') }), 10165, 'invalid per-message TTL');
      for (const bad of ['0', '500ms', 'soon', '-5', '1x']) await rejectsWithCode(ctx.js.publish('ttl.bad', 'x', { headers: ttl(bad) }), 10165, 'invalid per-message TTL');
      assert.equal(await ctx.jsm.streams.getMessage('TTL', { last_by_subj: 'ttl.bad' }), null);
      assert.equal((await ctx.jsm.streams.info('NOTTL')).state.messages, 0);
    });

    it('message ttl - config: allow_msg_ttl cannot be switched off; marker TTL rules and defaults (10052)', async () => {
      await ctx.jsm.streams.add({ name: 'CFG', subjects: ['cfg.>'], allow_msg_ttl: true });
      await rejectsWithCode(ctx.jsm.streams.update('CFG', { allow_msg_ttl: false }), 10052, 'message TTL status can not be disabled');
      const create = (name: string, extra: Record<string, unknown>): Promise<Record<string, any>> =>
        ctx.api(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`${name.toLowerCase()}.>`], ...extra });
      assert.equal((await create('SDM1', { subject_delete_marker_ttl: SECOND / 2 })).error?.description, 'subject delete marker TTL must be at least 1 second');
      assert.equal((await create('SDM2', { subject_delete_marker_ttl: -1 })).error?.description, 'subject delete marker TTL must not be negative');
      assert.equal((await create('SDM3', { subject_delete_marker_ttl: SECOND, allow_rollup_hdrs: true, deny_purge: true })).error?.description, 'roll-ups require the purge permission');
      assert.equal((await create('SDM4', { allow_msg_counter: true, allow_msg_ttl: true })).error?.description, 'counter stream cannot use message TTLs');
      // A marker TTL turns on per-message TTL and roll-ups, and lifts deny_purge.
      const ok = await create('SDM5', { subject_delete_marker_ttl: 2 * SECOND, deny_purge: true });
      assert.equal(ok.error, undefined, JSON.stringify(ok.error));
      assert.deepEqual([ok.config.allow_msg_ttl, ok.config.allow_rollup_hdrs, ok.config.deny_purge, ok.config.subject_delete_marker_ttl], [true, true, false, 2 * SECOND]);
    });

    it('message ttl - a delete marker replaces the last message of a subject that age removes, then expires itself', async () => {
      await ctx.jsm.streams.add({ name: 'SDM', subjects: ['sdm.>'], max_age: SECOND, subject_delete_marker_ttl: SECOND });
      const a1 = await ctx.js.publish('sdm.a', 'one');
      const a2 = await ctx.js.publish('sdm.a', 'two');
      const b = await ctx.js.publish('sdm.b', 'solo', { ttl: '1s' });
      let markers: Array<{ subject: string; reason: string | undefined; ttl: string | undefined; body: number }> = [];
      await eventually('markers for sdm.a and sdm.b', async () => {
        if ((await exists('SDM', a1.seq)) || (await exists('SDM', a2.seq)) || (await exists('SDM', b.seq))) return false;
        markers = [];
        for (const subject of ['sdm.a', 'sdm.b']) {
          const m = await ctx.jsm.streams.getMessage('SDM', { last_by_subj: subject });
          if (m === null) return false;
          markers.push({ subject, reason: m.header.get('Nats-Marker-Reason'), ttl: m.header.get('Nats-TTL'), body: m.data.length });
        }
        return true;
      });
      assert.deepEqual(markers, [
        { subject: 'sdm.a', reason: 'MaxAge', ttl: '1s', body: 0 },
        { subject: 'sdm.b', reason: 'MaxAge', ttl: '1s', body: 0 },
      ]);
      // One marker per subject (sdm.a's first message went without one: another was left), then the markers go too.
      assert.equal((await ctx.jsm.streams.info('SDM')).state.last_seq, b.seq + 2);
      await eventually('the markers expire', async () => (await ctx.jsm.streams.info('SDM')).state.messages === 0);
    });

    it('message ttl - below the marker TTL a Nats-TTL is raised to it and the stored header says so', async () => {
      await ctx.jsm.streams.add({ name: 'FLOOR', subjects: ['floor.>'], subject_delete_marker_ttl: 5 * SECOND });
      const ack = await ctx.js.publish('floor.a', 'x', { ttl: '1s' });
      assert.equal((await ctx.jsm.streams.getMessage('FLOOR', { seq: ack.seq }))?.header.get('Nats-TTL'), '5');
      const above = await ctx.js.publish('floor.b', 'x', { ttl: '1m' });
      assert.equal((await ctx.jsm.streams.getMessage('FLOOR', { seq: above.seq }))?.header.get('Nats-TTL'), '1m');
    });

    it('kv ttl - limit markers: a per-key TTL on create, and a watcher hears the key go (ADR-48)', async () => {
      const kvm = new Kvm(ctx.nc);
      const kv = await kvm.create('ttlkv', { markerTTL: 1000, history: 5 });
      assert.equal((await kv.status()).markerTTL, 1000);
      const watch = await kv.watch({ key: 'session.*', include: 'updates_only' as never });
      const seen: string[] = [];
      const watching = (async () => {
        for await (const e of watch) {
          seen.push(`${e.key}:${e.operation}`);
          if (e.operation !== 'PUT') break;
        }
      })();
      await kv.create('session.a', 'token', '1s');
      await kv.put('plain', 'stays');
      assert.equal((await kv.get('session.a'))?.string(), 'token');
      await eventually('session.a expires', async () => {
        const e = await kv.get('session.a');
        return e === null || e.operation !== 'PUT';
      });
      await watching;
      watch.stop();
      assert.deepEqual(seen, ['session.a:PUT', 'session.a:PURGE']);
      assert.equal((await kv.get('plain'))?.string(), 'stays');
      // A purge can carry its own TTL: the purge marker goes after it.
      await kv.put('gone', 'x');
      await kv.purge('gone', { ttl: '1s' });
      await eventually('the purge marker expires', async () => (await ctx.jsm.streams.getMessage('KV_ttlkv', { last_by_subj: '$KV.ttlkv.gone' })) === null);
    });
  });
}
