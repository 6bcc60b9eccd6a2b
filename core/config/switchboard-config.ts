// The whole configuration of one Switchboard process, and the mapper from the
// merged settings (nats-server's key names; from a file, the environment and
// the command line) into it. Every rule that can fail does so here, with the
// key and the reason, before anything listens.

import { parseAuthorization, type AuthOptions } from './auth-options.ts';
import { ConfigError } from './config-error.ts';
import { parseDurationMs } from './duration.ts';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './server-options.ts';
import { parseSize } from './size.ts';
import { bool, hostPort, int, isObject, text } from './setting-values.ts';
import { parseTls, type TlsOptions } from './tls-options.ts';
import type { ConfigExtension } from './config-extension.ts';
import { CLUSTER_KEYS, parseClusterConfig, type ClusterConfig } from './cluster-options.ts';
import { LEAFNODE_KEYS, parseLeafNodes, type LeafNodeConfig } from './leafnode-options.ts';

export interface MonitorConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * True when the port was asked for: failing to bind it stops startup. The
   * no-config default (8222) is a convenience: if it is taken, Switchboard
   * warns and runs without monitoring.
   */
  required: boolean;
  /** HTTPS with the top-level tls block's certificate (nats-server's https_port); client certificates are not asked for, as there. */
  tls?: boolean;
}

export interface JetStreamConfig {
  enabled: boolean;
  storeDir?: string;
  maxMemoryStore?: number;
  maxFileStore?: number;
  /** Ingest limits per stream (nats-server's max_buffered_msgs, max_buffered_size): past them a publish gets 429. */
  maxBufferedMsgs?: number;
  maxBufferedSize?: number;
  /** nats-server's strict API (default true): unknown request fields are refused. */
  strict?: boolean;
  /** nats-server's JetStream domain: the API answers as `$JS.<domain>.API.>` across leaf links. */
  domain?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogConfig {
  level: LogLevel;
  /** json (default): one object a line, for machines; text: a line a person reads. */
  format?: LogFormat;
  /** Write logs here instead of standard output. */
  file?: string;
}

export interface SwitchboardConfig {
  server: ServerOptions;
  /** null = no monitoring listener. */
  monitor: MonitorConfig | null;
  auth?: AuthOptions;
  tls?: TlsOptions;
  jetstream: JetStreamConfig;
  log: LogConfig;
  /** The extensions' sections (protocol gateways, connectors) with their flags laid over, validated by them. */
  sections: Record<string, unknown>;
  /** Cluster mode: the gateways run on this NATS cluster and no embedded core starts. null = embedded. */
  cluster: ClusterConfig | null;
  /** Leaf links (the `leafnodes` block and its flags); null = none. */
  leafnodes: LeafNodeConfig | null;
  /** Keys accepted without effect, each as `<source>: "<key>" <reason>`: logged at startup. */
  warnings: string[];
}

export type { TlsOptions };

export const DEFAULT_MONITOR: Readonly<MonitorConfig> = Object.freeze({ host: '127.0.0.1', port: 8222, required: false });
const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024;
/** nats-server features Switchboard does not have: named so the error says so. */
const UNSUPPORTED = new Set(['cluster', 'gateway', 'accounts', 'operator', 'resolver', 'system_account', 'include']);
/** nats-server settings that do not apply here and are accepted without effect. */
const IGNORED = new Set(['logtime', 'logfile_size_limit', 'pid_file', 'ports_file_dir', 'syslog', 'remote_syslog']);

type Wire = Record<string, unknown>;

function parseJetStream(wire: unknown, key: string): JetStreamConfig {
  if (typeof wire === 'boolean') return { enabled: wire };
  if (wire === 'enabled' || wire === 'enable') return { enabled: true };
  if (wire === 'disabled' || wire === 'disable') return { enabled: false };
  if (!isObject(wire)) throw new ConfigError(key, `must be true, false or an object with store_dir, got ${JSON.stringify(wire)}`);
  const js: JetStreamConfig = { enabled: true };
  for (const [name, v] of Object.entries(wire)) {
    const at = `${key}.${name}`;
    if (name === 'store_dir' || name === 'store') js.storeDir = text(v, at);
    else if (name === 'max_memory_store' || name === 'max_mem' || name === 'max_mem_store') js.maxMemoryStore = parseSize(v, at);
    else if (name === 'max_file_store' || name === 'max_file') js.maxFileStore = parseSize(v, at);
    else if (name === 'max_buffered_msgs') js.maxBufferedMsgs = int(v, at, 1, Number.MAX_SAFE_INTEGER);
    else if (name === 'max_buffered_size') js.maxBufferedSize = parseSize(v, at);
    else if (name === 'strict') js.strict = bool(v, at);
    else if (name === 'enabled') js.enabled = bool(v, at);
    else if (name === 'domain') js.domain = domainName(v, at);
    else throw new ConfigError(at, 'unknown key (expected store_dir, max_memory_store, max_file_store, max_buffered_msgs, max_buffered_size, strict, domain or enabled)');
  }
  return js;
}

/** A JetStream domain is one subject token (nats-server: no spaces, dots or wildcards). */
function domainName(value: unknown, key: string): string {
  const domain = text(value, key);
  if (!/^[^\s.*>]+$/.test(domain)) throw new ConfigError(key, `must be one subject token (no spaces, dots or wildcards), got ${JSON.stringify(domain)}`);
  return domain;
}

/**
 * Map merged settings to a SwitchboardConfig. `sourceOf` says where a
 * top-level key came from, so an error names the file, `environment` or
 * `command line`.
 */
export function buildConfig(wire: Wire, sourceOf: (topKey: string) => string | undefined = () => undefined, extensions: readonly ConfigExtension[] = []): SwitchboardConfig {
  try {
    const config = build(wire, extensions);
    // Extensions check their sections here, so an error or warning names the file the section came from.
    for (const extension of extensions) {
      for (const w of extension.check?.(config.sections, config.server.host) ?? []) {
        const source = sourceOf(w.key.split(/[.[]/)[0]);
        config.warnings.push(`${source === undefined ? '' : `${source}: `}"${w.key}" ${w.reason}`);
      }
    }
    return config;
  } catch (error) {
    if (error instanceof ConfigError && error.source === undefined) {
      const top = error.key.split(/[.[]/)[0];
      const source = sourceOf(top);
      if (source !== undefined) throw new ConfigError(error.key, error.reason, { source, cause: error.cause });
    }
    throw error;
  }
}

function build(wire: Wire, extensions: readonly ConfigExtension[]): SwitchboardConfig {
  const sectionKeys = new Set(extensions.flatMap((e) => e.sections));
  const flagKeys = new Set(extensions.flatMap((e) => e.flags.map((f) => f.key)));
  const server: ServerOptions = { ...DEFAULT_SERVER_OPTIONS };
  let monitor: MonitorConfig | null = { ...DEFAULT_MONITOR };
  let monitorHostSet = false;
  let httpPortSet = false;
  let httpsPort: number | undefined;
  // JetStream is on in the embedded server (MQTT sessions, KV and streams need it); `jetstream: false` turns it off.
  const jetstream: JetStreamConfig = { enabled: true };
  const log: LogConfig = { level: 'info' };
  const sections: Record<string, unknown> = {};
  let tls: TlsOptions | undefined;
  let debug = false;
  let trace = false;

  for (const [key, v] of Object.entries(wire)) {
    if (v === undefined) continue;
    switch (key) {
      case 'host':
      case 'net':
      case 'addr':
        server.host = text(v, key);
        break;
      case 'listen': {
        const hp = hostPort(v, key);
        if (hp.host !== undefined) server.host = hp.host;
        server.port = hp.port;
        break;
      }
      case 'port':
        server.port = int(v, key, 0, 65535);
        break;
      case 'server_name':
      case 'name':
        server.serverName = text(v, key);
        break;
      case 'max_payload':
        server.maxPayload = parseSize(v, key);
        if (server.maxPayload < 1 || server.maxPayload > MAX_PAYLOAD_LIMIT) throw new ConfigError(key, `must be from 1 byte to 64MB, got ${server.maxPayload}`);
        break;
      case 'max_control_line':
        server.maxControlLine = parseSize(v, key);
        if (server.maxControlLine < 256) throw new ConfigError(key, `must be at least 256 bytes, got ${server.maxControlLine}`);
        break;
      case 'max_connections':
      case 'max_conn':
        server.maxConnections = int(v, key, 1, 10_000_000);
        break;
      case 'max_pending':
        server.maxPending = parseSize(v, key);
        break;
      case 'ping_interval':
        server.pingIntervalMs = parseDurationMs(v, key);
        if (server.pingIntervalMs <= 0) throw new ConfigError(key, 'must be greater than zero');
        break;
      case 'lame_duck_duration':
        server.lameDuckDurationMs = parseDurationMs(v, key);
        if (server.lameDuckDurationMs <= 0) throw new ConfigError(key, 'must be greater than zero');
        break;
      case 'lame_duck_grace_period':
        server.lameDuckGracePeriodMs = parseDurationMs(v, key);
        break;
      case 'ping_max':
        server.maxPingsOut = int(v, key, 1, 1000);
        break;
      case 'write_deadline':
        server.writeDeadlineMs = parseDurationMs(v, key);
        if (server.writeDeadlineMs <= 0) throw new ConfigError(key, 'must be greater than zero');
        break;
      case 'http_port':
      case 'monitor_port':
        httpPortSet = v !== false;
        if (v === false) monitor = null;
        else monitor = { host: monitor?.host ?? DEFAULT_MONITOR.host, port: int(v, key, 0, 65535), required: true };
        break;
      case 'https_port':
        httpsPort = int(v, key, 0, 65535);
        break;
      case 'http_host':
        monitorHostSet = true;
        if (monitor !== null) monitor.host = text(v, key);
        break;
      case 'http': {
        const hp = hostPort(v, key);
        monitor = { host: hp.host ?? DEFAULT_MONITOR.host, port: hp.port, required: true };
        monitorHostSet = hp.host !== undefined;
        httpPortSet = true;
        break;
      }
      case 'monitor':
        if (!bool(v, key)) monitor = null;
        break;
      case 'authorization':
      case 'no_auth_user':
        break; // below, together
      case 'tls':
        tls = parseTls(v, key);
        break;
      case 'jetstream':
        Object.assign(jetstream, parseJetStream(v, key));
        break;
      case 'store_dir':
        jetstream.storeDir = text(v, key);
        break;
      case 'js_domain':
        jetstream.domain = domainName(v, key);
        break;
      case 'leafnodes':
        break; // below, with its flags
      case 'debug':
        debug = bool(v, key);
        break;
      case 'trace':
        trace = bool(v, key);
        break;
      case 'log_level': {
        const level = text(v, key).toLowerCase();
        if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(key, `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}`);
        log.level = level as LogLevel;
        break;
      }
      case 'log_format': {
        const format = text(v, key).toLowerCase();
        if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new ConfigError(key, `must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(v)}`);
        log.format = format as LogFormat;
        break;
      }
      case 'log_file':
        log.file = text(v, key);
        break;
      default:
        if ((CLUSTER_KEYS as readonly string[]).includes(key) || (LEAFNODE_KEYS as readonly string[]).includes(key) || flagKeys.has(key)) break; // below, together
        if (sectionKeys.has(key)) sections[key] = v;
        else if (UNSUPPORTED.has(key)) throw new ConfigError(key, 'is a nats-server feature Switchboard does not implement');
        else if (!IGNORED.has(key)) throw new ConfigError(key, 'unknown key');
    }
  }
  if (trace) log.level = 'trace';
  else if (debug && log.level !== 'trace') log.level = 'debug';
  if (server.maxPending < server.maxPayload) throw new ConfigError('max_pending', `must be at least max_payload (${server.maxPayload}), got ${server.maxPending}`);
  const authWire = wire.authorization;
  if (isObject(authWire) && authWire.timeout !== undefined) server.authTimeoutMs = parseDurationMs(authWire.timeout, 'authorization.timeout');
  if (tls) server.tls = { verify: tls.verify };
  if (httpsPort !== undefined) {
    // nats-server: monitoring is HTTP or HTTPS, never both, and HTTPS uses the client TLS certificate.
    if (httpPortSet) throw new ConfigError('https_port', 'cannot be combined with http_port (monitoring is HTTP or HTTPS)');
    if (tls === undefined) throw new ConfigError('https_port', 'needs the top-level tls block (its certificate serves HTTPS)');
    if (monitor !== null) monitor = { host: monitor?.host ?? DEFAULT_MONITOR.host, port: httpsPort, required: true, tls: true };
  }
  // nats-server binds monitoring on the client host unless told otherwise.
  if (monitor !== null && !monitorHostSet && (wire.host ?? wire.net ?? wire.addr ?? wire.listen) !== undefined) monitor.host = server.host;
  for (const extension of extensions) extension.applySettings?.(sections, wire);
  // Users without a password are for verify_and_map, on the NATS listener or a gateway's tls block.
  const mapsCertificates = tls?.verifyAndMap === true || Object.values(sections).some((section) => isObject(section) && isObject(section.tls) && section.tls.verify_and_map !== undefined && section.tls.verify_and_map !== false);
  const auth = authWire === undefined && wire.no_auth_user === undefined ? undefined : parseAuthorization(authWire, wire.no_auth_user, 'authorization', mapsCertificates);
  const leafnodes = parseLeafNodes(wire.leafnodes, wire, { host: server.host, authTimeoutMs: server.authTimeoutMs });
  return { server, monitor, auth, tls, jetstream, log, sections, cluster: parseClusterConfig(wire), leafnodes, warnings: [] };
}
