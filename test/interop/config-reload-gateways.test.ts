// Configuration reload on the gateways (issue 21 item 3), Switchboard as a
// child process sent SIGHUP: an MQTT client and an HTTP event stream of a
// user whose permissions shrink keep running under the new rules, and lose
// the subscriptions those no longer allow; an MQTT client whose password
// changed is closed. Certificates rotated in place are served by the NATS,
// MQTT and HTTP listeners after the reload, while a connection made before
// keeps working. (The NATS side, against nats-server too: test/differential/config-reload.test.ts.)

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connectCollecting, connectMqtt, sleep } from '../helpers/mqtt.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.ts';

function users(version: 1 | 2): object {
  return {
    users: [
      { user: 'admin', password: 'admin' },
      { user: 'alice', password: 'a1', permissions: { publish: ['>'], subscribe: version === 1 ? ['orders.>', 'audit.>'] : ['orders.>'] } },
      { user: 'bob', password: version === 1 ? 'b1' : 'b2' },
    ],
  };
}

// Generous deadlines: the server is a child process on a machine that may be busy (issue 27).
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

function readCa(certs: TestCerts): string {
  return readFileSync(certs.caCert, 'utf8');
}

/** An HTTP event stream's text as it arrives. */
function openStream(port: number, path: string, user: string, pass: string): Promise<{ text(): string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, accept: 'text/event-stream' } }, (res: IncomingMessage) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      resolve({ text: () => text, ended: new Promise((r) => res.once('end', () => r())) });
    });
    req.once('error', reject);
    req.end();
  });
}

describe('config reload - gateways', () => {
  let dir: string;
  let file: string;
  let server: SwitchboardProcess;
  let admin: NatsConnection;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reload-gw-'));
    file = join(dir, 'switchboard.json');
    writeFileSync(file, JSON.stringify({ authorization: users(1) }));
    server = await startSwitchboardProcess(['-c', file, '--no_jetstream']);
    admin = await connect({ servers: server.url, user: 'admin', pass: 'admin' });
  });
  after(async () => {
    await admin?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('config reload - MQTT and HTTP stream subscriptions no longer allowed are removed; a changed password closes the MQTT client', async () => {
    const mqttUrl = `mqtt://127.0.0.1:${server.gateways.mqtt}`;
    const { client: alice, inbox } = await connectCollecting(mqttUrl, { username: 'alice', password: 'a1', protocolVersion: 5 });
    await alice.subscribeAsync(['orders/+', 'audit/+']);
    const bob = await connectMqtt(mqttUrl, { username: 'bob', password: 'b1', protocolVersion: 5 });
    let bobReason: number | undefined;
    bob.on('disconnect', (packet) => (bobReason = packet.reasonCode));
    const stream = await openStream(server.gateways.http as number, '/v1/subjects/audit.%3E', 'alice', 'a1');
    await until(() => stream.text().length > 0, 'the HTTP stream is open');
    admin.publish('audit.before');
    await admin.flush();
    await inbox.waitFor(1);
    await until(() => stream.text().includes('audit.before'), 'the HTTP stream gets audit.before');

    writeFileSync(file, JSON.stringify({ authorization: users(2) }));
    server.child.kill('SIGHUP');
    await until(() => bob.disconnected || bobReason !== undefined, 'bob, whose password changed, is disconnected', 30_000);
    assert.equal(bobReason, 0x87, 'MQTT 5 DISCONNECT Not authorized');
    await Promise.race([stream.ended, sleep(30_000)]);
    assert.match(stream.text(), /event: error\ndata: .*"code":"permission_denied"/);

    admin.publish('audit.after');
    admin.publish('orders.after');
    await admin.flush();
    await inbox.waitFor(2);
    await sleep(200);
    assert.deepEqual(inbox.messages.map((m) => m.topic), ['audit/before', 'orders/after']);
    assert.equal(alice.connected, true, 'alice keeps her MQTT connection');
    // bob with the new password, over MQTT.
    const bob2 = await connectMqtt(mqttUrl, { username: 'bob', password: 'b2' });
    await bob2.endAsync();
    await alice.endAsync();
    bob.end(true);
  });
});

describe('config reload - certificates', { peers: ['openssl'] }, () => {
  let first: TestCerts;
  let second: TestCerts;
  let dir: string;
  let server: SwitchboardProcess;

  /** The fingerprint of the certificate a TLS listener presents, trusting `ca`. */
  function served(port: number, ca: TestCerts, startTls = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const open = (socket?: Socket): void => {
        const tls = tlsConnect({ host: '127.0.0.1', port, ca: [readCa(ca)], servername: 'localhost', ...(socket === undefined ? {} : { socket }) }, () => {
          resolve(tls.getPeerCertificate().fingerprint256);
          tls.destroy();
        });
        tls.once('error', reject);
      };
      if (!startTls) return open();
      // NATS: INFO in clear, then the handshake on the same socket.
      const plain = new Socket();
      plain.connect(port, '127.0.0.1');
      plain.once('data', () => open(plain));
      plain.once('error', reject);
    });
  }

  before(async () => {
    first = makeTestCerts();
    second = makeTestCerts();
    dir = mkdtempSync(join(tmpdir(), 'reload-tls-'));
    copyFileSync(first.serverCert, join(dir, 'server.pem'));
    copyFileSync(first.serverKey, join(dir, 'server.key'));
    const tls = { cert_file: join(dir, 'server.pem'), key_file: join(dir, 'server.key') };
    writeFileSync(join(dir, 'switchboard.json'), JSON.stringify({ tls, mqtt: { tls }, http_gateway: { tls } }));
    server = await startSwitchboardProcess(['-c', join(dir, 'switchboard.json'), '--no_jetstream']);
  });
  after(async () => {
    await server?.stop();
    first?.cleanup();
    second?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('config reload - certificates rotated in place are served by the NATS, MQTT and HTTPS listeners; a connection made before keeps working', async () => {
    const ports = { nats: server.port, mqtt: server.gateways.mqtt as number, http: server.gateways.http as number };
    const before = await served(ports.mqtt, first);
    const nc = await connect({ servers: server.url, tls: { ca: readCa(first) } });
    copyFileSync(second.serverCert, join(dir, 'server.pem'));
    copyFileSync(second.serverKey, join(dir, 'server.key'));
    server.child.kill('SIGHUP');
    await until(async () => (await served(ports.mqtt, second).catch(() => '')) !== '', 'the MQTT listener serves the new certificate', 30_000);
    const after = await served(ports.mqtt, second);
    assert.notEqual(after, before);
    assert.equal(await served(ports.http, second), after);
    assert.equal(await served(ports.nats, second, true), after);
    await assert.rejects(served(ports.http, first), /self.signed|unable to verify|certificate/i, 'the old CA no longer verifies it');
    // The NATS connection made under the old certificate still works.
    const sub = nc.subscribe('still.here', { max: 1 });
    nc.publish('still.here');
    for await (const m of sub) assert.equal(m.subject, 'still.here');
    await nc.close();
  });
});
