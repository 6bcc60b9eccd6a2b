// MQTT state in JetStream: retained messages readable from NATS as a
// last-per-subject stream, and persistent sessions (subscriptions and queued
// QoS 1 messages) plus retained messages surviving a restart of the whole core.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectCollecting, connectMqtt, sleep, startSwitchboardMqttJetStream } from '../helpers/mqtt.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';

describe('mqtt jetstream persistence', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('mqtt - a retained message is the last message of its subject in MQTT_retained, read over NATS', async () => {
    const dir = tempStoreDir('mqtt-js-');
    dirs.push(dir);
    const sb = await startSwitchboardMqttJetStream(dir);
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await c.publishAsync('plant/line1/state', 'stopped', { retain: true, qos: 1 });
    await c.publishAsync('plant/line1/state', 'running', { retain: true, qos: 1, properties: { userProperties: { by: 'ops' } } });
    await c.endAsync();
    const nc = await connect({ servers: sb.natsUrl });
    const jsm = await jetstreamManager(nc);
    const m = await jsm.streams.getMessage('MQTT_retained', { last_by_subj: '$MQTT.retained.plant.line1.state' });
    assert.equal(m?.string(), 'running');
    assert.equal(m?.header.get('by'), 'ops');
    const direct = await nc.request('$JS.API.DIRECT.GET.MQTT_retained.$MQTT.retained.plant.line1.state', '', { timeout: 2000 });
    assert.equal(direct.string(), 'running');
    await nc.close();
    await sb.stop();
  });

  it('mqtt - persistent session, its queued QoS 1 messages and retained messages survive a restart', async () => {
    const dir = tempStoreDir('mqtt-js-');
    dirs.push(dir);
    const opts = { protocolVersion: 4 as const, clientId: 'durable-1', clean: false };
    let sb = await startSwitchboardMqttJetStream(dir);
    const a = await connectMqtt(sb.mqttUrl, opts);
    await a.subscribeAsync('orders/#', { qos: 1 });
    await a.endAsync();
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    for (let i = 0; i < 3; i++) await pub.publishAsync(`orders/${i}`, `order-${i}`, { qos: 1 });
    await pub.publishAsync('config/mode', 'auto', { qos: 1, retain: true });
    await pub.endAsync();
    await sb.stop();
    await sleep(50);

    sb = await startSwitchboardMqttJetStream(dir); // a new core, router and gateway on the same store
    const { client: b, inbox } = await connectCollecting(sb.mqttUrl, opts);
    await inbox.waitFor(3);
    assert.deepEqual(inbox.payloads(), ['order-0', 'order-1', 'order-2']);
    // The subscription itself came back: a new publish reaches the session live.
    const pub2 = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    await pub2.publishAsync('orders/new', 'after-restart', { qos: 1 });
    await inbox.waitFor(4);
    const { client: c, inbox: retained } = await connectCollecting(sb.mqttUrl, { protocolVersion: 4 });
    await c.subscribeAsync('config/+');
    await retained.waitFor(1);
    assert.equal(retained.messages[0].payload, 'auto');
    await Promise.all([b.endAsync(), c.endAsync(), pub2.endAsync()]);
    await sb.stop();
  });
});
