// Durability of the MQTT gateway: QoS 1 messages the gateway acknowledged
// (PUBACK) for an offline persistent session survive kill -9 of the process and
// are delivered to that session after the restart.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { connectCollecting, connectMqtt } from '../helpers/mqtt.ts';
import { freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';

const CYCLES = 3;
const PER_CYCLE = 330;

/**
 * Session records are saved lazily; with a one-minute delay they are never saved
 * between a publish and the kill, so what comes back after the restart is found
 * through the message log and the record's cursor alone.
 */
async function startProcess(storeDir: string, port: number): Promise<ChildProcess> {
  const args = ['--mqtt-port', String(port), '--store-dir', storeDir, '--save-delay-ms', '60000'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/mqtt-server-main.ts', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForOutput(child, 'MQTT ready');
  return child;
}

describe('durability - mqtt kill -9', () => {
  const storeDir = tempStoreDir('mqtt-kill9-');
  after(() => rmSync(storeDir, { recursive: true, force: true }));

  it('durability - acknowledged QoS 1 messages reach the persistent session after kill -9', async (t) => {
    const port = await freePort();
    const session = { protocolVersion: 4 as const, clientId: 'kill9-session', clean: false, reconnectPeriod: 0 };
    let proc = await startProcess(storeDir, port);
    const first = await connectMqtt(`mqtt://127.0.0.1:${port}`, session);
    await first.subscribeAsync('k9/#', { qos: 1 });
    await first.endAsync();
    const acked: string[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const pub = await connectMqtt(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 });
      pub.on('error', () => {});
      // mqtt.js leaves a publish pending forever when the socket dies: race it with the close.
      const closed = new Promise<never>((_, reject) => pub.once('close', () => reject(new Error('closed'))));
      closed.catch(() => {});
      // Kill early enough to land mid-stream on a quiet machine, where publishes are fast.
      const killAfter = 20 + Math.floor(Math.random() * 100);
      let killed = false;
      const exited = once(proc, 'exit');
      setTimeout(() => {
        killed = true;
        proc.kill('SIGKILL');
      }, killAfter);
      // At most PER_CYCLE per cycle: the session queues up to maxQueued (1000) messages, and
      // an overflowing queue would be a different test than durability.
      for (let i = 0; !killed && i < PER_CYCLE; i++) {
        const body = `c${cycle}-${i}`;
        try {
          await Promise.race([pub.publishAsync(`k9/${cycle}`, body, { qos: 1 }), closed]);
          acked.push(body);
        } catch {
          break; // the process died before this PUBACK: not acknowledged
        }
      }
      await exited;
      pub.end(true);
      proc = await startProcess(storeDir, port);
    }
    assert.ok(acked.length > 0, 'some publishes were acknowledged');
    // The session may hold up to maxQueued (1000) messages; stay within it.
    const { client, inbox } = await connectCollecting(`mqtt://127.0.0.1:${port}`, session);
    const expected = acked.slice(-1000);
    await inbox.waitFor(Math.min(acked.length, 1000), 15_000).catch(() => inbox);
    const got = new Set(inbox.payloads());
    const missing = expected.filter((b) => !got.has(b));
    t.diagnostic(`${acked.length} acknowledged over ${CYCLES} kills; ${got.size} delivered after restart`);
    // Stop the client and server before asserting: a failure must not leave them running.
    await client.endAsync();
    await stopChild(proc);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${expected.length} acknowledged messages missing`);
  });
});
