// MQTT <-> NATS through one in-process core: the NATS clients use
// @nats-io/transport-node against the NatsServer whose router the gateway's
// EmbeddedBroker uses.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startSub } from '../helpers/mosquitto-clients.ts';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';

describe('mqtt cross-protocol', () => {
  let sb: SwitchboardMqtt;
  let nc: NatsConnection;
  before(async () => {
    sb = await startSwitchboardMqtt();
    nc = await connect({ servers: sb.natsUrl });
  });
  after(async () => {
    await nc.close();
    await sb.stop();
  });

  it('mqtt - an MQTT publish reaches a NATS subscriber on the mapped subject', async () => {
    const got: Msg[] = [];
    nc.subscribe('sensors.*.temp', { callback: (_e, m) => { got.push(m); } });
    nc.subscribe('odd.a%2Eb.%.c%20d', { callback: (_e, m) => { got.push(m); } });
    await nc.flush();
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    await c.publishAsync('sensors/s1/temp', '20.5');
    await c.publishAsync('odd/a.b//c d', 'escaped');
    await until(() => got.length === 2, 'two NATS messages');
    assert.deepEqual(got.map((m) => [m.subject, m.string()]), [['sensors.s1.temp', '20.5'], ['odd.a%2Eb.%.c%20d', 'escaped']]);
    assert.equal(got[0].headers, undefined); // a QoS 0 publish is a plain NATS message
    await c.endAsync();
  });

  it('mqtt - a NATS publish reaches MQTT subscribers; headers become v5 user properties', async () => {
    const v5 = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const v4 = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    const in5 = new Inbox(v5);
    const in4 = new Inbox(v4);
    await v5.subscribeAsync('fromnats/#');
    await v4.subscribeAsync('fromnats/+');
    const h = natsHeaders();
    h.append('trace-id', 'abc');
    h.append('X-Multi', '1');
    h.append('X-Multi', '2');
    nc.publish('fromnats.x', 'hello', { headers: h });
    await nc.flush();
    await in5.waitFor(1);
    await in4.waitFor(1);
    assert.equal(in5.messages[0].topic, 'fromnats/x');
    assert.equal(in5.messages[0].payload, 'hello');
    assert.deepEqual({ ...in5.messages[0].packet.properties?.userProperties }, { 'trace-id': 'abc', 'X-Multi': ['1', '2'] });
    assert.equal(in4.messages[0].payload, 'hello');
    await Promise.all([v5.endAsync(), v4.endAsync()]);
  });

  it('mqtt - Mqtt-Retain: true on a NATS publish marks live delivery (Retain As Published) but is not stored without retain_from_headers', async () => {
    const live = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(live);
    await live.subscribeAsync('rh/off', { qos: 0, rap: true });
    const h = natsHeaders();
    h.append('Mqtt-Retain', 'true');
    nc.publish('rh.off', 'x', { headers: h });
    await nc.flush();
    await inbox.waitFor(1);
    assert.equal(inbox.messages[0].packet.retain, true); // [MQTT-3.3.1-12]
    const late = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const lateInbox = new Inbox(late);
    await late.subscribeAsync('rh/off');
    await sleep(150);
    assert.deepEqual(lateInbox.payloads(), []); // off by default: no retained message (README "Messages")
    await Promise.all([live.endAsync(), late.endAsync()]);
  });

  it('mqtt - v5 user properties and content type become NATS headers', async () => {
    const got: Msg[] = [];
    nc.subscribe('props.t', { callback: (_e, m) => { got.push(m); } });
    await nc.flush();
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await c.publishAsync('props/t', 'x', { properties: { userProperties: { region: 'eu', tag: ['a', 'b'] }, contentType: 'text/plain' } });
    await until(() => got.length === 1, 'message');
    assert.equal(got[0].headers?.get('region'), 'eu');
    assert.deepEqual(got[0].headers?.values('tag'), ['a', 'b']);
    assert.equal(got[0].headers?.get('Content-Type'), 'text/plain');
    await c.endAsync();
  });

  it('mqtt - an MQTT 5 client calls a NATS service with response topic and correlation data', async () => {
    nc.subscribe('svc.echo', { callback: (_e, m) => { m.respond(`echo:${m.string()}`); } });
    await nc.flush();
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(c);
    await c.subscribeAsync('replies/me');
    await c.publishAsync('svc/echo', 'ping', { properties: { responseTopic: 'replies/me', correlationData: Buffer.from('req-1') } });
    await inbox.waitFor(1);
    assert.equal(inbox.messages[0].topic, 'replies/me');
    assert.equal(inbox.messages[0].payload, 'echo:ping');
    assert.equal(inbox.messages[0].packet.properties?.correlationData?.toString(), 'req-1');
    // Without correlation data the reply subject is the mapped response topic itself.
    await c.publishAsync('svc/echo', 'plain', { properties: { responseTopic: 'replies/me' } });
    await inbox.waitFor(2);
    assert.equal(inbox.messages[1].payload, 'echo:plain');
    await c.endAsync();
  });

  it('mqtt - a NATS request is answered by an MQTT 5 client through the response topic', async () => {
    const responder = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    responder.on('message', (_topic, payload, packet) => {
      const responseTopic = packet.properties?.responseTopic;
      if (responseTopic) void responder.publishAsync(responseTopic, `answer:${payload.toString()}`);
    });
    await responder.subscribeAsync('mqttsvc/time');
    const reply = await nc.request('mqttsvc.time', 'now?', { timeout: 3000 });
    assert.equal(reply.string(), 'answer:now?');
    await responder.endAsync();
  });

  it('mqtt - $share/g/f and a NATS queue group g share one load', async () => {
    const natsGot: string[] = [];
    nc.subscribe('jobs.run', { queue: 'workers', callback: (_e, m) => { natsGot.push(m.string()); } });
    await nc.flush();
    const worker = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(worker);
    await worker.subscribeAsync('$share/workers/jobs/run');
    for (let i = 0; i < 40; i++) nc.publish('jobs.run', String(i));
    await nc.flush();
    await until(() => natsGot.length + inbox.messages.length === 40, 'all 40 jobs');
    await sleep(50);
    assert.ok(natsGot.length > 0 && inbox.messages.length > 0, `both members got work (${natsGot.length}/${inbox.messages.length})`);
    const all = [...natsGot, ...inbox.payloads()].map(Number).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i));
    await worker.endAsync();
  });

  it('mqtt - a NATS subject token with / or + stays one topic level (%2F, %2B); nx/+ gets only legal topics it matches', { peers: ['mosquitto_sub'] }, async () => {
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(c);
    await c.subscribeAsync('nx/+');
    const sub = await startSub(sb.port, ['-V', 'mqttv5', '-t', 'nx/+', '-F', 'MSG %t %p']);
    try {
      nc.publish('nx.a/b', 'slash');
      nc.publish('nx.a+b', 'plus');
      nc.publish('nx.c.d', 'deeper'); // two levels: not for nx/+
      nc.publish('nx.#', 'hash');
      await nc.flush();
      await inbox.waitFor(3);
      await until(() => sub.lines().length >= 3, 'mosquitto_sub got three messages');
      await sleep(100);
      const expected = ['nx/a%2Fb slash', 'nx/a%2Bb plus', 'nx/%23 hash'];
      // [MQTT-4.7.1-1] no wildcard in a topic name; one subject token is one level.
      assert.deepEqual(inbox.messages.map((m) => `${m.topic} ${m.payload}`), expected);
      assert.deepEqual(sub.lines().map((l) => l.slice(4)), expected);
      // An MQTT client answers on the topic it got: the NATS subject is the original one.
      const back: Msg[] = [];
      nc.subscribe('nx.a/b', { callback: (_e, m) => { back.push(m); } });
      await nc.flush();
      await c.publishAsync('nx/a%2Fb', 'reply');
      await until(() => back.length === 1, 'reply on nx.a/b');
    } finally {
      sub.child.kill();
      await c.endAsync();
    }
  });
});
