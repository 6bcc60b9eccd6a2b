// Durability of mirrors and sources: a Switchboard process is killed with
// SIGKILL while a mirror and a sourcing stream are catching up with their
// origins, restarted, stopped gracefully mid-transfer, and restarted again.
// Every origin message ends up in the mirror under its own sequence, and in
// the sourcing stream exactly once, in order per subject: the links resume
// from what the destinations stored, never before it, never after it.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { tempStoreDir, withJetStreamProcess } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const BATCH = 20_000;
const SUBJECTS = 8;

describe('jetstream sourcing durability (switchboard)', () => {
  const dir = tempStoreDir('sb-source-kill9-');
  const withServer = <T>(port: number, fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>, end: 'kill' | 'stop'): Promise<T> =>
    withJetStreamProcess(dir, port, fn, end);
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Publish BATCH acknowledged messages on `<prefix>.0` .. `<prefix>.7` (payload: 0, 1, ...). */
  async function publishBatch(nc: NatsConnection, prefix: string): Promise<void> {
    const js = jetstream(nc);
    for (let i = 0; i < BATCH; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => js.publish(`${prefix}.${(i + k) % SUBJECTS}`, String(i + k))));
    }
  }

  /** Wait until the sourcing stream holds more than `floor` but fewer than `total`; returns how many it had. */
  async function midway(jsm: JetStreamManager, floor: number, total: number, stream = 'AGG'): Promise<number> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const n = (await jsm.streams.info(stream)).state.messages;
      if (n > floor && n < total) return n;
      assert.ok(n < total, `sourcing finished before the interruption (${n})`);
      await sleep(2);
    }
    assert.fail('sourcing did not start');
  }

  it('sourcing durability - kill -9 and a restart mid-transfer: every message once, in order per subject, mirror sequences kept', async () => {
    const port = await freePort();
    // Origin filled first; the links start when the destinations are created, and the server dies during the catch-up.
    const killedAt = await withServer(port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'ORIG', subjects: ['orig.>'] });
      await publishBatch(nc, 'orig');
      await jsm.streams.add({ name: 'MIR', mirror: { name: 'ORIG' } });
      await jsm.streams.add({ name: 'AGG', subjects: ['agg.own'], sources: [{ name: 'ORIG' }] });
      return midway(jsm, 0, BATCH);
    }, 'kill');
    assert.ok(killedAt > 0 && killedAt < BATCH);
    // Restarted: a second origin is added by update, and the server stops gracefully while that source catches up.
    await withServer(port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'ORIG2', subjects: ['second.>'] });
      await publishBatch(nc, 'second');
      await jsm.streams.update('AGG', { subjects: ['agg.own'], sources: [{ name: 'ORIG' }, { name: 'ORIG2' }] });
      await midway(jsm, BATCH, 2 * BATCH);
    }, 'stop');
    await withServer(port, async (jsm) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
        if ((await jsm.streams.info('AGG')).state.messages >= 2 * BATCH) break;
      }
      const mir = await jsm.streams.info('MIR');
      assert.deepEqual([mir.state.messages, mir.state.first_seq, mir.state.last_seq], [BATCH, 1, BATCH]);
      const agg = await jsm.streams.info('AGG');
      assert.equal(agg.state.messages, 2 * BATCH, 'each origin message stored once');
      assert.deepEqual(agg.sources?.map((s) => [s.name, s.lag]), [['ORIG', 0], ['ORIG2', 0]]);
      // Read the sourcing stream back in order: per origin, each sequence once, rising per subject.
      const seen = new Set<string>();
      const lastPerSubject = new Map<string, number>();
      for (let seq = 1; seq <= agg.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('AGG', { seq });
        assert.ok(m, `AGG ${seq}`);
        const [origin, originText] = m.header.get('Nats-Stream-Source').split(' ');
        const originSeq = Number(originText);
        assert.ok(!seen.has(`${origin} ${originSeq}`), `${origin} ${originSeq} stored twice`);
        seen.add(`${origin} ${originSeq}`);
        assert.ok((lastPerSubject.get(m.subject) ?? 0) < originSeq, `order on ${m.subject}`);
        lastPerSubject.set(m.subject, originSeq);
        assert.equal(m.string(), String(originSeq - 1));
      }
      assert.equal(seen.size, 2 * BATCH);
      for (const seq of [1, 2, BATCH - 1, BATCH]) assert.equal((await jsm.streams.getMessage('MIR', { seq }))?.string(), String(seq - 1));
    }, 'stop');
  });

  it('sourcing durability - a work-queue origin killed mid-transfer: each message stored once downstream, and the origin ends empty', async () => {
    const port = await freePort();
    await withServer(port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'WQO', subjects: ['wq.>'], retention: 'workqueue' as never });
      await publishBatch(nc, 'wq');
      await jsm.streams.add({ name: 'WQD', sources: [{ name: 'WQO' }] });
      await midway(jsm, 0, BATCH, 'WQD');
    }, 'kill');
    await withServer(port, async (jsm) => {
      const info = (name: string) => jsm.streams.info(name);
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
        if ((await info('WQD')).state.messages >= BATCH && (await info('WQO')).state.messages === 0) break;
      }
      assert.equal((await info('WQD')).state.messages, BATCH, 'each origin message stored once');
      assert.equal((await info('WQO')).state.messages, 0, 'the origin let go of everything stored downstream, including copies written just before the kill');
      const dest = await info('WQD');
      const seen = new Set<number>();
      for (let seq = dest.state.first_seq; seq <= dest.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('WQD', { seq });
        const originSeq = Number(m?.header.get('Nats-Stream-Source').split(' ')[1]);
        assert.ok(!seen.has(originSeq), `origin ${originSeq} twice`);
        seen.add(originSeq);
      }
      assert.equal(seen.size, BATCH);
    }, 'stop');
  });
});
