// Exactly once for a QoS 2 delivery needs the 'pubrel' state saved before
// PUBREL goes out: once the client has PUBREL it forgets the packet id, and a
// gateway that crashed with the old record would send the PUBLISH again as a
// new message. So when the session store cannot save that state (here its
// stream was made full under the running gateway), the gateway closes the
// connection and sends no PUBREL.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { connectMqtt, sleep, startSwitchboardMqttJetStream, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

describe('durability - mqtt pubrel save', () => {
  const dir = tempStoreDir('mqtt-pubrel-save-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('durability - a QoS 2 PUBREC whose pubrel state cannot be saved closes the connection without PUBREL', async () => {
    let sb: SwitchboardMqtt | null = null;
    let raw: RawMqtt | null = null;
    let nc: NatsConnection | null = null;
    try {
      sb = await startSwitchboardMqttJetStream(dir, { sessionSaveDelayMs: 60_000 });
      raw = await RawMqtt.open(sb.port, 4);
      await raw.connect(4, { clientId: 'pubrel-save', clean: false });
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'save/q2', qos: 2 }] });
      await raw.next('suback');
      const pub = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
      await pub.publishAsync('save/q2', 'exactly-once', { qos: 2 });
      await pub.endAsync();
      const publish = await raw.next('publish');

      nc = await connect({ servers: sb.natsUrl });
      // A full stream under discard new refuses the next record at once.
      const jsm = await jetstreamManager(nc);
      const { config } = await jsm.streams.info('MQTT_sessions');
      await jsm.streams.update('MQTT_sessions', { ...config, max_msgs: 1, discard: DiscardPolicy.New });
      raw.write({ cmd: 'pubrec', messageId: publish.messageId });
      await raw.waitClosed(3_000);
      await sleep(50);
      assert.deepEqual(raw.packets.filter((p) => p.cmd === 'pubrel'), [], 'no PUBREL without the saved state');
    } finally {
      raw?.destroy();
      await nc?.close();
      await sb?.stop();
    }
  });
});
