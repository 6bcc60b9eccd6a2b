// A `tls {}` block as nats-server writes it (ND running-a-nats-service/
// configuration/securing_nats/tls.md): cert_file, key_file, ca_file, verify,
// verify_and_map, timeout, min_version, cipher_suites. The same parser serves
// the NATS listener's top-level block and the one inside each gateway's
// section (`mqtt { tls {...} }`), so a key means the same thing everywhere.

import { ConfigError } from './config-error.ts';
import { parseDurationMs } from './duration.ts';
import { bool, isObject, readableFile, text } from './setting-values.ts';

export interface TlsOptions {
  certFile: string;
  keyFile: string;
  caFile?: string;
  /** Require and verify client certificates (mutual TLS); on with verifyAndMap too. */
  verify: boolean;
  /** Map the verified client certificate (email SAN, DNS SAN, URI SAN, subject DN) to a user. */
  verifyAndMap: boolean;
  /** Time allowed for the TLS handshake, ms (nats-server's default: 2 s). */
  timeoutMs: number;
  /** Lowest protocol version accepted (nats-server's default, and ours: 1.2). */
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2, from cipher_suites; absent = Node's default. */
  ciphers?: string;
}

export const TLS_KEYS = ['cert_file', 'key_file', 'ca_file', 'verify', 'verify_and_map', 'timeout', 'min_version', 'cipher_suites'] as const;
const DEFAULT_TLS_TIMEOUT_MS = 2000;

/**
 * nats-server names suites as Go does; Node takes OpenSSL's names. These are
 * the TLS 1.2 suites Go offers (crypto/tls cipher_suites.go) that OpenSSL also
 * has. TLS 1.3 suites are not configurable in nats-server either.
 */
const GO_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

function minVersion(value: unknown, key: string): TlsOptions['minVersion'] {
  const v = String(value).trim();
  if (v === '1.2' || v === 'TLSv1.2') return 'TLSv1.2';
  if (v === '1.3' || v === 'TLSv1.3') return 'TLSv1.3';
  // nats-server refuses anything below 1.2 too.
  throw new ConfigError(key, `must be "1.2" or "1.3", got ${JSON.stringify(value)}`);
}

function cipherSuites(value: unknown, key: string): string {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(key, 'must be a non-empty list of cipher suite names');
  return value
    .map((name, i) => {
      const suite = text(name, `${key}[${i}]`);
      const openssl = GO_CIPHER_SUITES[suite];
      if (openssl === undefined) throw new ConfigError(`${key}[${i}]`, `unknown cipher suite ${JSON.stringify(suite)} (expected one of ${Object.keys(GO_CIPHER_SUITES).join(', ')})`);
      return openssl;
    })
    .join(':');
}

/** The `tls` block at `key` (`tls`, `mqtt.tls`, ...); files must be readable now. */
export function parseTls(wire: unknown, key: string): TlsOptions {
  if (!isObject(wire)) throw new ConfigError(key, 'must be an object with cert_file and key_file');
  const known = new Set<string>(TLS_KEYS);
  for (const name of Object.keys(wire)) if (!known.has(name)) throw new ConfigError(`${key}.${name}`, `unknown key (expected ${TLS_KEYS.join(', ')})`);
  if (wire.cert_file === undefined) throw new ConfigError(`${key}.cert_file`, 'is required for TLS');
  if (wire.key_file === undefined) throw new ConfigError(`${key}.key_file`, 'is required for TLS');
  const verifyAndMap = wire.verify_and_map === undefined ? false : bool(wire.verify_and_map, `${key}.verify_and_map`);
  const verify = verifyAndMap || (wire.verify === undefined ? false : bool(wire.verify, `${key}.verify`));
  if (verify && wire.ca_file === undefined) {
    throw new ConfigError(`${key}.ca_file`, `is required when ${verifyAndMap ? 'verify_and_map' : 'verify'} is on (the CA that signs client certificates)`);
  }
  const tls: TlsOptions = {
    certFile: readableFile(wire.cert_file, `${key}.cert_file`),
    keyFile: readableFile(wire.key_file, `${key}.key_file`),
    verify,
    verifyAndMap,
    timeoutMs: wire.timeout === undefined ? DEFAULT_TLS_TIMEOUT_MS : parseDurationMs(wire.timeout, `${key}.timeout`),
    minVersion: wire.min_version === undefined ? 'TLSv1.2' : minVersion(wire.min_version, `${key}.min_version`),
  };
  if (tls.timeoutMs <= 0) throw new ConfigError(`${key}.timeout`, 'must be greater than zero');
  if (wire.ca_file !== undefined) tls.caFile = readableFile(wire.ca_file, `${key}.ca_file`);
  if (wire.cipher_suites !== undefined) tls.ciphers = cipherSuites(wire.cipher_suites, `${key}.cipher_suites`);
  return tls;
}
