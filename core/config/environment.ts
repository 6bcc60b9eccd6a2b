// SWITCHBOARD_* environment variables, mapped like the flags of the same name.

import { CLUSTER_KEYS } from './cluster-options.ts';
import { toSettings } from './command-line.ts';
import { extensionFlags, type ConfigExtension } from './config-extension.ts';
import { flagName } from './setting-values.ts';

const VARIABLES: Record<string, string> = {
  SWITCHBOARD_ADDR: 'addr',
  SWITCHBOARD_PORT: 'port',
  SWITCHBOARD_NAME: 'name',
  SWITCHBOARD_HTTP_PORT: 'http_port',
  SWITCHBOARD_HTTP_HOST: 'http_host',
  SWITCHBOARD_HTTPS_PORT: 'https_port',
  SWITCHBOARD_MONITOR: 'monitor',
  SWITCHBOARD_USER: 'user',
  SWITCHBOARD_PASS: 'pass',
  SWITCHBOARD_AUTH: 'auth',
  SWITCHBOARD_JETSTREAM: 'jetstream',
  SWITCHBOARD_STORE_DIR: 'store_dir',
  SWITCHBOARD_JS_DOMAIN: 'js_domain',
  SWITCHBOARD_LEAFNODE_REMOTE: 'leafnode_remote',
  SWITCHBOARD_LEAFNODE_PORT: 'leafnode_port',
  SWITCHBOARD_LOG_LEVEL: 'log_level',
  SWITCHBOARD_LOG_FORMAT: 'log_format',
  SWITCHBOARD_LOG_FILE: 'log',
  SWITCHBOARD_TLS_CERT: 'tlscert',
  SWITCHBOARD_TLS_KEY: 'tlskey',
  SWITCHBOARD_TLS_CA: 'tlscacert',
  SWITCHBOARD_TLS_VERIFY: 'tlsverify',
  ...Object.fromEntries(CLUSTER_KEYS.map((key) => [`SWITCHBOARD_${key.toUpperCase()}`, flagName(key)])),
};

/** Switches: the variable reads true/false. */
const SWITCHES = new Set(['jetstream', 'tlsverify', 'monitor']);

/** The config file named by the environment, if any. */
export function configFileFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.SWITCHBOARD_CONFIG || undefined;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv, extensions: readonly ConfigExtension[] = []): Record<string, unknown> {
  const variables = Object.entries(VARIABLES).map(([variable, flag]) => ({ variable, flag, switch: SWITCHES.has(flag) }));
  for (const f of extensionFlags(extensions)) if (f.env !== undefined) variables.push({ variable: f.env, flag: f.flag, switch: f.type === 'boolean' });
  const values: Record<string, string | boolean | undefined> = {};
  for (const { variable, flag, switch: isSwitch } of variables) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    // Switches take true/false; tlsverify with a value also enables TLS.
    values[flag] = isSwitch ? !/^(false|no|off|0)$/i.test(raw) : raw;
  }
  return toSettings(values, 'env', extensions);
}
