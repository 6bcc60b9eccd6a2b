// A schedule ended by a plain message on its subject (ADR-51: a message
// without Nats-Schedule on a schedule's subject replaces it) stays ended
// after a restart. The restart replays the stored messages that name a
// schedule; the plain message that ended one must count in that replay too,
// or the old schedule message, still stored below it, runs again.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { tempStoreDir, withJetStreamProcess } from '../helpers/jetstream.ts';
import { eventually, sleep } from '../helpers/jetstream-consumers.ts';
import { freePort } from '../helpers/servers.ts';

describe('jetstream schedule ended before a restart (switchboard)', () => {
  const dir = tempStoreDir('sb-sched-ended-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const end of ['stop', 'kill'] as const) {
    it(`schedule durability - an @every schedule replaced by a plain message does not run again after a restart (${end})`, async () => {
      const port = await freePort();
      const stream = `ENDED${end.toUpperCase()}`;
      const count = async (jsm: JetStreamManager): Promise<number> =>
        (await jsm.streams.info(stream, { subjects_filter: `${end}.out` })).state.subjects?.[`${end}.out`] ?? 0;
      const before = await withJetStreamProcess(dir, port, async (jsm: JetStreamManager, nc: NatsConnection) => {
        await jsm.streams.add({ name: stream, subjects: [`${end}.>`], allow_msg_schedules: true });
        const js = jetstream(nc);
        const h = headers();
        h.set('Nats-Schedule', '@every 1s');
        h.set('Nats-Schedule-Target', `${end}.out`);
        await js.publish(`${end}.sched`, 'tick', { headers: h });
        await eventually(async () => (await count(jsm)) >= 1, 8000, 100);
        // A plain message on the schedule's subject ends the schedule.
        await js.publish(`${end}.sched`, 'no more');
        await sleep(1500);
        const n = await count(jsm);
        await sleep(2000);
        assert.equal(await count(jsm), n, 'ended while running');
        return n;
      }, end);
      await withJetStreamProcess(dir, port, async (jsm) => {
        await sleep(3000);
        assert.equal(await count(jsm), before, 'the ended schedule ran again after the restart');
      }, 'stop');
    });
  }
});
