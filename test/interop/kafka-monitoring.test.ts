// The Kafka bridge on the server's monitoring port: `switchboard -c file
// --kafka-brokers ... --kafka-mapping ...` (flags over the file's kafka section),
// as a child process, reports each mapping at GET /kafkaz (JSON)
// and in GET /metrics (Prometheus text, after the core's series): messages,
// rate, lag, errors and the last error, for healthy mappings and a failing one.
// The HTTP gateway serves them too (/v1/monitor/kafkaz, /metrics).
// Kafka is librdkafka's mock cluster (kcat); records go in with kcat and out
// with @nats-io/transport-node.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startProxiedKafka, type ProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { kcatConsume, kcatProduce } from '../helpers/kafka-mock.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';

interface MappingFigures {
  name: string;
  direction: string;
  state: string;
  messages: number;
  rate: number;
  lag: number;
  errors: number;
  lastError: { message: string; at: string } | null;
}

const OUT_MESSAGES = 20;

describe('kafka bridge monitoring', { peers: ['kcat'] }, () => {
  let kafka: ProxiedKafka;
  let server: SwitchboardProcess;
  let nc: NatsConnection;
  let dir: string;
  let monitor: string;

  before(async () => {
    kafka = await startProxiedKafka();
    dir = mkdtempSync(join(tmpdir(), 'kafka-monitoring-'));
    const file = join(dir, 'switchboard.json');
    // The brokers and one mapping come from flags, laid over the file's section (README "Kafka bridge").
    writeFileSync(
      file,
      JSON.stringify({
        kafka: {
          kafka: { clientId: 'monitoring-test' },
          mappings: [
            { name: 'mon-in', direction: 'kafka-to-nats', topics: ['mon-in'], groupId: 'mon', subject: 'mon.{topic}' },
            // No stream captures the subject: every publish fails, and says so.
            { name: 'mon-broken', direction: 'kafka-to-nats', topics: ['mon-broken'], groupId: 'mon-broken', subject: 'nostream.{topic}', stream: 'NOPE' },
          ],
        },
      }),
    );
    const outMapping = { name: 'mon-out', direction: 'nats-to-kafka', subject: 'mon.out', topic: 'mon-out' };
    server = await startSwitchboardProcess(['-c', file, '--kafka-brokers', kafka.proxy.brokers.join(','), '--kafka-mapping', JSON.stringify(outMapping)]);
    assert.ok(server.monitorPort !== null, 'the process reports its monitoring port');
    monitor = `http://127.0.0.1:${server.monitorPort}`;
    nc = await connect({ servers: server.url });
  });

  after(async () => {
    await nc?.close();
    await server?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function kafkaz(): Promise<{ brokers: string[]; kafkajsSpeedups: string; mappings: MappingFigures[] }> {
    const response = await fetch(`${monitor}/kafkaz`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return (await response.json()) as { brokers: string[]; kafkajsSpeedups: string; mappings: MappingFigures[] };
  }

  async function mapping(name: string, until: (m: MappingFigures) => boolean, what: string): Promise<MappingFigures> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = (await kafkaz()).mappings.find((m) => m.name === name);
      assert.ok(found !== undefined, `mapping ${name} is listed`);
      if (until(found)) return found;
      if (Date.now() > deadline) assert.fail(`mapping ${name}: ${what}; last seen ${JSON.stringify(found)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('kafka monitoring - /kafkaz counts what each mapping moved, and the failing mapping shows its error', async () => {
    const got: string[] = [];
    nc.subscribe('mon.mon-in', { callback: (_error, message) => void got.push(message.string()) });
    await nc.flush();
    // The consumer group may still be joining: produce until a record arrives (bounded).
    for (let i = 0; i < 40 && got.length === 0; i++) {
      kcatProduce(kafka.mock.bootstrap, 'mon-in', { value: `in ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(got.length > 0, 'a Kafka record reached NATS');
    await mapping('mon-out', (m) => m.state === 'running', 'producer connected');
    for (let i = 0; i < OUT_MESSAGES; i++) nc.publish('mon.out', `out ${i}`);
    await nc.flush();
    kcatProduce(kafka.mock.bootstrap, 'mon-broken', { value: 'never stored' });

    const out = await mapping('mon-out', (m) => m.messages === OUT_MESSAGES, `${OUT_MESSAGES} messages written`);
    assert.equal(out.direction, 'nats-to-kafka');
    assert.equal(out.errors, 0);
    assert.equal(out.lastError, null);
    assert.equal(out.lag, 0, 'nothing left in the buffer');
    // The rate counts complete seconds only: 20 messages within the last 10 s read as 2/s once their seconds are complete.
    await mapping('mon-out', (m) => m.rate === OUT_MESSAGES / 10, 'a rate of 2/s');
    assert.equal(kcatConsume(kafka.mock.bootstrap, 'mon-out', OUT_MESSAGES).length, OUT_MESSAGES, 'and Kafka has them');

    const inbound = await mapping('mon-in', (m) => m.messages >= got.length, 'records counted');
    assert.equal(inbound.direction, 'kafka-to-nats');
    assert.equal(inbound.state, 'running');
    assert.equal(inbound.errors, 0);

    const broken = await mapping('mon-broken', (m) => m.errors > 0, 'publish failures counted');
    assert.equal(broken.messages, 0);
    assert.ok(broken.lastError !== null);
    assert.match(broken.lastError.message, /"mon-broken"/, 'the error names the mapping');
    assert.match(broken.lastError.message, /NOPE/, 'and the stream it wanted');
    assert.ok(!Number.isNaN(Date.parse(broken.lastError.at)), 'with the time it happened');
    assert.deepEqual((await kafkaz()).brokers, kafka.proxy.brokers);
    // The server loads kafkajs through kafkajs-loader.ts: its produce path runs on the stand-ins.
    assert.equal((await kafkaz()).kafkajsSpeedups, 'active');
  });

  it('kafka monitoring - /metrics carries the per-mapping series after the core ones, and / lists /kafkaz', async () => {
    await mapping('mon-out', (m) => m.messages === OUT_MESSAGES, 'the first test ran');
    await mapping('mon-broken', (m) => m.errors > 0, 'the first test ran');
    const response = await fetch(`${monitor}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^gnatsd_varz_connections\{server_id="[^"]+"\} [0-9]+$/m, 'the core series are still there');
    assert.match(text, new RegExp(`^switchboard_kafka_bridge_messages_total\\{mapping="mon-out",direction="nats-to-kafka"\\} ${OUT_MESSAGES}$`, 'm'));
    assert.match(text, /^switchboard_kafka_bridge_up\{mapping="mon-out",direction="nats-to-kafka"\} 1$/m);
    assert.match(text, /^switchboard_kafka_bridge_lag\{mapping="mon-in",direction="kafka-to-nats"\} [0-9]+$/m);
    assert.match(text, /^switchboard_kafka_bridge_errors_total\{mapping="mon-broken",direction="kafka-to-nats"\} [1-9][0-9]*$/m);
    assert.match(text, /^switchboard_kafka_bridge_last_error_timestamp_seconds\{mapping="mon-broken",direction="kafka-to-nats"\} [1-9][0-9.]*$/m);
    assert.match(text, /^switchboard_kafka_bridge_last_error_timestamp_seconds\{mapping="mon-out",direction="nats-to-kafka"\} 0$/m);
    assert.match(text, /^# TYPE switchboard_kafka_bridge_rate gauge$/m);
    const index = await (await fetch(`${monitor}/`)).text();
    assert.match(index, /href="\.\/kafkaz"/);
  });

  it('kafka monitoring - the HTTP gateway serves the same figures (the place to read them in cluster mode)', async () => {
    assert.ok(server.gateways.http !== null);
    const gateway = `http://127.0.0.1:${server.gateways.http}`;
    const json = (await (await fetch(`${gateway}/v1/monitor/kafkaz`)).json()) as { mappings: MappingFigures[] };
    assert.deepEqual(json.mappings.map((m) => m.name).sort(), ['mon-broken', 'mon-in', 'mon-out']);
    assert.equal(json.mappings.find((m) => m.name === 'mon-out')?.messages, OUT_MESSAGES);
    const text = await (await fetch(`${gateway}/metrics`)).text();
    assert.match(text, new RegExp(`^switchboard_kafka_bridge_messages_total\\{mapping="mon-out",direction="nats-to-kafka"\\} ${OUT_MESSAGES}$`, 'm'));
  });
});
