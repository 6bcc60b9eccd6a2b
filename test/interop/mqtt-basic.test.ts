// MQTT gateway with mqtt.js, 3.1.1 and 5: QoS 0 publish/subscribe, wildcards,
// '$' topics, escaping, unsubscribe, keep alive and client-id takeover.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';

for (const protocolVersion of [4, 5] as const) {
  describe(`mqtt basic (v${protocolVersion === 4 ? '3.1.1' : '5'})`, () => {
    let sb: SwitchboardMqtt;
    before(async () => {
      sb = await startSwitchboardMqtt();
    });
    after(async () => {
      await sb.stop();
    });
    const connect = (clientId: string, extra = {}) => connectMqtt(sb.mqttUrl, { protocolVersion, clientId, ...extra });

    it('mqtt - QoS 0 publish reaches an exact and a wildcard subscriber', async () => {
      const sub = await connect('b-sub');
      const inbox = new Inbox(sub);
      await sub.subscribeAsync(['home/+/temp', 'home/#']);
      const pub = await connect('b-pub');
      await pub.publishAsync('home/kitchen/temp', '21');
      await pub.publishAsync('home', 'parent'); // [MQTT-4.7.1-2] '#' also matches the parent level
      await pub.publishAsync('office/kitchen/temp', 'no');
      await inbox.waitFor(2);
      await sleep(50);
      // Both filters match home/kitchen/temp: one copy [MQTT-3.3.5-1] [MQTT-3.3.4-2].
      assert.deepEqual(inbox.messages.map((m) => `${m.topic}=${m.payload}`).sort(), ['home/kitchen/temp=21', 'home=parent']);
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - topics with dots, spaces and empty levels round-trip exactly', async () => {
      const topics = ['a.b/c d', '/lead', 'trail/', 'x//y', 'pct%25/%', '*', '>/x'];
      const sub = await connect('esc-sub');
      const inbox = new Inbox(sub);
      await sub.subscribeAsync(topics);
      const pub = await connect('esc-pub');
      for (const t of topics) await pub.publishAsync(t, t);
      await inbox.waitFor(topics.length);
      assert.deepEqual(inbox.messages.map((m) => m.topic), topics);
      assert.deepEqual(inbox.payloads(), topics);
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it("mqtt - wildcards at the first level do not match '$' topics", async () => {
      const sub = await connect('dollar-sub');
      const inbox = new Inbox(sub);
      await sub.subscribeAsync(['#', '+/x', '$sys/x']);
      const pub = await connect('dollar-pub');
      await pub.publishAsync('$sys/x', 'direct'); // [MQTT-4.7.2-1] only the explicit '$sys/x' filter
      await pub.publishAsync('done/x', 'end');
      await until(() => inbox.messages.some((m) => m.payload === 'end') && inbox.messages.length >= 2, 'messages'); // 'done/x' once for '#' and '+/x'
      await sleep(50);
      assert.deepEqual(inbox.messages.filter((m) => m.topic === '$sys/x').length, 1);
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - unsubscribe stops delivery', async () => {
      const sub = await connect('unsub-sub');
      const inbox = new Inbox(sub);
      await sub.subscribeAsync('u/t');
      const pub = await connect('unsub-pub');
      await pub.publishAsync('u/t', '1');
      await inbox.waitFor(1);
      await sub.unsubscribeAsync('u/t');
      await pub.publishAsync('u/t', '2');
      await sleep(100);
      assert.deepEqual(inbox.payloads(), ['1']);
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - a second connection with the same client id takes over', async () => {
      const first = await connect('same-id');
      let firstClosed = false;
      let disconnectReason: number | undefined;
      first.on('close', () => {
        firstClosed = true;
      });
      first.on('disconnect', (packet) => {
        disconnectReason = packet.reasonCode;
      });
      const second = await connect('same-id');
      await until(() => firstClosed, 'first connection closed'); // [MQTT-3.1.4-2]
      if (protocolVersion === 5) assert.equal(disconnectReason, 0x8e); // Session taken over
      assert.equal(second.connected, true);
      await second.endAsync();
      first.end(true);
    });

    it('mqtt - a silent client is closed after 1.5 x keep alive', async () => {
      const c = await connect('silent', { keepalive: 1 });
      // Stop mqtt.js from pinging so the server sees silence.
      (c as unknown as { _checkPing: () => void })._checkPing = () => {};
      (c as unknown as { pingTimer?: { clear(): void } }).pingTimer?.clear();
      (c as unknown as { keepaliveManager?: { destroy(): void } }).keepaliveManager?.destroy();
      let closed = false;
      c.on('close', () => {
        closed = true;
      });
      await until(() => closed, 'keep-alive close', 4000); // [MQTT-3.1.2-24]
      c.end(true);
    });

    it('mqtt - clean session drops subscriptions; a persistent session keeps them', async () => {
      const persistent = protocolVersion === 5 ? { clean: false, properties: { sessionExpiryInterval: 60 } } : { clean: false };
      const a = await connect('keep-subs', persistent);
      await a.subscribeAsync('keep/t', { qos: 1 });
      await a.endAsync();
      const b = await connect('keep-subs', persistent);
      const inbox = new Inbox(b);
      const pub = await connect('keep-pub');
      await pub.publishAsync('keep/t', 'still', { qos: 1 });
      await inbox.waitFor(1);
      await b.endAsync();
      const c = await connect('keep-subs', { clean: true });
      const inbox2 = new Inbox(c);
      await pub.publishAsync('keep/t', 'gone', { qos: 1 });
      await sleep(100);
      assert.deepEqual(inbox2.payloads(), []);
      await Promise.all([c.endAsync(), pub.endAsync()]);
    });
  });
}
