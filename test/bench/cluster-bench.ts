// Cluster mode beside embedded: the same MQTT and HTTP scenarios through two
// Switchboard gateway processes on a 3-node `nats-server -js` cluster, and
// through one embedded Switchboard process. Scenarios come from mqtt-bench.ts
// (raw-socket QoS 0/1 publisher -> subscriber) and http-bench.ts (autocannon
// publish); in cluster mode the MQTT subscriber is on one gateway and the
// publisher on the other, and HTTP load goes to both gateways at once. The
// "stream" HTTP row publishes into a stream capturing the subject (R3 in the
// cluster, R1 embedded), so every request waits for the PubAck.
// A section of `npm run bench`; alone:
//
//   node --import tsx test/bench/cluster-bench.ts [--quick]

import { parseArgs } from 'node:util';
import { commandAvailable, startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { startClusterGateways, startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.ts';
import { benchPublish, type HttpBenchPlan, type HttpFigure } from './http-bench.ts';
import { throughput } from './mqtt-bench.ts';

interface Deployment {
  name: string;
  gateways: SwitchboardProcess[];
  replicas: number;
  stop(): Promise<void>;
}

type Row = Record<string, string>;

async function embedded(): Promise<Deployment> {
  const process = await startSwitchboardProcess();
  return { name: 'embedded (1 process)', gateways: [process], replicas: 1, stop: () => process.stop() };
}

async function clustered(): Promise<Deployment> {
  const cluster: NatsCluster = await startNatsCluster();
  try {
    const gateways = await startClusterGateways(cluster, 2);
    return {
      name: 'cluster (2 gateways, 3 nodes)',
      gateways,
      replicas: 3,
      async stop() {
        await Promise.all(gateways.map((g) => g.stop()));
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

const httpBase = (g: SwitchboardProcess): string => `http://127.0.0.1:${g.gateways.http}`;

/** benchPublish on every gateway at once; requests/s summed, latency of the first. */
async function publishEverywhere(deployment: Deployment, plan: HttpBenchPlan): Promise<HttpFigure> {
  const perGateway = { ...plan, connections: Math.max(1, Math.round(plan.connections / deployment.gateways.length)) };
  const figures = await Promise.all(deployment.gateways.map((g) => benchPublish(httpBase(g), perGateway)));
  return { ...figures[0], value: figures.reduce((sum, f) => sum + f.value, 0) };
}

async function createStream(deployment: Deployment): Promise<void> {
  const res = await fetch(`${httpBase(deployment.gateways[0])}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'BENCH_HTTP', subjects: ['bench.http'], storage: 'file', num_replicas: deployment.replicas, max_msgs: 100_000 }),
  });
  if (res.status !== 201) throw new Error(`cannot create stream BENCH_HTTP: ${res.status} ${await res.text()}`);
}

async function measure(deployment: Deployment, quick: boolean): Promise<Row> {
  const [first, second] = deployment.gateways;
  const subPort = first.gateways.mqtt as number;
  const pubPort = (second ?? first).gateways.mqtt as number;
  const row: Row = {};
  const mqttServer = { name: deployment.name, port: subPort };
  row['MQTT qos0 msg/s'] = (await throughput(mqttServer, 0, quick ? 20_000 : 100_000, pubPort)).toFixed(0);
  row['MQTT qos1 msg/s'] = (await throughput(mqttServer, 1, quick ? 10_000 : 50_000, pubPort)).toFixed(0);
  const plan: HttpBenchPlan = { connections: 32, warmup: quick ? 1_000 : 3_000, capSeconds: quick ? 5 : 10 };
  const core = await publishEverywhere(deployment, plan);
  row['HTTP publish req/s'] = String(core.value);
  row['HTTP publish p99 ms'] = String(core.details.p99Ms);
  await createStream(deployment);
  const stored = await publishEverywhere(deployment, plan);
  row['HTTP publish to stream req/s'] = String(stored.value);
  row['HTTP stream p99 ms'] = String(stored.details.p99Ms);
  return row;
}

function printTable(rows: Record<string, Row>): void {
  const names = Object.keys(rows);
  const keys = Object.keys(rows[names[0]]);
  const width = Math.max(...keys.map((k) => k.length));
  const columns = names.map((n) => Math.max(n.length, 10));
  process.stdout.write(`\n${''.padEnd(width)}  ${names.map((n, i) => n.padStart(columns[i])).join('  ')}\n`);
  for (const key of keys) process.stdout.write(`${key.padEnd(width)}  ${names.map((n, i) => (rows[n][key] ?? '-').padStart(columns[i])).join('  ')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } }, strict: true });
  if (!commandAvailable('nats-server')) {
    // A benchmark, not a test: it has nothing to compare without the cluster.
    process.stdout.write('SKIPPED: nats-server not installed\n');
    return;
  }
  const rows: Record<string, Row> = {};
  for (const start of [embedded, clustered]) {
    const deployment = await start();
    try {
      process.stdout.write(`${deployment.name}: measuring\n`);
      rows[deployment.name] = await measure(deployment, values.quick === true);
      process.stdout.write(`${deployment.name}: ${JSON.stringify(rows[deployment.name])}\n`);
    } finally {
      await deployment.stop();
    }
  }
  printTable(rows);
}

main().then(
  () => process.exit(0), // mqtt-bench's per-run guard timers would otherwise hold the process open
  (error: unknown) => {
    process.stderr.write(`cluster-bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
