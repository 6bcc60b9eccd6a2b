// Load the TLS material for the NATS listener once, at startup, so a bad
// certificate or key fails with the config key that names it before anything
// listens.

import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../config/config-error.ts';
import type { TlsOptions } from '../config/switchboard-config.ts';

export function createTlsContext(tls: TlsOptions): SecureContext {
  const read = (path: string, key: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new ConfigError(key, `cannot read ${path}`, { cause });
    }
  };
  const cert = read(tls.certFile, 'tls.cert_file');
  const key = read(tls.keyFile, 'tls.key_file');
  const ca = tls.caFile === undefined ? undefined : read(tls.caFile, 'tls.ca_file');
  try {
    // TLS 1.2 is nats-server's minimum too.
    return createSecureContext({ cert, key, ca, minVersion: 'TLSv1.2' });
  } catch (cause) {
    throw new ConfigError('tls', `certificate, key or CA not usable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
