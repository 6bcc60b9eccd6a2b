// Switchboard as the hub of leaf links: a real nats-server leaf (Debian's 2.9)
// joins its leafnode port with a user and password, and an edge Switchboard
// joins it directly and through a relay that paces the uplink. Official
// nats.js clients on both sides; interest, messages, queue groups and
// request/reply cross both ways; a lost link comes back; a slow link that
// drains stays connected although its PINGs wait behind data.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createCore, type Core, type CoreOptions } from '../../core/create-core.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { startPacingRelay } from '../helpers/pacing-relay.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { freePort, startNatsServerWithConfig, waitForOutput, type RunningServer } from '../helpers/servers.ts';

interface Leafz {
  leafnodes: number;
  leafs: Array<{ name: string; is_spoke: boolean; subscriptions_list?: string[]; in_msgs: number; out_msgs: number }>;
  remotes: Array<{ connected: boolean; connects: number; last_error: string }>;
}

function leafz(core: Core): Leafz {
  const res = core.monitor?.respond('/leafz', new URLSearchParams('subs=1'));
  assert.ok(res !== undefined && res.status === 200, 'leafz');
  return JSON.parse(res.body) as Leafz;
}

/** Until one of `core`'s leaf links carries interest in `subject` (plain or queue). */
async function interestArrived(core: Core, subject: string): Promise<void> {
  await eventually(() => leafz(core).leafs.some((l) => (l.subscriptions_list ?? []).some((s) => s === subject || s.startsWith(`${subject} `))), 15_000, 25);
}

function collect(nc: NatsConnection, subject: string, queue?: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { queue, callback: (_err, msg) => void got.push(msg.string()) });
  return got;
}

function core(options: CoreOptions): Core {
  return createCore({ server: { port: 0 }, monitor: { host: '127.0.0.1', port: 0 }, ...options });
}

describe('leafnode - a nats-server leaf joins a Switchboard hub', { peers: ['nats-server'] }, () => {
  let hub: Core;
  let leaf: RunningServer & { child: ChildProcess };
  let hc: NatsConnection;
  let lc: NatsConnection;

  before(async () => {
    hub = core({ leafnodes: { listener: { host: '127.0.0.1', port: 0, authTimeoutMs: 2000 }, remotes: [], authorization: { users: [{ user: 'leaf', password: 'secret' }] } } });
    await hub.start();
    leaf = await startNatsServerWithConfig(`leafnodes { remotes [ { url: "nats-leaf://leaf:secret@127.0.0.1:${hub.leafnodes?.port}" } ] }`);
    hc = await connect({ servers: `127.0.0.1:${hub.nats.port}` });
    lc = await connect({ servers: leaf.url });
    await eventually(() => leafz(hub).leafnodes === 1, 15_000);
  });

  after(async () => {
    await hc?.close();
    await lc?.close();
    await leaf?.stop();
    await hub?.stop();
  });

  it('leafnode hub - /leafz lists the nats-server leaf; its interest and messages cross both ways, in order', async () => {
    const link = leafz(hub).leafs[0];
    assert.equal(link.is_spoke, false, 'the hub side of a link is not the spoke');
    const atHub = collect(hc, 'from.leaf.*');
    const atLeaf = collect(lc, 'from.hub.>');
    await hc.flush();
    await lc.flush();
    await interestArrived(hub, 'from.hub.>');
    // The hub's interest reaches the leaf as LS+: wait until a probe crosses.
    await eventually(async () => {
      lc.publish('from.leaf.probe', 'probe');
      await lc.flush();
      return atHub.includes('probe');
    }, 15_000, 100);
    for (let i = 0; i < 40; i++) lc.publish(`from.leaf.${i % 4}`, `l${i}`);
    for (let i = 0; i < 40; i++) hc.publish(`from.hub.${i % 4}`, `h${i}`);
    const fromLeaf = (): string[] => atHub.filter((m) => m !== 'probe');
    await eventually(() => fromLeaf().length === 40 && atLeaf.length === 40, 15_000);
    assert.deepEqual(fromLeaf(), Array.from({ length: 40 }, (_, i) => `l${i}`));
    assert.deepEqual(atLeaf, Array.from({ length: 40 }, (_, i) => `h${i}`));
    assert.ok(leafz(hub).leafs[0].in_msgs >= 40 && leafz(hub).leafs[0].out_msgs >= 40, 'link counters');
  });

  it('leafnode hub - a queue group spanning both servers serves hub publishes locally while a local member exists, then across', async () => {
    const local: string[] = [];
    const localSub = hc.subscribe('work.items', { queue: 'workers', callback: (_e, m) => void local.push(m.string()) });
    const remote = collect(lc, 'work.items', 'workers');
    await hc.flush();
    await lc.flush();
    await interestArrived(hub, 'work.items');
    for (let i = 0; i < 20; i++) hc.publish('work.items', `a${i}`);
    await eventually(() => local.length === 20, 10_000);
    await hc.flush();
    assert.equal(remote.length, 0, 'a local member exists: nothing crosses');
    localSub.unsubscribe();
    await hc.flush();
    for (let i = 0; i < 20; i++) hc.publish('work.items', `b${i}`);
    await eventually(() => remote.length === 20, 10_000);
    assert.deepEqual(remote, Array.from({ length: 20 }, (_, i) => `b${i}`));
  });

  it('leafnode hub - request/reply both ways', async () => {
    hc.subscribe('hub.echo', { callback: (_e, m) => void m.respond(`hub:${m.string()}`) });
    lc.subscribe('leaf.echo', { callback: (_e, m) => void m.respond(`leaf:${m.string()}`) });
    await hc.flush();
    await lc.flush();
    await interestArrived(hub, 'leaf.echo');
    assert.equal((await hc.request('leaf.echo', 'x', { timeout: 5000 })).string(), 'leaf:x');
    await eventually(async () => (await lc.request('hub.echo', 'y', { timeout: 2000 }).then((m) => m.string(), () => '')) === 'hub:y', 15_000, 100);
  });

  it('leafnode hub - a leaf with a wrong password is refused', async () => {
    const bad = await startNatsServerWithConfig(`leafnodes { remotes [ { url: "nats-leaf://leaf:wrong@127.0.0.1:${hub.leafnodes?.port}" } ] }`);
    try {
      await waitForOutput(bad.child, /[Aa]uthorization [Vv]iolation/, 15_000);
      assert.equal(leafz(hub).leafnodes, 1, 'only the good leaf is linked');
    } finally {
      await bad.stop();
    }
  });
});

describe('leafnode - a Switchboard edge and a Switchboard hub', () => {
  const dirs: string[] = [];
  const cores: Core[] = [];
  const conns: NatsConnection[] = [];

  async function started(options: CoreOptions): Promise<Core> {
    const c = core(options);
    cores.push(c);
    await c.start();
    return c;
  }

  after(async () => {
    for (const nc of conns) await nc.close();
    for (const c of cores) await c.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('leafnode - a lost link is dialled again and carries interest and messages once more', async () => {
    const leafPort = await freePort();
    const listener = { host: '127.0.0.1', port: leafPort, authTimeoutMs: 2000 };
    let hub = await started({ leafnodes: { listener, remotes: [] } });
    const edge = await started({ leafnodes: { remotes: [{ urls: [`nats-leaf://127.0.0.1:${leafPort}`], reconnectDelayMs: 100, reconnectMaxMs: 400 }] } });
    const ec = await connect({ servers: `127.0.0.1:${edge.nats.port}` });
    conns.push(ec);
    const roundTrip = async (h: Core, tag: string): Promise<void> => {
      const hc = await connect({ servers: `127.0.0.1:${h.nats.port}` });
      conns.push(hc);
      const got = collect(hc, 'edge.data');
      await hc.flush();
      await interestArrived(edge, 'edge.data');
      for (let i = 0; i < 10; i++) ec.publish('edge.data', `${tag}${i}`);
      await eventually(() => got.length === 10, 10_000);
      assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `${tag}${i}`));
    };
    await roundTrip(hub, 'first');
    await hub.stop();
    await eventually(() => leafz(edge).remotes[0].connected === false, 10_000);
    assert.notEqual(leafz(edge).remotes[0].last_error, '');
    hub = await started({ leafnodes: { listener, remotes: [] } });
    await eventually(() => leafz(edge).remotes[0].connected, 15_000);
    await roundTrip(hub, 'second');
    assert.equal(leafz(edge).remotes[0].connects, 2);
    const metrics = edge.monitor?.respond('/metrics', new URLSearchParams()).body ?? '';
    const url = `nats-leaf://127.0.0.1:${leafPort}`;
    assert.match(metrics, new RegExp(`switchboard_leafnode_remote_connects_total\\{url="${url}"\\} 2\\n`));
    assert.match(metrics, new RegExp(`switchboard_leafnode_remote_connected\\{url="${url}"\\} 1\\n`));
    assert.match(metrics, /switchboard_leafnode_messages_sent_total\{remote="[^"]+",role="leaf"\} 10\n/);
  });

  it('leafnode - a paced uplink whose PINGs wait behind data stays connected and drains', async () => {
    // PINGs every 200 ms, two unanswered allowed: the edge's PINGs queue behind about 1 MB in
    // the relay and the kernel for seconds, so a link judged by PONGs alone would be cut.
    const server = { port: 0, pingIntervalMs: 200, maxPingsOut: 2 };
    const hub = await started({ server, leafnodes: { listener: { host: '127.0.0.1', port: 0, authTimeoutMs: 2000 }, remotes: [] } });
    const relay = await startPacingRelay({ host: '127.0.0.1', port: hub.leafnodes?.port as number }, 256 * 1024);
    try {
      const edge = await started({ server, leafnodes: { remotes: [{ urls: [`nats-leaf://127.0.0.1:${relay.port}`], reconnectDelayMs: 100 }] } });
      const hc = await connect({ servers: `127.0.0.1:${hub.nats.port}` });
      const ec = await connect({ servers: `127.0.0.1:${edge.nats.port}` });
      conns.push(hc, ec);
      const got = collect(hc, 'bulk.>');
      await hc.flush();
      await interestArrived(edge, 'bulk.>');
      const payload = Buffer.alloc(8 * 1024, 0x61);
      const count = 150;
      for (let i = 0; i < count; i++) ec.publish(`bulk.${i}`, payload);
      await ec.flush();
      await eventually(() => got.length === count, 60_000, 100);
      const remote = leafz(edge).remotes[0];
      assert.equal(remote.connects, 1, `the link was re-dialled (last error: ${remote.last_error})`);
      assert.equal(remote.connected, true);
      assert.ok(relay.relayed() >= count * payload.length, 'everything went through the paced relay');
    } finally {
      await relay.close();
    }
  });
});
