// Leaf links over TLS with nats-server's handshake (INFO in clear announcing
// tls_required, then TLS on the same socket), against a real nats-server 2.9
// on either side: a Switchboard edge presents its client certificate to a
// hub that verifies it, and a nats-server leaf dials a Switchboard hub whose
// leafnode block has tls.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { createCore, type Core } from '../../core/create-core.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { freePort, startNatsServerWithConfig, waitForOutput, type RunningServer } from '../helpers/servers.ts';
import { makeClientCert, makeTestCerts, type TestCerts } from '../helpers/tls-certs.ts';

function linked(core: Core): boolean {
  const body = JSON.parse(core.monitor?.respond('/leafz', new URLSearchParams()).body ?? '{}') as { leafnodes?: number };
  return body.leafnodes === 1;
}

/** Publish on `from` until `to`'s subscriber has one: interest crossed the link. */
async function crosses(from: NatsConnection, to: NatsConnection, subject: string): Promise<void> {
  let got = '';
  to.subscribe(subject, { callback: (_e, m) => void (got = m.string()) });
  await to.flush();
  await eventually(async () => {
    from.publish(subject, 'over tls');
    await from.flush();
    return got === 'over tls';
  }, 15_000, 100);
}

describe('leafnode - TLS links with nats-server', { peers: ['nats-server', 'openssl'] }, () => {
  let certs: TestCerts;
  const servers: RunningServer[] = [];
  const cores: Core[] = [];
  const conns: NatsConnection[] = [];

  before(() => {
    certs = makeTestCerts();
  });

  after(async () => {
    for (const nc of conns) await nc.close();
    for (const c of cores) await c.stop();
    for (const s of servers) await s.stop();
    certs?.cleanup();
  });

  it('leafnode tls - a Switchboard edge dials a nats-server hub that verifies its client certificate', async () => {
    const leafPort = await freePort();
    const hub = await startNatsServerWithConfig(
      `leafnodes { listen: "127.0.0.1:${leafPort}", tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caCert}", verify: true } }`,
    );
    servers.push(hub);
    const edge = createCore({
      server: { port: 0 },
      monitor: { host: '127.0.0.1', port: 0 },
      leafnodes: { remotes: [{ urls: [`nats-leaf://127.0.0.1:${leafPort}`], tls: { caFile: certs.caCert, certFile: certs.clientCert, keyFile: certs.clientKey }, reconnectDelayMs: 200 }] },
    });
    cores.push(edge);
    await edge.start();
    await eventually(() => linked(edge), 15_000);
    const hc = await connect({ servers: hub.url });
    const ec = await connect({ servers: `127.0.0.1:${edge.nats.port}` });
    conns.push(hc, ec);
    await crosses(ec, hc, 'tls.up');
    await crosses(hc, ec, 'tls.down');
  });

  it('leafnode tls - a nats-server leaf dials a Switchboard hub whose leafnode block has tls; one without the CA is refused', async () => {
    const hub = createCore({
      server: { port: 0 },
      monitor: { host: '127.0.0.1', port: 0 },
      leafnodes: { listener: { host: '127.0.0.1', port: 0, authTimeoutMs: 2000, tls: { verify: false } }, remotes: [], tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caCert, verify: false, verifyAndMap: false, timeoutMs: 2000, minVersion: 'TLSv1.2' } },
    });
    cores.push(hub);
    await hub.start();
    const leaf = await startNatsServerWithConfig(`leafnodes { remotes [ { url: "nats-leaf://127.0.0.1:${hub.leafnodes?.port}", tls { ca_file: "${certs.caCert}" } } ] }`);
    servers.push(leaf);
    await eventually(() => linked(hub), 15_000);
    const hc = await connect({ servers: `127.0.0.1:${hub.nats.port}` });
    const lc = await connect({ servers: leaf.url });
    conns.push(hc, lc);
    await crosses(lc, hc, 'tls.leaf.up');
    await crosses(hc, lc, 'tls.leaf.down');
    // A leaf that does not trust the hub's CA never links.
    makeClientCert(certs, 'other', '/CN=other', { untrustedCa: true }); // leaves other-ca.pem, a CA that did not sign the hub
    const untrusting = await startNatsServerWithConfig(`leafnodes { remotes [ { url: "nats-leaf://127.0.0.1:${hub.leafnodes?.port}", tls { ca_file: "${join(certs.dir, 'other-ca.pem')}" } } ] }`);
    servers.push(untrusting);
    await waitForOutput(untrusting.child, /x509|certificate/i, 15_000);
    assert.ok(linked(hub), `still exactly the trusting leaf: ${hub.monitor?.respond('/leafz', new URLSearchParams()).body}`);
  });
});
