// The `leafnodes` block, with nats-server's key names: a listener for leaves
// (`port`, `host` or `listen`, `authorization`, `tls`) and `remotes`, each a
// hub to dial (`url` or `urls`; credentials as user info in the URL, a
// `credentials` file, or Switchboard's `user`/`password`/`token` keys;
// `tls { ca_file, cert_file, key_file }`). The flat settings
// `leafnode_remote` (--leafnode_remote, repeatable; SWITCHBOARD_LEAFNODE_REMOTE,
// comma-separated) and `leafnode_port` (--leafnode_port,
// SWITCHBOARD_LEAFNODE_PORT) add a remote and the listener port the way the
// gateways' flags do. Every rule fails here with its key.

import { parseAuthorization, type AuthOptions } from './auth-options.ts';
import { ConfigError } from './config-error.ts';
import { parseDurationMs } from './duration.ts';
import { hostPort, int, isObject, readableFile, text } from './setting-values.ts';
import { parseTls, type TlsOptions } from './tls-options.ts';

export interface LeafRemoteConfig {
  urls: string[];
  credentials?: string;
  user?: string;
  password?: string;
  token?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  reconnectDelayMs?: number;
}

export interface LeafListenerConfig {
  host: string;
  port: number;
  authTimeoutMs: number;
  authorization?: AuthOptions;
  tls?: TlsOptions;
}

export interface LeafNodeConfig {
  listener?: LeafListenerConfig;
  remotes: LeafRemoteConfig[];
}

/** Flat settings from flags and the environment. */
export const LEAFNODE_KEYS = ['leafnode_remote', 'leafnode_port'] as const;

type Wire = Record<string, unknown>;

/** nats-server's leafnode auth_timeout default is the client one's; the listener shares the NATS host unless told. */
export function parseLeafNodes(block: unknown, flat: Wire, defaults: { host: string; authTimeoutMs: number }): LeafNodeConfig | null {
  if (block === undefined && flat.leafnode_remote === undefined && flat.leafnode_port === undefined) return null;
  if (block !== undefined && !isObject(block)) throw new ConfigError('leafnodes', 'must be an object with port, authorization, tls or remotes');
  const wire = (block ?? {}) as Wire;
  const config: LeafNodeConfig = { remotes: [] };
  let listener: LeafListenerConfig | undefined;
  const listen = (): LeafListenerConfig => (listener ??= { host: defaults.host, port: 7422, authTimeoutMs: defaults.authTimeoutMs });
  let reconnectDelayMs: number | undefined;
  for (const [name, v] of Object.entries(wire)) {
    const key = `leafnodes.${name}`;
    if (name === 'port') listen().port = int(v, key, 0, 65535);
    else if (name === 'host') listen().host = text(v, key);
    else if (name === 'listen') {
      const hp = hostPort(v, key);
      listen().port = hp.port;
      if (hp.host !== undefined) listen().host = hp.host;
    } else if (name === 'authorization') {
      const auth = listen();
      auth.authorization = parseAuthorization(v, undefined, key);
      if (isObject(v) && v.timeout !== undefined) auth.authTimeoutMs = parseDurationMs(v.timeout, `${key}.timeout`);
    } else if (name === 'tls') listen().tls = parseTls(v, key);
    else if (name === 'remotes') {
      if (!Array.isArray(v)) throw new ConfigError(key, 'must be a list of remotes');
      config.remotes.push(...v.map((r, i) => parseRemote(r, `${key}[${i}]`)));
    } else if (name === 'reconnect' || name === 'reconnect_delay') reconnectDelayMs = parseDurationMs(typeof v === 'number' ? `${v}s` : v, key);
    else if (name === 'advertise' || name === 'no_advertise') continue; // one listener, one address: nothing to advertise
    else throw new ConfigError(key, 'unknown key (expected port, host, listen, authorization, tls, remotes or reconnect)');
  }
  if (flat.leafnode_port !== undefined) listen().port = int(flat.leafnode_port, 'leafnode_port', 0, 65535);
  if (flat.leafnode_remote !== undefined) {
    const items = (Array.isArray(flat.leafnode_remote) ? flat.leafnode_remote : [flat.leafnode_remote]).flatMap((u) => text(u, 'leafnode_remote').split(','));
    for (const url of items.map((u) => u.trim()).filter((u) => u !== '')) config.remotes.push({ urls: [checkUrl(url, 'leafnode_remote')] });
  }
  if (reconnectDelayMs !== undefined) for (const r of config.remotes) r.reconnectDelayMs ??= reconnectDelayMs;
  if (listener !== undefined) config.listener = listener;
  return config;
}

function parseRemote(wire: unknown, key: string): LeafRemoteConfig {
  if (!isObject(wire)) throw new ConfigError(key, 'must be an object with url or urls');
  const remote: LeafRemoteConfig = { urls: [] };
  for (const [name, v] of Object.entries(wire)) {
    const at = `${key}.${name}`;
    if (name === 'url') remote.urls.push(checkUrl(text(v, at), at));
    else if (name === 'urls') {
      if (!Array.isArray(v)) throw new ConfigError(at, 'must be a list of URLs');
      remote.urls.push(...v.map((u, i) => checkUrl(text(u, `${at}[${i}]`), `${at}[${i}]`)));
    } else if (name === 'credentials') remote.credentials = readableFile(v, at);
    else if (name === 'user') remote.user = text(v, at);
    else if (name === 'password') remote.password = text(v, at);
    else if (name === 'token') remote.token = text(v, at);
    else if (name === 'tls') remote.tls = remoteTls(v, at);
    else if (name === 'reconnect' || name === 'reconnect_delay') remote.reconnectDelayMs = parseDurationMs(typeof v === 'number' ? `${v}s` : v, at);
    else if (name === 'account') {
      if (text(v, at) !== '$G') throw new ConfigError(at, 'accounts are not supported: only the global account $G');
    } else throw new ConfigError(at, 'unknown key (expected url, urls, credentials, user, password, token, tls or reconnect)');
  }
  if (remote.urls.length === 0) throw new ConfigError(key, 'needs url or urls');
  if (remote.token !== undefined && remote.user !== undefined) throw new ConfigError(`${key}.token`, 'cannot be combined with user');
  return remote;
}

function remoteTls(wire: unknown, key: string): LeafRemoteConfig['tls'] {
  if (!isObject(wire)) throw new ConfigError(key, 'must be an object with ca_file, cert_file and key_file');
  const tls: NonNullable<LeafRemoteConfig['tls']> = {};
  for (const [name, v] of Object.entries(wire)) {
    const at = `${key}.${name}`;
    if (name === 'ca_file') tls.caFile = readableFile(v, at);
    else if (name === 'cert_file') tls.certFile = readableFile(v, at);
    else if (name === 'key_file') tls.keyFile = readableFile(v, at);
    else throw new ConfigError(at, 'unknown key (expected ca_file, cert_file or key_file)');
  }
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new ConfigError(key, 'cert_file and key_file go together');
  return tls;
}

function checkUrl(url: string, key: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `nats-leaf://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch (cause) {
    throw new ConfigError(key, `${JSON.stringify(url)} is not a URL such as nats-leaf://host:7422`, { cause });
  }
  if (!['nats-leaf:', 'nats:', 'tls:'].includes(parsed.protocol)) throw new ConfigError(key, `${JSON.stringify(url)}: the scheme must be nats-leaf, nats or tls (websocket leaf links are not supported)`);
  return url;
}
