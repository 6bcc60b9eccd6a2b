// QoS 1 and 2 both ways, exactly-once QoS 2 across a reconnect, in-flight
// resend on session resume, and the client's Receive Maximum.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { IPublishPacket } from 'mqtt-packet';
import { connectMqtt, Inbox, mqttTargets, sleep, until, type MqttDeployment } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

for (const target of mqttTargets()) {
  describe(`mqtt qos (${target.name})`, { peers: target.peers }, () => {
    let sb: MqttDeployment;
    before(async () => {
      sb = await target.start();
    });
    after(async () => {
      await sb.stop();
    });

    for (const protocolVersion of [4, 5] as const) {
      it(`mqtt - QoS 1 and 2 publish and delivery complete their handshakes (v${protocolVersion})`, async () => {
        const sub = await connectMqtt(sb.mqttUrl, { protocolVersion });
        const inbox = new Inbox(sub);
        await sub.subscribeAsync({ [`q${protocolVersion}/1`]: { qos: 1 }, [`q${protocolVersion}/2`]: { qos: 2 }, [`q${protocolVersion}/0`]: { qos: 0 } });
        const pub = await connectMqtt(sb.mqttUrl, { protocolVersion });
        await pub.publishAsync(`q${protocolVersion}/1`, 'one', { qos: 1 });
        await pub.publishAsync(`q${protocolVersion}/2`, 'two', { qos: 2 });
        await pub.publishAsync(`q${protocolVersion}/0`, 'down', { qos: 2 }); // [MQTT-3.8.4-8] min(2, 0) = 0
        await inbox.waitFor(3);
        const byPayload = new Map(inbox.messages.map((m) => [m.payload, m.packet.qos]));
        assert.deepEqual(Object.fromEntries(byPayload), { one: 1, two: 2, down: 0 });
        await Promise.all([sub.endAsync(), pub.endAsync()]);
      });
    }

    it('mqtt - inbound QoS 2 is delivered exactly once across a reconnect', async () => {
      const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('once/t', { qos: 2 });
      const first = await RawMqtt.open(sb.port);
      await first.connect(4, { clientId: 'q2-pub', clean: false });
      const publish: IPublishPacket = { cmd: 'publish', topic: 'once/t', payload: Buffer.from('x'), qos: 2, messageId: 9, retain: false, dup: false };
      first.write(publish);
      await first.next('pubrec');
      first.destroy(); // gone before PUBREL
      const second = await RawMqtt.open(sb.port);
      const connack = (await second.connect(4, { clientId: 'q2-pub', clean: false })) as { sessionPresent: boolean };
      assert.equal(connack.sessionPresent, true);
      second.write({ ...publish, dup: true }); // the client resends: the id is still unreleased
      await second.next('pubrec');
      second.write({ cmd: 'pubrel', messageId: 9 });
      await second.next('pubcomp');
      // A marker from the same connection comes after any copy of 'x' (one publisher's
      // messages keep their order), so no fixed pause decides what "once" means.
      second.write({ cmd: 'publish', topic: 'once/t', payload: Buffer.from('end'), qos: 0, retain: false, dup: false });
      await inbox.waitFor(2, 30_000);
      assert.deepEqual(inbox.payloads(), ['x', 'end']); // [MQTT-4.3.3-?] exactly once
      second.destroy();
      await watcher.endAsync();
    });

    it('mqtt - outbound QoS 2 in flight is resent with DUP, then PUBREL, after reconnects', async () => {
      const a = await RawMqtt.open(sb.port);
      await a.connect(4, { clientId: 'q2-sub', clean: false });
      a.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'out/t', qos: 2 }] });
      await a.next('suback');
      const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('out/t', 'exactly', { qos: 2 });
      const p1 = (await a.next('publish')) as IPublishPacket;
      a.destroy(); // never answered
      const b = await RawMqtt.open(sb.port);
      await b.connect(4, { clientId: 'q2-sub', clean: false });
      const p2 = (await b.next('publish')) as IPublishPacket; // [MQTT-4.4.0-1] resent on resume
      assert.equal(p2.messageId, p1.messageId);
      assert.equal(p2.dup, true);
      b.write({ cmd: 'pubrec', messageId: p2.messageId });
      await b.next('pubrel');
      b.destroy(); // PUBCOMP never sent
      const c = await RawMqtt.open(sb.port);
      await c.connect(4, { clientId: 'q2-sub', clean: false });
      const rel = await c.next('pubrel'); // only PUBREL is resent now
      assert.equal(rel.messageId, p1.messageId);
      c.write({ cmd: 'pubcomp', messageId: p1.messageId });
      await sleep(50);
      assert.equal(c.packets.filter((p) => p.cmd === 'publish').length, 0);
      c.destroy();
      await pub.endAsync();
    });

    it('mqtt - Receive Maximum limits unacknowledged deliveries', async () => {
      const raw = await RawMqtt.open(sb.port, 5);
      await raw.connect(5, { clientId: 'rm', properties: { receiveMaximum: 2 } });
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rm/t', qos: 1 }] }, 5);
      await raw.next('suback');
      const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
      for (let i = 0; i < 5; i++) await pub.publishAsync('rm/t', String(i), { qos: 1 });
      // Wait for what must arrive, then give extra deliveries a moment to show: a busy
      // machine can only make the pause less sensitive, never fail a correct gateway.
      const delivered = (): IPublishPacket[] => raw.packets.filter((p) => p.cmd === 'publish') as IPublishPacket[];
      await until(() => delivered().length >= 2, 'two deliveries', 30_000);
      await sleep(100);
      const first = delivered();
      assert.equal(first.length, 2); // [MQTT-3.3.4-7] no more than Receive Maximum in flight
      raw.write({ cmd: 'puback', messageId: first[0].messageId }, 5);
      await until(() => delivered().length >= 3, 'a third delivery after the PUBACK', 30_000);
      await sleep(100);
      assert.equal(delivered().length, 3);
      raw.destroy();
      await pub.endAsync();
    });
  });
}
