// Durability of per-message TTLs (ADR-43) and consumer pauses (2.11): a
// Switchboard process is killed with SIGKILL right after the PubAcks or the
// pause; the restarted one still removes each message when its Nats-TTL is up
// (also a TTL that ran out while the server was down), leaves the delete
// markers, keeps what has no TTL or a long one, and keeps a paused consumer
// paused until its pause_until.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { tempStoreDir, withJetStreamProcess } from '../helpers/jetstream.ts';
import { freePort } from '../helpers/servers.ts';

const SECOND = 1_000_000_000;

describe('jetstream ttl and pause durability (switchboard)', () => {
  const dir = tempStoreDir('sb-ttl-kill9-');
  const withServer = <T>(port: number, fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<T>, kill = true): Promise<T> =>
    withJetStreamProcess(dir, port, fn, kill ? 'kill' : 'stop');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ttl durability - TTLs and markers survive kill -9, including a TTL that ran out while the server was down', async () => {
    const port = await freePort();
    const seqs = await withServer(port, async (jsm, nc) => {
      // One message per subject, as a KV bucket keeps: TTLs under the marker TTL are not raised then (ADR-43).
      await jsm.streams.add({ name: 'TTLK', subjects: ['k.>'], subject_delete_marker_ttl: 30 * SECOND, max_msgs_per_subject: 1 });
      const js = jetstream(nc);
      const down = await js.publish('k.down', 'runs out while down', { ttl: '1s' });
      const up = await js.publish('k.up', 'runs out after the restart', { ttl: '4s' });
      const long = await js.publish('k.long', 'an hour', { ttl: '1h' });
      const plain = await js.publish('k.plain', 'no ttl');
      return { down: down.seq, up: up.seq, long: long.seq, plain: plain.seq };
    });
    await sleep(1500);
    await withServer(port, async (jsm) => {
      const has = async (seq: number): Promise<boolean> => (await jsm.streams.getMessage('TTLK', { seq })) !== null;
      const started = Date.now();
      // Overdue at start: gone at once, with its marker.
      for (let i = 0; i < 20 && (await has(seqs.down)); i++) await sleep(100);
      assert.equal(await has(seqs.down), false, 'the TTL that ran out while down is applied at start');
      assert.equal((await jsm.streams.getMessage('TTLK', { last_by_subj: 'k.down' }))?.header.get('Nats-Marker-Reason'), 'MaxAge');
      assert.ok(await has(seqs.up), 'not due yet');
      while (Date.now() - started < 8000 && (await has(seqs.up))) await sleep(100);
      assert.equal(await has(seqs.up), false, 'the 4s TTL is applied after the restart');
      const marker = await jsm.streams.getMessage('TTLK', { last_by_subj: 'k.up' });
      assert.deepEqual([marker?.header.get('Nats-Marker-Reason'), marker?.header.get('Nats-TTL')], ['MaxAge', '30s']);
      assert.ok(await has(seqs.long));
      assert.ok(await has(seqs.plain));
    });
    // The markers carry TTLs of their own, which a further crash keeps as well.
    await withServer(port, async (jsm) => {
      const info = await jsm.streams.info('TTLK', { subjects_filter: '>' });
      assert.deepEqual(info.state.subjects, { 'k.down': 1, 'k.up': 1, 'k.long': 1, 'k.plain': 1 });
    }, false);
  });

  it('pause durability - a paused consumer stays paused across kill -9 and delivers once pause_until has passed', async () => {
    const port = await freePort();
    // Far enough ahead that two server starts on a loaded machine end before it (5 s was not, at load 20).
    const until = Date.now() + 15_000;
    await withServer(port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'PAUSED', subjects: ['paused.>'] });
      await jetstream(nc).publish('paused.a', 'x');
      await jsm.consumers.add('PAUSED', { durable_name: 'p', ack_policy: AckPolicy.Explicit });
      assert.equal((await jsm.consumers.pause('PAUSED', 'p', new Date(until))).paused, true);
    });
    await withServer(port, async (jsm, nc) => {
      const info = await jsm.consumers.info('PAUSED', 'p');
      assert.equal(info.paused, true);
      // The server writes Go's RFC 3339 form (trailing zeros of the fraction dropped, as nats-server): compare the instant.
      assert.equal(Date.parse(info.config.pause_until as string), until);
      const c = await jetstream(nc).consumers.get('PAUSED', 'p');
      const seqs: Array<[number, number]> = [];
      assert.ok(Date.now() < until - 1000, 'the restart ended before pause_until (else this test proves nothing)');
      for await (const m of await c.fetch({ max_messages: 1, expires: until - Date.now() + 5000 })) {
        seqs.push([m.seq, Date.now()]);
        m.ack();
      }
      assert.equal(seqs.length, 1);
      assert.ok(seqs[0][1] >= until - 50, `delivered ${seqs[0][1] - until} ms after pause_until`);
    }, false);
  });
});
