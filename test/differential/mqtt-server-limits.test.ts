// What an MQTT server with a keep-alive cap and a small Receive Maximum tells
// its clients and holds them to, against Switchboard (maxKeepAlive,
// receiveMaximum) and mosquitto 2.0 (max_keepalive, max_inflight_messages,
// which mosquitto announces to v5 clients as its Receive Maximum).

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { startMosquitto, startSwitchboardMqtt, type MqttTarget } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import type { Peer } from '../helpers/peers.ts';

const RECEIVE_MAXIMUM = 2;

// mosquitto accepts no max_keepalive below 10 s; Switchboard is tested with 2 s to keep the run short.
const targets: Array<{ name: string; peers?: readonly Peer[]; keepAliveCap: number; start: (cap: number) => Promise<MqttTarget> }> = [
  { name: 'switchboard', keepAliveCap: 2, start: (cap) => startSwitchboardMqtt({ maxKeepAlive: cap, receiveMaximum: RECEIVE_MAXIMUM }) },
  { name: 'mosquitto', peers: ['mosquitto'], keepAliveCap: 10, start: (cap) => startMosquitto(`max_keepalive ${cap}\nmax_inflight_messages ${RECEIVE_MAXIMUM}\n`) },
];

type Connack = { reasonCode?: number; returnCode?: number; properties?: { serverKeepAlive?: number; receiveMaximum?: number } };

for (const target of targets) {
  describe(`mqtt server limits (${target.name})`, { peers: target.peers }, () => {
    let t: MqttTarget;
    before(async () => {
      t = await target.start(target.keepAliveCap);
    });
    after(async () => {
      await t.stop();
    });

    it('mqtt - v5 keep alive 0 or 3600 gets the cap as Server Keep Alive and is held to it', async () => {
      const cap = target.keepAliveCap;
      await Promise.all([0, 3600].map(async (asked) => {
        const raw = await RawMqtt.open(t.port, 5);
        const connack = (await raw.connect(5, { keepalive: asked })) as Connack;
        assert.equal(connack.properties?.serverKeepAlive, cap, `asked ${asked}`); // [MQTT-3.2.2-21]
        const since = Date.now();
        // Silent: closed after 1.5 x the Server Keep Alive [MQTT-3.1.2-22], with DISCONNECT 0x8D first.
        await raw.waitClosed(cap * 1500 + 4000);
        const waited = Date.now() - since;
        assert.ok(waited >= cap * 1000, `asked ${asked}: closed after ${waited} ms`);
        const d = raw.packets.find((p) => p.cmd === 'disconnect') as { reasonCode?: number } | undefined;
        // mosquitto 2.0 just closes; the spec says the server SHOULD say 0x8D (MQTT 5 §4.13).
        if (t.name === 'switchboard') assert.equal(d?.reasonCode, 0x8d);
      }));
    });

    it('mqtt - 3.1.1 keep alive 0 or over the cap is accepted: the cap cannot be told to a 3.1.1 client', async () => {
      // Holding a 3.1.1 client to a shorter keep alive than it asked for would close a client
      // that follows its own [MQTT-3.1.2-24]; mosquitto 2.0 accepts both too.
      for (const asked of [0, 3600]) {
        const raw = await RawMqtt.open(t.port, 4);
        const connack = (await raw.connect(4, { keepalive: asked })) as Connack;
        assert.equal(connack.returnCode, 0, `keep alive ${asked}`);
        raw.destroy();
      }
    });

    it('mqtt - v5 client over the Receive Maximum (QoS 2 not released) gets DISCONNECT 0x93', async () => {
      const raw = await RawMqtt.open(t.port, 5);
      const connack = (await raw.connect(5, { keepalive: 1 })) as Connack;
      assert.equal(connack.properties?.receiveMaximum, RECEIVE_MAXIMUM);
      for (let id = 1; id <= RECEIVE_MAXIMUM; id++) {
        raw.write({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false }, 5);
        await raw.next('pubrec'); // no PUBREL: each stays unacknowledged until PUBCOMP
      }
      raw.write({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from('x'), qos: 2, messageId: RECEIVE_MAXIMUM + 1, retain: false, dup: false }, 5);
      if (t.name === 'mosquitto') {
        // Disagreement: mosquitto 2.0 answers PUBREC 0x97 (quota exceeded) and keeps the connection;
        // MQTT 5 §4.9 says the server uses DISCONNECT 0x93 (Receive Maximum exceeded).
        assert.equal(((await raw.next('pubrec')) as { reasonCode?: number }).reasonCode, 0x97);
        raw.destroy();
        return;
      }
      const d = (await raw.next('disconnect')) as { reasonCode?: number };
      assert.equal(d.reasonCode, 0x93); // [MQTT-3.3.4-7], MQTT 5 §4.9
      await raw.waitClosed();
    });

    it('mqtt - v5 Receive Maximum counts QoS 1 and QoS 2 together', { skip: target.name === 'mosquitto' ? 'mosquitto acknowledges QoS 1 at once: nothing to count' : false }, async () => {
      const raw = await RawMqtt.open(t.port, 5);
      await raw.connect(5, { keepalive: 1 });
      for (let id = 1; id <= RECEIVE_MAXIMUM; id++) {
        raw.write({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false }, 5);
        await raw.next('pubrec');
      }
      raw.write({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from('x'), qos: 1, messageId: 10, retain: false, dup: false }, 5);
      const d = (await raw.next('disconnect')) as { reasonCode?: number };
      assert.equal(d.reasonCode, 0x93);
      // Released in time, the same number is fine.
      const again = await RawMqtt.open(t.port, 5);
      await again.connect(5, { keepalive: 1 });
      for (let id = 1; id <= RECEIVE_MAXIMUM + 2; id++) {
        again.write({ cmd: 'publish', topic: 'rm/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false }, 5);
        await again.next('pubrec');
        again.write({ cmd: 'pubrel', messageId: id }, 5);
        await again.next('pubcomp');
      }
      assert.equal(again.closed, false);
      again.destroy();
    });
  });
}
