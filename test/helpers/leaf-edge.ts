// An edge Switchboard process for leafnode tests: JetStream domain edge1, one
// remote (the hub's leafnode port) re-dialled every 250 ms, a nats.js
// connection to it; and the teardown every such test shares.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { connectMqtt } from './mqtt.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from './servers.ts';

export async function startLeafEdge(dir: string, hubLeafPort: number): Promise<{ edge: SwitchboardProcess; ec: NatsConnection }> {
  const file = join(dir, 'edge.json');
  writeFileSync(file, JSON.stringify({ jetstream: { domain: 'edge1' }, leafnodes: { reconnect: '250ms', remotes: [{ url: `nats-leaf://127.0.0.1:${hubLeafPort}` }] } }));
  const edge = await startSwitchboardProcess(['-c', file]);
  return { edge, ec: await connect({ servers: edge.url }) };
}

/** Close the clients, stop the edge, then the hub, and remove the test's folder (anything may be unset after a failed start). */
export async function stopLeafTest(parts: { hc?: NatsConnection; ec?: NatsConnection; edge?: { stop(): Promise<void> }; hub?: { stop(): Promise<void> }; dir: string }): Promise<void> {
  await parts.hc?.close();
  await parts.ec?.close();
  await parts.edge?.stop();
  await parts.hub?.stop();
  rmSync(parts.dir, { recursive: true, force: true });
}

/** A stream's messages from first to last sequence, each as `<subject> <data>` (a gap fails). */
export async function storedLines(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const { state } = await jsm.streams.info(stream);
  const got: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    assert.ok(m !== null, `message ${seq}`);
    got.push(`${m.subject} ${m.string()}`);
  }
  return got;
}

/** An MQTT sensor on the edge: `publish(n)` sends the next n messages `m<i>` at QoS 1, on `<topic>/t<i % spread>`. */
export async function edgeSensor(edge: SwitchboardProcess, clientId: string, topic: string, spread: number): Promise<{ publish(n: number): Promise<void>; end(): Promise<void> }> {
  const mqtt = await connectMqtt(`mqtt://127.0.0.1:${edge.gateways.mqtt}`, { clientId });
  let sent = 0;
  return {
    async publish(n) {
      for (let i = 0; i < n; i++, sent++) await mqtt.publishAsync(`${topic}/t${sent % spread}`, `m${sent}`, { qos: 1 });
    },
    end: async () => void (await mqtt.endAsync()),
  };
}
