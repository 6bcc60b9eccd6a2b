// External sourcing over the real wire (issue 23 item 2): a Switchboard edge
// (`jetstream { domain: edge1 }`) dials the leafnode port of a nats-server
// 2.15.1 hub (`jetstream { domain: hub }`), and an edge stream sources a hub
// stream through `$JS.hub.API`, as a nats-server edge would: the consumer
// create request, the push deliveries (LMSG under the deliver subject, the
// stored subject after `@` in the ack reply), heartbeats and flow-control
// answers all cross the leaf link. The hub is stopped while it keeps its
// stream, and restarted: every message arrives once, in order.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { peerPath } from '../helpers/peers.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { freePort, startNatsServerWithConfig, startSwitchboardProcess, type RunningServer, type SwitchboardProcess } from '../helpers/servers.ts';

const external = { api: '$JS.hub.API', deliver: 'dlv.hub' };
/** After a hub restart the edge notices the silence (10s, as nats-server) and asks again. */
const RECOVERY_MS = 60_000;

describe('jetstream external sources - a Switchboard edge sources a nats-server 2.15.1 hub over a leafnode link', { peers: ['nats-server-new'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'extsrc-leaf-'));
  let hubPort = 0;
  let hubLeafPort = 0;
  let hub: RunningServer & { stop(): Promise<void> };
  let edge: SwitchboardProcess;
  let hc: NatsConnection;
  let ec: NatsConnection;
  let ejsm: JetStreamManager;

  async function startHub(): Promise<void> {
    const config = `jetstream { store_dir: "${join(dir, 'hub')}", domain: hub }\nleafnodes { listen: "127.0.0.1:${hubLeafPort}" }\n`;
    hub = await startNatsServerWithConfig(config, hubPort, peerPath('nats-server-new') ?? 'nats-server');
    hc = await connect({ servers: hub.url });
  }

  before(async () => {
    [hubPort, hubLeafPort] = [await freePort(), await freePort()];
    await startHub();
    const file = join(dir, 'edge.json');
    writeFileSync(file, JSON.stringify({ jetstream: { domain: 'edge1' }, leafnodes: { reconnect: '250ms', remotes: [{ url: `nats-leaf://127.0.0.1:${hubLeafPort}` }] } }));
    edge = await startSwitchboardProcess(['-c', file]);
    ec = await connect({ servers: edge.url });
    ejsm = await jetstreamManager(ec);
  });

  after(async () => {
    await hc?.close();
    await ec?.close();
    await edge?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (stream: string): Promise<number> => (await ejsm.streams.info(stream)).state.messages;

  it('source - sensors.> becomes site1.sensors.>; the hub stopped and restarted: every message once, in order', async () => {
    await (await jetstreamManager(hc)).streams.add({ name: 'HUBSENS', subjects: ['sensors.>'] });
    const publish = async (from: number, to: number): Promise<void> => {
      const js = jetstream(hc);
      for (let i = from; i <= to; i++) await js.publish(`sensors.t${i % 2}`, `m${i}`);
    };
    await publish(1, 20);
    await ejsm.streams.add({ name: 'SITE', sources: [{ name: 'HUBSENS', external, subject_transforms: [{ src: 'sensors.>', dest: 'site1.sensors.>' }] }] });
    await eventually(async () => (await count('SITE')) === 20, RECOVERY_MS, 100);

    await hc.close();
    await hub.stop();
    await startHub();
    await publish(21, 40); // the hub kept its stream; the edge has not seen these
    await eventually(async () => (await count('SITE')) >= 40, RECOVERY_MS, 200);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await count('SITE'), 40, 'no duplicates');
    for (let seq = 1; seq <= 40; seq++) {
      const m = await ejsm.streams.getMessage('SITE', { seq });
      assert.equal(m?.subject, `site1.sensors.t${seq % 2}`);
      assert.equal(m?.string(), `m${seq}`);
      assert.match(m?.header.get('Nats-Stream-Source') ?? '', new RegExp(`^HUBSENS ${seq} `));
    }
    const si = (await ejsm.streams.info('SITE')).sources?.[0] as unknown as Record<string, unknown>;
    assert.equal(si.connected, true);
    assert.equal(si.lag, 0);
  });

  it('work-queue hub stream - the hub removes only what the edge stored (ack_policy flow_control across the link)', async () => {
    const hjsm = await jetstreamManager(hc);
    await hjsm.streams.add({ name: 'HUBJOBS', subjects: ['jobs.>'], retention: RetentionPolicy.Workqueue });
    const js = jetstream(hc);
    for (let i = 1; i <= 30; i++) await js.publish(`jobs.${i}`, `j${i}`);
    await ejsm.streams.add({ name: 'EDGEJOBS', sources: [{ name: 'HUBJOBS', external }] });
    await eventually(async () => (await count('EDGEJOBS')) === 30, RECOVERY_MS, 100);
    await eventually(async () => (await hjsm.streams.info('HUBJOBS')).state.messages === 0, RECOVERY_MS, 100);
    const data = [];
    for (let seq = 1; seq <= 30; seq++) data.push((await ejsm.streams.getMessage('EDGEJOBS', { seq }))?.string());
    assert.deepEqual(data, Array.from({ length: 30 }, (_, i) => `j${i + 1}`));
  });
});
