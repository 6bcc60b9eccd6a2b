// Failover on a real 3-node nats-server cluster with R3 streams: while two
// Switchboard gateway processes (cluster mode) take HTTP publishes, or MQTT
// QoS 1 publishes, into a stream, the node leading that stream is killed with
// SIGKILL. Publishes may fail while the cluster elects a new leader; every one
// that was acknowledged (HTTP 200 with a PubAck, MQTT PUBACK) must be in the
// stream afterwards, read back with the official client.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import mqtt from 'mqtt';
import { startClusterGateways, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.ts';
import { type SwitchboardProcess } from '../helpers/servers.ts';
import { MSGS_STREAM, RETAINED_STREAM, SESSION_STREAM } from '../../gateways/mqtt/jetstream-store.ts';

/** Publishes per run, and the wall-clock bound on the publishing phase. */
const MESSAGES = 600;
const PUBLISH_WINDOW_MS = 60_000;
/** The leader is killed once this many publishes were acknowledged. */
const KILL_AFTER = 150;

interface RunResult {
  acked: Set<string>;
  failed: number;
  ackedAfterKill: number;
  stored: string[];
}

/** Retry `call` while the cluster settles after a restart (a leader election answers nothing for a moment). */
async function settled<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Every payload in the stream, read by sequence with the official client. */
async function storedPayloads(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const info = await settled(() => jsm.streams.info(stream));
  const out: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await settled(() => jsm.streams.getMessage(stream, { seq }));
    if (msg !== null) out.push(msg.string());
  }
  return out;
}

/** The index of the node leading `stream` (its server_name is n<index+1>). */
async function leaderIndex(jsm: JetStreamManager, cluster: NatsCluster, stream: string): Promise<number> {
  const leader = (await settled(() => jsm.streams.info(stream))).cluster?.leader;
  const index = cluster.nodes.findIndex((n) => n.serverName === leader);
  assert.ok(index >= 0, `stream ${stream} has a leader (${String(leader)})`);
  return index;
}

/**
 * Run `publish(id)` for ids m-0..m-(MESSAGES-1) from `lanes` concurrent loops,
 * killing the stream leader once KILL_AFTER publishes were acknowledged.
 */
async function publishThroughFailover(
  cluster: NatsCluster,
  jsm: JetStreamManager,
  stream: string,
  lanes: number,
  publish: (id: string, lane: number) => Promise<boolean>,
): Promise<Omit<RunResult, 'stored'> & { killed: number }> {
  const acked = new Set<string>();
  let failed = 0;
  let next = 0;
  let killedAt = -1;
  let kill: Promise<void> | null = null;
  const victim = await leaderIndex(jsm, cluster, stream);
  const deadline = Date.now() + PUBLISH_WINDOW_MS;
  const lane = async (n: number): Promise<void> => {
    while (next < MESSAGES && Date.now() < deadline) {
      const id = `m-${next++}`;
      if (await publish(id, n).catch(() => false)) acked.add(id);
      else failed++;
      if (kill === null && acked.size >= KILL_AFTER) {
        killedAt = acked.size;
        kill = cluster.kill(victim);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)));
  await kill;
  return { acked, failed, ackedAfterKill: killedAt < 0 ? 0 : acked.size - killedAt, killed: victim };
}

function assertNoAckedLoss(label: string, result: RunResult): void {
  assert.ok(result.ackedAfterKill > 0, `${label}: publishes were acknowledged after the kill (${result.ackedAfterKill})`);
  const stored = new Set(result.stored);
  const lost = [...result.acked].filter((id) => !stored.has(id));
  assert.equal(lost.length, 0, `${label}: ${lost.length} of ${result.acked.size} acknowledged publishes are not in the stream (${result.failed} failed): ${lost.slice(0, 10).join(', ')}`);
}

describe('cluster failover (nats-server cluster)', { peers: ['nats-server'] }, () => {
  let cluster: NatsCluster;
  let gateways: SwitchboardProcess[] = [];
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    cluster = await startNatsCluster();
    gateways = await startClusterGateways(cluster, 2);
    nc = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1 });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await Promise.all(gateways.map((g) => g.stop()));
    await cluster?.stop();
  });

  it('cluster failover - killing the stream leader during HTTP publishing loses no acknowledged message', async () => {
    await jsm.streams.add({ name: 'FO_HTTP', subjects: ['fohttp.>'], num_replicas: 3, storage: StorageType.File });
    const bases = gateways.map((g) => `http://127.0.0.1:${g.gateways.http}`);
    const run = await publishThroughFailover(cluster, jsm, 'FO_HTTP', 4, async (id, lane) => {
      const res = await fetch(`${bases[lane % bases.length]}/v1/subjects/fohttp.${lane}?timeout=2000`, {
        method: 'POST',
        headers: { 'Nats-Msg-Id': id },
        body: id,
        signal: AbortSignal.timeout(5_000),
      });
      const ack = (await res.json().catch(() => ({}))) as { stream?: string; seq?: number };
      return res.status === 200 && ack.stream === 'FO_HTTP' && typeof ack.seq === 'number';
    });
    await cluster.restart(run.killed);
    await cluster.waitStreamCurrent('FO_HTTP');
    const stored = await storedPayloads(jsm, 'FO_HTTP');
    assertNoAckedLoss('HTTP', { ...run, stored });
  });

  it('cluster failover - killing the stream leader during MQTT QoS 1 publishing loses no PUBACKed message', async () => {
    await jsm.streams.add({ name: 'FO_MQTT', subjects: ['fomqtt.>'], num_replicas: 3, storage: StorageType.File });
    // The previous case killed and restarted a node: a CONNECT reads MQTT_sessions, which may
    // still be electing a leader (a CONNACK then waits for it). Start once the gateway's streams are current.
    for (const stream of [SESSION_STREAM, MSGS_STREAM, RETAINED_STREAM]) await cluster.waitStreamCurrent(stream);
    const clients = await Promise.all(
      gateways.map((g, i) => mqtt.connectAsync(`mqtt://127.0.0.1:${g.gateways.mqtt}`, { protocolVersion: 5, clientId: `fo-pub-${i}`, reconnectPeriod: 0, connectTimeout: 10_000 })),
    );
    let run: Awaited<ReturnType<typeof publishThroughFailover>>;
    try {
      run = await publishThroughFailover(cluster, jsm, 'FO_MQTT', 2, async (id, lane) => {
        const client = clients[lane % clients.length];
        if (!client.connected) return false;
        await client.publishAsync(`fomqtt/${lane}`, id, { qos: 1 });
        return true;
      });
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
    }
    await cluster.restart(run.killed);
    await cluster.waitStreamCurrent('FO_MQTT');
    const stored = await storedPayloads(jsm, 'FO_MQTT');
    assertNoAckedLoss('MQTT', { ...run, stored });
  });
});
