// MQTT 5 features: topic aliases, message expiry, subscription options (No
// Local, Retain As Published, Retain Handling), subscription identifiers,
// session expiry, payload format and content type passed through.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectCollecting, connectMqtt, Inbox, sleep, startSwitchboardMqtt, type SwitchboardMqtt } from '../helpers/mqtt.ts';

describe('mqtt v5', () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt();
  });
  after(async () => {
    await sb.stop();
  });
  const connect = (opts = {}) => connectMqtt(sb.mqttUrl, { protocolVersion: 5, ...opts });

  it('mqtt - an inbound topic alias is set once and then used alone', async () => {
    const sub = await connect();
    const inbox = new Inbox(sub);
    await sub.subscribeAsync('alias/t');
    const pub = await connect();
    await pub.publishAsync('alias/t', 'set', { properties: { topicAlias: 3 } });
    await pub.publishAsync('', 'use', { properties: { topicAlias: 3 } }); // [MQTT-3.3.2-12]
    await inbox.waitFor(2);
    assert.deepEqual(inbox.messages.map((m) => `${m.topic}:${m.payload}`), ['alias/t:set', 'alias/t:use']);
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  });

  it('mqtt - message expiry drops queued messages and counts down the rest', async () => {
    const persistent = { clientId: 'exp-sub', clean: false, properties: { sessionExpiryInterval: 60 } };
    const a = await connect(persistent);
    await a.subscribeAsync('exp/t', { qos: 1 });
    await a.endAsync();
    const pub = await connect();
    await pub.publishAsync('exp/t', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
    const sent = Date.now();
    await pub.publishAsync('exp/t', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await sleep(1100);
    const { client: b, inbox } = await connectCollecting(sb.mqttUrl, { protocolVersion: 5, ...persistent });
    await inbox.waitFor(1);
    await sleep(100);
    assert.deepEqual(inbox.payloads(), ['long']); // [MQTT-3.3.2-5]
    const left = inbox.messages[0].packet.properties?.messageExpiryInterval ?? 0;
    // Counted down by at least the 1.1 s waited, and at most by the time that really passed (busy machine).
    const waited = Math.ceil((Date.now() - sent) / 1000);
    assert.ok(left < 100 && left >= 100 - waited - 1, `remaining expiry ${left} after ${waited} s`); // [MQTT-3.3.2-6]
    await Promise.all([b.endAsync(), pub.endAsync()]);
  });

  it('mqtt - No Local keeps a client from receiving its own publishes', async () => {
    const c = await connect();
    const inbox = new Inbox(c);
    await c.subscribeAsync('nl/t', { qos: 0, nl: true });
    const other = await connect();
    await c.publishAsync('nl/t', 'mine');
    await other.publishAsync('nl/t', 'theirs');
    await inbox.waitFor(1);
    await sleep(100);
    assert.deepEqual(inbox.payloads(), ['theirs']); // [MQTT-3.8.3-3]
    await Promise.all([c.endAsync(), other.endAsync()]);
  });

  it('mqtt - Retain As Published keeps the RETAIN flag on live delivery', async () => {
    const keep = await connect();
    const plain = await connect();
    const inKeep = new Inbox(keep);
    const inPlain = new Inbox(plain);
    await keep.subscribeAsync('rap/t', { qos: 0, rap: true, rh: 2 });
    await plain.subscribeAsync('rap/t', { qos: 0, rh: 2 });
    const pub = await connect();
    await pub.publishAsync('rap/t', 'r', { retain: true });
    await inKeep.waitFor(1);
    await inPlain.waitFor(1);
    assert.equal(inKeep.messages[0].packet.retain, true); // [MQTT-3.3.1-13]
    assert.equal(inPlain.messages[0].packet.retain, false); // [MQTT-3.3.1-12]
    await pub.publishAsync('rap/t', '', { retain: true }); // clean up the retained message
    await Promise.all([keep.endAsync(), plain.endAsync(), pub.endAsync()]);
  });

  it('mqtt - Retain Handling 0 / 1 / 2 on subscribe', async () => {
    const pub = await connect();
    await pub.publishAsync('rh/t', 'kept', { retain: true, qos: 1 });
    const c = await connect();
    const inbox = new Inbox(c);
    await c.subscribeAsync('rh/t', { qos: 0, rh: 2 }); // [MQTT-3.3.1-11] never
    await sleep(100);
    assert.equal(inbox.messages.length, 0);
    await c.unsubscribeAsync('rh/t');
    await c.subscribeAsync('rh/t', { qos: 0, rh: 1 }); // [MQTT-3.3.1-10] only when new
    await inbox.waitFor(1);
    await c.subscribeAsync('rh/t', { qos: 0, rh: 1 }); // exists now: nothing
    await sleep(100);
    assert.equal(inbox.messages.length, 1);
    await c.subscribeAsync('rh/t', { qos: 0, rh: 0 }); // [MQTT-3.3.1-9] always
    await inbox.waitFor(2);
    assert.equal(inbox.messages[1].packet.retain, true); // [MQTT-3.3.1-8]
    await pub.publishAsync('rh/t', '', { retain: true });
    await Promise.all([c.endAsync(), pub.endAsync()]);
  });

  it('mqtt - subscription identifiers come back on matching publishes', async () => {
    const c = await connect();
    const inbox = new Inbox(c);
    await c.subscribeAsync('sid/+', { qos: 0, properties: { subscriptionIdentifier: 7 } });
    await c.subscribeAsync('sid/x', { qos: 0, properties: { subscriptionIdentifier: 42 } });
    const pub = await connect();
    await pub.publishAsync('sid/x', 'both');
    await inbox.waitFor(1);
    await sleep(100);
    assert.equal(inbox.messages.length, 1); // one copy for both subscriptions [MQTT-3.3.4-4]
    const ids = inbox.messages.map((m) => m.packet.properties?.subscriptionIdentifier).flat().sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(ids, [7, 42]); // [MQTT-3.3.4-3]
    await Promise.all([c.endAsync(), pub.endAsync()]);
  });

  it('mqtt - payload format, content type, user properties pass MQTT to MQTT', async () => {
    const c = await connect();
    const inbox = new Inbox(c);
    await c.subscribeAsync('pf/t');
    const pub = await connect();
    await pub.publishAsync('pf/t', 'ü', { properties: { payloadFormatIndicator: true, contentType: 'text/plain', userProperties: { a: 'b' } } });
    await inbox.waitFor(1);
    const p = inbox.messages[0].packet.properties;
    assert.equal(p?.payloadFormatIndicator, true); // [MQTT-3.3.2-4]
    assert.equal(p?.contentType, 'text/plain');
    assert.deepEqual({ ...p?.userProperties }, { a: 'b' }); // [MQTT-3.3.2-17]
    await Promise.all([c.endAsync(), pub.endAsync()]);
  });

  it('mqtt - session expiry 0 ends the session at disconnect', async () => {
    const a = await connect({ clientId: 'sx', clean: false, properties: { sessionExpiryInterval: 0 } });
    await a.subscribeAsync('sx/t', { qos: 1 });
    await a.endAsync();
    const b = await connect({ clientId: 'sx', clean: false, properties: { sessionExpiryInterval: 0 } });
    assert.equal(b.connected, true);
    const inbox = new Inbox(b);
    const pub = await connect();
    await pub.publishAsync('sx/t', 'x', { qos: 1 });
    await sleep(100);
    assert.equal(inbox.messages.length, 0);
    await Promise.all([b.endAsync(), pub.endAsync()]);
  });
});
