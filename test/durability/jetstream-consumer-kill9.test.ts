// Durability of consumer state: a Switchboard process with a durable pull
// consumer on a file stream is killed with SIGKILL at random moments while a
// client fetches, acks most messages with a confirmed double ack (ackAck) and
// leaves the rest unacknowledged. It restarts on the same store each time.
// A message whose ack was confirmed is never delivered again; every message is
// delivered at least once in the end (unacknowledged ones come back after
// ack_wait, also across restarts): none lost.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const MESSAGES = 3000;
const CYCLES = 8;
const ACK_WAIT_NS = 700_000_000;
const BUDGET_MS = 90_000;

describe('durability - consumer state across kill -9', () => {
  const storeDir = tempStoreDir('sb-ckill9-');
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('durability - confirmed acks survive kill -9, unacknowledged messages are redelivered, none lost', async () => {
    const started = Date.now();
    const port = await freePort();
    const confirmed = new Set<number>();
    const seen = new Set<number>();
    const violations: string[] = [];
    let cycles = 0;
    for (let cycle = 0; cycle <= CYCLES && Date.now() - started < BUDGET_MS; cycle++) {
      const last = cycle === CYCLES;
      const proc = await startJetStreamProcess(storeDir, port);
      const nc = await connect({ servers: proc.url, reconnect: false });
      nc.closed().catch(() => {});
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      if (cycle === 0) {
        await jsm.streams.add({ name: 'CK', subjects: ['ck'] });
        for (let i = 0; i < MESSAGES; i += 200) await Promise.all(Array.from({ length: 200 }, (_, k) => js.publish('ck', `m${i + k + 1}`)));
        await jsm.consumers.add('CK', { durable_name: 'worker', ack_policy: AckPolicy.Explicit, ack_wait: ACK_WAIT_NS });
      }
      const consumer = await js.consumers.get('CK', 'worker');
      let stop = false;
      const exited = once(proc.child, 'exit');
      const killer = last ? null : setTimeout(() => {
        stop = true;
        proc.child.kill('SIGKILL');
      }, 150 + Math.floor(Math.random() * 400));
      let idle = 0;
      while (!stop && idle < 3) {
        let got = 0;
        try {
          for await (const m of await consumer.fetch({ max_messages: 100, expires: 1500 })) {
            got++;
            if (m.string() !== `m${m.seq}`) violations.push(`seq ${m.seq} carried ${m.string()}`);
            if (confirmed.has(m.seq)) violations.push(`seq ${m.seq} delivered again after its ack was confirmed (cycle ${cycle})`);
            seen.add(m.seq);
            // The last cycle acks everything; before that, one in five stays unacknowledged.
            if (last || Math.random() < 0.8) {
              m.ackAck().then((ok) => ok && confirmed.add(m.seq), () => {});
            }
          }
        } catch {
          break;
        }
        idle = got === 0 ? idle + 1 : 0;
      }
      if (killer !== null) {
        clearTimeout(killer);
        if (!stop) proc.child.kill('SIGKILL');
        await exited;
      } else {
        const info = await jsm.consumers.info('CK', 'worker');
        assert.equal(info.num_pending, 0);
        assert.equal(info.num_ack_pending, 0, `still pending: ${info.num_ack_pending}`);
        assert.equal(info.ack_floor.stream_seq, MESSAGES);
        await nc.close();
        await proc.stop();
      }
      await nc.close().catch(() => {});
      cycles++;
    }
    assert.deepEqual(violations, []);
    assert.equal(cycles, CYCLES + 1, `only ${cycles} cycles inside the time budget`);
    const missing = Array.from({ length: MESSAGES }, (_, i) => i + 1).filter((s) => !seen.has(s));
    assert.deepEqual(missing, []);
    // An ack whose confirmation was cut off by the kill may still have been saved: such a message is
    // neither confirmed nor redelivered, so the count of confirmations is only a lower bound.
    assert.ok(confirmed.size > MESSAGES / 2, `confirmed ${confirmed.size}`);
  });
});
