// A persistent MQTT 5 session whose gateway is killed while its client is
// connected: the stored record still says "connected", since nobody saved the
// disconnect. It must still expire its Session Expiry Interval after the
// connection ended (MQTT 5 §3.1.2.11.2), counted from when the restarted
// gateway's sweep finds that nobody holds it; and a session that is held, or
// whose client comes back in time, must not be dropped. Real child processes,
// SIGKILL, and mqtt.js reading Session Present from the CONNACK.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { sleep, spawnMqttProcess } from '../helpers/mqtt.ts';
import { freePort, stopChild } from '../helpers/servers.ts';

const SWEEP_MS = 300;

function startProcess(storeDir: string, port: number): Promise<ChildProcess> {
  return spawnMqttProcess(['--mqtt-port', String(port), '--store-dir', storeDir, '--expiry-sweep-ms', String(SWEEP_MS)]);
}

/** Connect a v5 persistent session; resolves with the client and the CONNACK's Session Present. */
function connectSession(port: number, clientId: string, expirySeconds: number): Promise<{ client: MqttClient; sessionPresent: boolean }> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    clientId,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    properties: { sessionExpiryInterval: expirySeconds },
  });
  client.on('error', () => {});
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => resolve({ client, sessionPresent: connack.sessionPresent }));
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)));
  });
}

describe('durability - mqtt session expiry after its gateway was killed', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /**
   * Sessions connected (and subscribed) for `connectedMs`, then the gateway is
   * killed with SIGKILL and restarted on the same store; each client connects
   * again `returnAfterMs` after the restart. Resolves with each CONNACK's Session
   * Present, by client id. Everything is stopped before the caller asserts.
   */
  async function acrossKill(name: string, sessions: Array<{ clientId: string; expirySeconds: number; returnAfterMs: number }>, connectedMs: number): Promise<Map<string, boolean>> {
    const dir = tempStoreDir(`mqtt-orphan-${name}-`);
    dirs.push(dir);
    const port = await freePort();
    let proc = await startProcess(dir, port);
    const clients: MqttClient[] = [];
    const present = new Map<string, boolean>();
    try {
      for (const { clientId, expirySeconds } of sessions) {
        const first = await connectSession(port, clientId, expirySeconds);
        clients.push(first.client);
        assert.equal(first.sessionPresent, false, `${clientId}: a new session`);
        await first.client.subscribeAsync('orphan/#', { qos: 1 });
      }
      await sleep(connectedMs);
      await stopChild(proc, 'SIGKILL');
      for (const c of clients.splice(0)) c.end(true);
      proc = await startProcess(dir, port);
      const restartedAt = Date.now();
      for (const { clientId, expirySeconds, returnAfterMs } of [...sessions].sort((a, b) => a.returnAfterMs - b.returnAfterMs)) {
        await sleep(Math.max(0, restartedAt + returnAfterMs - Date.now()));
        const again = await connectSession(port, clientId, expirySeconds);
        clients.push(again.client);
        present.set(clientId, again.sessionPresent);
      }
      return present;
    } finally {
      for (const c of clients) c.end(true);
      await stopChild(proc);
    }
  }

  it('mqtt orphan - a session held across several sweeps, then back soon after the kill, is still there', async () => {
    // Sweeps run while the session is held (4 s expiry, 5 s connected): a held
    // session is never counted as orphaned. After the kill the client is back
    // well within its 4 s.
    const present = await acrossKill('kept', [{ clientId: 'orphan-kept', expirySeconds: 4, returnAfterMs: 0 }], 5_000);
    assert.equal(present.get('orphan-kept'), true, 'the session survived the sweeps and the kill');
  });

  it('mqtt orphan - a session nobody holds after the kill expires its interval later', async () => {
    // Two sessions saved alike before the kill. The 60 s one, back at once, is
    // present: the records were stored. The 1 s one: the restarted gateway's
    // first sweep finds it held by nobody (within SWEEP_MS), and a sweep past
    // that plus 1 s deletes it; 4 s leaves room for a slow machine.
    const present = await acrossKill(
      'expired',
      [
        { clientId: 'orphan-control', expirySeconds: 60, returnAfterMs: 0 },
        { clientId: 'orphan-expired', expirySeconds: 1, returnAfterMs: 4_000 },
      ],
      200,
    );
    assert.equal(present.get('orphan-control'), true, 'a record saved the same way is there after the restart');
    assert.equal(present.get('orphan-expired'), false, 'the session expired although no disconnect was ever saved');
  });
});
