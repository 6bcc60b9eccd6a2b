// Durability of a pinned_client pin (ADR-42): a Switchboard process is killed
// with SIGKILL while a client is pinned; the restarted one still has the pin
// (consumer info, Nats-Pin-Id on the next delivery), refuses another id with
// 423 and keeps a request without the id on standby. nats-server keeps the pin
// in memory only; issue 24 asks for pinned state that survives a restart.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { tempStoreDir, withJetStreamProcess } from '../helpers/jetstream.ts';
import { rawApi, rawPull } from '../helpers/jetstream-consumers.ts';
import { freePort } from '../helpers/servers.ts';

const SECOND = 1_000_000_000;

describe('jetstream priority pin durability (switchboard)', () => {
  const dir = tempStoreDir('sb-pin-kill9-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pin durability - the pinned client keeps its pin across kill -9', async () => {
    const port = await freePort();
    const pin = await withJetStreamProcess(dir, port, async (jsm, nc) => {
      await jsm.streams.add({ name: 'PINK', subjects: ['pink'] });
      // A raw create: nats.js allows priority groups only from a server reporting 2.11.
      const config = { durable_name: 'C', ack_policy: 'explicit', priority_policy: 'pinned_client', priority_groups: ['A'], priority_timeout: 60 * SECOND };
      const created = await rawApi(nc, '$JS.API.CONSUMER.CREATE.PINK.C', { stream_name: 'PINK', config, action: 'create' });
      assert.equal(created.error, undefined, JSON.stringify(created.error));
      const js = jetstream(nc);
      for (let i = 0; i < 3; i++) await js.publish('pink', String(i));
      const got = await rawPull(nc, 'PINK', 'C', { batch: 1, expires: 2 * SECOND, group: 'A' }, 3000, (g) => g.length === 1);
      const id = got[0]?.headers['Nats-Pin-Id'];
      assert.match(id ?? '', /^\w{22}$/);
      // The state file is rewritten within ~50 ms of a change (consumer-manager SAVE_INTERVAL_MS).
      await sleep(300);
      return id as string;
    }, 'kill');
    await withJetStreamProcess(dir, port, async (jsm, nc) => {
      const info = (await jsm.consumers.info('PINK', 'C')) as unknown as { priority_groups: Array<Record<string, string>> };
      assert.equal(info.priority_groups[0].pinned_client_id, pin);
      const wrong = await rawPull(nc, 'PINK', 'C', { batch: 1, expires: SECOND, group: 'A', id: 'WRONG' }, 2000, (g) => g.length === 1);
      assert.deepEqual([wrong[0]?.status, wrong[0]?.description], [423, 'Nats-Pin-Id mismatch']);
      const standby = await rawPull(nc, 'PINK', 'C', { batch: 1, expires: SECOND / 2, group: 'A' }, 2000, (g) => g.length === 1);
      assert.deepEqual(standby.map((d) => d.status), [408], 'a request without the pin id only times out');
      const pinned = await rawPull(nc, 'PINK', 'C', { batch: 1, expires: 2 * SECOND, group: 'A', id: pin }, 3000, (g) => g.length === 1);
      assert.deepEqual([pinned[0]?.data, pinned[0]?.headers['Nats-Pin-Id']], ['1', pin]);
    }, 'stop');
  });
});
