// Server-side limits: Server Keep Alive, session expiry timing, DISCONNECT
// session-expiry rules, and the slow-consumer cut-off.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IPublishPacket } from 'mqtt-packet';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

describe('mqtt limits', () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt({ maxKeepAlive: 5, maxPendingBytes: 64 * 1024 });
  });
  after(async () => {
    await sb.stop();
  });

  it('mqtt - a keep alive over the cap is answered with Server Keep Alive', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    const connack = (await raw.connect(5, { keepalive: 60 })) as { properties?: { serverKeepAlive?: number } };
    assert.equal(connack.properties?.serverKeepAlive, 5); // [MQTT-3.2.2-21]
    raw.destroy();
  });

  it('mqtt - a session ends when its expiry interval passes after disconnect', async () => {
    const opts = { protocolVersion: 5 as const, clientId: 'short-lived', clean: false, properties: { sessionExpiryInterval: 1 } };
    const a = await connectMqtt(sb.mqttUrl, opts);
    await a.subscribeAsync('sl/t', { qos: 1 });
    await a.endAsync();
    const within = await RawMqtt.open(sb.port, 5);
    const present = (await within.connect(5, { clientId: 'short-lived', clean: false, properties: { sessionExpiryInterval: 1 } })) as { sessionPresent: boolean };
    assert.equal(present.sessionPresent, true); // within the interval
    within.write({ cmd: 'disconnect', reasonCode: 0 }, 5);
    await within.waitClosed();
    await sleep(1300);
    const raw = await RawMqtt.open(sb.port, 5);
    const connack = (await raw.connect(5, { clientId: 'short-lived', clean: false, properties: { sessionExpiryInterval: 1 } })) as { sessionPresent: boolean };
    assert.equal(connack.sessionPresent, false); // MQTT 5 §3.1.2.11.2
    raw.destroy();
  });

  it('mqtt - DISCONNECT cannot turn a session expiry of 0 into a persistent one', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    await raw.connect(5, { clientId: 'zero-expiry' });
    raw.write({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } }, 5);
    const d = (await raw.next('disconnect')) as { reasonCode?: number };
    assert.equal(d.reasonCode, 0x82); // [MQTT-3.14.2-2]
    await raw.waitClosed();
  });

  it('mqtt - a subscriber that stops reading is cut off and counted, others keep going', async () => {
    const slow = await RawMqtt.open(sb.port, 4);
    await slow.connect(4, { clientId: 'slow' });
    slow.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flood/t', qos: 0 }] });
    await slow.next('suback');
    slow.pause();
    const healthy = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    const inbox = new Inbox(healthy);
    await healthy.subscribeAsync('flood/done');
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    const chunk = Buffer.alloc(16 * 1024, 1);
    for (let i = 0; i < 1000 && sb.gateway.stats.slowConsumers === 0; i++) {
      await pub.publishAsync('flood/t', chunk);
      if (i % 50 === 0) await sleep(1);
    }
    await until(() => sb.gateway.stats.slowConsumers === 1, 'slow consumer cut off', 5000);
    await pub.publishAsync('flood/done', 'ok');
    await inbox.waitFor(1);
    slow.destroy();
    await Promise.all([healthy.endAsync(), pub.endAsync()]);
  });

  it('mqtt - QoS 1 to a client over its Maximum Packet Size is dropped, not sent', async () => {
    const raw = await RawMqtt.open(sb.port, 5);
    await raw.connect(5, { clientId: 'tiny', properties: { maximumPacketSize: 64 } });
    raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mps/t', qos: 1 }] }, 5);
    await raw.next('suback');
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await pub.publishAsync('mps/t', Buffer.alloc(200), { qos: 1 }); // [MQTT-3.1.2-24] never sent
    await pub.publishAsync('mps/t', 'fits', { qos: 1 });
    const p = (await raw.next('publish')) as IPublishPacket;
    assert.equal(p.payload.toString(), 'fits');
    raw.destroy();
    await pub.endAsync();
  });
});
