// TLS on the NATS listener, against Switchboard and nats-server with the same
// certificates (made at test time with openssl): INFO in clear announcing
// tls_required, then the handshake; a plain client is refused; with client
// verification a client needs a certificate signed by the CA (not by another
// one); with verify_and_map the certificate's email SAN or subject DN names the
// user and its permissions.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { buildConfig } from '../../core/config/switchboard-config.ts';
import { silentLogger } from '../../core/server/logger.ts';
import { createApp } from '../../gateways/main.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { Peer } from '../helpers/peers.ts';
import { startNatsServer, startNatsServerWithConfig, type RunningServer } from '../helpers/servers.ts';
import { makeClientCert, makeTestCerts, type TestCerts } from '../helpers/tls-certs.ts';

type Mode = 'tls' | 'verify' | 'map';

interface TlsTarget {
  name: string;
  peers?: readonly Peer[];
  start(certs: TestCerts, mode: Mode): Promise<RunningServer>;
}

/** The users of the verify_and_map server: one named by an email SAN, one by its subject DN (RFC 2253 order). */
const MAPPED_USERS = [
  { user: 'alice@example.com', permissions: { publish: ['alice.>'], subscribe: ['alice.>'] } },
  { user: 'CN=bob,O=Acme', permissions: { publish: ['bob.>'], subscribe: ['bob.>'] } },
];

function natsServerConf(certs: TestCerts): string {
  const users = MAPPED_USERS.map((u) => `{user: "${u.user}", permissions: {publish: ["${u.permissions.publish[0]}"], subscribe: ["${u.permissions.subscribe[0]}"]}}`).join(', ');
  return `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caCert}", verify_and_map: true }\nauthorization { users = [${users}] }`;
}

const targets: TlsTarget[] = [
  {
    name: 'switchboard',
    async start(certs, mode) {
      const tls = { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.caCert, ...(mode === 'map' ? { verify_and_map: true } : { verify: mode === 'verify' }) };
      const config = buildConfig({ host: '127.0.0.1', port: 0, monitor: false, tls, ...(mode === 'map' ? { authorization: { users: MAPPED_USERS } } : {}) });
      const app = createApp(config, silentLogger());
      await app.start();
      return { name: 'switchboard', port: app.nats.port, url: `nats://127.0.0.1:${app.nats.port}`, stop: () => app.stop() };
    },
  },
  {
    name: 'nats-server',
    peers: ['nats-server'],
    start: (certs, mode) =>
      mode === 'map'
        ? startNatsServerWithConfig(natsServerConf(certs))
        : startNatsServer(['--tlscert', certs.serverCert, '--tlskey', certs.serverKey, '--tlscacert', certs.caCert, ...(mode === 'verify' ? ['--tlsverify'] : ['--tls'])]),
  },
];

/** Made by the first suite that runs (openssl is a peer too), removed after the file. */
let certs: TestCerts | undefined;

for (const target of targets) {
  describe(`tls (${target.name})`, { peers: ['openssl', ...(target.peers ?? [])] }, () => {
    let c: TestCerts;
    let server: RunningServer;
    let verified: RunningServer;
    let mapped: RunningServer;
    before(async () => {
      c = certs ??= makeTestCerts();
      server = await target.start(c, 'tls');
      verified = await target.start(c, 'verify');
      mapped = await target.start(c, 'map');
    });
    after(async () => {
      await server.stop();
      await verified.stop();
      await mapped.stop();
    });

    async function roundTrip(nc: NatsConnection): Promise<void> {
      const sub = nc.subscribe('tls.echo', { max: 1 });
      nc.publish('tls.echo', 'secret');
      // Collected, then compared: a loop of asserts would pass if the connection dropped before the first message.
      const got: string[] = [];
      for await (const m of sub) got.push(m.string());
      assert.deepEqual(got, ['secret']);
      await nc.close();
    }

    it('tls - INFO is sent in clear and announces tls_required', async () => {
      const raw = await RawClient.connect(server.port, { readInfo: false });
      try {
        const info = JSON.parse((await raw.readUntil('\r\n')).slice(5));
        assert.equal(info.tls_required, true);
      } finally {
        raw.close();
      }
    });

    it('tls - a client that speaks plain NATS after INFO is disconnected', async () => {
      const raw = await RawClient.connect(server.port);
      try {
        raw.send('CONNECT {"verbose":false}\r\nPING\r\n');
        const got = await raw.waitClosed(5_000);
        assert.doesNotMatch(got, /PONG/);
      } finally {
        raw.close();
      }
    });

    it('tls - a client trusting the CA connects and messages flow', async () => {
      await roundTrip(await connect({ servers: server.url, tls: { caFile: c.caCert }, reconnect: false }));
    });

    it('tls - a client that does not trust the certificate is refused', async () => {
      await assert.rejects(connect({ servers: server.url, tls: {}, reconnect: false }));
    });

    it('tls - with verification, a client certificate signed by the CA is required', async () => {
      const raw = await RawClient.connect(verified.port, { readInfo: false });
      const info = JSON.parse((await raw.readUntil('\r\n')).slice(5));
      raw.close();
      assert.equal(info.tls_verify, true);
      await roundTrip(await connect({ servers: verified.url, tls: { caFile: c.caCert, certFile: c.clientCert, keyFile: c.clientKey }, reconnect: false }));
      await assert.rejects(async () => {
        const nc = await connect({ servers: verified.url, tls: { caFile: c.caCert }, reconnect: false });
        await nc.flush();
        await nc.close();
      });
    });

    it('tls - with verification, a client certificate from another CA is refused', async () => {
      const stranger = makeClientCert(c, `other-ca-${target.name}`, '/CN=client', { untrustedCa: true });
      await assert.rejects(async () => {
        const nc = await connect({ servers: verified.url, tls: { caFile: c.caCert, certFile: stranger.cert, keyFile: stranger.key }, reconnect: false });
        await nc.flush();
        await nc.close();
      });
    });

    it('tls - verify_and_map: the email SAN or the subject DN names the user, whose permissions apply; an unmapped certificate is refused', async () => {
      const alice = makeClientCert(c, `alice-${target.name}`, '/O=Acme/CN=Alice Device', { san: 'email:alice@example.com' });
      const bob = makeClientCert(c, `bob-${target.name}`, '/O=Acme/CN=bob');
      const nobody = makeClientCert(c, `nobody-${target.name}`, '/CN=nobody');
      const as = (who: { cert: string; key: string }) => connect({ servers: mapped.url, tls: { caFile: c.caCert, certFile: who.cert, keyFile: who.key }, reconnect: false });
      const nc = await as(alice);
      const errors: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
      })();
      const sub = nc.subscribe('alice.x', { max: 1 });
      nc.publish('alice.x', 'mapped');
      for await (const m of sub) assert.equal(m.string(), 'mapped');
      nc.subscribe('bob.>');
      await nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.match(errors.join(), /Permissions Violation for Subscription to "bob\.>"/i);
      await nc.close();
      const nb = await as(bob);
      const bobSub = nb.subscribe('bob.y', { max: 1 });
      nb.publish('bob.y', 'by subject');
      for await (const m of bobSub) assert.equal(m.string(), 'by subject');
      await nb.close();
      await assert.rejects(as(nobody), /Authorization Violation/i);
    });
  });
}

after(() => certs?.cleanup());
