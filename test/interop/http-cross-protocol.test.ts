// HTTP <-> MQTT <-> NATS through one in-process core: the HTTP and MQTT gateways
// share one EmbeddedBroker; NATS clients connect to the core's listener.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { OpenAuthorizer } from '../../core/auth/authorizer.ts';
import { createHttpGateway, type HttpGateway } from '../../gateways/http/http-gateway.ts';
import { connectMqtt, Inbox, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { StreamReader } from './http-fixture.ts';

describe('http cross-protocol', () => {
  let sb: SwitchboardMqtt;
  let http: HttpGateway;
  let nc: NatsConnection;
  before(async () => {
    sb = await startSwitchboardMqtt();
    http = createHttpGateway({ broker: sb.broker, authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0 });
    await http.start();
    nc = await connect({ servers: sb.natsUrl });
  });
  after(async () => {
    await nc.close();
    await http.stop();
    await sb.stop();
  });

  it('http cross-protocol - an HTTP publish reaches MQTT and NATS subscribers', async () => {
    const mqtt = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(mqtt);
    await mqtt.subscribeAsync('sensors/+/temp');
    const got: Msg[] = [];
    nc.subscribe('sensors.*.temp', {
      callback: (_e, m) => {
        got.push(m);
      },
    });
    await nc.flush();
    const res = await fetch(`${http.url}/v1/subjects/sensors.s1.temp`, { method: 'POST', headers: { 'x-nats-header-Unit': 'C' }, body: '21.5' });
    assert.equal(res.status, 202);
    await until(() => inbox.messages.length === 1 && got.length === 1, 'both subscribers got it');
    assert.equal(inbox.messages[0].topic, 'sensors/s1/temp');
    assert.equal(inbox.messages[0].payload.toString(), '21.5');
    assert.equal(got[0].string(), '21.5');
    assert.equal(got[0].headers?.get('Unit'), 'C');
    await mqtt.endAsync();
  });

  it('http cross-protocol - MQTT and NATS publishes reach an HTTP SSE subscriber', async () => {
    const reader = new StreamReader(await fetch(`${http.url}/v1/subjects/${encodeURIComponent('room.>')}`));
    const mqtt = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    await mqtt.publishAsync('room/kitchen', 'from-mqtt');
    nc.publish('room.hall', 'from-nats');
    await nc.flush();
    const events = [await reader.nextEvent(), await reader.nextEvent()].map((e) => JSON.parse(e?.data ?? '{}'));
    assert.deepEqual(
      events.map((e) => [e.subject, e.data]).sort(),
      [
        ['room.hall', 'from-nats'],
        ['room.kitchen', 'from-mqtt'],
      ],
    );
    await reader.cancel();
    await mqtt.endAsync();
  });
});
