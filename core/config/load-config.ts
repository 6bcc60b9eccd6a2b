// Load the configuration: defaults, then the config file, then SWITCHBOARD_*
// environment variables, then command-line flags (later wins, per top-level
// key; the tls and authorization blocks merge key by key). Throws ConfigError
// naming the key, the reason and where the value came from.

import { CLUSTER_KEYS } from './cluster-options.ts';
import { parseCommandLine } from './command-line.ts';
import { readConfigFile } from './config-file.ts';
import { configFileFromEnv, settingsFromEnv } from './environment.ts';
import { ConfigError } from './config-error.ts';
import { extensionFlags, type ConfigExtension } from './config-extension.ts';
import { flagName, isObject } from './setting-values.ts';
import { buildConfig, type SwitchboardConfig } from './switchboard-config.ts';

export type LoadResult =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'signal'; signal: string }
  | { kind: 'config'; config: SwitchboardConfig; configFile?: string };

const MERGED_BLOCKS = new Set(['tls', 'authorization', 'jetstream']);

/** Settings keys as the user typed them on the command line or in the environment. */
const FLAG_NAMES: Record<string, [flag: string, env: string]> = {
  host: ['--addr', 'SWITCHBOARD_ADDR'],
  port: ['--port', 'SWITCHBOARD_PORT'],
  server_name: ['--name', 'SWITCHBOARD_NAME'],
  http_port: ['--http_port', 'SWITCHBOARD_HTTP_PORT'],
  http_host: ['--http_host', 'SWITCHBOARD_HTTP_HOST'],
  https_port: ['--https_port', 'SWITCHBOARD_HTTPS_PORT'],
  monitor: ['--no_monitor', 'SWITCHBOARD_MONITOR'],
  store_dir: ['--store_dir', 'SWITCHBOARD_STORE_DIR'],
  log_level: ['--log_level', 'SWITCHBOARD_LOG_LEVEL'],
  log_format: ['--log_format', 'SWITCHBOARD_LOG_FORMAT'],
  log_file: ['--log', 'SWITCHBOARD_LOG_FILE'],
  'tls.cert_file': ['--tlscert', 'SWITCHBOARD_TLS_CERT'],
  'tls.key_file': ['--tlskey', 'SWITCHBOARD_TLS_KEY'],
  'tls.ca_file': ['--tlscacert', 'SWITCHBOARD_TLS_CA'],
  'authorization.token': ['--auth', 'SWITCHBOARD_AUTH'],
  'authorization.user': ['--user', 'SWITCHBOARD_USER'],
  'authorization.password': ['--pass', 'SWITCHBOARD_PASS'],
  // Cluster mode: nats_url <- --nats-url, SWITCHBOARD_NATS_URL, and so on.
  ...Object.fromEntries(CLUSTER_KEYS.map((key) => [key, [`--${flagName(key)}`, `SWITCHBOARD_${key.toUpperCase()}`]])),
};

function renameForSource(error: ConfigError, extensions: readonly ConfigExtension[]): ConfigError {
  const extension = extensionFlags(extensions).find((f) => f.namedInErrors === true && f.key === error.key);
  const names = extension === undefined ? FLAG_NAMES[error.key] : [`--${extension.flag}`, extension.env ?? extension.key];
  if (names === undefined || (error.source !== 'command line' && error.source !== 'environment')) return error;
  return new ConfigError(error.source === 'command line' ? names[0] : names[1], error.reason, { source: error.source, cause: error.cause });
}

/** `extensions`: the sections, flags and variables of the gateways and connectors (gateways/registry.ts). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, extensions: readonly ConfigExtension[] = []): LoadResult {
  const cli = parseCommandLine(argv, extensions);
  if (cli.help) return { kind: 'help' };
  if (cli.version) return { kind: 'version' };
  if (cli.signal !== undefined) return { kind: 'signal', signal: cli.signal };
  const configFile = cli.configFile ?? configFileFromEnv(env);
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const layer = (settings: Record<string, unknown>, source: string): void => {
    for (const [key, value] of Object.entries(settings)) {
      const previous = merged[key];
      const blend = MERGED_BLOCKS.has(key) && isObject(previous) && isObject(value);
      merged[key] = blend ? { ...previous, ...value } : value;
      origin.set(key, source);
    }
  };
  if (configFile !== undefined) layer(readConfigFile(configFile, cli.configFile !== undefined ? '--config' : 'SWITCHBOARD_CONFIG'), configFile);
  layer(settingsFromEnv(env, extensions), 'environment');
  layer(cli.settings, 'command line');
  let config: SwitchboardConfig;
  try {
    config = buildConfig(merged, (key) => origin.get(key), extensions);
  } catch (error) {
    throw error instanceof ConfigError ? renameForSource(error, extensions) : error;
  }
  return { kind: 'config', config, configFile };
}
