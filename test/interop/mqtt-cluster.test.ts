// Cluster mode: two MQTT gateway instances, each with a NatsBroker, in front of
// one NATS server with JetStream (Debian's nats-server -js, and Switchboard's
// own core). Messages cross gateways; retained messages and persistent
// sessions live in JetStream, so the second gateway serves what the first kept.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createMqttGateway, type MqttGateway } from '../../gateways/mqtt/gateway.ts';
import { MSGS_STREAM } from '../../gateways/mqtt/jetstream-store.ts';
import { jetStreamTargets, type JetStreamServer } from '../helpers/jetstream.ts';
import { connectCollecting, connectMqtt, Inbox, until } from '../helpers/mqtt.ts';

for (const target of jetStreamTargets()) {
  describe(`mqtt cluster mode (${target.name})`, { peers: target.peers }, () => {
    let server: JetStreamServer;
    const brokers: NatsBroker[] = [];
    const gateways: MqttGateway[] = [];
    async function gateway(): Promise<MqttGateway> {
      const broker = await NatsBroker.connect({ servers: server.url });
      brokers.push(broker);
      const name = `gw-${gateways.length}`;
      const g = createMqttGateway({ broker, name, host: '127.0.0.1', port: 0, persistence: 'jetstream', jetStreamStorage: 'memory' });
      await g.start();
      gateways.push(g);
      return g;
    }
    const url = (g: MqttGateway): string => `mqtt://127.0.0.1:${g.port}`;

    before(async () => {
      server = await target.start();
    });
    after(async () => {
      for (const g of gateways) await g.stop();
      for (const b of brokers) await b.close();
      await server.stop();
    });

    it('mqtt - a publish on one gateway reaches a subscriber on another, QoS kept', async () => {
      const a = await gateway();
      const b = await gateway();
      const sub = await connectMqtt(url(b), { protocolVersion: 5 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync('across/t', { qos: 1 });
      const pub = await connectMqtt(url(a), { protocolVersion: 5 });
      await pub.publishAsync('across/t', 'hello', { qos: 1, properties: { userProperties: { k: 'v' } } });
      await inbox.waitFor(1);
      assert.equal(inbox.messages[0].packet.qos, 1);
      assert.deepEqual({ ...inbox.messages[0].packet.properties?.userProperties }, { k: 'v' });
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - a retained message kept through one gateway is served by another', async () => {
      const [a, b] = gateways;
      const pub = await connectMqtt(url(a), { protocolVersion: 4 });
      await pub.publishAsync('shared/state', 'on', { qos: 1, retain: true });
      const sub = await connectMqtt(url(b), { protocolVersion: 4 });
      const inbox = new Inbox(sub);
      await sub.subscribeAsync('shared/#');
      await inbox.waitFor(1);
      assert.equal(inbox.messages[0].payload, 'on');
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });

    it('mqtt - a client id moving to another gateway takes its session over (v5: DISCONNECT 0x8E)', async () => {
      const [a, b] = gateways;
      const opts = { protocolVersion: 5 as const, clientId: 'mover', clean: false, properties: { sessionExpiryInterval: 300 } };
      const onA = await connectMqtt(url(a), opts);
      await onA.subscribeAsync('move/t', { qos: 1 });
      await onA.endAsync();
      const pub = await connectMqtt(url(a), { protocolVersion: 5 });
      await pub.publishAsync('move/t', 'queued-on-a', { qos: 1 }); // queued by the session held on A
      const { client: onB, inbox } = await connectCollecting(url(b), opts); // [MQTT-3.1.4-2] across gateways
      await inbox.waitFor(1);
      await pub.publishAsync('move/t', 'live-on-b', { qos: 1 });
      await inbox.waitFor(2);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(inbox.payloads(), ['queued-on-a', 'live-on-b']); // once each: A let the session go
      // A connected client is closed with 0x8E when its id connects elsewhere.
      let reason: number | undefined;
      onB.on('disconnect', (p) => (reason = p.reasonCode));
      const back = await connectMqtt(url(a), opts);
      await until(() => !onB.connected && reason !== undefined, 'the old connection closed');
      assert.equal(reason, 0x8e);
      await back.endAsync();
      await pub.endAsync();
    });

    it('mqtt - QoS 1 messages for a session no gateway holds (MQTT through another gateway, and NATS) wait for it', async () => {
      const [a, b] = gateways;
      const opts = { protocolVersion: 5 as const, clientId: 'away', clean: false, properties: { sessionExpiryInterval: 300 } };
      const onA = await connectMqtt(url(a), opts);
      await onA.subscribeAsync('away/#', { qos: 1 });
      await onA.endAsync(); // A saves the record and lets the session go
      const pub = await connectMqtt(url(b), { protocolVersion: 5 });
      const nc = await natsConnect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      const logged = async (): Promise<number> => (await jsm.streams.info(MSGS_STREAM)).state.messages;
      const loggedBefore = await logged();
      await pub.publishAsync('away/mqtt', 'from-mqtt-via-b', { qos: 1 });
      const h = natsHeaders();
      h.set('Mqtt-Qos', '1'); // a NATS publish says its QoS in the reserved header
      nc.publish('away.nats', 'from-nats', { headers: h });
      nc.publish('away.plain', 'plain-nats-is-qos-0'); // QoS 0: not queued for an offline client
      await nc.flush();
      await pub.publishAsync('away/last', 'last-via-b', { qos: 1 });
      // The NATS message is logged by the capture group, asynchronously: wait until
      // MQTT_msgs holds all three QoS 1 messages (the QoS 0 one is not kept).
      const deadline = Date.now() + 30_000;
      while ((await logged()) < loggedBefore + 3) {
        assert.ok(Date.now() < deadline, `MQTT_msgs holds ${(await logged()) - loggedBefore} of the 3 messages`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await nc.close();
      const { client: onB, inbox } = await connectCollecting(url(b), opts);
      await inbox.waitFor(3, 30_000).catch(() => inbox);
      await new Promise((r) => setTimeout(r, 100));
      const got = inbox.payloads();
      await Promise.all([onB.endAsync(), pub.endAsync()]);
      // Once each; in order per publisher (MQTT orders messages per publisher, not across two of them).
      assert.deepEqual([...got].sort(), ['from-mqtt-via-b', 'from-nats', 'last-via-b']);
      assert.deepEqual(got.filter((p) => p.endsWith('via-b')), ['from-mqtt-via-b', 'last-via-b']);
      assert.ok(inbox.messages.every((m) => m.packet.qos === 1));
    });

    it('mqtt - a `#` subscriber does not slow CONNECT: a handover never waits for no responders', async () => {
      const [a, b] = gateways;
      // On a NATS cluster `#` is a `>` subscription, which counts as a responder for every handover request.
      const everything = await connectMqtt(url(a), { protocolVersion: 4, clientId: 'hash-all' });
      await everything.subscribeAsync('#', { qos: 1 });
      const timed = async (gatewayUrl: string, clientId: string): Promise<{ client: Awaited<ReturnType<typeof connectMqtt>>; ms: number }> => {
        const began = Date.now();
        const client = await connectMqtt(gatewayUrl, { protocolVersion: 4, clientId, clean: false });
        return { client, ms: Date.now() - began };
      };
      try {
        const fresh = await timed(url(b), 'fresh-id');
        await fresh.client.endAsync();
        const held = await timed(url(a), 'held-id');
        const moved = await timed(url(b), 'held-id'); // taken over from A
        await until(() => !held.client.connected, 'the connection on A closed');
        await moved.client.endAsync();
        held.client.end(true);
        // The handover request times out after 1 s, and a CONNECT asked up to 5 times.
        process.stdout.write(`# CONNECT beside '#' (${target.name}): new id ${fresh.ms} ms, held ${held.ms} ms, takeover ${moved.ms} ms\n`);
        for (const [what, ms] of [['new client id', fresh.ms], ['session held on A', held.ms], ['takeover from A', moved.ms]] as const) {
          assert.ok(ms < 800, `CONNECT (${what}) took ${ms} ms`);
        }
      } finally {
        await everything.endAsync();
      }
    });

    it('mqtt - a persistent session left on a stopped gateway is resumed on a new one', async () => {
      const first = await gateway();
      const opts = { protocolVersion: 4 as const, clientId: 'roaming', clean: false };
      const c1 = await connectMqtt(url(first), opts);
      await c1.subscribeAsync('roam/t', { qos: 1 });
      await c1.endAsync();
      await first.stop(); // saves the session record
      const pub = await connectMqtt(url(gateways[0]), { protocolVersion: 4 });
      const next = await gateway(); // a new name: it loads the session when the client connects
      const { client: c2, inbox } = await connectCollecting(url(next), opts);
      await pub.publishAsync('roam/t', 'after-move', { qos: 1 });
      await inbox.waitFor(1);
      assert.deepEqual(inbox.payloads(), ['after-move']);
      await Promise.all([c2.endAsync(), pub.endAsync()]);
    });
  });
}
