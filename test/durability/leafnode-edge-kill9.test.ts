// kill -9 of an edge Switchboard while its hub is copying the edge stream over
// the leaf link: the edge restarts on its store, the link comes back, and the
// hub (a Switchboard sourcing `$JS.edge1.API`) ends with every message the
// edge acknowledged, once, in order.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { after, describe, it } from 'node:test';
import { createCore, type Core } from '../../core/create-core.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { stopLeafTest } from '../helpers/leaf-edge.ts';
import { freePort, startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';

const TOTAL = 20_000;
const PAYLOAD = 'x'.repeat(1000);

describe('leafnode durability - kill -9 of the edge mid-transfer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-edge-kill9-'));
  let hub: Core | undefined;
  let edge: SwitchboardProcess | undefined;
  let hc: NatsConnection | undefined;
  let ec: NatsConnection | undefined;

  after(() => stopLeafTest({ hc, ec, edge, hub, dir }));

  it('leafnode durability - the hub ends with every message the edge acknowledged, once, in order', async () => {
    hub = createCore({ server: { port: 0 }, jetstream: { storeDir: join(dir, 'hub') }, leafnodes: { listener: { host: '127.0.0.1', port: 0, authTimeoutMs: 2000 }, remotes: [] } });
    await hub.start();
    const edgePort = await freePort();
    const file = join(dir, 'edge.json');
    writeFileSync(file, JSON.stringify({ jetstream: { domain: 'edge1' }, leafnodes: { reconnect: '250ms', remotes: [{ url: `nats-leaf://127.0.0.1:${hub.leafnodes?.port}` }] } }));
    const startEdge = async (): Promise<void> => {
      edge = await startSwitchboardProcess(['-c', file, '-sd', join(dir, 'edge')], edgePort);
      ec = await connect({ servers: edge.url, reconnect: false });
    };
    await startEdge();
    const ejsm = await jetstreamManager(ec as NatsConnection);
    await ejsm.streams.add({ name: 'READINGS', subjects: ['readings.>'] });
    const ejs = jetstream(ec as NatsConnection);
    for (let i = 0; i < TOTAL; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => ejs.publish(`readings.${(i + k) % 4}`, `${i + k} ${PAYLOAD}`)));
    }
    hc = await connect({ servers: `127.0.0.1:${hub.nats.port}` });
    const hjsm = await jetstreamManager(hc);
    await hjsm.streams.add({ name: 'CENTRAL', sources: [{ name: 'READINGS', external: { api: '$JS.edge1.API', deliver: '' } }] });
    const count = async (): Promise<number> => (await hjsm.streams.info('CENTRAL')).state.messages;
    await eventually(async () => (await count()) > 0, 30_000, 5);
    await ec?.close().catch(() => {});
    const child = (edge as SwitchboardProcess).child;
    child.kill('SIGKILL');
    await once(child, 'exit');
    const atKill = await count();
    assert.ok(atKill < TOTAL, `the edge was killed mid-transfer (hub had ${atKill} of ${TOTAL})`);

    await startEdge();
    // The hub notices the silent source and asks again (10 s, as nats-server), from what it stored.
    await eventually(async () => (await count()) >= TOTAL, 120_000, 250);
    await new Promise((r) => setTimeout(r, 500));
    const info = await hjsm.streams.info('CENTRAL');
    assert.equal(info.state.messages, TOTAL);
    const consumer = await jetstream(hc).consumers.get('CENTRAL');
    const got: number[] = [];
    const messages = await consumer.fetch({ max_messages: TOTAL, expires: 30_000 });
    for await (const m of messages) {
      got.push(Number(m.string().split(' ')[0]));
      if (got.length === TOTAL) break;
    }
    assert.equal(got.length, TOTAL);
    const misplaced = got.findIndex((v, i) => v !== i);
    assert.equal(misplaced, -1, `message ${misplaced} is ${got[misplaced]}`);
  });
});
