// QoS 0 flow control on one server (issue 20): a publisher that outpaces a
// subscriber is stalled while the subscriber catches up, so a subscriber that
// keeps reading loses nothing; a subscriber that stops reading is cut off and
// counted, and the publisher goes on. mosquitto_pub (-l, one message per
// stdin line) and mosquitto_sub run as their own processes; the gateway's
// pending limit is small (256 KiB) so that, without the stall, the reading
// subscriber would be cut off within the first megabytes.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connectMqtt, startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { stopChild } from '../helpers/servers.ts';

const MESSAGES = 200_000;
/** About 100 bytes a message: 20 MB in all, far past the 256 KiB limit and the kernel's socket buffers. */
const FILLER = 'x'.repeat(90);
const MAX_PENDING = 256 * 1024;
const RUN_MS = 90_000;

/** mosquitto_sub printing each payload's sequence number; counts them and checks their order as they come. */
async function countingSub(port: number, topic: string): Promise<{ child: ChildProcess; received(): number; outOfOrder(): number; done: Promise<void> }> {
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-d', '-t', topic, '-C', String(MESSAGES), '-F', 'MSG %p'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let received = 0;
  let outOfOrder = 0;
  let subscribed = false;
  let tail = '';
  let onSubscribed: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onSubscribed = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (tail + chunk.toString()).split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      if (!subscribed && line.includes('received SUBACK')) {
        subscribed = true;
        onSubscribed();
      }
      if (!line.startsWith('MSG ')) continue;
      if (Number.parseInt(line.slice(4), 10) !== received) outOfOrder++;
      received++;
    }
  });
  const done = once(child, 'exit').then(() => undefined);
  await ready;
  return { child, received: () => received, outOfOrder: () => outOfOrder, done };
}

/** Wait for `done`, at most `ms` (the assertions then say what was missing). */
async function within(done: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** mosquitto_pub -l: `count` lines, each one QoS 0 message; resolves with its exit code. */
async function publishLines(port: number, topic: string, count: number): Promise<number | null> {
  const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '0', '-l'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(child, 'exit');
  const stdin = child.stdin;
  if (stdin === null) throw new Error('mosquitto_pub has no stdin');
  for (let i = 0; i < count; i += 1000) {
    const lines: string[] = [];
    for (let k = i; k < Math.min(count, i + 1000); k++) lines.push(`${k} ${FILLER}\n`);
    if (!stdin.write(lines.join(''))) await once(stdin, 'drain');
  }
  stdin.end();
  const [code] = (await exited) as [number | null];
  return code;
}

describe('mqtt QoS 0 flow control', { peers: ['mosquitto_pub', 'mosquitto_sub'] }, () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt({ maxPendingBytes: MAX_PENDING });
  });
  after(async () => {
    await sb.stop();
  });

  it('mqtt flow control - 200,000 QoS 0 messages from mosquitto_pub all reach a mosquitto_sub that keeps reading, in order', { timeout: RUN_MS + 30_000 }, async () => {
    const sub = await countingSub(sb.port, 'flow/all');
    const slowBefore = sb.gateway.stats.slowConsumers;
    const code = await publishLines(sb.port, 'flow/all', MESSAGES);
    assert.equal(code, 0, 'mosquitto_pub exit code');
    await within(sub.done, RUN_MS);
    await stopChild(sub.child);
    const stats = sb.gateway.stats;
    assert.equal(sub.received(), MESSAGES, `received ${sub.received()} of ${MESSAGES} (slow consumers cut: ${stats.slowConsumers - slowBefore}, publisher stalls: ${stats.publisherStalls})`);
    assert.equal(sub.outOfOrder(), 0, 'messages out of order');
    assert.equal(stats.slowConsumers, slowBefore, 'no subscriber was cut off');
  });

  it('mqtt flow control - a subscriber that stops reading is cut off and counted, while the publisher goes on to a reading one', { timeout: RUN_MS + 30_000 }, async () => {
    const stuck = await connectMqtt(sb.mqttUrl, { clientId: 'stuck-reader', keepalive: 0 });
    await stuck.subscribeAsync('flow/two', { qos: 0 });
    let stuckClosed = false;
    stuck.stream.on('close', () => (stuckClosed = true));
    (stuck.stream as Socket).pause(); // reads nothing from now on
    const reader = await countingSub(sb.port, 'flow/two');
    const before = { slow: sb.gateway.stats.slowConsumers, dropped: sb.gateway.stats.slowConsumerBytesDropped };
    const started = Date.now();
    const code = await publishLines(sb.port, 'flow/two', MESSAGES);
    assert.equal(code, 0, 'mosquitto_pub exit code');
    await within(reader.done, RUN_MS);
    await stopChild(reader.child);
    const stats = sb.gateway.stats;
    assert.equal(reader.received(), MESSAGES, `the reading subscriber received ${reader.received()} of ${MESSAGES} in ${Date.now() - started} ms`);
    assert.equal(reader.outOfOrder(), 0, 'messages out of order');
    assert.equal(stats.slowConsumers, before.slow + 1, 'the stuck subscriber was cut off once');
    assert.ok(stats.slowConsumerBytesDropped - before.dropped > 0, `bytes counted as dropped: ${stats.slowConsumerBytesDropped - before.dropped}`);
    (stuck.stream as Socket).resume(); // now it sees the server's close
    await until(() => stuckClosed, 'the stuck subscriber closed by the server', 10_000);
    stuck.end(true);
  });
});
