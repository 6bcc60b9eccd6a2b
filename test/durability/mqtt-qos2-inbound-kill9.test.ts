// Inbound QoS 2 across kill -9 (issue 29): a publisher's packet id released
// before the crash (PUBCOMP received) is free after the restart, so the next
// PUBLISH that reuses it is a new message and is delivered; a PUBLISH resent
// after the crash is delivered once. Records are saved lazily only a minute
// later here, so what the restart finds is what the gateway saved before it
// answered (the inbound-qos2.ts rules), nothing more.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import { sleep, spawnMqttProcess } from '../helpers/mqtt.ts';
import { freePort, stopChild } from '../helpers/servers.ts';

const TOPIC = 'q2in/t';

async function publishQos2(raw: RawMqtt, messageId: number, payload: string, dup = false): Promise<void> {
  raw.write({ cmd: 'publish', topic: TOPIC, payload, qos: 2, messageId, retain: false, dup });
  await raw.next('pubrec', 5_000);
  raw.write({ cmd: 'pubrel', messageId });
  await raw.next('pubcomp', 5_000);
}

async function rawPublisher(port: number): Promise<{ raw: RawMqtt; sessionPresent: boolean }> {
  const raw = await RawMqtt.open(port, 4);
  const connack = await raw.connect(4, { clientId: 'q2in-pub', clean: false });
  return { raw, sessionPresent: (connack as { sessionPresent?: boolean }).sessionPresent === true };
}

describe('durability - mqtt inbound QoS 2 across kill -9', () => {
  const dir = tempStoreDir('mqtt-q2in-kill9-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('durability - a packet id released before kill -9 is free after it, and a resent PUBLISH is delivered once', async () => {
    const port = await freePort();
    const start = (): Promise<ChildProcess> => spawnMqttProcess(['--mqtt-port', String(port), '--store-dir', dir, '--save-delay-ms', '60000']);
    let proc = await start();
    const received = new Map<string, number>();
    const sub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'q2in-sub', clean: false, reconnectPeriod: 100, connectTimeout: 5_000 });
    sub.on('error', () => {}); // refused while the server restarts
    sub.on('message', (_topic, payload) => received.set(payload.toString(), (received.get(payload.toString()) ?? 0) + 1));
    const raws: RawMqtt[] = [];
    const arrived = async (payload: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!received.has(payload) && Date.now() < deadline) await sleep(10);
    };
    try {
      await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
      await sub.subscribeAsync(TOPIC, { qos: 2 });

      let pub = await rawPublisher(port);
      raws.push(pub.raw);
      await publishQos2(pub.raw, 7, 'first');
      await arrived('first');
      await stopChild(proc, 'SIGKILL');
      proc = await start();

      pub = await rawPublisher(port);
      raws.push(pub.raw);
      assert.equal(pub.sessionPresent, true);
      // Id 7 was released (PUBCOMP came): this is a new message, not a resend of 'first'.
      await publishQos2(pub.raw, 7, 'second');
      await arrived('second');

      // A PUBLISH whose PUBREC is lost with the crash comes again, with DUP=1.
      pub.raw.write({ cmd: 'publish', topic: TOPIC, payload: 'third', qos: 2, messageId: 9, retain: false, dup: false });
      await arrived('third');
      await stopChild(proc, 'SIGKILL');
      proc = await start();
      pub = await rawPublisher(port);
      raws.push(pub.raw);
      await publishQos2(pub.raw, 9, 'third', true);
      await sleep(500); // a second copy would arrive by now
      assert.deepEqual(Object.fromEntries(received), { first: 1, second: 1, third: 1 });
    } finally {
      for (const raw of raws) raw.destroy();
      await sub.endAsync(true);
      await stopChild(proc, 'SIGKILL');
    }
  });
});
