// Durability of message schedules (ADR-51): a Switchboard process is killed
// with SIGKILL right after the PubAcks of its schedules. The restarted one
// runs a one-off whose time passed while it was down at once, another at its
// time, each exactly once; an `@every 1s` keeps running across a second
// kill -9; a schedule deleted before the crash never runs. The state is
// rebuilt from the stored schedule messages and what they produced, as
// nats-server's filestore replays them.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { tempStoreDir, withJetStreamProcess } from '../helpers/jetstream.ts';
import { eventually, sleep } from '../helpers/jetstream-consumers.ts';
import { freePort } from '../helpers/servers.ts';

const at = (ms: number): string => new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

describe('jetstream schedule durability (switchboard)', () => {
  const dir = tempStoreDir('sb-sched-kill9-');
  const withServer = <T>(port: number, fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>, end: 'kill' | 'stop' = 'kill'): Promise<T> =>
    withJetStreamProcess(dir, port, fn, end);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('schedule durability - @at and @every survive kill -9: a run due while down happens at start, each one-off once, a deleted schedule never', async () => {
    const port = await freePort();
    const count = async (jsm: JetStreamManager, subject: string): Promise<number> =>
      (await jsm.streams.info('SCHED', { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    const due = await withServer(port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'SCHED', subjects: ['s.>'], allow_msg_schedules: true });
      const js = jetstream(nc);
      const publish = (subject: string, schedule: string, target: string) => {
        const h = headers();
        h.set('Nats-Schedule', schedule);
        h.set('Nats-Schedule-Target', target);
        return js.publish(subject, target, { headers: h });
      };
      const down = at(Date.now() + 1000);
      // Far enough ahead to outlast the restart on a loaded machine.
      const later = at(Date.now() + 6000);
      await publish('s.sched.down', `@at ${down}`, 's.out.down');
      await publish('s.sched.later', `@at ${later}`, 's.out.later');
      await publish('s.sched.tick', '@every 1s', 's.out.tick');
      const cancelled = await publish('s.sched.cancelled', `@at ${down}`, 's.out.cancelled');
      await jsm.streams.deleteMessage('SCHED', cancelled.seq);
      return { down: Date.parse(down), later: Date.parse(later) };
    });
    await sleep(Math.max(0, due.down - Date.now()) + 500);
    const ticks = await withServer(port, async (jsm) => {
      assert.ok(Date.now() > due.down, 'the first one-off came due while the server was down');
      await eventually(async () => (await count(jsm, 's.out.down')) === 1, 5000, 50);
      if (Date.now() < due.later - 500) assert.equal(await count(jsm, 's.out.later'), 0, 'not due yet');
      await eventually(async () => (await count(jsm, 's.out.later')) === 1, due.later - Date.now() + 5000, 50);
      const produced = await jsm.streams.getMessage('SCHED', { last_by_subj: 's.out.later' });
      assert.ok((produced?.time.getTime() ?? 0) >= due.later - 5, 'a one-off never runs early');
      await eventually(async () => (await count(jsm, 's.out.tick')) >= 2, 8000, 100);
      return count(jsm, 's.out.tick');
    });
    await withServer(port, async (jsm) => {
      await eventually(async () => (await count(jsm, 's.out.tick')) >= ticks + 2, 8000, 100);
      assert.deepEqual([await count(jsm, 's.out.down'), await count(jsm, 's.out.later'), await count(jsm, 's.out.cancelled')], [1, 1, 0]);
      const left = await jsm.streams.info('SCHED', { subjects_filter: 's.sched.>' });
      assert.deepEqual(left.state.subjects, { 's.sched.tick': 1 }, 'one-offs are purged once they ran; the repeating schedule stays');
    }, 'stop');
  });
});
