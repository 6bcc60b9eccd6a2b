// MQTT gateway failover in cluster mode: two gateway processes on a real
// 3-node nats-server cluster. A persistent session connected to gateway A
// moves to gateway B when A is killed with SIGKILL, and receives the QoS 1
// messages that were published (and acknowledged by B) while no gateway held
// it: they were logged in MQTT_msgs because the session's subscriptions are
// known to every gateway through its record in MQTT_sessions.

import assert from 'node:assert/strict';
import { describe, it } from '../helpers/peer-test.ts';
import type { MqttClient } from 'mqtt';
import { connectCollecting, connectMqtt, sleep, until } from '../helpers/mqtt.ts';
import { startClusterGateways, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.ts';
import { stopChild, type SwitchboardProcess } from '../helpers/servers.ts';

const QUEUED = 20;

describe('durability - mqtt gateway failover (nats-server cluster)', { peers: ['nats-server'] }, () => {
  it('durability - a persistent session on gateway A moves to gateway B after kill -9 of A and gets its queued QoS 1 messages', async (t) => {
    let cluster: NatsCluster | null = null;
    let gateways: SwitchboardProcess[] = [];
    const clients: MqttClient[] = [];
    let beforeKill: string[] = [];
    let afterMove: Array<{ payload: string; dup: boolean }> = [];
    try {
      cluster = await startNatsCluster();
      gateways = await startClusterGateways(cluster, 2, { names: ['gw-a', 'gw-b'] });
      const [a, b] = gateways.map((g) => `mqtt://127.0.0.1:${g.gateways.mqtt}`);
      const session = { protocolVersion: 4 as const, clientId: 'failover-1', clean: false };
      const { client: onA, inbox: inboxA } = await connectCollecting(a, session);
      clients.push(onA);
      onA.on('error', () => {});
      await onA.subscribeAsync('failover/#', { qos: 1 });
      const pub = await connectMqtt(b, { protocolVersion: 4 });
      clients.push(pub);
      await pub.publishAsync('failover/live', 'live-on-a', { qos: 1 });
      await inboxA.waitFor(1, 10_000);
      beforeKill = inboxA.payloads();
      await sleep(200); // the acknowledgement reaches A's saved record (at least once either way)

      await stopChild(gateways[0].child, 'SIGKILL');
      await until(() => !onA.connected, 'the client noticed that gateway A died', 10_000);
      for (let i = 0; i < QUEUED; i++) await pub.publishAsync('failover/queued', `queued-${i}`, { qos: 1 });

      const { client: onB, inbox } = await connectCollecting(b, session);
      clients.push(onB);
      const queued = (): number => inbox.payloads().filter((p) => p.startsWith('queued-')).length;
      await until(() => queued() >= QUEUED, `${QUEUED} queued messages on gateway B`, 20_000).catch(() => undefined);
      await pub.publishAsync('failover/live', 'live-on-b', { qos: 1 }); // the session's subscription is live on B
      await until(() => inbox.payloads().includes('live-on-b'), 'a live message on gateway B', 10_000).catch(() => undefined);
      afterMove = inbox.messages.map((m) => ({ payload: m.payload, dup: m.packet.dup }));
    } finally {
      for (const c of clients) c.end(true);
      await Promise.all(gateways.map((g) => g.stop()));
      await cluster?.stop();
    }
    t.diagnostic(`after the move: ${afterMove.map((m) => m.payload + (m.dup ? '(dup)' : '')).join(' ')}`);
    assert.deepEqual(beforeKill, ['live-on-a']);
    const expected = [...Array.from({ length: QUEUED }, (_, i) => `queued-${i}`), 'live-on-b'];
    // At least once: the message A delivered may come again, marked DUP, if A died before saving its acknowledgement.
    const repeated = afterMove.filter((m) => m.payload === 'live-on-a');
    assert.ok(repeated.every((m) => m.dup), 'a redelivery carries DUP=1');
    assert.deepEqual(afterMove.filter((m) => m.payload !== 'live-on-a').map((m) => m.payload), expected);
  });
});
