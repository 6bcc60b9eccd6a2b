// A file stream on a full filesystem (issue 29 item 7), on a real tmpfs of a
// few MiB (needs root to mount; skipped with a SKIPPED line otherwise): the
// publishes that cannot be stored get error PubAcks that name no server path,
// the server serves again once space returns, and after a restart the stream
// holds what was acknowledged. A publish whose write was rolled back leaves
// nothing behind: no TTL that would remove the message that gets its sequence
// next, no source position ahead of the copies the destination holds, and
// no acknowledged message removed to make room for it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiscardPolicy, jetstream, jetstreamManager, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';

/** Fill the filesystem of `path` to the last byte. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, i % 2 === 0 ? block : block.subarray(0, 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

/** An 8 MiB tmpfs for one describe: `mounted` false without the right to mount (then its tests skip). */
function smallDisk(): { mounted: boolean; mountPoint: string; store: string; filler: string; remove(): void } {
  const mountPoint = mkdtempSync(join(tmpdir(), 'switchboard-diskfull-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]).status === 0;
  return {
    mounted,
    mountPoint,
    store: join(mountPoint, 'store'),
    filler: join(mountPoint, 'filler'),
    remove: () => {
      if (mounted) spawnSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    },
  };
}

describe('jetstream disk full', () => {
  const { mounted, mountPoint, store, filler, remove } = smallDisk();
  let server: SwitchboardProcess | null = null;
  let nc: NatsConnection | null = null;
  const acked: number[] = [];
  const errors: string[] = [];

  before(async () => {
    if (!mounted) return;
    server = await startSwitchboardProcess(['-sd', store]);
    nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'DF', subjects: ['df.>'] });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
    remove();
  });

  it('jetstream disk full - error PubAcks name no path, and publishing works again once space returns', async (t) => {
    if (!mounted) {
      process.stdout.write('SKIPPED: cannot mount a tmpfs (needs root)\n');
      return t.skip('cannot mount a tmpfs');
    }
    const js = jetstream(nc as NatsConnection);
    const payload = new Uint8Array(4096).fill(7);
    for (let i = 0; i < 20; i++) acked.push((await js.publish('df.a', payload)).seq);
    fillUp(filler);
    for (let i = 0; i < 200; i++) {
      try {
        acked.push((await js.publish('df.a', payload)).seq);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    assert.ok(errors.length > 0, `a full disk fails publishes (${acked.length} acknowledged)`);
    for (const e of errors) assert.ok(!e.includes(mountPoint) && !e.includes('.seg'), `no server path in ${JSON.stringify(e)}`);
    // A failed publish with a Nats-Msg-Id is not remembered: its retry is stored, not called a duplicate.
    await assert.rejects(js.publish('df.a', payload, { msgID: 'retry-1' }));
    rmSync(filler);
    const retried = await js.publish('df.a', payload, { msgID: 'retry-1' });
    assert.equal(retried.duplicate, false);
    acked.push(retried.seq);
    for (let i = 0; i < 5; i++) acked.push((await js.publish('df.a', payload)).seq);
  });

  it('jetstream disk full - after a restart the stream holds exactly the acknowledged messages', async (t) => {
    if (!mounted || server === null) return t.skip('cannot mount a tmpfs');
    await nc?.close();
    await server.stop();
    server = await startSwitchboardProcess(['-sd', store]);
    nc = await connect({ servers: server.url });
    const info = await (await jetstreamManager(nc)).streams.info('DF');
    assert.equal(info.state.messages, acked.length, `${errors.length} publishes got an error PubAck`);
    // The acknowledged sequences, and no gap where the failed ones were: a failed write gave its sequences back.
    assert.equal(info.state.last_seq, acked.length);
    assert.deepEqual(acked, acked.map((_, i) => i + 1));
  });
});

describe('jetstream disk full - a rolled-back publish leaves nothing behind', () => {
  const disk = smallDisk();
  let server: SwitchboardProcess | null = null;
  let nc: NatsConnection | null = null;
  let jsm: JetStreamManager | null = null;
  const payload = new Uint8Array(4096).fill(7);

  before(async () => {
    if (!disk.mounted) return;
    server = await startSwitchboardProcess(['-sd', disk.store]);
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
    disk.remove();
  });

  it('jetstream disk full - the Nats-TTL of a rolled-back publish does not remove the message that gets its sequence next', async (t) => {
    if (!disk.mounted || jsm === null) return t.skip('cannot mount a tmpfs');
    await jsm.streams.add({ name: 'TTLDF', subjects: ['ttldf.>'], allow_msg_ttl: true });
    const js = jetstream(nc as NatsConnection);
    const ttl = headers();
    ttl.set('Nats-TTL', '1s');
    fillUp(disk.filler);
    let lastAcked = 0;
    let failed = false;
    for (let i = 0; i < 200 && !failed; i++) {
      try {
        lastAcked = (await js.publish('ttldf.short', payload, { headers: ttl })).seq;
      } catch {
        failed = true;
      }
    }
    assert.ok(failed, 'a publish with a TTL failed on the full disk');
    rmSync(disk.filler);
    const kept = await js.publish('ttldf.kept', 'no ttl');
    assert.equal(kept.seq, lastAcked + 1, 'the failed publish gave its sequence back');
    await sleep(2500); // past the failed message's TTL
    const m = await jsm.streams.getMessage('TTLDF', { seq: kept.seq });
    assert.equal(m?.subject, 'ttldf.kept', 'the message without a TTL is still there');
    // The acknowledged ones with a TTL went as usual.
    await eventually(async () => (await jsm?.streams.info('TTLDF'))?.state.messages === 1, 10_000);
  });

  // A publish that makes room removes acknowledged messages (discard old, per subject, max bytes,
  // Nats-Rollup): when its write is rolled back, they are back, in memory and after a restart.
  const limited: Array<{ name: string; config: Partial<StreamConfig>; headers?: () => MsgHdrs }> = [
    { name: 'MAXMSGS', config: { max_msgs: 5 } },
    { name: 'PERSUBJ', config: { max_msgs_per_subject: 3 } },
    { name: 'MAXBYTES', config: { max_bytes: 5 * 4200 } },
    {
      name: 'ROLLUP',
      config: { allow_rollup_hdrs: true },
      headers: () => {
        const h = headers();
        h.set('Nats-Rollup', 'sub');
        return h;
      },
    },
  ];
  for (const { name, config, headers: rollup } of limited) {
    it(`jetstream disk full - a rolled-back publish to ${name} gives back the acknowledged messages it removed`, async (t) => {
      if (!disk.mounted || jsm === null || server === null) return t.skip('cannot mount a tmpfs');
      const subject = `${name.toLowerCase()}.a`;
      await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], discard: DiscardPolicy.Old, ...config });
      const js = jetstream(nc as NatsConnection);
      const acked: number[] = [];
      for (let i = 0; i < 5; i++) acked.push((await js.publish(subject, payload, { headers: rollup?.() })).seq);
      const before = (await jsm.streams.info(name)).state;
      assert.ok(before.messages >= 1 && before.messages < acked.length + 1, `${name} is at its limit (${before.messages})`);
      fillUp(disk.filler);
      let failed = false;
      for (let i = 0; i < 200 && !failed; i++) {
        try {
          acked.push((await js.publish(subject, payload, { headers: rollup?.() })).seq);
        } catch {
          failed = true;
        }
      }
      rmSync(disk.filler);
      assert.ok(failed, 'a publish failed on the full disk');
      // What the acknowledged publishes left: the newest `before.messages` of them.
      const kept = acked.slice(-before.messages);
      const held = async (): Promise<number[]> => {
        const seqs: number[] = [];
        const info = (await (jsm as JetStreamManager).streams.info(name)).state;
        for (let seq = info.first_seq; seq <= info.last_seq; seq++) {
          const m = await (jsm as JetStreamManager).streams.getMessage(name, { seq }).catch(() => null);
          if (m !== null) seqs.push(m.seq);
        }
        return seqs;
      };
      assert.deepEqual(await held(), kept, 'in memory: the failed publish removed nothing');
      await nc?.close();
      await server.stop();
      server = await startSwitchboardProcess(['-sd', disk.store]);
      nc = await connect({ servers: server.url });
      jsm = await jetstreamManager(nc);
      assert.deepEqual(await held(), kept, 'after a restart: exactly the acknowledged messages, the oldest included');
    });
  }

  it('jetstream disk full - a schedule replaced by a rolled-back one still runs, and the rolled-back one never does', async (t) => {
    if (!disk.mounted || jsm === null) return t.skip('cannot mount a tmpfs');
    const manager = jsm;
    await manager.streams.add({ name: 'SCHED', subjects: ['sched.>'], allow_msg_schedules: true });
    const js = jetstream(nc as NatsConnection);
    /** A one-off schedule on sched.s running `seconds` from now (whole seconds, RFC 3339). */
    const schedule = (seconds: number, body: Uint8Array | string) => {
      const h = headers();
      h.set('Nats-Schedule', `@at ${new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toISOString().replace('.000Z', 'Z')}`);
      h.set('Nats-Schedule-Target', 'sched.out');
      return js.publish('sched.s', body, { headers: h });
    };
    await schedule(4, 'acknowledged');
    fillUp(disk.filler);
    // Due earlier, and it replaces the first (a schedule rolls up its subject): its write fails.
    await assert.rejects(schedule(2, payload), 'the second schedule is refused on the full disk');
    rmSync(disk.filler);
    const produced = async () => manager.streams.getMessage('SCHED', { last_by_subj: 'sched.out' }).catch(() => null);
    await eventually(async () => (await produced()) !== null, 15_000);
    const m = await produced();
    assert.equal(m?.string(), 'acknowledged', 'the acknowledged schedule ran, not the rolled-back one');
    assert.equal(m?.header.get('Nats-Scheduler'), 'sched.s');
    await sleep(1000); // a rolled-back schedule due meanwhile would have produced a second message
    const outs = (await manager.streams.info('SCHED', { subjects_filter: 'sched.out' })).state.subjects?.['sched.out'];
    assert.equal(outs, 1, 'one run, from the acknowledged schedule');
  });

  it('jetstream disk full - a source whose copies were rolled back copies them again once space returns', async (t) => {
    if (!disk.mounted || jsm === null) return t.skip('cannot mount a tmpfs');
    const manager = jsm;
    // The origin in memory: only the destination's writes fail.
    await manager.streams.add({ name: 'ORIGIN', subjects: ['origin.>'], storage: StorageType.Memory });
    await manager.streams.add({ name: 'COPIES', sources: [{ name: 'ORIGIN' }] });
    const js = jetstream(nc as NatsConnection);
    const copies = async (): Promise<number> => (await manager.streams.info('COPIES')).state.messages;
    await js.publish('origin.a', payload);
    await eventually(async () => (await copies()) === 1, 10_000);
    fillUp(disk.filler);
    const total = 21;
    for (let i = 1; i < total - 1; i++) await js.publish('origin.a', payload);
    // The link copies them and each write fails: rolled back, only the first copy stays.
    const rolledBack = await eventually(async () => (await copies()) === 1, 5000).then(() => true, () => false);
    assert.ok(rolledBack, `the copies on the full disk were rolled back (${await copies()} are there)`);
    rmSync(disk.filler);
    await js.publish('origin.a', payload); // wakes the link: without the rewind it copied only this one
    await eventually(async () => (await copies()) === total, 10_000).catch(() => undefined);
    const origins: number[] = [];
    for (let seq = 1; seq <= (await copies()); seq++) {
      const m = await manager.streams.getMessage('COPIES', { seq });
      origins.push(Number(m?.header.get('Nats-Stream-Source').split(' ')[1]));
    }
    assert.deepEqual(origins, Array.from({ length: total }, (_, i) => i + 1), 'every origin message copied once, in order');
  });
});
