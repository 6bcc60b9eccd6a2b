// The same MQTT cases against Switchboard's gateway and Debian's mosquitto 2.0
// (started by the test). Where the two disagree, the expectation follows the
// spec and the case says so.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { IPublishPacket } from 'mqtt-packet';
import { connectMqtt, Inbox, sleep, startMosquitto, startSwitchboardMqtt, until, type MqttTarget } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import type { Peer } from '../helpers/peers.ts';

const targets: Array<{ name: string; peers?: readonly Peer[]; start: () => Promise<MqttTarget> }> = [
  { name: 'switchboard', start: () => startSwitchboardMqtt() },
  { name: 'mosquitto', peers: ['mosquitto'], start: startMosquitto },
];

for (const target of targets) {
  describe(`mqtt differential (${target.name})`, { peers: target.peers }, () => {
    let t: MqttTarget;
    before(async () => {
      t = await target.start();
    });
    after(async () => {
      await t.stop();
    });

    it('mqtt - delivered QoS is the minimum of published and granted QoS', async () => {
      const sub = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync({ 'd/min/0': { qos: 0 }, 'd/min/1': { qos: 1 }, 'd/min/2': { qos: 2 } });
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      await pub.publishAsync('d/min/0', 'a', { qos: 2 });
      await pub.publishAsync('d/min/1', 'b', { qos: 2 });
      await pub.publishAsync('d/min/2', 'c', { qos: 1 });
      await inbox.waitFor(3);
      assert.deepEqual(inbox.messages.map((m) => [m.payload, m.packet.qos]).sort(), [['a', 0], ['b', 1], ['c', 1]]); // [MQTT-3.8.4-8]
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it("mqtt - '#' and '+' at the first level skip '$' topics, '#' matches the parent", async () => {
      const sub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync(['#', 'dp/#']);
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('$dp/x', 'dollar');
      await pub.publishAsync('dp', 'parent');
      await until(() => inbox.messages.length >= 1, 'parent');
      await sleep(100);
      // '#' and 'dp/#' overlap on 'dp': one copy, as on mosquitto [MQTT-3.3.5-1] (3.1.1 allows
      // further copies, but clients that count messages take them for duplicates).
      assert.deepEqual(inbox.payloads(), ['parent']); // [MQTT-4.7.2-1] [MQTT-4.7.1-2]
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - v5 overlapping subscriptions: one copy at the highest QoS with every Subscription Identifier', async () => {
      const sub = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync('ov/#', { qos: 0, properties: { subscriptionIdentifier: 1 } });
      await sub.subscribeAsync('ov/+', { qos: 1, properties: { subscriptionIdentifier: 2 } });
      await sub.subscribeAsync('ov/x', { qos: 0 }); // no identifier
      await sub.subscribeAsync('ov/y', { qos: 2, properties: { subscriptionIdentifier: 3 } }); // does not match
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      await pub.publishAsync('ov/x', 'once', { qos: 2 });
      await inbox.waitFor(1);
      await sleep(150);
      if (t.name === 'mosquitto') {
        // Disagreement: mosquitto 2.0 sends a copy per subscription, each with its own
        // identifier, which [MQTT-3.3.4-5] allows; clients that count messages see three.
        assert.deepEqual(inbox.messages.map((m) => m.packet.properties?.subscriptionIdentifier ?? 0).sort(), [0, 1, 2]);
        await Promise.all([sub.endAsync(), pub.endAsync()]);
        return;
      }
      assert.deepEqual(inbox.payloads(), ['once']);
      const packet = inbox.messages[0].packet;
      assert.equal(packet.qos, 1); // [MQTT-3.3.4-2] the highest granted QoS of the matching subscriptions
      const ids = packet.properties?.subscriptionIdentifier;
      assert.deepEqual([ids ?? []].flat().sort(), [1, 2]); // [MQTT-3.3.4-4]
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - retained message replace and delete', async () => {
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('d/ret', 'v1', { retain: true, qos: 1 });
      await pub.publishAsync('d/ret', 'v2', { retain: true, qos: 1 });
      const a = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      const inA = new Inbox(a);
      await a.subscribeAsync('d/+');
      await inA.waitFor(1);
      assert.deepEqual(inA.payloads(), ['v2']);
      await pub.publishAsync('d/ret', '', { retain: true, qos: 1 });
      await inA.waitFor(2); // the empty message itself is delivered live, with RETAIN 0
      assert.equal(inA.messages[1].packet.retain, false);
      const b = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      const inB = new Inbox(b);
      await b.subscribeAsync('d/+');
      await sleep(100);
      assert.equal(inB.messages.length, 0);
      await Promise.all([pub.endAsync(), a.endAsync(), b.endAsync()]);
    });

    it('mqtt - a message published once SUBACK is in comes after the retained one it replaces', async () => {
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('d/order', 'old', { retain: true, qos: 1 });
      const sub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync('d/order', { qos: 1 });
      await pub.publishAsync('d/order', 'new', { retain: true, qos: 1 });
      await inbox.waitFor(2);
      assert.deepEqual(inbox.payloads(), ['old', 'new'], 'the last value the subscriber sees is the newest');
      await pub.publishAsync('d/order', '', { retain: true, qos: 1 });
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - v5 UNSUBACK says 0x11 for a filter that was not subscribed', async () => {
      const raw = await RawMqtt.open(t.port, 5);
      await raw.connect(5, { clientId: 'd-unsub' });
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'd/u', qos: 0 }] }, 5);
      await raw.next('suback');
      raw.write({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['d/u', 'd/never'] }, 5);
      const unsuback = (await raw.next('unsuback')) as { granted: number[] };
      assert.deepEqual(unsuback.granted, [0x00, 0x11]); // [MQTT-3.11.3-1]
      raw.destroy();
    });

    it('mqtt - v5 takeover closes the old connection (with DISCONNECT 0x8E per spec)', async () => {
      const first = await RawMqtt.open(t.port, 5);
      await first.connect(5, { clientId: 'd-take' });
      const second = await RawMqtt.open(t.port, 5);
      await second.connect(5, { clientId: 'd-take' });
      await first.waitClosed();
      // Disagreement: [MQTT-3.1.4-3] says the old client gets DISCONNECT 0x8E before the
      // close; mosquitto 2.0.11 just closes it. We follow the spec.
      const d = first.packets.find((p) => p.cmd === 'disconnect') as { reasonCode?: number } | undefined;
      if (t.name === 'switchboard') assert.equal(d?.reasonCode, 0x8e);
      second.destroy();
    });

    it('mqtt - 3.1.1 empty client id with CleanSession 0 is refused with 0x02', async () => {
      const raw = await RawMqtt.open(t.port, 4);
      raw.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]));
      const connack = (await raw.next('connack')) as { returnCode?: number };
      assert.equal(connack.returnCode, 2); // [MQTT-3.1.3-9]
      await raw.waitClosed();
    });

    it('mqtt - v5 empty client id gets an assigned identifier', async () => {
      const raw = await RawMqtt.open(t.port, 5);
      const connack = (await raw.connect(5)) as { properties?: { assignedClientIdentifier?: string } };
      assert.ok((connack.properties?.assignedClientIdentifier ?? '').length > 0); // [MQTT-3.2.2-16]
      raw.destroy();
    });

    it('mqtt - v5 PUBLISH to a wildcard topic is refused and the connection closed', async () => {
      const raw = await RawMqtt.open(t.port, 5);
      await raw.connect(5);
      raw.write({ cmd: 'publish', topic: 'd/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }, 5);
      await raw.waitClosed(); // [MQTT-3.3.2-2]
      // We send DISCONNECT 0x90 (Topic Name invalid) first; mosquitto 2.0 closes after
      // DISCONNECT 0x81/0x82 or nothing. Both close, which is what the spec requires.
      const d = raw.packets.find((p) => p.cmd === 'disconnect') as { reasonCode?: number } | undefined;
      if (t.name === 'switchboard') assert.equal(d?.reasonCode, 0x90);
    });

    it('mqtt - v5 No Local', async () => {
      const c = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const inbox = new Inbox(c);
      await c.subscribeAsync('d/nl', { qos: 1, nl: true });
      const other = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      await c.publishAsync('d/nl', 'own', { qos: 1 });
      await other.publishAsync('d/nl', 'other', { qos: 1 });
      await inbox.waitFor(1);
      await sleep(100);
      assert.deepEqual(inbox.payloads(), ['other']); // [MQTT-3.8.3-3]
      await Promise.all([c.endAsync(), other.endAsync()]);
    });

    it('mqtt - v5 No Local suppresses only the publishing connection: other No Local subscribers get it', async () => {
      const a = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const b = await connectMqtt(t.mqttUrl, { protocolVersion: 5 });
      const inA = new Inbox(a);
      const inB = new Inbox(b);
      await a.subscribeAsync('d/nl2', { qos: 1, nl: true });
      await b.subscribeAsync('d/nl2', { qos: 1, nl: true });
      await a.publishAsync('d/nl2', 'from-a', { qos: 1 });
      await b.publishAsync('d/nl2', 'from-b', { qos: 0 });
      await inA.waitFor(1);
      await inB.waitFor(1);
      await sleep(100);
      assert.deepEqual(inA.payloads(), ['from-b']); // [MQTT-3.8.3-3]
      assert.deepEqual(inB.payloads(), ['from-a']);
      // An overlapping subscription without No Local still gets the publisher its own message, once.
      await a.subscribeAsync('d/+', { qos: 1 });
      await a.publishAsync('d/nl2', 'own-again', { qos: 1 });
      await inA.waitFor(2);
      await inB.waitFor(2);
      await sleep(100);
      assert.deepEqual(inA.payloads(), ['from-b', 'own-again']);
      await Promise.all([a.endAsync(), b.endAsync()]);
    });

    it('mqtt - QoS 1 resent with DUP on session resume', async () => {
      const a = await RawMqtt.open(t.port, 4);
      await a.connect(4, { clientId: 'd-dup', clean: false });
      a.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'd/dup', qos: 1 }] });
      await a.next('suback');
      const pub = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('d/dup', 'again', { qos: 1 });
      const first = (await a.next('publish')) as IPublishPacket;
      a.destroy();
      await sleep(50);
      const b = await RawMqtt.open(t.port, 4);
      const connack = (await b.connect(4, { clientId: 'd-dup', clean: false })) as { sessionPresent: boolean };
      assert.equal(connack.sessionPresent, true);
      const again = (await b.next('publish')) as IPublishPacket; // [MQTT-4.4.0-1]
      assert.equal(again.messageId, first.messageId);
      assert.equal(again.dup, true);
      b.write({ cmd: 'puback', messageId: again.messageId });
      b.write({ cmd: 'disconnect' });
      await pub.endAsync();
    });

    it('mqtt - will is sent on a dropped connection', async () => {
      const watcher = await connectMqtt(t.mqttUrl, { protocolVersion: 4 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('d/will');
      const raw = await RawMqtt.open(t.port, 4);
      await raw.connect(4, { clientId: 'd-will', will: { topic: 'd/will', payload: Buffer.from('bye'), qos: 0, retain: false } });
      raw.destroy();
      await inbox.waitFor(1);
      assert.deepEqual(inbox.payloads(), ['bye']);
      await watcher.endAsync();
    });
  });
}
