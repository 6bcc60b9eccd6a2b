// A Switchboard edge joins a NATS deployment the way nats-server edges do:
// it dials the leafnode port of a real nats-server hub (Debian's 2.9 and
// 2.15.1 from NATS_SERVER_NEW) with `jetstream { domain: edge1 }`. Official
// nats.js clients on both sides publish, subscribe and request across the
// link, and the hub's own JetStream sources an edge stream that MQTT QoS 1
// fed, through `$JS.edge1.API`, across a hub restart: exactly once, in order.
// With 2.15.1 the edge stream may be a work queue too: the hub's source
// consumer becomes a durable with flow-control acks on the edge (nats-server
// 2.14's acked sourcing), which removes only what the hub has stored.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { peerPath, type Peer } from '../helpers/peers.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { edgeSensor, startLeafEdge, stopLeafTest, storedLines } from '../helpers/leaf-edge.ts';
import { freePort, startNatsServerWithConfig, type RunningServer, type SwitchboardProcess } from '../helpers/servers.ts';

/** The edge streams each hub sources: a work queue needs a hub that asks for acked sourcing (2.14+). */
const HUBS: ReadonlyArray<{ name: string; peer: Peer; edgeStreams: ReadonlyArray<{ stream: string; prefix: string; retention: RetentionPolicy }> }> = [
  { name: 'nats-server 2.9', peer: 'nats-server', edgeStreams: [{ stream: 'SENSORS', prefix: 'sensors', retention: RetentionPolicy.Limits }] },
  {
    name: 'nats-server 2.15.1',
    peer: 'nats-server-new',
    edgeStreams: [
      { stream: 'SENSORS', prefix: 'sensors', retention: RetentionPolicy.Limits },
      { stream: 'JOBS', prefix: 'jobs', retention: RetentionPolicy.Workqueue },
    ],
  },
];

/** Every subject the leaf links of a server's /leafz?subs=1 carry. */
async function leafSubjects(monitorPort: number): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/leafz?subs=1`);
  const body = (await res.json()) as { leafs?: Array<{ subscriptions_list?: string[] }> };
  return (body.leafs ?? []).flatMap((l) => l.subscriptions_list ?? []);
}

/** Until a server's leaf link carries interest in `subject` (nats-server lists it as `subject` or `subject queue`). */
async function interestArrived(monitorPort: number, subject: string): Promise<void> {
  await eventually(async () => (await leafSubjects(monitorPort)).some((s) => s === subject || s.startsWith(`${subject} `)), 15_000, 50);
}

function collect(nc: NatsConnection, subject: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { callback: (_err, msg) => void got.push(`${msg.subject} ${msg.string()}`) });
  return got;
}

for (const target of HUBS) {
  describe(`leafnode - Switchboard edge to a ${target.name} hub`, { peers: [target.peer] }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-hub-'));
    let hubPort = 0;
    let hubLeafPort = 0;
    let hubMonitorPort = 0;
    let hub: RunningServer & { stop(): Promise<void> };
    let edge: SwitchboardProcess;
    let hc: NatsConnection;
    let ec: NatsConnection;

    async function startHub(): Promise<void> {
      const config = `http_port: ${hubMonitorPort}\njetstream { store_dir: "${join(dir, 'hub')}" }\nleafnodes { listen: "127.0.0.1:${hubLeafPort}" }\n`;
      hub = await startNatsServerWithConfig(config, hubPort, peerPath(target.peer) ?? 'nats-server');
    }

    before(async () => {
      [hubPort, hubLeafPort, hubMonitorPort] = [await freePort(), await freePort(), await freePort()];
      await startHub();
      ({ edge, ec } = await startLeafEdge(dir, hubLeafPort));
      hc = await connect({ servers: hub.url });
      // The link is up once the hub holds the edge's loop detection subject.
      await eventually(async () => (await leafSubjects(hubMonitorPort)).some((s) => s.startsWith('$LDS.')), 15_000, 50);
    });

    after(() => stopLeafTest({ hc, ec, edge, hub, dir }));

    it('leafnode - a hub subscriber gets edge publishes and an edge subscriber gets hub publishes, in order', async () => {
      const atHub = collect(hc, 'up.>');
      const atEdge = collect(ec, 'down.>');
      await hc.flush();
      await ec.flush();
      await interestArrived(edge.monitorPort as number, 'up.>');
      await interestArrived(hubMonitorPort, 'down.>');
      for (let i = 0; i < 50; i++) ec.publish(`up.${i % 3}`, `e${i}`);
      for (let i = 0; i < 50; i++) hc.publish(`down.${i % 3}`, `h${i}`);
      await eventually(() => atHub.length === 50 && atEdge.length === 50, 15_000);
      assert.deepEqual(atHub, Array.from({ length: 50 }, (_, i) => `up.${i % 3} e${i}`));
      assert.deepEqual(atEdge, Array.from({ length: 50 }, (_, i) => `down.${i % 3} h${i}`));
    });

    it('leafnode - request/reply across the link both ways, headers included', async () => {
      ec.subscribe('edge.svc', { callback: (_err, msg) => void msg.respond(`edge:${msg.string()}:${msg.headers?.get('X-Trace') ?? ''}`) });
      hc.subscribe('hub.svc', { callback: (_err, msg) => void msg.respond(`hub:${msg.string()}`) });
      await ec.flush();
      await hc.flush();
      await interestArrived(hubMonitorPort, 'edge.svc');
      await interestArrived(edge.monitorPort as number, 'hub.svc');
      const { headers } = await import('@nats-io/nats-core');
      const h = headers();
      h.set('X-Trace', 't1');
      assert.equal((await hc.request('edge.svc', 'ping', { timeout: 5000, headers: h })).string(), 'edge:ping:t1');
      assert.equal((await ec.request('hub.svc', 'ping', { timeout: 5000 })).string(), 'hub:ping');
    });

    it('leafnode - the edge JetStream answers the hub as $JS.edge1.API; $JS.API stays local on each side', async () => {
      const ejsm = await jetstreamManager(ec);
      await ejsm.streams.add({ name: 'LOCAL_ONLY', subjects: ['local.only'] });
      const viaDomain = await jetstreamManager(hc, { domain: 'edge1' });
      assert.equal((await viaDomain.streams.info('LOCAL_ONLY')).config.name, 'LOCAL_ONLY');
      // The hub's own API does not see the edge's stream, and the edge's does not see the hub's.
      const hjsm = await jetstreamManager(hc);
      await assert.rejects(hjsm.streams.info('LOCAL_ONLY'), /stream not found/);
      await hjsm.streams.add({ name: 'HUB_ONLY', subjects: ['hub.only'] });
      await assert.rejects(ejsm.streams.info('HUB_ONLY'), /stream not found/);
    });

    for (const { stream, prefix, retention } of target.edgeStreams) {
      const kind = retention === RetentionPolicy.Limits ? 'an edge stream' : 'a work-queue edge stream';
      it(`leafnode - the hub sources ${kind} that MQTT QoS 1 fed; hub stopped and restarted: every message once, in order`, async () => {
        const ejsm: JetStreamManager = await jetstreamManager(ec);
        await ejsm.streams.add({ name: stream, subjects: [`${prefix}.>`], retention });
        const sensor = await edgeSensor(edge, `edge-${prefix}-${target.peer}`, prefix, 2);
        const publish = sensor.publish;
        await publish(20);
        let hjsm = await jetstreamManager(hc);
        const copy = `HUB_${stream}`;
        await hjsm.streams.add({ name: copy, sources: [{ name: stream, external: { api: '$JS.edge1.API', deliver: '' } }] });
        const hubCount = async (): Promise<number> => (await hjsm.streams.info(copy)).state.messages;
        await eventually(async () => (await hubCount()) === 20, 20_000, 100);

        await hc.close();
        await hub.stop();
        await publish(30); // acknowledged by the edge while the hub is down
        await startHub();
        hc = await connect({ servers: hub.url });
        hjsm = await jetstreamManager(hc);
        // The hub retries its source consumer on its own schedule: nats-server asks again when a leaf
        // connects, but before the leaf's interest (its LS+ after CONNECT) arrives, and then backs off
        // 10 s, 20 s, ... (stream.go calculateRetryBackoff), so catching up may take that long.
        await eventually(async () => (await hubCount()) >= 50, 90_000, 200).catch(async (error: Error) => {
          const info = await hjsm.streams.info(copy);
          throw new Error(`${error.message}: hub has ${info.state.messages}, source ${JSON.stringify(info.sources)}`, { cause: error });
        });
        await new Promise((r) => setTimeout(r, 500)); // a duplicate would land right behind
        const info = await hjsm.streams.info(copy);
        assert.equal(info.state.messages, 50);
        const got = await storedLines(hjsm, copy);
        assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `${prefix}.t${i % 2} m${i}`));
        if (retention === RetentionPolicy.Workqueue) {
          // The edge lets go of what the hub has stored (acked sourcing), and only that.
          await eventually(async () => (await ejsm.streams.info(stream)).state.messages === 0, 30_000, 200);
        }
        await sensor.end();
      });
    }
  });
}
