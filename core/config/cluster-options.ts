// Cluster mode: the NATS cluster the gateways run against instead of an
// embedded core (`nats_url` and its companions, from a file, SWITCHBOARD_NATS_*
// or --nats-* flags). URLs may carry credentials (`nats://user:pass@host:4222`,
// `nats://token@host:4222`, as nats-server's own route URLs do); the explicit
// user/pass/token settings win over them. Validated here, before anything runs.

import { ConfigError } from './config-error.ts';
import { int, readableFile, text } from './setting-values.ts';

export interface ClusterTlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ClusterConfig {
  /** Server URLs without credentials, in the order given. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Present when TLS to the cluster is wanted (a tls:// URL or any file). */
  tls?: ClusterTlsOptions;
  /** num_replicas for the streams the gateways create themselves. */
  streamReplicas: number;
}

/** The settings keys of cluster mode; every one but stream_replicas needs nats_url. */
export const CLUSTER_KEYS = ['nats_url', 'nats_user', 'nats_pass', 'nats_token', 'nats_tls_ca', 'nats_tls_cert', 'nats_tls_key', 'stream_replicas'] as const;

/** nats-server's limit on stream replicas. */
const MAX_REPLICAS = 5;

type Wire = Record<string, unknown>;

/** A comma-separated string or a list of strings, each one URL or several. */
function urlList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.some((item) => typeof item !== 'string')) throw new ConfigError('nats_url', 'must be a URL, a comma-separated list of URLs or a list of them');
  const urls = (items as string[]).flatMap((item) => item.split(',')).map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new ConfigError('nats_url', 'names no server');
  return urls;
}

interface ParsedUrl {
  server: string;
  user?: string;
  pass?: string;
  token?: string;
  tls: boolean;
}

function parseUrl(raw: string): ParsedUrl {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `nats://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new ConfigError('nats_url', `${JSON.stringify(raw)} is not a URL such as nats://host:4222`, { cause });
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'nats' && scheme !== 'tls') throw new ConfigError('nats_url', `${JSON.stringify(raw)}: scheme must be nats:// or tls://`);
  if (url.hostname === '') throw new ConfigError('nats_url', `${JSON.stringify(raw)} has no host`);
  if (url.pathname !== '' && url.pathname !== '/') throw new ConfigError('nats_url', `${JSON.stringify(raw)}: a NATS URL has no path`);
  const parsed: ParsedUrl = { server: `${scheme}://${url.host}`, tls: scheme === 'tls' };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  // nats://secret@host is a token, nats://user:pass@host a user (nats-server URL conventions).
  if (user !== '' && url.password === '') parsed.token = user;
  else if (user !== '') Object.assign(parsed, { user, pass });
  return parsed;
}

/** The one set of credentials the URLs carry; different ones per URL are a mistake worth stopping for. */
function urlCredentials(parsed: ParsedUrl[]): Pick<ParsedUrl, 'user' | 'pass' | 'token'> {
  const withCreds = parsed.filter((p) => p.user !== undefined || p.token !== undefined);
  const first = withCreds[0];
  if (first === undefined) return {};
  for (const p of withCreds) {
    if (p.user !== first.user || p.pass !== first.pass || p.token !== first.token) {
      throw new ConfigError('nats_url', 'the URLs carry different credentials; give them once with nats_user/nats_pass or nats_token');
    }
  }
  return first.token === undefined ? { user: first.user, pass: first.pass } : { token: first.token };
}

/** null when no nats_url is set (embedded mode); throws when a cluster setting is given without it. */
export function parseClusterConfig(wire: Wire): ClusterConfig | null {
  if (wire.nats_url === undefined) {
    const stray = CLUSTER_KEYS.find((key) => wire[key] !== undefined);
    if (stray !== undefined) throw new ConfigError(stray, 'only applies in cluster mode (set nats_url)');
    return null;
  }
  const parsed = urlList(wire.nats_url).map(parseUrl);
  const config: ClusterConfig = { servers: parsed.map((p) => p.server), streamReplicas: 1, ...urlCredentials(parsed) };
  if (wire.nats_token !== undefined) {
    if (wire.nats_user !== undefined || wire.nats_pass !== undefined) throw new ConfigError('nats_token', 'cannot be combined with nats_user/nats_pass');
    config.token = text(wire.nats_token, 'nats_token');
    delete config.user;
    delete config.pass;
  }
  if (wire.nats_user !== undefined || wire.nats_pass !== undefined) {
    // Name the key that was given, so the error carries its source.
    if (wire.nats_user === undefined) throw new ConfigError('nats_pass', 'needs nats_user too');
    if (wire.nats_pass === undefined) throw new ConfigError('nats_user', 'needs nats_pass too');
    config.user = text(wire.nats_user, 'nats_user');
    config.pass = text(wire.nats_pass, 'nats_pass');
    delete config.token;
  }
  const tls: ClusterTlsOptions = {};
  if (wire.nats_tls_ca !== undefined) tls.caFile = readableFile(wire.nats_tls_ca, 'nats_tls_ca');
  if (wire.nats_tls_cert !== undefined) tls.certFile = readableFile(wire.nats_tls_cert, 'nats_tls_cert');
  if (wire.nats_tls_key !== undefined) tls.keyFile = readableFile(wire.nats_tls_key, 'nats_tls_key');
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new ConfigError(tls.certFile === undefined ? 'nats_tls_key' : 'nats_tls_cert', 'a client certificate needs both nats_tls_cert and nats_tls_key');
  }
  if (Object.keys(tls).length > 0 || parsed.some((p) => p.tls)) config.tls = tls;
  if (wire.stream_replicas !== undefined) config.streamReplicas = int(wire.stream_replicas, 'stream_replicas', 1, MAX_REPLICAS);
  return config;
}
