// Issue 23's edge uplink end to end with two Switchboard processes: MQTT
// sensors publish QoS 1 to the edge, whose stream the hub sources through its
// JetStream domain over a leaf link (`external: {api: "$JS.edge1.API"}`).
// The hub process stops while the edge keeps storing, then starts again on
// the same store: every message arrives exactly once, in order per subject,
// for a limits and a work-queue edge stream.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { edgeSensor, startLeafEdge, stopLeafTest, storedLines } from '../helpers/leaf-edge.ts';
import { freePort, startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';

describe('leafnode - a Switchboard hub sources a Switchboard edge stream across a hub restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-sb-sourcing-'));
  let hubPort = 0;
  let hubLeafPort = 0;
  let hub: SwitchboardProcess;
  let edge: SwitchboardProcess;
  let hc: NatsConnection;
  let ec: NatsConnection;

  async function startHub(): Promise<void> {
    const file = join(dir, 'hub.json');
    writeFileSync(file, JSON.stringify({ leafnodes: { port: hubLeafPort } }));
    hub = await startSwitchboardProcess(['-c', file, '-sd', join(dir, 'hub-store')], hubPort);
    hc = await connect({ servers: hub.url });
  }

  before(async () => {
    [hubPort, hubLeafPort] = [await freePort(), await freePort()];
    await startHub();
    ({ edge, ec } = await startLeafEdge(dir, hubLeafPort));
  });

  after(() => stopLeafTest({ hc, ec, edge, hub, dir }));

  for (const retention of [RetentionPolicy.Limits, RetentionPolicy.Workqueue]) {
    // A work-queue edge stream: the hub's source consumer becomes a durable with flow-control acks
    // on the edge (nats-server 2.14's acked sourcing), so the edge removes only what the hub stored.
    it(`leafnode sourcing - ${retention} edge stream fed by MQTT QoS 1: once each, in order, across a hub restart`, async () => {
      const name = `SENSORS_${retention.toUpperCase()}`;
      const topic = `site/${retention}`;
      const ejsm: JetStreamManager = await jetstreamManager(ec);
      await ejsm.streams.add({ name, subjects: [`site.${retention}.>`], retention });
      const sensor = await edgeSensor(edge, `sensor-${retention}`, topic, 3);
      const publish = sensor.publish;
      await publish(30);
      let hjsm = await jetstreamManager(hc);
      const copy = `HUB_${name}`;
      await hjsm.streams.add({ name: copy, sources: [{ name, external: { api: '$JS.edge1.API', deliver: '' } }] });
      const count = async (): Promise<number> => (await hjsm.streams.info(copy)).state.messages;
      await eventually(async () => (await count()) === 30, 30_000, 100);

      await hc.close();
      await hub.stop();
      await publish(40); // stored by the edge while the hub is down
      await startHub();
      hjsm = await jetstreamManager(hc);
      await eventually(async () => (await count()) >= 70, 90_000, 200);
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would land right behind
      const info = await hjsm.streams.info(copy);
      assert.equal(info.state.messages, 70);
      const got = await storedLines(hjsm, copy);
      assert.deepEqual(got, Array.from({ length: 70 }, (_, i) => `site.${retention}.t${i % 3} m${i}`));
      if (retention === RetentionPolicy.Workqueue) {
        // The edge lets go of what the hub has stored (acked sourcing), and only that.
        await eventually(async () => (await ejsm.streams.info(name)).state.messages === 0, 30_000, 200);
      }
      await sensor.end();
    });
  }
});
