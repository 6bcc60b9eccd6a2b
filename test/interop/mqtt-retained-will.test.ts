// Retained messages, will messages (retain, QoS, v5 will delay) and persistent
// sessions receiving QoS 1/2 messages queued while they were offline.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connectCollecting, connectMqtt, Inbox, mqttTargets, sleep, until, type MqttDeployment } from '../helpers/mqtt.ts';

for (const target of mqttTargets()) {
  describe(`mqtt retained and will (${target.name})`, { peers: target.peers }, () => {
    let sb: MqttDeployment;
    before(async () => {
      sb = await target.start();
    });
    after(async () => {
      await sb.stop();
    });

    for (const protocolVersion of [4, 5] as const) {
      it(`mqtt - a retained message reaches later subscribers; empty payload deletes it (v${protocolVersion})`, async () => {
        const topic = `ret${protocolVersion}/room`;
        const pub = await connectMqtt(sb.mqttUrl, { protocolVersion });
        await pub.publishAsync(topic, 'old', { retain: true, qos: 1 });
        await pub.publishAsync(topic, '22C', { retain: true, qos: 1 }); // replaces [MQTT-3.3.1-5]
        const a = await connectMqtt(sb.mqttUrl, { protocolVersion });
        const inA = new Inbox(a);
        await a.subscribeAsync(`ret${protocolVersion}/#`, { qos: 1 });
        await inA.waitFor(1);
        assert.equal(inA.messages[0].payload, '22C');
        assert.equal(inA.messages[0].packet.retain, true); // [MQTT-3.3.1-8]
        await pub.publishAsync(topic, '', { retain: true, qos: 1 }); // [MQTT-3.3.1-10]
        const b = await connectMqtt(sb.mqttUrl, { protocolVersion });
        const inB = new Inbox(b);
        await b.subscribeAsync(`ret${protocolVersion}/#`);
        await sleep(100);
        assert.equal(inB.messages.length, 0); // [MQTT-3.3.1-11] an empty retained message is not stored
        await Promise.all([pub.endAsync(), a.endAsync(), b.endAsync()]);
      });
    }

    it('mqtt - a will is published when the connection drops, not after DISCONNECT', async () => {
      const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('wills/#', { qos: 1 });
      const dying = await connectMqtt(sb.mqttUrl, { protocolVersion: 4, will: { topic: 'wills/a', payload: Buffer.from('gone'), qos: 1, retain: true } });
      const polite = await connectMqtt(sb.mqttUrl, { protocolVersion: 4, will: { topic: 'wills/b', payload: Buffer.from('never'), qos: 0, retain: false } });
      await polite.endAsync(); // [MQTT-3.1.2-10] DISCONNECT discards the will
      (dying as unknown as { stream: { destroy(): void } }).stream.destroy();
      await inbox.waitFor(1);
      await sleep(100);
      assert.deepEqual(inbox.payloads(), ['gone']);
      assert.equal(inbox.messages[0].packet.qos, 1);
      const late = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
      const inLate = new Inbox(late);
      await late.subscribeAsync('wills/a');
      await inLate.waitFor(1); // the will was retained
      assert.equal(inLate.messages[0].packet.retain, true);
      await Promise.all([watcher.endAsync(), late.endAsync()]);
    });

    // Cluster: the reconnect lands on the other gateway, which asks the first one to cancel the will.
    // Timing claims are lower bounds (a will never comes early) and a 3 s margin for the
    // reconnect, so a busy machine slows the test down instead of failing it.
    it('mqtt - v5 will delay: sent after the delay, cancelled by a reconnect in time', async () => {
      const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('delayed/#');
      const will = (name: string, seconds: number) => ({ topic: `delayed/${name}`, payload: Buffer.from(name), qos: 0 as const, retain: false, properties: { willDelayInterval: seconds } });
      const session = { clean: false, properties: { sessionExpiryInterval: 60 } };
      const a = await connectMqtt(sb.mqttUrl, { protocolVersion: 5, clientId: 'wd-a', will: will('a', 1), ...session });
      const b = await connectMqtt(sb.mqttUrl, { protocolVersion: 5, clientId: 'wd-b', will: will('b', 3), ...session });
      const dropped = Date.now();
      (a as unknown as { stream: { destroy(): void } }).stream.destroy();
      (b as unknown as { stream: { destroy(): void } }).stream.destroy();
      const back = await connectMqtt(sb.mqttUrl, { protocolVersion: 5, clientId: 'wd-b', ...session }); // [MQTT-3.1.3-9]
      const reconnectedAfter = Date.now() - dropped;
      assert.ok(reconnectedAfter < 3_000, `the reconnect took ${reconnectedAfter} ms, longer than b's 3 s will delay`);
      await until(() => inbox.messages.length > 0, "a's will", 30_000);
      assert.ok(Date.now() - dropped >= 950, `a's will came ${Date.now() - dropped} ms after the drop: not before its 1 s delay`);
      await sleep(Math.max(0, dropped + 4_000 - Date.now())); // past b's delay: its will would be here by now
      assert.deepEqual(inbox.payloads(), ['a']);
      await Promise.all([watcher.endAsync(), back.endAsync()]);
    });

    it('mqtt - v5 DISCONNECT 0x04 keeps the will', async () => {
      const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
      const inbox = new Inbox(watcher);
      await watcher.subscribeAsync('w04/t');
      const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 5, will: { topic: 'w04/t', payload: Buffer.from('with-will'), qos: 0, retain: false } });
      await c.endAsync(false, { reasonCode: 0x04 });
      await inbox.waitFor(1);
      await watcher.endAsync();
    });

    for (const protocolVersion of [4, 5] as const) {
      it(`mqtt - a persistent session receives QoS 1 and 2 messages queued while offline (v${protocolVersion})`, async () => {
        const opts = { protocolVersion, clientId: `offline-${protocolVersion}`, clean: false, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}) };
        const a = await connectMqtt(sb.mqttUrl, opts);
        await a.subscribeAsync({ 'off/1': { qos: 1 }, 'off/2': { qos: 2 }, 'off/0': { qos: 0 } });
        await a.endAsync();
        const pub = await connectMqtt(sb.mqttUrl, { protocolVersion });
        for (let i = 0; i < 5; i++) await pub.publishAsync('off/1', `q1-${i}`, { qos: 1 });
        await pub.publishAsync('off/2', 'q2', { qos: 2 });
        await pub.publishAsync('off/0', 'q0', { qos: 0 }); // QoS 0 is not queued for an offline session
        const { client: b, inbox } = await connectCollecting(sb.mqttUrl, opts);
        await inbox.waitFor(6);
        await sleep(100);
        assert.deepEqual(inbox.payloads(), ['q1-0', 'q1-1', 'q1-2', 'q1-3', 'q1-4', 'q2']); // in order [MQTT-4.6.0-?]
        await Promise.all([b.endAsync(), pub.endAsync()]);
      });
    }
  });
}
