// Issue 29 items 2 and 3: a subscriber that stops reading hurts nobody else.
// The gateway runs in its own process (its RSS is sampled from /proc); three
// healthy mqtt.js subscribers and a publisher run here, beside a raw TCP client
// that connects, subscribes and never reads again. Each case runs once without
// the stuck client (the baseline) and once with it, on a fresh server:
//
// - QoS 0: the stuck one is cut off as a slow consumer (nothing drained for
//   the write deadline while bytes wait, counted) within seconds; healthy subscribers keep at least
//   90 % of their baseline rate, none is disconnected, RSS stays bounded.
// - QoS 1: the stuck one's in-memory queue is bounded (max_queued_messages;
//   overflow counted), the same for the healthy ones and memory.
//
// MQTT_STUCK_MS sets each run's length (default 4 s); MQTT_STUCK_RATIO the
// healthy rate kept (default 0.9).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { tempStoreDir } from '../helpers/jetstream.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import { sleep, spawnMqttProcess } from '../helpers/mqtt.ts';
import { freePort, stopChild } from '../helpers/servers.ts';

const RUN_MS = Number(process.env.MQTT_STUCK_MS ?? 4_000);
const RATIO = Number(process.env.MQTT_STUCK_RATIO ?? 0.9);
const TOPIC = 'stuck/fire';
const PAYLOAD = Buffer.alloc(128, 0x61);
/** The stuck QoS 1 session's in-memory queue limit in these runs (max_queued_messages). */
const MAX_QUEUED = 5_000;
/** QoS 1 publishes not yet acknowledged at a time. */
const QOS1_WINDOW = 500;
/** Publish rates (messages/s): below what three mqtt.js readers in this process take. */
const QOS0_RATE = 20_000;
const QOS1_RATE = 3_000;

interface GatewayStats {
  slowConsumers: number;
  droppedQueueFull: number;
  queuedInLog: number;
  rss: number;
}

interface RunResult {
  /** Messages per second each healthy subscriber received. */
  readonly rates: number[];
  readonly disconnects: number;
  readonly rssStart: number;
  readonly rssPeak: number;
  readonly stats: GatewayStats;
  /** ms from the start of publishing until the stuck client was cut off (null: never). */
  readonly stuckCutAfterMs: number | null;
}

function rssOf(child: ChildProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

async function statsOf(child: ChildProcess): Promise<GatewayStats> {
  const line = new Promise<GatewayStats>((resolve) => {
    let buffer = '';
    const onData = (d: Buffer): void => {
      buffer += d.toString();
      const m = /STATS (\{.*\})\n/.exec(buffer);
      if (m === null) return;
      child.stdout?.off('data', onData);
      resolve(JSON.parse(m[1]) as GatewayStats);
    };
    child.stdout?.on('data', onData);
  });
  child.kill('SIGUSR2');
  return line;
}

/**
 * QoS 0 at `QOS0_RATE` messages/s, in one pre-encoded batch each 10 ms: a rate the
 * healthy readers here keep up with, so the baseline measures them, not an overload.
 */
async function publishQos0(port: number, until: number): Promise<void> {
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'stuck-pub', clean: true, keepalive: 0 }));
  await once(socket, 'data'); // CONNACK
  const frame = mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload: PAYLOAD, qos: 0, retain: false, dup: false });
  const batch = Buffer.concat(Array.from({ length: QOS0_RATE / 100 }, () => frame));
  for (let next = Date.now(); next < until; next += 10) {
    socket.write(batch);
    await sleep(Math.max(0, next + 10 - Date.now()));
  }
  socket.destroy();
}

/** QoS 1 through mqtt.js at `QOS1_RATE` messages/s, with a bounded window of unacknowledged publishes. */
async function publishQos1(port: number, until: number): Promise<void> {
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'stuck-pub', reconnectPeriod: 0 });
  let inFlight = 0;
  for (let next = Date.now(); next < until; next += 10) {
    for (let i = 0; i < QOS1_RATE / 100 && inFlight < QOS1_WINDOW; i++) {
      inFlight++;
      pub.publish(TOPIC, PAYLOAD, { qos: 1 }, () => inFlight--);
    }
    await sleep(Math.max(0, next + 10 - Date.now()));
  }
  await pub.endAsync(true);
}

async function run(qos: 0 | 1, stuck: boolean): Promise<RunResult> {
  const dir = tempStoreDir('mqtt-stuck-');
  const port = await freePort();
  const server = await spawnMqttProcess(['--mqtt-port', String(port), '--store-dir', dir, '--max-queued', String(MAX_QUEUED)]);
  const healthy: MqttClient[] = [];
  let raw: RawMqtt | null = null;
  try {
    const counts = [0, 0, 0];
    let disconnects = 0;
    for (let i = 0; i < 3; i++) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `healthy-${i}`, reconnectPeriod: 0, keepalive: 10 });
      client.on('message', () => counts[i]++);
      client.on('close', () => disconnects++);
      await client.subscribeAsync(TOPIC, { qos });
      healthy.push(client);
    }
    if (stuck) {
      raw = await RawMqtt.open(port, 4);
      await raw.connect(4, { clientId: 'stuck', clean: true });
      raw.write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos }] });
      await raw.next('suback');
      raw.pause(); // from here on it never reads
    }
    const rssStart = rssOf(server);
    let rssPeak = rssStart;
    const began = Date.now();
    const until = began + RUN_MS;
    let stuckCutAfterMs: number | null = null;
    let sampling = true;
    // The paused client cannot see its own close (it reads nothing): the gateway's counter says when.
    const sampler = (async () => {
      while (sampling) {
        rssPeak = Math.max(rssPeak, rssOf(server));
        if (stuck && stuckCutAfterMs === null && (await statsOf(server)).slowConsumers > 0) stuckCutAfterMs = Date.now() - began;
        await sleep(100);
      }
    })();
    try {
      await (qos === 0 ? publishQos0(port, until) : publishQos1(port, until));
      await sleep(300); // what was written reaches the healthy readers
    } finally {
      sampling = false;
      await sampler;
    }
    const seconds = (Date.now() - began) / 1000;
    return { rates: counts.map((c) => c / seconds), disconnects, rssStart, rssPeak, stats: await statsOf(server), stuckCutAfterMs };
  } finally {
    raw?.destroy();
    await Promise.all(healthy.map((c) => c.endAsync(true)));
    await stopChild(server, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(name: string, r: RunResult): void {
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(0);
  process.stdout.write(`# ${name}: healthy ${r.rates.map((x) => Math.round(x)).join('/')} msg/s, ${r.disconnects} disconnected, ` +
    `RSS ${mib(r.rssStart)} -> peak ${mib(r.rssPeak)} MiB, stuck cut after ${r.stuckCutAfterMs ?? '-'} ms, ` +
    `slowConsumers ${r.stats.slowConsumers}, droppedQueueFull ${r.stats.droppedQueueFull}, queuedInLog ${r.stats.queuedInLog}\n`);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('protection - mqtt stuck subscriber', { timeout: 5 * 60_000 }, () => {
  it('protection - a stuck QoS 0 subscriber is cut off quickly; three healthy ones keep their rate and stay connected', async () => {
    const baseline = await run(0, false);
    report('QoS 0 baseline', baseline);
    const withStuck = await run(0, true);
    report('QoS 0 with a stuck subscriber', withStuck);
    assert.equal(baseline.disconnects + baseline.stats.slowConsumers, 0, 'healthy subscribers keep up in the baseline');
    assert.equal(withStuck.disconnects, 0, 'no healthy subscriber disconnected');
    assert.equal(withStuck.stats.slowConsumers, 1, 'the stuck subscriber, and only it, was cut off as a slow consumer');
    // Its kernel socket buffers fill first (a few MiB), then nothing drains for the 2 s write deadline.
    assert.ok(withStuck.stuckCutAfterMs !== null && withStuck.stuckCutAfterMs < 5_000, `stuck subscriber cut after ${withStuck.stuckCutAfterMs} ms`);
    for (const rate of withStuck.rates) assert.ok(rate >= RATIO * mean(baseline.rates), `healthy rate ${Math.round(rate)} < ${RATIO} x ${Math.round(mean(baseline.rates))}`);
    assert.ok(withStuck.rssPeak - withStuck.rssStart < 96 * 1024 * 1024, `RSS grew by ${withStuck.rssPeak - withStuck.rssStart} bytes`);
  });

  it('protection - a stuck QoS 1 subscriber has a bounded queue; three healthy ones keep their rate and stay connected', async () => {
    const baseline = await run(1, false);
    report('QoS 1 baseline', baseline);
    const withStuck = await run(1, true);
    report('QoS 1 with a stuck subscriber', withStuck);
    assert.equal(baseline.stats.droppedQueueFull, 0, 'healthy sessions keep up: nothing dropped in the baseline');
    assert.equal(withStuck.disconnects, 0, 'no healthy subscriber disconnected');
    assert.equal(withStuck.stats.slowConsumers, 0, 'nobody was cut: 100 in flight fit the socket');
    assert.ok(withStuck.stats.droppedQueueFull > 0, 'the stuck clean session overflowed its queue, counted');
    for (const rate of withStuck.rates) assert.ok(rate >= RATIO * mean(baseline.rates), `healthy rate ${Math.round(rate)} < ${RATIO} x ${Math.round(mean(baseline.rates))}`);
    assert.ok(withStuck.rssPeak - withStuck.rssStart < 96 * 1024 * 1024, `RSS grew by ${withStuck.rssPeak - withStuck.rssStart} bytes`);
  });
});
