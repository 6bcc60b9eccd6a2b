// An edge Switchboard process for leafnode tests: JetStream domain edge1, one
// remote (the hub's leafnode port) re-dialled every 250 ms, a nats.js
// connection to it; and the teardown every such test shares.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
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
