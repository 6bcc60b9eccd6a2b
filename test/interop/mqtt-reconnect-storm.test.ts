// Issue 20: a reconnect storm must not starve connected clients. 2,000 raw
// MQTT 3.1.1 clients (half with persistent sessions and a QoS 1 subscription,
// from the fleet load generator in its own process) drop and reconnect at
// once against a server in its own process, while a separate client pings
// every 20 ms: its PINGRESPs keep arriving throughout. The bound is generous
// (a shared, loaded machine); `npm run bench` reports the worst round trip.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { sleep, spawnMqttProcess } from '../helpers/mqtt.ts';
import { LoadGenerator, startPinger } from '../helpers/mqtt-fleet-clients.ts';
import { freePort, stopChild } from '../helpers/servers.ts';

const CLIENTS = 2_000;
/** The longest a connected client may go without a PINGRESP during the storm. */
const MAX_GAP_MS = 5_000;

describe('mqtt - reconnect storm', { timeout: 180_000 }, () => {
  let server: ChildProcess | null = null;
  let gen: LoadGenerator | null = null;
  const dir = tempStoreDir('mqtt-storm-');
  after(async () => {
    await gen?.stop();
    if (server !== null) await stopChild(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`mqtt - a separate client's PINGREQs are answered while ${CLIENTS} clients reconnect at once`, async () => {
    const port = await freePort();
    server = await spawnMqttProcess(['--mqtt-port', String(port), '--store-dir', dir]);
    gen = LoadGenerator.start(port);
    const opened = await gen.ask<{ opened: number }>({ cmd: 'open', count: CLIENTS, concurrency: 64, prefix: 'storm', persistentHalf: true });
    assert.equal(opened.opened, CLIENTS);
    await sleep(500); // the persistent sessions are saved
    const pinger = await startPinger(port);
    await sleep(100);
    const began = performance.now();
    const storm = await gen.ask<{ reconnected: number }>({ cmd: 'storm', concurrency: 1_000 });
    const ended = performance.now();
    const pings = await pinger.stop();
    assert.equal(storm.reconnected, CLIENTS, 'every client is back (CONNACK, and SUBACK or its session)');
    // Every stretch of the storm without a PINGRESP, from its start to its end.
    const during = pings.answeredAt.filter((t) => t > began && t < ended);
    const marks = [began, ...during, ended];
    const worstGap = Math.max(...marks.slice(1).map((t, i) => t - marks[i]));
    assert.ok(worstGap < MAX_GAP_MS, `no PINGRESP for ${worstGap.toFixed(0)} ms during a ${(ended - began).toFixed(0)} ms storm (${during.length} answered)`);
    assert.ok(pings.pings > 0 && pings.worstMs < MAX_GAP_MS, `worst PINGRESP ${pings.worstMs.toFixed(0)} ms`);
  });
});
