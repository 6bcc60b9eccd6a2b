// TLS on the NATS listener, against Switchboard and nats-server with the same
// certificates (made at test time with openssl): INFO in clear announcing
// tls_required, then the handshake; a plain client is refused; with client
// verification a client needs a certificate signed by the CA.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { buildConfig } from '../../core/config/switchboard-config.ts';
import { silentLogger } from '../../core/server/logger.ts';
import { createApp } from '../../gateways/main.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { Peer } from '../helpers/peers.ts';
import { startNatsServer, type RunningServer } from '../helpers/servers.ts';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.ts';

interface TlsTarget {
  name: string;
  peers?: readonly Peer[];
  start(certs: TestCerts, verify: boolean): Promise<RunningServer>;
}

const targets: TlsTarget[] = [
  {
    name: 'switchboard',
    async start(certs, verify) {
      const config = buildConfig({ host: '127.0.0.1', port: 0, monitor: false, tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.caCert, verify } });
      const app = createApp(config, silentLogger());
      await app.start();
      return { name: 'switchboard', port: app.nats.port, url: `nats://127.0.0.1:${app.nats.port}`, stop: () => app.stop() };
    },
  },
  {
    name: 'nats-server',
    peers: ['nats-server'],
    start: (certs, verify) => startNatsServer(['--tlscert', certs.serverCert, '--tlskey', certs.serverKey, '--tlscacert', certs.caCert, ...(verify ? ['--tlsverify'] : ['--tls'])]),
  },
];

/** Made by the first suite that runs (openssl is a peer too), removed after the file. */
let certs: TestCerts | undefined;

for (const target of targets) {
  describe(`tls (${target.name})`, { peers: ['openssl', ...(target.peers ?? [])] }, () => {
    let c: TestCerts;
    let server: RunningServer;
    let verified: RunningServer;
    before(async () => {
      c = certs ??= makeTestCerts();
      server = await target.start(c, false);
      verified = await target.start(c, true);
    });
    after(async () => {
      await server.stop();
      await verified.stop();
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
  });
}

after(() => certs?.cleanup());
