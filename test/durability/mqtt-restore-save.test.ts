// A stored session being restored (CONNECT after its gateway let it go or
// died) is subscribed first, so live messages queue in it while its record's
// in-flight messages and log positions are still being read. Saved in that
// state, its record claimed the log up to the restore's floor with none of
// them: a kill -9 before the restore's own save lost every message the old
// record still owed (issue 29: 597 acknowledged QoS 1 messages in one
// mqtt-kill9-load run). Here the restore is held inside its log read (a gate
// on the real JetStream message log) while a live message arrives, and the
// stored record is read directly: it must still be the old one.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { IConnectPacket, IPublishPacket } from 'mqtt-packet';
import { createCore } from '../../core/create-core.ts';
import { createMqttGateway } from '../../gateways/mqtt/gateway.ts';
import { JetStreamSessionStore } from '../../gateways/mqtt/jetstream-store.ts';
import type { SessionRecord } from '../../gateways/mqtt/store.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { connectMqtt, sleep } from '../helpers/mqtt.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';

const SAVE_DELAY_MS = 20;

/**
 * Core, JetStream session store and gateway on `dir`; reads of the message log
 * wait while `hold()` is in force, or fail after `fail()`, and `reached` says
 * whether one came to the gate.
 */
async function restoreRig(dir: string): Promise<{
  core: ReturnType<typeof createCore>;
  store: JetStreamSessionStore;
  gateway: ReturnType<typeof createMqttGateway>;
  hold(): void;
  fail(): void;
  release(): void;
  reached(): boolean;
  stop(): Promise<void>;
}> {
  const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir: dir } });
  await core.start();
  const store = await JetStreamSessionStore.open(core.broker);
  const log = store.messageLog;
  const [get, afterSeq] = [log.get.bind(log), log.after.bind(log)];
  let gate: Promise<void> | null = null;
  let open = (): void => {};
  let failing = false;
  let reached = false;
  const wait = async (): Promise<void> => {
    if (failing) {
      reached = true;
      throw new Error('message log read refused by the test');
    }
    if (gate === null) return;
    reached = true;
    await gate;
  };
  log.get = async (seq) => (await wait(), get(seq));
  log.after = async (...args) => (await wait(), afterSeq(...args));
  const gateway = createMqttGateway({ broker: core.broker, host: '127.0.0.1', port: 0, persistence: 'jetstream', sessionStore: store, sessionSaveDelayMs: SAVE_DELAY_MS });
  await gateway.start();
  return {
    core,
    store,
    gateway,
    hold: () => (gate = new Promise((resolve) => (open = resolve))),
    fail: () => (failing = true),
    release: () => {
      failing = false;
      gate = null;
      open();
    },
    reached: () => reached,
    stop: async () => {
      open();
      await gateway.stop();
      await core.stop();
    },
  };
}

/** A persistent session subscribed to rs/# that went away owing one QoS 1 message (never PUBACKed); returns its stored record. */
async function sessionOwingOne(rig: Awaited<ReturnType<typeof restoreRig>>, clients: Array<{ destroy(): void }>): Promise<{ record: SessionRecord | null; publish(body: string): Promise<unknown> }> {
  const pub = await connectMqtt(`mqtt://127.0.0.1:${rig.gateway.port}`, { protocolVersion: 4 });
  clients.push({ destroy: () => pub.end(true) });
  const first = await RawMqtt.open(rig.gateway.port, 4);
  clients.push(first);
  await first.connect(4, { clientId: 'restoring', clean: false });
  first.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rs/#', qos: 1 }] });
  await first.next('suback');
  await pub.publishAsync('rs/a', 'owed', { qos: 1 });
  await first.next('publish'); // and no PUBACK: the record owes it
  first.destroy();
  await eventually(async () => {
    const r = await rig.store.load('restoring');
    return r !== null && r.disconnectedAt !== null && r.outbound.length === 1;
  }, 10_000);
  return { record: await rig.store.load('restoring'), publish: (body) => pub.publishAsync('rs/a', body, { qos: 1 }) };
}

function connectPacket(): IConnectPacket {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'restoring', clean: false, keepalive: 0 };
}

describe('durability - mqtt restore save', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('durability - a session is not saved while it is being restored: its stored record keeps what it owes', async () => {
    const dir = tempStoreDir('mqtt-restore-save-');
    dirs.push(dir);
    const rig = await restoreRig(dir);
    const clients: Array<{ destroy(): void }> = [];
    try {
      const { record: owing, publish } = await sessionOwingOne(rig, clients);
      rig.hold();
      const second = await RawMqtt.open(rig.gateway.port, 4);
      clients.push(second);
      second.write(connectPacket());
      await eventually(() => rig.reached(), 10_000);
      await publish('live'); // queues in the session being restored
      await sleep(SAVE_DELAY_MS * 10); // many save delays
      const meanwhile = await rig.store.load('restoring');
      rig.release();
      await second.next('connack', 10_000);
      const got = [(await second.next('publish', 10_000)) as IPublishPacket, (await second.next('publish', 10_000)) as IPublishPacket];

      assert.deepEqual(meanwhile, owing, 'the record is the one saved before the restore began');
      assert.deepEqual(got.map((p) => String(p.payload)), ['owed', 'live']);
      assert.equal(got[0].dup, true, 'the owed message is a redelivery');
    } finally {
      for (const c of clients) c.destroy();
      await rig.stop();
    }
  });

  it('durability - a restore that fails ends the subscriptions it made', async () => {
    const dir = tempStoreDir('mqtt-restore-fail-');
    dirs.push(dir);
    const rig = await restoreRig(dir);
    const clients: Array<{ destroy(): void }> = [];
    try {
      const { record: owing } = await sessionOwingOne(rig, clients);
      assert.equal(rig.core.router.sublist.match('rs.a').psubs.length, 0, 'let go: not subscribed');
      rig.fail();
      const second = await RawMqtt.open(rig.gateway.port, 4);
      clients.push(second);
      second.write(connectPacket());
      await eventually(() => rig.reached(), 10_000);
      await second.waitClosed(10_000);
      // No session holds them: a subscription left behind would queue live messages for ever.
      assert.equal(rig.core.router.sublist.match('rs.a').psubs.length, 0, 'the failed restore left no subscription');
      assert.deepEqual(await rig.store.load('restoring'), owing, 'and saved nothing');
    } finally {
      for (const c of clients) c.destroy();
      await rig.stop();
    }
  });
});
