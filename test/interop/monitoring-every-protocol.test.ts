// Monitoring sees every protocol (issue 30): a Switchboard process with a NATS
// client, a NATS-over-WebSocket client, an MQTT client (mqtt.js over TCP), an
// MQTT-over-WebSocket client, an SSE subscriber (fetch) and Kafka mappings (the
// kcat mock behind the test proxy) lists each in /connz with its type and its
// protocol's fields, fills /varz's mqtt, websocket, http_gateway and kafka
// sections, finds one device with /connz?mqtt_client=, and serves every
// protocol's series on /metrics (read with an independent parser), moving.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { MqttClient } from 'mqtt';
import { startProxiedKafka, type ProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { connectMqtt, until } from '../helpers/mqtt.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { histogramCount, parsePrometheus, sampleValue, type ParsedFamily } from '../helpers/prometheus.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { connectWs } from '../helpers/websocket-clients.ts';

interface Conn {
  cid: number;
  kind: string;
  type: string;
  ip: string;
  port: number;
  in_msgs: number;
  out_msgs: number;
  subscriptions: number;
  mqtt_client?: string;
  authorized_user?: string;
  subscriptions_list?: string[];
  mqtt?: { clean_session: boolean; keep_alive: number; in_flight: number; queued: number; protocol_version: number; subscriptions: Array<{ topic_filter: string; qos: number }> };
  http?: { route: string; format: string; stream: Record<string, string> };
  kafka?: { mapping: string; direction: string; state: string };
  [key: string]: unknown;
}
interface Connz {
  total: number;
  num_connections: number;
  offset: number;
  limit: number;
  connections: Conn[];
}

describe('monitoring - every protocol', { peers: ['kcat'] }, () => {
  let kafka: ProxiedKafka;
  let server: SwitchboardProcess;
  let dir: string;
  let monitor: string;
  const nats: NatsConnection[] = [];
  const mqttClients: MqttClient[] = [];
  const sse = new AbortController();
  let log = '';

  async function get<T>(path: string): Promise<T> {
    const response = await fetch(`${monitor}${path}`);
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  }

  before(async () => {
    kafka = await startProxiedKafka();
    dir = mkdtempSync(join(tmpdir(), 'monitoring-every-'));
    const file = join(dir, 'switchboard.json');
    writeFileSync(
      file,
      JSON.stringify({
        kafka: {
          kafka: { brokers: kafka.proxy.brokers, clientId: 'ops-test' },
          mappings: [
            { name: 'ops-in', direction: 'kafka-to-nats', topics: ['ops-in'], groupId: 'ops', subject: 'ops.in' },
            { name: 'ops-out', direction: 'nats-to-kafka', subject: 'ops.out', topic: 'ops-out' },
          ],
        },
      }),
    );
    server = await startSwitchboardProcess(['-c', file, '-D']);
    server.child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    monitor = `http://127.0.0.1:${server.monitorPort}`;
    const { mqtt, http, websocket } = server.gateways;
    assert.ok(mqtt !== null && http !== null && websocket !== null, 'every gateway listens');

    nats.push(await connect({ servers: server.url, name: 'tcp-client' }));
    nats.push(await connectWs(`ws://127.0.0.1:${websocket}`, { name: 'ws-client' }));
    await nats[1].flush();
    const device = await connectMqtt(`mqtt://127.0.0.1:${mqtt}`, { clientId: 'dev-1', clean: false, keepalive: 42 });
    await device.subscribeAsync('sensors/+/temp', { qos: 1 });
    await device.publishAsync('sensors/a/temp', '21.5', { qos: 1 });
    mqttClients.push(device);
    const wsDevice = await connectMqtt(`ws://127.0.0.1:${websocket}/mqtt`, { clientId: 'dev-ws', protocolVersion: 5, keepalive: 0 });
    mqttClients.push(wsDevice);
    // An SSE subscriber: the stream is open once its first comment arrives.
    const response = await fetch(`http://127.0.0.1:${http}/v1/subjects/ops.events`, { signal: sse.signal, headers: { accept: 'text/event-stream' } });
    const reader = response.body?.getReader();
    assert.ok(reader !== undefined);
    await reader.read();
  });

  after(async () => {
    sse.abort();
    for (const c of mqttClients) await c.endAsync().catch(() => undefined);
    for (const c of nats) await c.close().catch(() => undefined);
    await server?.stop();
    await kafka?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('monitoring - /connz lists every protocol with its type and fields', async () => {
    const connz = await get<Connz>('/connz?subs=1&auth=1');
    const byType = (type: string): Conn[] => connz.connections.filter((c) => c.type === type);
    assert.deepEqual(new Set(connz.connections.map((c) => c.type)), new Set(['nats', 'websocket-nats', 'mqtt', 'websocket-mqtt', 'http-stream', 'kafka-mapping']));
    assert.equal(connz.total, connz.connections.length);
    for (const c of connz.connections) {
      assert.equal(c.kind, 'Client');
      for (const field of ['cid', 'ip', 'port', 'start', 'last_activity', 'rtt', 'uptime', 'idle', 'pending_bytes', 'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'subscriptions']) {
        assert.ok(field in c, `${c.type} has ${field}`);
      }
    }
    assert.equal(new Set(connz.connections.map((c) => c.cid)).size, connz.connections.length, 'one cid space for every protocol');

    assert.equal(byType('nats')[0].name, 'tcp-client');
    assert.equal(byType('websocket-nats')[0].name, 'ws-client');

    const [device] = byType('mqtt');
    assert.equal(device.mqtt_client, 'dev-1');
    assert.equal(device.ip, '127.0.0.1');
    assert.equal(device.in_msgs, 1);
    assert.equal(device.subscriptions, 1);
    assert.deepEqual(device.subscriptions_list, ['sensors/+/temp']);
    assert.equal(device.mqtt?.clean_session, false);
    assert.equal(device.mqtt?.keep_alive, 42);
    assert.equal(device.mqtt?.protocol_version, 4);
    assert.deepEqual(device.mqtt?.subscriptions, [{ topic_filter: 'sensors/+/temp', qos: 1 }]);
    assert.equal(typeof device.mqtt?.in_flight, 'number');
    assert.equal(typeof device.mqtt?.queued, 'number');

    const [wsDevice] = byType('websocket-mqtt');
    assert.equal(wsDevice.mqtt_client, 'dev-ws');
    assert.equal(wsDevice.mqtt?.protocol_version, 5);

    const [stream] = byType('http-stream');
    assert.equal(stream.http?.route, '/v1/subjects/:subject');
    assert.equal(stream.http?.format, 'sse');
    assert.deepEqual(stream.http?.stream, { subject: 'ops.events' });
    assert.deepEqual(stream.subscriptions_list, ['ops.events']);

    const mappings = byType('kafka-mapping');
    assert.deepEqual(mappings.map((m) => m.kafka?.mapping).sort(), ['ops-in', 'ops-out']);
    assert.deepEqual(mappings.find((m) => m.kafka?.mapping === 'ops-out')?.subscriptions_list, ['ops.out']);
  });

  it('monitoring - /connz?mqtt_client= finds one device; paging and sorting cover every protocol', async () => {
    const one = await get<Connz>('/connz?mqtt_client=dev-ws');
    assert.equal(one.total, 1);
    assert.equal(one.connections[0].type, 'websocket-mqtt');
    assert.equal((await get<Connz>('/connz?mqtt_client=nobody')).total, 0);

    const all = await get<Connz>('/connz');
    const page = await get<Connz>('/connz?offset=2&limit=3');
    assert.equal(page.total, all.total);
    assert.deepEqual(page.connections.map((c) => c.cid), all.connections.slice(2, 5).map((c) => c.cid));
    const sorted = await get<Connz>('/connz?sort=msgs_from');
    const inMsgs = sorted.connections.map((c) => c.in_msgs);
    assert.deepEqual(inMsgs, [...inMsgs].sort((a, b) => b - a));
  });

  it('monitoring - /varz fills mqtt, websocket, http_gateway and kafka', async () => {
    const varz = await get<Record<string, Record<string, unknown>>>('/varz');
    assert.equal(varz.mqtt.port, server.gateways.mqtt);
    assert.equal(varz.mqtt.connections, 2);
    assert.equal(varz.mqtt.sessions_connected, 2);
    assert.equal(varz.websocket.port, server.gateways.websocket);
    assert.equal(varz.websocket.mqtt, true);
    assert.equal(varz.http_gateway.port, server.gateways.http);
    assert.equal(varz.http_gateway.active_streams, 1);
    assert.deepEqual(varz.kafka.brokers, kafka.proxy.brokers);
    assert.equal(varz.kafka.mappings, 2);
  });

  let lastText = '';
  async function scrape(): Promise<Map<string, ParsedFamily>> {
    const response = await fetch(`${monitor}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    lastText = await response.text();
    return parsePrometheus(lastText);
  }

  it('monitoring - /metrics has every protocol\'s series with HELP and TYPE, and they move', async () => {
    const js = jetstream(nats[0]);
    const jsm = await jetstreamManager(nats[0]);
    await jsm.streams.add({ name: 'OPS', subjects: ['ops.js.>'] });
    await jsm.consumers.add('OPS', { durable_name: 'worker', ack_policy: 'explicit' });
    const before = await scrape();
    const latencyBefore = histogramCount(lastText, 'switchboard_http_request_duration_seconds', { route: '/v1/subjects/:subject' });

    // Traffic on every protocol: NATS, MQTT in and out, HTTP publish, JetStream, Kafka out.
    const { http } = server.gateways;
    await mqttClients[0].publishAsync('sensors/b/temp', '22', { qos: 1 });
    await mqttClients[0].publishAsync('sensors/c/temp', '23', { qos: 0 });
    const published = await fetch(`http://127.0.0.1:${http}/v1/subjects/ops.events`, { method: 'POST', body: 'hello' });
    assert.equal(published.status, 202);
    await fetch(`http://127.0.0.1:${http}/v1/streams/NOPE`);
    await js.publish('ops.js.a', 'one');
    await js.publish('ops.js.b', 'two');
    nats[0].publish('ops.out', 'to kafka');
    await nats[0].flush();
    let after = await scrape();
    const kafkaOut = (): number => sampleValue(after, 'switchboard_kafka_bridge_messages_total', { mapping: 'ops-out' });
    const deadline = Date.now() + 15_000;
    while (!(kafkaOut() >= 1) && Date.now() < deadline) {
      await until(() => false, 'a pause', 200).catch(() => undefined);
      after = await scrape();
    }

    const FAMILIES: Record<string, ParsedFamily['type']> = {
      gnatsd_varz_connections: 'GAUGE',
      switchboard_connections: 'GAUGE',
      switchboard_messages_received_total: 'COUNTER',
      switchboard_messages_sent_total: 'COUNTER',
      switchboard_bytes_received_total: 'COUNTER',
      switchboard_bytes_sent_total: 'COUNTER',
      switchboard_dropped_messages_total: 'COUNTER',
      switchboard_mqtt_sessions: 'GAUGE',
      switchboard_mqtt_queued_messages: 'GAUGE',
      switchboard_mqtt_inflight_messages: 'GAUGE',
      switchboard_mqtt_connections_total: 'COUNTER',
      switchboard_http_requests_total: 'COUNTER',
      switchboard_http_request_duration_seconds: 'HISTOGRAM',
      switchboard_jetstream_streams: 'GAUGE',
      switchboard_jetstream_consumers: 'GAUGE',
      switchboard_jetstream_stream_messages: 'GAUGE',
      switchboard_jetstream_stream_bytes: 'GAUGE',
      switchboard_jetstream_consumer_pending: 'GAUGE',
      switchboard_jetstream_consumer_ack_pending: 'GAUGE',
      switchboard_jetstream_consumer_redelivered: 'GAUGE',
      switchboard_kafka_bridge_messages_total: 'COUNTER',
      switchboard_kafka_bridge_up: 'GAUGE',
    };
    for (const [name, type] of Object.entries(FAMILIES)) {
      const family = after.get(name);
      assert.ok(family !== undefined, `${name} is served`);
      assert.equal(family.type, type, name);
      assert.ok(family.help.length > 0, `${name} has HELP`);
    }
    for (const type of ['nats', 'websocket-nats', 'mqtt', 'websocket-mqtt', 'http-stream', 'kafka-mapping']) {
      assert.ok(sampleValue(after, 'switchboard_connections', { type }) >= 1, `a ${type} connection is counted`);
    }
    for (const reason of ['slow_consumer', 'queue_full', 'expired', 'max_packet_size', 'permission']) {
      assert.equal(sampleValue(after, 'switchboard_dropped_messages_total', { protocol: 'mqtt', reason }), 0, `mqtt drops for ${reason} are reported`);
    }
    const moved = (name: string, labels: Record<string, string>): void => {
      const was = sampleValue(before, name, labels);
      const now = sampleValue(after, name, labels);
      assert.ok(now > (Number.isNaN(was) ? 0 : was), `${name}${JSON.stringify(labels)} moved: ${was} -> ${now}`);
    };
    for (const protocol of ['nats', 'mqtt', 'http']) moved('switchboard_messages_received_total', { protocol });
    moved('switchboard_bytes_received_total', { protocol: 'mqtt' });
    moved('switchboard_messages_sent_total', { protocol: 'mqtt' }); // dev-1 subscribed to sensors/+/temp
    moved('switchboard_messages_sent_total', { protocol: 'http' }); // the SSE subscriber got the HTTP publish
    moved('switchboard_messages_sent_total', { protocol: 'kafka' });
    moved('switchboard_http_requests_total', { route: '/v1/subjects/:subject', method: 'POST', status: '202' });
    moved('switchboard_http_requests_total', { route: '/v1/streams/:name', status: '404' });
    const latencyAfter = histogramCount(lastText, 'switchboard_http_request_duration_seconds', { route: '/v1/subjects/:subject' });
    assert.ok(latencyAfter > (Number.isNaN(latencyBefore) ? 0 : latencyBefore), `the latency histogram counted the publish: ${latencyBefore} -> ${latencyAfter}`);
    assert.ok(Object.keys(after.get('switchboard_http_request_duration_seconds')?.metrics[0]?.buckets ?? {}).includes('+Inf'), 'the histogram has its +Inf bucket');
    moved('switchboard_jetstream_stream_messages', { stream: 'OPS' });
    moved('switchboard_jetstream_consumer_pending', { stream: 'OPS', consumer: 'worker' });
    assert.equal(sampleValue(after, 'switchboard_mqtt_sessions', { state: 'connected' }), 2);
    assert.equal(sampleValue(after, 'switchboard_kafka_bridge_up', { mapping: 'ops-out' }), 1);
  });

  it('monitoring - Kafka mapping state changes are logged as they happen', async () => {
    const entries = (): Array<{ msg: string; mapping?: string; to?: string }> => log.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string });
    for (const mapping of ['ops-in', 'ops-out']) {
      const logged = (): boolean => entries().some((e) => e.mapping === mapping && e.to === 'running' && e.msg === `Kafka mapping ${mapping}: running`);
      await until(logged, `${mapping} going to running is logged`, 20_000);
      const state = (await get<Connz>('/connz')).connections.find((c) => c.kafka?.mapping === mapping)?.kafka?.state;
      assert.equal(state, 'running', `and /connz says so for ${mapping}`);
    }
  });
});
