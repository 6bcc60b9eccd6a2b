// Retained messages from NATS and HTTP (mqtt { retain_from_headers: true }):
// a NATS publish (@nats-io/transport-node) or an HTTP POST (fetch) with
// `Mqtt-Retain: true` or `1` becomes the retained message of its topic for
// MQTT subscribers (mqtt.js v5 and 3.1.1); an empty payload deletes it. A
// retained MQTT publish is stored once, by the gateway that received it. (Off,
// the default, is in mqtt-cross-protocol.test.ts.)

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { OpenAuthorizer } from '../../core/auth/authorizer.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createHttpGateway, type HttpGateway } from '../../gateways/http/http-gateway.ts';
import type { MqttMessage } from '../../gateways/mqtt/message.ts';
import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';
import { MemoryRetainedStore } from '../../gateways/mqtt/memory-store.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { startNatsServer } from '../helpers/servers.ts';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, startSwitchboardMqttJetStream, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';

/** The in-memory store, counting what is stored per topic (the gateway's real store, observed). */
class CountingRetainedStore extends MemoryRetainedStore {
  readonly sets = new Map<string, number>();
  override async set(message: MqttMessage): Promise<void> {
    this.sets.set(message.topic, (this.sets.get(message.topic) ?? 0) + 1);
    return super.set(message);
  }
}

/** What a new subscriber to `filter` gets as retained messages (payload:retain flag), after `waitMs`. */
async function retainedFor(url: string, filter: string, protocolVersion: 4 | 5, waitMs = 150): Promise<string[]> {
  const c = await connectMqtt(url, { protocolVersion });
  const inbox = new Inbox(c);
  await c.subscribeAsync(filter, { qos: 1 });
  await sleep(waitMs);
  await c.endAsync();
  return inbox.messages.map((m) => `${m.topic}:${m.payload}:${m.packet.retain}`);
}

function natsPublish(nc: NatsConnection, subject: string, data: string, retain: string | null): void {
  const h = natsHeaders();
  if (retain !== null) h.append('Mqtt-Retain', retain);
  nc.publish(subject, data, retain === null ? {} : { headers: h });
}

describe('mqtt retained from NATS and HTTP headers', () => {
  let sb: SwitchboardMqtt;
  let http: HttpGateway;
  let nc: NatsConnection;
  const store = new CountingRetainedStore();
  before(async () => {
    sb = await startSwitchboardMqtt({ retainFromHeaders: true, retainedStore: store });
    http = createHttpGateway({ broker: sb.broker, authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0 });
    await http.start();
    nc = await connect({ servers: sb.natsUrl });
  });
  after(async () => {
    await nc.close();
    await http.stop();
    await sb.stop();
  });

  it('mqtt - a NATS publish with Mqtt-Retain: true or 1 is retained; other values and none are not', async () => {
    natsPublish(nc, 'rh.nats.true', 't', 'true');
    natsPublish(nc, 'rh.nats.one', 'o', '1');
    natsPublish(nc, 'rh.nats.upper', 'u', 'TRUE');
    natsPublish(nc, 'rh.nats.false', 'f', 'false');
    natsPublish(nc, 'rh.nats.none', 'n', null);
    await nc.flush();
    await until(() => store.sets.size >= 3, 'three retained messages stored');
    for (const version of [5, 4] as const) {
      assert.deepEqual((await retainedFor(sb.mqttUrl, 'rh/nats/#', version)).sort(), ['rh/nats/one:o:true', 'rh/nats/true:t:true', 'rh/nats/upper:u:true']); // [MQTT-3.3.1-9]
    }
  });

  it('mqtt - the newest NATS retained message replaces the last; an empty payload deletes it', async () => {
    for (const payload of ['1', '2', '3']) natsPublish(nc, 'rh.seq', payload, 'true');
    await nc.flush();
    await until(() => store.sets.get('rh/seq') === 3, 'three stores');
    assert.deepEqual(await retainedFor(sb.mqttUrl, 'rh/seq', 5), ['rh/seq:3:true']);
    natsPublish(nc, 'rh.seq', '', 'true');
    await nc.flush();
    await until(() => store.sets.get('rh/seq') === 4, 'the delete');
    assert.deepEqual(await retainedFor(sb.mqttUrl, 'rh/seq', 5), []); // [MQTT-3.3.1-10]
  });

  it('mqtt - an HTTP publish with the Mqtt-Retain header (or X-Nats-Header-Mqtt-Retain) is retained', async () => {
    for (const [subject, header] of [['rh.http.direct', 'mqtt-retain'], ['rh.http.prefixed', 'X-Nats-Header-Mqtt-Retain']]) {
      const res = await fetch(`${http.url}/v1/subjects/${subject}`, { method: 'POST', headers: { [header]: 'true', 'content-type': 'text/plain' }, body: 'from-http' });
      assert.equal(res.status, 202);
    }
    await until(() => store.sets.has('rh/http/direct') && store.sets.has('rh/http/prefixed'), 'both stored');
    assert.deepEqual((await retainedFor(sb.mqttUrl, 'rh/http/+', 5)).sort(), ['rh/http/direct:from-http:true', 'rh/http/prefixed:from-http:true']);
  });

  it('mqtt - a retained MQTT publish is stored once, by its gateway; NATS sees Mqtt-Retain and Mqtt-Retain-Stored', async () => {
    const got: Msg[] = [];
    nc.subscribe('rh.mqtt', { callback: (_e, m) => void got.push(m) });
    await nc.flush();
    const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    await pub.publishAsync('rh/mqtt', 'kept', { qos: 1, retain: true });
    await until(() => got.length === 1, 'the NATS copy');
    await sleep(100); // a second store, if any, would come from the capture by now
    assert.equal(store.sets.get('rh/mqtt'), 1);
    assert.deepEqual([got[0].headers?.get('Mqtt-Retain'), got[0].headers?.get('Mqtt-Retain-Stored')], ['1', '1']);
    assert.deepEqual(await retainedFor(sb.mqttUrl, 'rh/mqtt', 5), ['rh/mqtt:kept:true']);
    await pub.endAsync();
  });
});

describe('mqtt retained from headers, JetStream store (the npm start default)', () => {
  const dir = tempStoreDir('mqtt-rh-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mqtt - a NATS retained message lands in MQTT_retained and survives a restart', async () => {
    let sb = await startSwitchboardMqttJetStream(dir, { retainFromHeaders: true });
    const nc = await connect({ servers: sb.natsUrl });
    natsPublish(nc, 'rh.js.state', 'running', 'true');
    await nc.flush();
    // Stored once its append is in: poll what a new subscriber gets (bounded).
    let seen: string[] = [];
    for (let i = 0; i < 50 && seen.length === 0; i++) seen = await retainedFor(sb.mqttUrl, 'rh/js/state', 5, 50);
    assert.deepEqual(seen, ['rh/js/state:running:true']);
    await nc.close();
    await sb.stop();
    sb = await startSwitchboardMqttJetStream(dir, { retainFromHeaders: true });
    assert.deepEqual(await retainedFor(sb.mqttUrl, 'rh/js/state', 4), ['rh/js/state:running:true']);
    await sb.stop();
  });
});

describe('mqtt retained from headers, two gateways on nats-server -js', { peers: ['nats-server'] }, () => {
  it('mqtt - one gateway of the queue group stores it; a subscriber on either gateway gets it', async () => {
    const dir = tempStoreDir('mqtt-rh-ns-');
    const nats = await startNatsServer(['-js', '-sd', dir]);
    const brokers = await Promise.all([0, 1].map(() => NatsBroker.connect({ servers: nats.url })));
    const gateways = brokers.map((broker, i) =>
      createMqttGateway({ broker, name: `g${i}`, host: '127.0.0.1', port: 0, persistence: 'jetstream', jetStreamStorage: 'memory', retainFromHeaders: true }));
    try {
      for (const g of gateways) await g.start();
      const nc = await connect({ servers: nats.url });
      natsPublish(nc, 'rh.cluster', 'shared', 'true');
      await nc.flush();
      for (const g of gateways) {
        let seen: string[] = [];
        for (let i = 0; i < 50 && seen.length === 0; i++) seen = await retainedFor(`mqtt://127.0.0.1:${g.port}`, 'rh/cluster', 5, 50);
        assert.deepEqual(seen, ['rh/cluster:shared:true']);
      }
      // Stored once: one message on its subject in MQTT_retained (max one per subject keeps the last, so count the stream's writes).
      const info = await nc.request('$JS.API.STREAM.INFO.MQTT_retained', '', { timeout: 2000 });
      assert.equal((info.json() as { state: { last_seq: number } }).state.last_seq, 1);
      await nc.close();
    } finally {
      for (const g of gateways) await g.stop();
      for (const b of brokers) await b.close();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
