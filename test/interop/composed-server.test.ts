// `npm start` as users run it: one process with the NATS core, JetStream, MQTT,
// the HTTP gateway and WebSocket, all reaching the same subjects.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import mqtt from 'mqtt';
import { startSwitchboardProcess } from '../helpers/servers.ts';

describe('composed server', () => {
  it('server - one process serves NATS, MQTT, HTTP and WebSocket on one set of subjects', async () => {
    const server = await startSwitchboardProcess();
    try {
      const { mqtt: mqttPort, http: httpPort, websocket: wsPort } = server.gateways;
      assert.ok(mqttPort !== null && httpPort !== null && wsPort !== null, 'every gateway listening');

      const nc = await connect({ servers: server.url });
      const seen: string[] = [];
      nc.subscribe('plant.>', { callback: (_e, m) => { seen.push(`${m.subject}=${m.string()}`); } });
      await nc.flush();

      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5 });
      await client.publishAsync('plant/line1/temp', '21.5', { qos: 1 });
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/subjects/plant.line2.temp`, { method: 'POST', body: '19.0' });
      assert.equal(res.status, 202);
      for (let i = 0; i < 50 && seen.length < 2; i++) await nc.flush();
      assert.deepEqual(seen.sort(), ['plant.line1.temp=21.5', 'plant.line2.temp=19.0']);
      // JetStream is on by default, with the MQTT session streams in it.
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      assert.ok(info.streams >= 1, `JetStream answers (streams: ${info.streams})`);
      await client.endAsync();
      await nc.close();
    } finally {
      await server.stop();
    }
  });
});
