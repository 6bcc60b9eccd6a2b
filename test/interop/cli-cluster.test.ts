// The switchboard command in cluster mode, as a child process against a real
// 3-node `nats-server -js` cluster: no embedded core opens (no NATS or
// monitoring port, no store), every gateway serves through the cluster, the
// gateways' own streams get --stream-replicas, settings come from flags, the
// environment or a config file, and an unreachable cluster or refused
// credentials, or servers without JetStream, stop startup with exit code 2 and
// a message naming the URLs.
// The Kafka bridge configured in the file runs in the gateway process, both ways.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { startProxiedKafka } from '../helpers/kafka-bridge-process.ts';
import { kcatConsume, kcatProduce } from '../helpers/kafka-mock.ts';
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.ts';
import { freePort, PROJECT_ROOT, startNatsServer, startNatsServerWithConfig, startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { makeTestCerts } from '../helpers/tls-certs.ts';

const BIN = join(PROJECT_ROOT, 'gateways/bin/switchboard.mjs');

function runSync(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

async function refused(port: number): Promise<boolean> {
  try {
    const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 1_000 });
    await nc.close();
    return false;
  } catch {
    return true;
  }
}

/** POST `subject` (as its own body) to the process's HTTP gateway; what a NATS subscriber of `nc` got within 2 s. */
async function httpPublishSeen(nc: NatsConnection, gateway: SwitchboardProcess, subject: string): Promise<string[]> {
  const got: string[] = [];
  nc.subscribe(subject, { callback: (_e, m) => void got.push(m.string()), max: 1 });
  await nc.flush();
  assert.equal((await fetch(`http://127.0.0.1:${gateway.gateways.http}/v1/subjects/${subject}`, { method: 'POST', body: subject })).status, 202);
  for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  return got;
}

describe('cli cluster mode (nats-server cluster)', { peers: ['nats-server'] }, () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-cluster-'));
    cluster = await startNatsCluster();
    nc = await connect({ servers: [...cluster.urls] });
  });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cli cluster - --nats-url starts no embedded core and every gateway serves through the cluster', async () => {
    const [natsPort, monitorPort] = [await freePort(), await freePort()];
    const storeDir = join(dir, 'unused-store');
    const gw = await startSwitchboardProcess(['--nats-url', cluster.url, '--name', 'cli-a', '--stream-replicas', '3', '-p', String(natsPort), '-m', String(monitorPort), '-sd', storeDir]);
    try {
      assert.ok(await refused(natsPort), 'no NATS listener');
      assert.ok(await refused(monitorPort), 'no monitoring listener');
      assert.equal(existsSync(storeDir), false, 'no JetStream store');
      const { mqtt: mqttPort, http: httpPort, websocket: wsPort } = gw.gateways;
      assert.ok(mqttPort !== null && httpPort !== null && wsPort !== null);

      const seen: string[] = [];
      nc.subscribe('cli.>', { callback: (_e, m) => void seen.push(`${m.subject}=${m.string()}`) });
      await nc.flush();
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, reconnectPeriod: 0 });
      await client.publishAsync('cli/mqtt', 'm', { qos: 1 });
      await client.endAsync();
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/v1/subjects/cli.http`, { method: 'POST', body: 'h' })).status, 202);
      // NATS over WebSocket: the bytes are piped to a cluster node (its INFO names it).
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`);
      const info = await within(10_000, 'the INFO over WebSocket', new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(String(data)));
        ws.once('error', reject);
      }));
      assert.match(info, /^INFO .*"server_name":"n[123]"/);
      ws.send('CONNECT {"verbose":false,"protocol":1}\r\nPUB cli.ws 1\r\nw\r\nPING\r\n');
      await within(10_000, 'the PONG over WebSocket', new Promise<void>((resolve) => ws.on('message', (data) => String(data).includes('PONG') && resolve())));
      ws.close();
      for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen.sort(), ['cli.http=h', 'cli.mqtt=m', 'cli.ws=w']);

      // The MQTT gateway's own streams live in the cluster with three replicas.
      const jsm = await jetstreamManager(nc);
      for (const name of ['MQTT_retained', 'MQTT_sessions', 'MQTT_msgs']) {
        const stream = await jsm.streams.info(name);
        assert.equal(stream.config.num_replicas, 3, name);
        assert.equal(stream.cluster?.replicas?.length, 2, `${name} has a leader and two replicas`);
      }
    } finally {
      await gw.stop();
    }
  });

  it('cli cluster - the URL list comes from a config file or the environment as well', async () => {
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, `nats_url: [${cluster.urls.join(', ')}]\nstream_replicas: 3\nname: cli-file\n`);
    const fromFile = await startSwitchboardProcess(['-c', file]);
    try {
      assert.deepEqual(await httpPublishSeen(nc, fromFile, 'cli.file'), ['cli.file'], 'the HTTP gateway published into the cluster');
    } finally {
      await fromFile.stop();
    }
    const port = await freePort();
    const fromEnv = runSync([], { SWITCHBOARD_NATS_URL: `nats://127.0.0.1:${port}` });
    assert.equal(fromEnv.status, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}`));
  });

  it('cli cluster - the Kafka bridge of a gateway process moves records both ways through the cluster', { peers: ['kcat'] }, async () => {
    const kafka = await startProxiedKafka();
    const file = join(dir, 'bridge.json');
    const bridge = {
      kafka: {
        kafka: { brokers: kafka.proxy.brokers, clientId: 'cli-cluster' },
        mappings: [
          { name: 'in', direction: 'kafka-to-nats', topics: ['cli-in'], groupId: 'cli', subject: 'clikafka.{topic}' },
          { name: 'out', direction: 'nats-to-kafka', subject: 'clikafka.out', topic: 'cli-out' },
        ],
      },
    };
    writeFileSync(file, JSON.stringify(bridge));
    const gw = await startSwitchboardProcess(['--nats-url', cluster.url, '--name', 'cli-kafka', '--no_gateways', '-c', file]);
    try {
      const got: string[] = [];
      nc.subscribe('clikafka.cli-in', { callback: (_e, m) => void got.push(m.string()) });
      await nc.flush();
      // The consumer group may still be joining: produce until a record arrives (bounded).
      for (let i = 0; i < 40 && got.length === 0; i++) {
        kcatProduce(kafka.mock.bootstrap, 'cli-in', { value: `from kafka ${i}` });
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(got[0] ?? '', /^from kafka \d+$/, 'a Kafka record reached a NATS subscriber of the cluster');
      // Likewise the subscription may still be reaching the other nodes: publish a few, spaced out.
      for (let i = 0; i < 5; i++) {
        nc.publish('clikafka.out', `from nats ${i}`);
        await nc.flush();
        await new Promise((r) => setTimeout(r, 300));
      }
      const records = kcatConsume(kafka.mock.bootstrap, 'cli-out', 1);
      assert.match(records[0]?.payload ?? '', /^from nats \d$/, 'a NATS message of the cluster reached Kafka');
    } finally {
      await gw.stop();
      await kafka.stop();
    }
  });

  it('cli cluster - TLS to the cluster with a client certificate (nats-server requiring verified clients)', { peers: ['openssl'] }, async () => {
    const certs = makeTestCerts();
    const store = mkdtempSync(join(dir, 'tls-js-'));
    const secured = await startNatsServerWithConfig(`jetstream { store_dir: "${store}" }\ntls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caCert}", verify: true }`);
    const url = `tls://127.0.0.1:${secured.port}`;
    try {
      const withoutCert = runSync(['--no_gateways', '--nats-url', url, '--nats-tls-ca', certs.caCert]);
      assert.equal(withoutCert.status, 2, withoutCert.stderr);
      assert.match(withoutCert.stderr, new RegExp(`cannot connect to NATS at ${url.replace(/\./g, '\\.')}`));
      const gw = await startSwitchboardProcess(['--nats-url', url, '--nats-tls-ca', certs.caCert, '--nats-tls-cert', certs.clientCert, '--nats-tls-key', certs.clientKey, '--name', 'cli-tls']);
      const tlsClient = await connect({ servers: url, tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey } });
      try {
        assert.deepEqual(await httpPublishSeen(tlsClient, gw, 'cli.tls'), ['cli.tls']);
      } finally {
        await tlsClient.close();
        await gw.stop();
      }
    } finally {
      await secured.stop();
      certs.cleanup();
    }
  });

  it('cli cluster - an unreachable cluster, refused credentials or no JetStream exit 2 naming the URLs', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const down = runSync(['--nats-url', `nats://127.0.0.1:${a},nats://127.0.0.1:${b}`]);
    assert.equal(down.status, 2, down.stderr);
    assert.match(down.stderr, new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${a}, nats://127\\.0\\.0\\.1:${b}`));

    const secured = await startNatsServer(['--user', 'app', '--pass', 'pw']);
    try {
      const wrong = runSync(['--nats-url', `nats://app:nope@127.0.0.1:${secured.port}`]);
      assert.equal(wrong.status, 2, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${secured.port}: .*[Aa]uthorization`));
      const env = runSync(['--no_gateways', '--nats-url', secured.url, '--nats-user', 'app'], { SWITCHBOARD_NATS_PASS: 'nope' });
      assert.equal(env.status, 2, env.stderr);
      // Reachable, right credentials, but no JetStream: the gateways cannot keep their state.
      const noJetStream = runSync(['--nats-url', secured.url, '--nats-user', 'app', '--nats-pass', 'pw']);
      assert.equal(noJetStream.status, 2, noJetStream.stderr);
      assert.match(noJetStream.stderr, new RegExp(`no JetStream on the NATS servers at nats://127\\.0\\.0\\.1:${secured.port}: JetStream is not enabled there`));
    } finally {
      await secured.stop();
    }
  });
});

/** `promise`, or a rejection naming `what` after `ms`: a silent peer must fail the test, not hang npm test. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
