// Certificates made at test time with Debian's openssl: a CA, a server
// certificate for 127.0.0.1/localhost and a client certificate, all signed by
// the CA. Tests that call it need the 'openssl' peer (peers.ts).
// makeClientCert() adds client certificates with a chosen subject and SANs
// (verify_and_map), signed by the test CA or by a second, untrusted one.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export interface ClientCert {
  cert: string;
  key: string;
}

/**
 * A client certificate (EC P-256: quick to make) for `subject` ("/O=Acme/CN=bob")
 * with optional SANs ("email:alice@example.com,DNS:dev.local"), signed by the
 * test CA, or by a CA of its own that the server does not trust.
 */
export function makeClientCert(certs: TestCerts, name: string, subject: string, options: { san?: string; untrustedCa?: boolean } = {}): ClientCert {
  const dir = certs.dir;
  const p = (file: string): string => join(dir, file);
  let ca = certs.caCert;
  let caKey = p('ca.key');
  if (options.untrustedCa === true) {
    ca = p(`${name}-ca.pem`);
    caKey = p(`${name}-ca.key`);
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=Untrusted CA', '-keyout', caKey, '-out', ca]);
  }
  writeFileSync(p(`${name}.ext`), `extendedKeyUsage=clientAuth\n${options.san === undefined ? '' : `subjectAltName=${options.san}\n`}`);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', subject, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`)]);
  openssl(dir, ['x509', '-req', '-in', p(`${name}.csr`), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '1', '-extfile', p(`${name}.ext`), '-out', p(`${name}.pem`)]);
  return { cert: p(`${name}.pem`), key: p(`${name}.key`) };
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  const p = (name: string): string => join(dir, name);
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Switchboard Test CA', '-keyout', p('ca.key'), '-out', p('ca.pem')]);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${who}`, '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`)]);
    openssl(dir, ['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', p(`${who}.ext`), '-out', p(`${who}.pem`)]);
  }
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
