// Issue 29 item 1: a session's queue limit. In memory, beyond it new messages
// are dropped, counted and logged once per overflow run; with the JetStream
// message log, beyond it the session keeps its place in the log and gets every
// message (mqtt.js clients, persistent session offline while they are published).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { connectCollecting, connectMqtt, startSwitchboardMqtt, startSwitchboardMqttJetStream, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';

const LIMIT = 50;
const SENT = 200;
const SENT_LOGGED = 1200;

/** A persistent QoS 1 session subscribed to `topic`, away while `sent` messages are published; what it gets when back. */
async function awayAndBack(t: SwitchboardMqtt, clientId: string, topic: string, sent: number, expect: number): Promise<string[]> {
  const first = await connectMqtt(t.mqttUrl, { clientId, clean: false });
  await first.subscribeAsync(topic, { qos: 1 });
  await first.endAsync();
  const pub = await connectMqtt(t.mqttUrl);
  for (let i = 0; i < sent; i++) await pub.publishAsync(topic, String(i), { qos: 1 });
  await pub.endAsync();
  const { client, inbox } = await connectCollecting(t.mqttUrl, { clientId, clean: false });
  await until(() => inbox.messages.length >= expect, `${expect} messages`, 10_000);
  await new Promise((r) => setTimeout(r, 200)); // no more than that
  await client.endAsync();
  return inbox.payloads();
}

describe('mqtt queue limits', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('mqtt - in memory, a full queue drops new messages, counts them and logs the overflow once', async () => {
    const lines: string[] = [];
    const t = await startSwitchboardMqtt({ maxQueued: LIMIT, log: (line) => lines.push(line) });
    try {
      const got = await awayAndBack(t, 'ql-mem', 'ql/mem', SENT, LIMIT);
      assert.deepEqual(got, Array.from({ length: LIMIT }, (_, i) => String(i)));
      assert.equal(t.gateway.stats.droppedQueueFull, SENT - LIMIT);
      const overflow = lines.filter((l) => l.includes('queue full'));
      assert.equal(overflow.length, 1, lines.join('\n'));
      assert.match(overflow[0], /"ql-mem".*max_queued_messages 50/);
    } finally {
      await t.stop();
    }
  });

  it('mqtt - with the JetStream message log, a session beyond its queue limit keeps its place in the log and gets every message in order', async () => {
    const dir = tempStoreDir('mqtt-ql-');
    dirs.push(dir);
    const t = await startSwitchboardMqttJetStream(dir, { maxQueued: LIMIT });
    try {
      // More than a restore reads before CONNACK (500): the rest comes from the backlog, LIMIT at a time.
      const got = await awayAndBack(t, 'ql-js', 'ql/js', SENT_LOGGED, SENT_LOGGED);
      assert.deepEqual(got, Array.from({ length: SENT_LOGGED }, (_, i) => String(i)));
      assert.equal(t.gateway.stats.droppedQueueFull, 0);
    } finally {
      await t.stop();
    }
  });
});
