// What a connection can make the gateway hold: a first packet (CONNECT) is
// limited on its own, input sent while a packet is still being handled waits
// in the peer's socket rather than in this process, and session expiry or
// will delays longer than a Node.js timer can wait are honoured, not fired at once.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqttPacket from 'mqtt-packet';
import type { Broker, BrokerMessage, BrokerSubscription, MessageHandler, PublishOptions, RequestOptions, SubscribeOptions } from '../../core/broker/broker.ts';
import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';
import { MemoryRetainedStore } from '../../gateways/mqtt/memory-store.ts';
import type { MqttMessage } from '../../gateways/mqtt/message.ts';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import { startSwitchboard } from '../helpers/servers.ts';

/** Retained lookups wait until released, so a SUBSCRIBE's handler stays busy as long as a test needs. */
class GatedRetainedStore extends MemoryRetainedStore {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  override async match(filter: string): Promise<MqttMessage[]> {
    await this.gate;
    return super.match(filter);
  }
}

/**
 * The real broker; while held, subscribes wait until released.
 * `live` counts the sessions' own subscriptions made from then on: not the
 * gateway's capture queue group (it logs for offline sessions) nor its
 * `$MQTT.` handover subjects (they linger a little by design).
 */
class GatedBroker implements Broker {
  live = 0;
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};

  constructor(private readonly real: Broker) {}

  get jetstream(): boolean | null {
    return this.real.jetstream;
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  async subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Promise<BrokerSubscription> {
    const gate = this.gate;
    if (gate === null) return this.real.subscribe(subject, handler, options);
    await gate;
    const sub = await this.real.subscribe(subject, handler, options);
    if (options?.queue !== undefined || subject.startsWith('$MQTT.')) return sub;
    this.live++;
    const counted: BrokerSubscription = Object.create(sub);
    counted.unsubscribe = () => {
      this.live--;
      sub.unsubscribe();
    };
    return counted;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BrokerMessage> {
    return this.real.request(subject, data, options);
  }

  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void> {
    return this.real.publish(subject, data, options);
  }

  flush(): Promise<void> {
    return this.real.flush();
  }

  close(): Promise<void> {
    return this.real.close();
  }
}

const DAYS_30 = 30 * 24 * 3600; // over the ~24.8 days a Node.js timer can wait

describe('mqtt input limits', () => {
  let sb: SwitchboardMqtt;
  const retained = new GatedRetainedStore();
  before(async () => {
    sb = await startSwitchboardMqtt({ maxConnectPacketSize: 1024, retainedStore: retained });
  });
  after(async () => {
    retained.release();
    await sb.stop();
  });

  it('mqtt - a CONNECT over maxConnectPacketSize is closed from its fixed header; a normal one connects', async () => {
    const raw = await RawMqtt.open(sb.port, 4);
    // Only the fixed header of a 2000-byte CONNECT: refused before its body arrives.
    raw.write(Buffer.from([0x10, 0xcd, 0x0f]));
    await raw.waitClosed();
    const ok = await RawMqtt.open(sb.port, 4);
    const connack = (await ok.connect(4, { clientId: 'small' })) as { returnCode?: number };
    assert.equal(connack.returnCode, 0);
    ok.destroy();
  });

  it('mqtt - input sent while a SUBSCRIBE is handled waits unread in the socket, then is handled in order', async () => {
    const socket = tcpConnect(sb.port, '127.0.0.1');
    await once(socket, 'connect');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const got: string[] = [];
    parser.on('packet', (p) => got.push(p.cmd));
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'busy', clean: true, keepalive: 0 }));
    await until(() => got.includes('connack'), 'CONNACK');
    retained.hold();
    socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'busy/t', qos: 0 }] }));
    // 32 MiB of QoS 0 publishes and a PINGREQ behind it: more than socket buffers hold.
    const publish = mqttPacket.generate({ cmd: 'publish', topic: 'nobody/listens', payload: Buffer.alloc(64 * 1024), qos: 0, retain: false, dup: false });
    for (let i = 0; i < 512; i++) socket.write(publish);
    socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
    await sleep(500);
    assert.ok(socket.writableLength > 8 * 1024 * 1024, `the gateway stopped reading (${socket.writableLength} bytes unread)`);
    assert.deepEqual(got, ['connack'], 'nothing after the SUBSCRIBE was handled yet');
    retained.release();
    await until(() => got.includes('pingresp'), 'the rest was read and handled', 20_000);
    assert.deepEqual(got, ['connack', 'suback', 'pingresp'], 'in order');
    socket.destroy();
  });

  it('mqtt - a session expiry longer than a Node.js timer can wait keeps the session', async () => {
    const opts = { protocolVersion: 5 as const, clientId: 'long-lived', clean: false, properties: { sessionExpiryInterval: DAYS_30 } };
    const a = await connectMqtt(sb.mqttUrl, opts);
    await a.subscribeAsync('ll/t', { qos: 1 });
    await a.endAsync();
    await sleep(100); // a timer that overflowed fires after 1 ms
    const raw = await RawMqtt.open(sb.port, 5);
    const connack = (await raw.connect(5, { clientId: 'long-lived', clean: false, properties: { sessionExpiryInterval: DAYS_30 } })) as { sessionPresent: boolean };
    assert.equal(connack.sessionPresent, true);
    raw.destroy();
  });

  it('mqtt - a will delay longer than a Node.js timer can wait is not published at once', async () => {
    const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync('ld/#');
    const raw = await RawMqtt.open(sb.port, 5);
    await raw.connect(5, {
      clientId: 'late-will',
      clean: false,
      properties: { sessionExpiryInterval: DAYS_30 },
      will: { topic: 'ld/will', payload: Buffer.from('gone'), qos: 0, retain: false, properties: { willDelayInterval: DAYS_30 } },
    });
    raw.destroy(); // no DISCONNECT: the will is due after its delay
    await watcher.publishAsync('ld/marker', 'after');
    await inbox.waitFor(1);
    await sleep(200);
    assert.deepEqual(inbox.payloads(), ['after']);
    await watcher.endAsync();
  });

  it('mqtt - a subscription that completes after its connection closed is removed, not left in a session nobody holds', async () => {
    const nats = await startSwitchboard();
    const gated = new GatedBroker(nats.broker);
    const gateway = createMqttGateway({ broker: gated, host: '127.0.0.1', port: 0 });
    await gateway.start();
    try {
      const raw = await RawMqtt.open(gateway.port, 4);
      await raw.connect(4, { clientId: 'gone-early', clean: false });
      gated.hold();
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'late/#', qos: 1 }] });
      await sleep(50);
      raw.destroy();
      await until(() => gateway.stats.connections === 0, 'the gateway saw the close');
      gated.release();
      await sleep(50);
      assert.equal(gated.live, 0, 'no broker subscription outlives the connection that asked for it');
    } finally {
      await gateway.stop();
      await nats.stop();
    }
  });
});
