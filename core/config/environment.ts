// SWITCHBOARD_* environment variables, mapped like the flags of the same name.

import { CLUSTER_KEYS } from './cluster-options.ts';
import { toSettings } from './command-line.ts';
import { KAFKA_KEYS, KAFKA_TLS } from './kafka-options.ts';
import { flagName } from './setting-values.ts';

const VARIABLES: Record<string, string> = {
  SWITCHBOARD_ADDR: 'addr',
  SWITCHBOARD_PORT: 'port',
  SWITCHBOARD_NAME: 'name',
  SWITCHBOARD_HTTP_PORT: 'http_port',
  SWITCHBOARD_HTTP_HOST: 'http_host',
  SWITCHBOARD_MONITOR: 'monitor',
  SWITCHBOARD_USER: 'user',
  SWITCHBOARD_PASS: 'pass',
  SWITCHBOARD_AUTH: 'auth',
  SWITCHBOARD_JETSTREAM: 'jetstream',
  SWITCHBOARD_STORE_DIR: 'store_dir',
  SWITCHBOARD_LOG_LEVEL: 'log_level',
  SWITCHBOARD_LOG_FILE: 'log',
  SWITCHBOARD_TLS_CERT: 'tlscert',
  SWITCHBOARD_TLS_KEY: 'tlskey',
  SWITCHBOARD_TLS_CA: 'tlscacert',
  SWITCHBOARD_TLS_VERIFY: 'tlsverify',
  ...Object.fromEntries(CLUSTER_KEYS.map((key) => [`SWITCHBOARD_${key.toUpperCase()}`, flagName(key)])),
  ...Object.fromEntries([...KAFKA_KEYS, KAFKA_TLS].map((key) => [`SWITCHBOARD_${key.toUpperCase()}`, flagName(key)])),
};

/** The config file named by the environment, if any. */
export function configFileFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.SWITCHBOARD_CONFIG || undefined;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, string | boolean | undefined> = {};
  for (const [variable, flag] of Object.entries(VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    // Switches take true/false; tlsverify with a value also enables TLS.
    values[flag] = flag === 'jetstream' || flag === 'tlsverify' || flag === 'monitor' || flag === flagName(KAFKA_TLS) ? !/^(false|no|off|0)$/i.test(raw) : raw;
  }
  return toSettings(values, 'env');
}
