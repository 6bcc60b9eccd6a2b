// Issue 29 item 5: on a 3-node nats-server cluster (R3 streams), QoS 1 messages
// published while no gateway holds a persistent session, through the other
// gateway and from NATS clients on every node, are queued for it: the session
// gets each of them once when its client comes back, on either gateway.

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import { connect as natsConnect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import type { MqttClient } from 'mqtt';
import { connectCollecting, connectMqtt } from '../helpers/mqtt.ts';
import { startClusterGateways, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.ts';
import type { SwitchboardProcess } from '../helpers/servers.ts';

const PER_SOURCE = 50;

describe('mqtt cluster offline sessions (nats-server cluster)', { peers: ['nats-server'] }, () => {
  it('mqtt - QoS 1 messages for a session no gateway holds, through the other gateway and NATS on every node, wait for it', async () => {
    let cluster: NatsCluster | null = null;
    let gateways: SwitchboardProcess[] = [];
    const clients: MqttClient[] = [];
    const ncs: NatsConnection[] = [];
    try {
      cluster = await startNatsCluster();
      gateways = await startClusterGateways(cluster, 2);
      const [one, two] = gateways.map((g) => `mqtt://127.0.0.1:${g.gateways.mqtt}`);
      const session = { protocolVersion: 5 as const, clientId: 'offline-cluster', clean: false, properties: { sessionExpiryInterval: 600 } };
      const first = await connectMqtt(one, session);
      await first.subscribeAsync('offline/#', { qos: 1 });
      await first.endAsync(); // gateway one saves the record and lets the session go: nobody holds it

      const pub = await connectMqtt(two, { protocolVersion: 4 });
      clients.push(pub);
      for (let i = 0; i < PER_SOURCE; i++) await pub.publishAsync('offline/mqtt', `mqtt-${i}`, { qos: 1 });
      const h = natsHeaders();
      h.set('Mqtt-Qos', '1'); // QoS 1 for MQTT subscribers: logged for the offline session
      for (const [n, url] of cluster.urls.entries()) {
        const nc = await natsConnect({ servers: url });
        ncs.push(nc);
        for (let i = 0; i < PER_SOURCE; i++) nc.publish(`offline.nats${n}`, `nats${n}-${i}`, { headers: h });
        await nc.flush();
      }
      const expected = [
        ...Array.from({ length: PER_SOURCE }, (_, i) => `mqtt-${i}`),
        ...cluster.urls.flatMap((_, n) => Array.from({ length: PER_SOURCE }, (__, i) => `nats${n}-${i}`)),
      ];
      // The NATS messages are logged by the capture queue group, asynchronously: wait for them on the session.
      const { client: back, inbox } = await connectCollecting(two, session);
      clients.push(back);
      const deadline = Date.now() + 20_000;
      while (new Set(inbox.payloads()).size < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200)); // a second copy would arrive by now
      const got = inbox.payloads();
      assert.deepEqual([...got].sort(), [...expected].sort(), 'each message once');
      // The MQTT publisher's messages in its order [MQTT-4.6.0-6]. A NATS publisher's are logged by
      // whichever gateway of the capture queue group got each, so their order may differ (README).
      assert.deepEqual(got.filter((p) => p.startsWith('mqtt-')), expected.filter((p) => p.startsWith('mqtt-')), 'MQTT publisher order');
    } finally {
      for (const c of clients) c.end(true);
      for (const nc of ncs) await nc.close();
      await Promise.all(gateways.map((g) => g.stop()));
      await cluster?.stop();
    }
  });
});
