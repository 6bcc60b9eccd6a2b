// TLS on every listener, with real clients and certificates made by openssl at
// test time: mosquitto_pub/mosquitto_sub on the MQTT TLS port, curl on HTTPS
// (publish, SSE) and on HTTPS monitoring, mqtt.js and the official NATS
// WebSocket client over WSS. Then verify_and_map: a client certificate names a
// user (by email SAN or by subject DN) and gets that user's permissions on
// NATS, MQTT, HTTP and WebSocket alike. Bad input (an untrusted client CA, a
// certificate that maps to no user, plain text, a handshake that never
// completes) closes that one connection and nothing else.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { buildConfig as buildCoreConfig } from '../../core/config/switchboard-config.ts';
import { silentLogger } from '../../core/server/logger.ts';
import { createApp, type App } from '../../gateways/main.ts';
import { configExtensions } from '../../gateways/registry.ts';
import { connectMqtt } from '../helpers/mqtt.ts';
import type { Peer } from '../helpers/peers.ts';
import { makeClientCert, makeTestCerts, type ClientCert, type TestCerts } from '../helpers/tls-certs.ts';
import { connectWs } from '../helpers/websocket-clients.ts';

const PEERS: readonly Peer[] = ['openssl', 'mosquitto_pub', 'mosquitto_sub', 'curl'];
/** Made by the first suite that runs (openssl is a peer), removed after the file. */
let certs: TestCerts | undefined;
const testCerts = (): TestCerts => (certs ??= makeTestCerts());
after(() => certs?.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a client to completion (bounded by `timeoutMs`). */
function run(command: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Started, then given a moment to subscribe before the publisher runs. */
function background(command: string, args: string[]): { done: Promise<Run> } {
  return { done: run(command, args) };
}

/** The whole configuration, gateway sections included. */
const buildConfig = (wire: Record<string, unknown>) => buildCoreConfig(wire, () => undefined, configExtensions());

/** The official client over WSS: `ws` with the test CA (and a client certificate) as its TLS options. */
function wssFactory(tls: WebSocket.ClientOptions): Record<string, unknown> {
  return { wsFactory: async (u: string) => ({ socket: new WebSocket(u, tls), encrypted: true }) };
}

/** A NATS publish on `subject` must reach an MQTT client subscribed to its topic; then both close. */
async function natsToMqtt(mq: MqttClient, nc: NatsConnection, topic: string, text: string): Promise<void> {
  try {
    const got = new Promise<string>((resolve) => mq.once('message', (_t, payload) => resolve(payload.toString())));
    await mq.subscribeAsync(topic, { qos: 1 });
    nc.publish(topic.replaceAll('/', '.'), text);
    assert.equal(await got, text);
  } finally {
    await mq.endAsync();
    await nc.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function port(app: App, name: string): number {
  const listener = app.gateways.components.get(name)?.listener;
  assert.ok(listener, `${name} listens`);
  return listener.boundPort();
}

async function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function openSocket(p: number): Promise<Socket> {
  const socket = tcpConnect(p, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

function tlsBlock(c: TestCerts, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cert_file: c.serverCert, key_file: c.serverKey, ca_file: c.caCert, timeout: 0.5, ...extra };
}

describe('tls listeners', { peers: PEERS }, () => {
  let c: TestCerts;
  let app: App;
  let mqttPort: number;
  let httpPort: number;
  let wsPort: number;

  before(async () => {
    c = testCerts();
    const config = buildConfig({
      host: '127.0.0.1',
      port: 0,
      https_port: 0,
      jetstream: false,
      tls: tlsBlock(c),
      mqtt: { port: 0, tls: tlsBlock(c) },
      http_gateway: { port: 0, tls: tlsBlock(c) },
      websocket: { port: 0, tls: tlsBlock(c) },
    });
    app = createApp(config, silentLogger());
    await app.start();
    mqttPort = port(app, 'mqtt');
    httpPort = port(app, 'http_gateway');
    wsPort = port(app, 'websocket');
  });
  after(async () => {
    await app?.stop();
  });

  it('tls listeners - mosquitto_sub and mosquitto_pub with --cafile on the MQTT TLS port', async () => {
    const common = ['-h', '127.0.0.1', '-p', String(mqttPort), '--cafile', c.caCert, '-V', 'mqttv311'];
    const sub = background('mosquitto_sub', [...common, '-t', 'tls/mosq', '-C', '1', '-W', '10']);
    await sleep(500);
    const pub = await run('mosquitto_pub', [...common, '-t', 'tls/mosq', '-m', 'over tls', '-q', '1']);
    assert.equal(pub.code, 0, pub.stderr);
    const got = await sub.done;
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.trim(), 'over tls');
  });

  it('tls listeners - curl --cacert publishes over HTTPS and reads it back as SSE', async () => {
    const base = `https://127.0.0.1:${httpPort}`;
    const sse = background('curl', ['-sN', '--cacert', c.caCert, '--max-time', '10', `${base}/v1/subjects/tls.sse?max=1`]);
    await sleep(500);
    const pub = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', c.caCert, '-X', 'POST', '--data-binary', 'hello https', `${base}/v1/subjects/tls.sse`]);
    assert.equal(pub.stdout, '202', pub.stderr);
    const got = await sse.done;
    assert.match(got.stdout, /hello https/);
    // Without the CA curl refuses the server: the listener really is TLS.
    const untrusted = await run('curl', ['-s', '-o', '/dev/null', `${base}/healthz`]);
    assert.notEqual(untrusted.code, 0);
  });

  it('tls listeners - monitoring on https_port answers curl --cacert and reports its port in varz', async () => {
    const monitor = app.monitor;
    assert.ok(monitor);
    const r = await run('curl', ['-s', '--cacert', c.caCert, `https://127.0.0.1:${monitor.port}/varz`]);
    assert.equal(r.code, 0, r.stderr);
    const varz = JSON.parse(r.stdout) as { https_port: number; http_port: number };
    assert.equal(varz.https_port, monitor.port);
    assert.equal(varz.http_port, 0);
  });

  it('tls listeners - mqtt.js and the NATS WebSocket client over WSS', async () => {
    const ca = readFileSync(c.caCert);
    const mq = await connectMqtt(`wss://127.0.0.1:${wsPort}/mqtt`, { ca, rejectUnauthorized: true });
    const nc = await connectWs(`wss://127.0.0.1:${wsPort}`, wssFactory({ ca }));
    await nc.flush();
    // /connz reports each WSS connection's TLS session, as nats-server's tls_version/tls_cipher_suite.
    const monitor = app.monitor;
    assert.ok(monitor);
    const connz = JSON.parse(monitor.respond('/connz', new URLSearchParams()).body) as { connections: Array<{ type: string; tls_version?: string; tls_cipher_suite?: string }> };
    for (const type of ['websocket-nats', 'websocket-mqtt']) {
      const entry = connz.connections.find((conn) => conn.type === type);
      assert.match(entry?.tls_version ?? '', /^TLSv1\.[23]$/, `${type} reports its TLS version`);
      assert.ok((entry?.tls_cipher_suite ?? '').length > 0, `${type} reports its cipher`);
    }
    const varz = JSON.parse(monitor.respond('/varz', new URLSearchParams()).body) as { websocket: Record<string, unknown> };
    assert.equal(varz.websocket.no_tls, undefined, 'a WebSocket listener with TLS does not say no_tls');
    await natsToMqtt(mq, nc, 'tls/wss', 'from nats over wss');
  });

  it('tls listeners - plain text and a handshake that never completes close only that connection', async () => {
    const ca = readFileSync(c.caCert);
    const healthy = await connectMqtt(`mqtts://127.0.0.1:${mqttPort}`, { ca, rejectUnauthorized: true });
    try {
      for (const p of [mqttPort, httpPort, wsPort]) {
        const plain = await openSocket(p);
        plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.ok(await closedWithin(plain, 3_000), `plain text to ${p} is closed`);
        const silent = await openSocket(p);
        // tls.timeout is 0.5 s: a peer that never starts the handshake is cut.
        assert.ok(await closedWithin(silent, 3_000), `a silent peer on ${p} is cut at the handshake timeout`);
      }
      await healthy.publishAsync('tls/still', 'up', { qos: 1 });
      assert.equal(healthy.connected, true);
    } finally {
      await healthy.endAsync();
    }
  });
});

describe('tls listeners - verify_and_map', { peers: PEERS }, () => {
  let c: TestCerts;
  let app: App;
  let alice: ClientCert;
  let bob: ClientCert;
  let stranger: ClientCert;
  let untrusted: ClientCert;
  let natsPort: number;
  let mqttPort: number;
  let httpPort: number;
  let wsPort: number;
  const aliceRules = { publish: ['alice.>'], subscribe: ['alice.>'] };

  before(async () => {
    c = testCerts();
    alice = makeClientCert(c, 'alice', '/O=Acme/CN=Alice Device', { san: 'email:alice@example.com' });
    bob = makeClientCert(c, 'bob', '/C=US/O=Acme, Inc/CN=bob');
    stranger = makeClientCert(c, 'stranger', '/CN=nobody');
    untrusted = makeClientCert(c, 'untrusted', '/CN=alice', { san: 'email:alice@example.com', untrustedCa: true });
    const map = tlsBlock(c, { verify_and_map: true });
    const config = buildConfig({
      host: '127.0.0.1',
      port: 0,
      monitor: false,
      jetstream: false,
      tls: map,
      mqtt: { port: 0, tls: map },
      http_gateway: { port: 0, tls: map },
      websocket: { port: 0, tls: map },
      authorization: {
        users: [
          { user: 'alice@example.com', permissions: aliceRules },
          // RFC 2253 order (most specific first) with an escaped comma, as nats-server writes it.
          { user: 'CN=bob,O=Acme\\, Inc,C=US', permissions: { publish: ['bob.>'], subscribe: ['bob.>', 'alice.>'] } },
        ],
      },
    });
    app = createApp(config, silentLogger());
    await app.start();
    natsPort = app.nats.port;
    mqttPort = port(app, 'mqtt');
    httpPort = port(app, 'http_gateway');
    wsPort = port(app, 'websocket');
  });
  after(async () => {
    await app?.stop();
  });

  const natsTls = (who: ClientCert) => ({ port: natsPort, tls: { caFile: c.caCert, certFile: who.cert, keyFile: who.key } });

  it('verify_and_map - NATS: the email SAN names alice, her permissions apply', async () => {
    const nc = await connect(natsTls(alice));
    try {
      const errors: Error[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error as Error);
      })();
      const sub = nc.subscribe('alice.in', { max: 1 });
      nc.publish('alice.in', 'mine');
      for await (const m of sub) assert.equal(m.string(), 'mine');
      nc.subscribe('secret.>');
      await nc.flush();
      await sleep(100);
      assert.match(String(errors[0]), /Permissions Violation for Subscription to "secret\.>"/);
    } finally {
      await nc.close();
    }
  });

  it('verify_and_map - MQTT: mosquitto with --cert/--key as alice; mqtt.js is refused a subscription she may not have', async () => {
    const common = ['-h', '127.0.0.1', '-p', String(mqttPort), '--cafile', c.caCert, '--cert', alice.cert, '--key', alice.key, '-V', 'mqttv311'];
    const sub = background('mosquitto_sub', [...common, '-t', 'alice/mqtt', '-C', '1', '-W', '10']);
    await sleep(500);
    const pub = await run('mosquitto_pub', [...common, '-t', 'alice/mqtt', '-m', 'device reading', '-q', '1']);
    assert.equal(pub.code, 0, pub.stderr);
    const got = await sub.done;
    assert.equal(got.stdout.trim(), 'device reading', got.stderr);
    const mq = await connectMqtt(`mqtts://127.0.0.1:${mqttPort}`, { ca: readFileSync(c.caCert), cert: readFileSync(alice.cert), key: readFileSync(alice.key), protocolVersion: 5 });
    try {
      const granted = await mq.subscribeAsync('alice/ok');
      assert.deepEqual(granted.map((g) => g.qos), [0]);
      await assert.rejects(mq.subscribeAsync('secret/x'), /Not authorized/); // SUBACK 0x87
    } finally {
      await mq.endAsync();
    }
  });

  it('verify_and_map - HTTP: curl --cert as bob (subject DN) may publish bob.> and not alice.>', async () => {
    const base = `https://127.0.0.1:${httpPort}`;
    const curl = (subject: string) =>
      run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', c.caCert, '--cert', bob.cert, '--key', bob.key, '-X', 'POST', '--data-binary', 'x', `${base}/v1/subjects/${subject}`]);
    assert.equal((await curl('bob.report')).stdout, '202');
    assert.equal((await curl('alice.report')).stdout, '403');
    const nobody = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', c.caCert, '--cert', stranger.cert, '--key', stranger.key, '-X', 'POST', '--data-binary', 'x', `${base}/v1/subjects/bob.x`]);
    assert.equal(nobody.stdout, '401');
  });

  it('verify_and_map - WebSocket: NATS and MQTT over WSS get the mapped user too', async () => {
    const ca = readFileSync(c.caCert);
    const tlsOf = (who: ClientCert) => ({ ca, cert: readFileSync(who.cert), key: readFileSync(who.key) });
    const mq = await connectMqtt(`wss://127.0.0.1:${wsPort}/mqtt`, { ...tlsOf(bob), protocolVersion: 5 });
    const nc = await connectWs(`wss://127.0.0.1:${wsPort}`, wssFactory(tlsOf(alice)));
    await assert.rejects(mq.subscribeAsync('secret/ws'), /Not authorized/);
    await natsToMqtt(mq, nc, 'alice/ws', 'alice to bob');
  });

  it('verify_and_map - a certificate from another CA fails the handshake on every listener; one that maps to no user is refused; others are unaffected', async () => {
    const nc = await connect(natsTls(alice));
    try {
      const mosq = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '--cafile', c.caCert, '--cert', untrusted.cert, '--key', untrusted.key, '-t', 'alice/x', '-m', 'x']);
      assert.notEqual(mosq.code, 0);
      const curl = await run('curl', ['-s', '--cacert', c.caCert, '--cert', untrusted.cert, '--key', untrusted.key, `https://127.0.0.1:${httpPort}/healthz`]);
      assert.notEqual(curl.code, 0);
      await assert.rejects(connect({ ...natsTls(untrusted), reconnect: false, timeout: 3_000 }));
      await assert.rejects(connect({ ...natsTls(stranger), reconnect: false, timeout: 3_000 }), /Authorization Violation/i);
      await assert.rejects(connectMqtt(`mqtts://127.0.0.1:${mqttPort}`, { ca: readFileSync(c.caCert), cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) }), /Not authorized|Bad User/i);
      // without a certificate at all: the handshake fails
      await assert.rejects(connectMqtt(`mqtts://127.0.0.1:${mqttPort}`, { ca: readFileSync(c.caCert) }));
      const sub = nc.subscribe('alice.after', { max: 1 });
      nc.publish('alice.after', 'still here');
      for await (const m of sub) assert.equal(m.string(), 'still here');
    } finally {
      await nc.close();
    }
  });
});

describe('tls listeners - configuration errors', { peers: ['openssl'] }, () => {

  it('tls listeners - a missing certificate names the key; a key that does not match its certificate names key_file', () => {
    const c = testCerts();
    assert.throws(
      () => createApp(buildConfig({ port: 0, monitor: false, mqtt: { port: 0, tls: { cert_file: '/nonexistent/cert.pem', key_file: c.serverKey } } }), silentLogger()),
      (error: Error & { key?: string }) => error.key === 'mqtt.tls.cert_file' && /cannot read/.test(error.message),
    );
    const other = makeClientCert(c, 'mismatch', '/CN=mismatch');
    assert.throws(
      () => createApp(buildConfig({ port: 0, monitor: false, http_gateway: { port: 0, tls: { cert_file: c.serverCert, key_file: other.key } } }), silentLogger()),
      (error: Error & { key?: string }) => error.key === 'http_gateway.tls.key_file' && /not the private key/.test(error.message),
    );
    assert.throws(() => buildConfig({ https_port: 0 }), /https_port.*needs the top-level tls block/);
    assert.throws(() => buildConfig({ authorization: { users: [{ user: 'CN=x' }] } }), /password.*verify_and_map/);
  });
});
